//! Postgres bodies of [`crate::backend::side::SideStore`]: session
//! generations, a stored suspension, a waitpoint's owner.
use ff_core::engine_error::EngineError;
use ff_core::types::{ExecutionId, WaitpointId};
use sqlx::PgPool;

use crate::backend::side::{lookup_error, SESSION_SELECT, SESSION_TABLE, SESSION_UPSERT};
use crate::backend::sql::{exec_id, waitpoint_owner, Dialect};
use crate::backend::sql::SuspensionRow;
use crate::gate::Gate;
use crate::store_error::{Store, StoreError};

pub(crate) async fn open_sessions(pool: &PgPool) -> Result<(), sqlx::Error> {
    // Two boards creating at once: one of them may lose the race once.
    if sqlx::query(SESSION_TABLE).execute(pool).await.is_err() {
        sqlx::query(SESSION_TABLE).execute(pool).await?;
    }
    Ok(())
}

pub(crate) async fn session_generations(pool: &PgPool) -> Result<Vec<(String, i64)>, StoreError> {
    sqlx::query_as(SESSION_SELECT).fetch_all(pool).await.map_err(StoreError::at(Store::Sessions, "read"))
}

pub(crate) async fn bump_session_generation(pool: &PgPool, user: &str) -> Result<i64, StoreError> {
    sqlx::query_scalar(SESSION_UPSERT).bind(user).fetch_one(pool).await.map_err(|e| StoreError::new(Store::Sessions, "revoke", format!("{user:?}: {e}")))
}

pub(crate) async fn suspension(pool: &PgPool, id: &ExecutionId) -> Result<Option<Gate>, StoreError> {
    let uuid = id.as_str().rsplit_once("}:").map(|(_, u)| u.to_owned()).unwrap_or_default();
    let row: Option<SuspensionRow> = sqlx::query_as(
        "SELECT condition::text AS condition, member_map::text AS member_map, timeout_at_ms, timeout_behavior, suspended_at_ms FROM ff_suspension_current \
         WHERE partition_key = $1 AND execution_id = $2::uuid",
    )
    .bind(id.partition() as i16)
    .bind(&uuid)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::at(Store::Suspensions, "read suspension"))?;
    row.map(|r| r.gate(id)).transpose()
}

pub(crate) async fn waitpoint_execution(pool: &PgPool, wp: &WaitpointId) -> Result<Option<ExecutionId>, EngineError> {
    let row: Option<(i64, String)> = sqlx::query_as(&waitpoint_owner(Dialect::Postgres))
        .bind(wp.to_string())
        .fetch_optional(pool)
        .await
        .map_err(lookup_error)?;
    Ok(row.and_then(|(part, eid)| exec_id(part, &eid)))
}
