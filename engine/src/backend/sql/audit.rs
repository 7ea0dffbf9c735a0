//! The audit log on Postgres and SQLite: the board's own table
//! `ff_board_audit` (see `crate::audit` for what is written when), one
//! store over both [`Pool`]s; the SQL differs only in its [`Dialect`]
//! spellings (column types, the conflict clause, a substring test).
use async_trait::async_trait;

use super::pool::Pool;
use super::{Bind, Dialect, Query};
use crate::audit::{Attempt, AuditEntry, AuditStore, Recorded, Wanted, MAX_SCANNED};
use crate::store_error::{Store, StoreError};

/// The columns an entry is read with.
const COLUMNS: &str = "id, at_ms, user_name, role, action, target, reason, idempotency_key, outcome, outcome_at_ms";

/// Where the audit table's SQL differs.
impl Dialect {
    /// An entry's subject ([`crate::audit::subject_of`]) in SQL: the
    /// target up to its first space. The index by subject is on exactly
    /// this expression, so the reads by subject use it.
    fn subject(self) -> &'static str {
        match self {
            Dialect::Postgres => "split_part(target, ' ', 1)",
            Dialect::Sqlite => "substr(target, 1, instr(target || ' ', ' ') - 1)",
        }
    }

    /// The table and its indexes.
    fn audit_table(self) -> [String; 5] {
        let (seq, int) = match self {
            Dialect::Postgres => ("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "BIGINT"),
            Dialect::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER"),
        };
        [
            format!(
                "CREATE TABLE IF NOT EXISTS ff_board_audit (
        seq {seq},
        id TEXT NOT NULL UNIQUE,
        at_ms {int} NOT NULL,
        user_name TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        reason TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        outcome TEXT,
        outcome_at_ms {int}
    )"
            ),
            "CREATE INDEX IF NOT EXISTS ff_board_audit_at_ms ON ff_board_audit (at_ms)".into(),
            "CREATE INDEX IF NOT EXISTS ff_board_audit_target ON ff_board_audit (target)".into(),
            "CREATE UNIQUE INDEX IF NOT EXISTS ff_board_audit_idem ON ff_board_audit (idempotency_key, action, target)".into(),
            format!("CREATE INDEX IF NOT EXISTS ff_board_audit_subject ON ff_board_audit (({}), at_ms, seq)", self.subject()),
        ]
    }

    /// An insert of an attempt that writes nothing when its idempotency
    /// scope is taken, returning the new row.
    fn insert_attempt(self) -> String {
        // SQLite: `OR IGNORE`, not `ON CONFLICT (…)`: SQLite checks a
        // conflict target against the connection's cached schema when
        // preparing, and a pooled connection that loaded the schema before
        // `open` added the index rejects it.
        let (insert, conflict) = match self {
            Dialect::Postgres => ("INSERT INTO", "ON CONFLICT (idempotency_key, action, target) DO NOTHING"),
            Dialect::Sqlite => ("INSERT OR IGNORE INTO", ""),
        };
        self.finish(format!(
            "{insert} ff_board_audit (id, at_ms, user_name, role, action, target, reason, idempotency_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) {conflict} RETURNING {COLUMNS}"
        ))
    }

    /// The entries matching the filters `$1` (user), `$2` (action), `$3`
    /// (a substring of the target), each NULL for any, newest first, at
    /// most `$4`, among the newest [`MAX_SCANNED`] written (a range of the
    /// primary key: a search never reads the whole table).
    fn audit_list(self) -> String {
        let (text, contains) = match self {
            Dialect::Postgres => ("::text", "strpos(target, $3) > 0"),
            Dialect::Sqlite => ("", "instr(target, $3) > 0"),
        };
        // Materialized: the planner reads the newest rows by the primary
        // key first, whatever index the ORDER BY would favour.
        self.finish(format!(
            "WITH recent AS MATERIALIZED (SELECT seq, {COLUMNS} FROM ff_board_audit \
             WHERE seq > (SELECT COALESCE(MAX(seq), 0) FROM ff_board_audit) - {MAX_SCANNED}) \
             SELECT {COLUMNS} FROM recent \
             WHERE ($1{text} IS NULL OR user_name = $1) AND ($2{text} IS NULL OR action = $2) \
             AND ($3{text} IS NULL OR {contains}) \
             ORDER BY at_ms DESC, seq DESC LIMIT $4"
        ))
    }

    /// The entries about subject `$3` (filtered by `$1` user and `$2`
    /// action as [`Self::audit_list`]), newest first, at most `$4`: read
    /// from the index `ff_board_audit_subject`, never the whole table.
    fn audit_by_subject(self) -> String {
        let text = match self {
            Dialect::Postgres => "::text",
            Dialect::Sqlite => "",
        };
        self.finish(format!(
            "SELECT {COLUMNS} FROM ff_board_audit \
             WHERE {} = $3 AND ($1{text} IS NULL OR user_name = $1) AND ($2{text} IS NULL OR action = $2) \
             ORDER BY at_ms DESC, seq DESC LIMIT $4",
            self.subject()
        ))
    }
}

