//! The audit log on SQLite: the board's own table `ff_board_audit` (see
//! `crate::audit` for what is written when).
use async_trait::async_trait;

use crate::store_error::{Store, StoreError};
use sqlx::SqlitePool;

use crate::audit::{Attempt, recorded, AuditEntry, AuditStore, Recorded, Row, COLUMNS};

const TABLE_SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS ff_board_audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        at_ms INTEGER NOT NULL,
        user_name TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        reason TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        outcome TEXT,
        outcome_at_ms INTEGER
    )",
    "CREATE INDEX IF NOT EXISTS ff_board_audit_at_ms ON ff_board_audit (at_ms)",
    "CREATE INDEX IF NOT EXISTS ff_board_audit_target ON ff_board_audit (target)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ff_board_audit_idem ON ff_board_audit (idempotency_key, action, target)",
];


/// The audit table on a SQLite store.
pub struct SqliteAudit {
    pool: SqlitePool,
}

/// Open (creating the table when missing).
pub async fn open(pool: &SqlitePool) -> Result<SqliteAudit, StoreError> {
    for stmt in TABLE_SQLITE {
        sqlx::query(stmt).execute(pool).await.map_err(StoreError::at(Store::Audit, "create table ff_board_audit"))?;
    }
    Ok(SqliteAudit { pool: pool.clone() })
}

#[async_trait]
impl AuditStore for SqliteAudit {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    async fn record_attempt(&self, at_ms: i64, a: Attempt<'_>) -> Result<Recorded, StoreError> {
        let pool = &self.pool;
        let id = uuid::Uuid::new_v4().to_string();
        // `OR IGNORE`, not `ON CONFLICT (…)`: SQLite checks a conflict
        // target against the connection's cached schema when preparing, and
        // a pooled connection that loaded the schema before `open` added the
        // index rejects it.
        let inserted = sqlx::query(
            "INSERT OR IGNORE INTO ff_board_audit \
             (id, at_ms, user_name, role, action, target, reason, idempotency_key) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(at_ms)
        .bind(a.user)
        .bind(a.role)
        .bind(a.action)
        .bind(a.target)
        .bind(a.reason)
        .bind(a.idempotency_key)
        .execute(pool)
        .await
        .map_err(StoreError::at(Store::Audit, "record attempt"))?
        .rows_affected();
        let row: Row = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM ff_board_audit \
             WHERE idempotency_key = ? AND action = ? AND target = ?"
        ))
        .bind(a.idempotency_key)
        .bind(a.action)
        .bind(a.target)
        .fetch_one(pool)
        .await
        .map_err(StoreError::at(Store::Audit, "read attempt back"))?;
        Ok(recorded(inserted == 1, row.into()))
    }

    async fn record_outcome(&self, id: &str, at_ms: i64, outcome: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("UPDATE ff_board_audit SET outcome = ?, outcome_at_ms = ? WHERE id = ?")
            .bind(outcome)
            .bind(at_ms)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::new(Store::Audit, "record outcome", format!("{id}: {e}")))?
            .rows_affected()
            == 1)
    }

    async fn list(
        &self,
        user: Option<&str>,
        action: Option<&str>,
        target: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM ff_board_audit \
             WHERE (? IS NULL OR user_name = ?) AND (? IS NULL OR action = ?) \
             AND (? IS NULL OR instr(target, ?) > 0) \
             ORDER BY at_ms DESC, seq DESC LIMIT ?"
        ))
        .bind(user)
        .bind(user)
        .bind(action)
        .bind(action)
        .bind(target)
        .bind(target)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::at(Store::Audit, "list"))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn trim(&self, before_ms: i64, max: usize) -> Result<usize, StoreError> {
        Ok(sqlx::query(
            "DELETE FROM ff_board_audit WHERE seq IN \
             (SELECT seq FROM ff_board_audit WHERE at_ms < ? ORDER BY at_ms LIMIT ?)",
        )
        .bind(before_ms)
        .bind(i64::try_from(max).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await
        .map_err(StoreError::at(Store::Audit, "trim"))?
        .rows_affected() as usize)
    }
}
