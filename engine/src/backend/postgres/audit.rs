//! The audit log on Postgres: the board's own table `ff_board_audit` (see
//! `crate::audit` for what is written when).
use async_trait::async_trait;

use crate::store_error::{Store, StoreError};
use sqlx::PgPool;

use crate::audit::{Attempt, AuditEntry, AuditStore, Recorded, Row, COLUMNS};

const TABLE_POSTGRES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS ff_board_audit (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        at_ms BIGINT NOT NULL,
        user_name TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        reason TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        outcome TEXT,
        outcome_at_ms BIGINT
    )",
    "CREATE INDEX IF NOT EXISTS ff_board_audit_at_ms ON ff_board_audit (at_ms)",
    "CREATE INDEX IF NOT EXISTS ff_board_audit_target ON ff_board_audit (target)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ff_board_audit_idem ON ff_board_audit (idempotency_key, action, target)",
];

/// Advisory lock serialising concurrent `open`s on one Postgres database
/// (concurrent `CREATE TABLE IF NOT EXISTS` can otherwise fail).
const PG_SCHEMA_LOCK: i64 = 0x6666_5f62_6f61_7264; // "ff_board"


/// The audit table on a Postgres store.
pub struct PostgresAudit {
    pool: PgPool,
}

/// Open (creating the table when missing, serialised by an advisory lock).
pub async fn open(pool: &PgPool) -> Result<PostgresAudit, StoreError> {
    let fail = StoreError::at(Store::Audit, "create table ff_board_audit");
    let mut tx = pool.begin().await.map_err(&fail)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PG_SCHEMA_LOCK).execute(&mut *tx).await.map_err(&fail)?;
    for stmt in TABLE_POSTGRES {
        sqlx::query(stmt).execute(&mut *tx).await.map_err(&fail)?;
    }
    tx.commit().await.map_err(&fail)?;
    Ok(PostgresAudit { pool: pool.clone() })
}

#[async_trait]
impl AuditStore for PostgresAudit {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn record_attempt(&self, at_ms: i64, a: Attempt<'_>) -> Result<Recorded, StoreError> {
        let pool = &self.pool;
        let id = uuid::Uuid::new_v4().to_string();
        let new: Option<Row> = sqlx::query_as(&format!(
            "INSERT INTO ff_board_audit \
             (id, at_ms, user_name, role, action, target, reason, idempotency_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (idempotency_key, action, target) DO NOTHING \
             RETURNING {COLUMNS}"
        ))
        .bind(&id)
        .bind(at_ms)
        .bind(a.user)
        .bind(a.role)
        .bind(a.action)
        .bind(a.target)
        .bind(a.reason)
        .bind(a.idempotency_key)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::at(Store::Audit, "record attempt"))?;
        if let Some(row) = new {
            return Ok(Recorded::New(row.into()));
        }
        let row: Row = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM ff_board_audit \
             WHERE idempotency_key = $1 AND action = $2 AND target = $3"
        ))
        .bind(a.idempotency_key)
        .bind(a.action)
        .bind(a.target)
        .fetch_one(pool)
        .await
        .map_err(StoreError::at(Store::Audit, "read existing attempt"))?;
        Ok(Recorded::Existing(row.into()))
    }

    async fn record_outcome(&self, id: &str, at_ms: i64, outcome: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("UPDATE ff_board_audit SET outcome = $1, outcome_at_ms = $2 WHERE id = $3")
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
             WHERE ($1::text IS NULL OR user_name = $1) AND ($2::text IS NULL OR action = $2) \
             AND ($3::text IS NULL OR strpos(target, $3) > 0) \
             ORDER BY at_ms DESC, seq DESC LIMIT $4"
        ))
        .bind(user)
        .bind(action)
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
             (SELECT seq FROM ff_board_audit WHERE at_ms < $1 ORDER BY at_ms LIMIT $2)",
        )
        .bind(before_ms)
        .bind(i64::try_from(max).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await
        .map_err(StoreError::at(Store::Audit, "trim"))?
        .rows_affected() as usize)
    }
}