/// The audit table on a SQL store.
pub struct SqlAudit {
    pool: Pool,
}

/// Open, creating the table when missing.
pub async fn open(pool: Pool) -> Result<SqlAudit, StoreError> {
    let ddl = pool.dialect().audit_table();
    pool.create(&ddl).await.map_err(StoreError::at(Store::Audit, "create table ff_board_audit"))?;
    Ok(SqlAudit { pool })
}

/// A text parameter that may be NULL.
fn maybe(v: Option<&str>) -> Bind {
    Bind::MaybeText(v.map(str::to_owned))
}

/// A count as a bound integer.
fn count(n: usize) -> Bind {
    Bind::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

#[async_trait]
impl AuditStore for SqlAudit {
    async fn record_attempt(&self, at_ms: i64, a: Attempt<'_>) -> Result<Recorded, StoreError> {
        let d = self.pool.dialect();
        let id = uuid::Uuid::new_v4().to_string();
        let texts = [a.user, a.role, a.action, a.target, a.reason, a.idempotency_key].map(|t| Bind::Text(t.to_owned()));
        let binds = [Bind::Text(id), Bind::Int(at_ms)].into_iter().chain(texts).collect();
        let new: Option<AuditEntry> = self
            .pool
            .fetch_optional(Query::new(d.insert_attempt(), binds))
            .await
            .map_err(StoreError::at(Store::Audit, "record attempt"))?;
        if let Some(entry) = new {
            return Ok(Recorded::New(entry));
        }
        let sql = d.finish(format!(
            "SELECT {COLUMNS} FROM ff_board_audit WHERE idempotency_key = $1 AND action = $2 AND target = $3"
        ));
        let binds = [a.idempotency_key, a.action, a.target].map(|t| Bind::Text(t.to_owned())).into();
        let existing: Option<AuditEntry> = self
            .pool
            .fetch_optional(Query::new(sql, binds))
            .await
            .map_err(StoreError::at(Store::Audit, "read existing attempt"))?;
        existing
            .map(Recorded::Existing)
            .ok_or_else(|| StoreError::invalid(Store::Audit, "read existing attempt", "the attempt that took its key is gone"))
    }

    async fn record_outcome(&self, id: &str, at_ms: i64, outcome: &str) -> Result<bool, StoreError> {
        let sql = self.pool.dialect().finish("UPDATE ff_board_audit SET outcome = $1, outcome_at_ms = $2 WHERE id = $3".into());
        let binds = vec![Bind::Text(outcome.to_owned()), Bind::Int(at_ms), Bind::Text(id.to_owned())];
        let changed = self
            .pool
            .execute(Query::new(sql, binds))
            .await
            .map_err(|e| StoreError::new(Store::Audit, "record outcome", format!("{id}: {e}")))?;
        Ok(changed == 1)
    }

    async fn list(&self, w: Wanted<'_>) -> Result<Vec<AuditEntry>, StoreError> {
        let d = self.pool.dialect();
        let (sql, third) = match w.subject {
            Some(subject) => (d.audit_by_subject(), Some(subject)),
            None => (d.audit_list(), w.target),
        };
        let binds = vec![maybe(w.user), maybe(w.action), maybe(third), count(w.limit)];
        let rows: Vec<AuditEntry> = self.pool.fetch_all(Query::new(sql, binds)).await.map_err(StoreError::at(Store::Audit, "list"))?;
        // A subject read with a substring as well: the substring filters it.
        Ok(rows.into_iter().filter(|e| w.subject.is_none() || w.target.is_none_or(|t| e.target.contains(t))).collect())
    }

    async fn trim(&self, before_ms: i64, max: usize) -> Result<usize, StoreError> {
        let sql = self.pool.dialect().finish(
            "DELETE FROM ff_board_audit WHERE seq IN \
             (SELECT seq FROM ff_board_audit WHERE at_ms < $1 ORDER BY at_ms LIMIT $2)"
                .into(),
        );
        let gone = self
            .pool
            .execute(Query::new(sql, vec![Bind::Int(before_ms), count(max)]))
            .await
            .map_err(StoreError::at(Store::Audit, "trim"))?;
        Ok(gone as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects_differ_only_in_their_spellings() {
        let pg = Dialect::Postgres.insert_attempt();
        assert!(pg.contains("VALUES ($1, $2") && pg.contains("ON CONFLICT (idempotency_key, action, target) DO NOTHING"), "{pg}");
        let lite = Dialect::Sqlite.insert_attempt();
        assert!(lite.starts_with("INSERT OR IGNORE INTO") && lite.contains("VALUES (?1, ?2") && !lite.contains('$'), "{lite}");
        assert!(Dialect::Postgres.audit_list().contains("$1::text IS NULL OR user_name = $1"));
        assert!(Dialect::Sqlite.audit_list().contains("instr(target, ?3) > 0"));
        assert!(Dialect::Sqlite.audit_table()[0].contains("seq INTEGER PRIMARY KEY AUTOINCREMENT"));
    }
}
