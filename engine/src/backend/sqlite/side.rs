//! SQLite bodies of [`crate::backend::side::SideStore`]: session
//! generations, a stored suspension, a waitpoint's owner.
use ff_core::engine_error::EngineError;
use ff_core::types::{ExecutionId, WaitpointId};
use sqlx::SqlitePool;

use crate::backend::side::{lookup_error, SESSION_SELECT, SESSION_TABLE, SESSION_UPSERT};
use crate::backend::sql::{exec_id, waitpoint_owner, Dialect};
use crate::backend::sql::SuspensionRow;
use crate::gate::Gate;
use crate::store_error::{Store, StoreError};

pub(crate) async fn open_sessions(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query(SESSION_TABLE).execute(pool).await.map(|_| ())
}

pub(crate) async fn session_generations(pool: &SqlitePool) -> Result<Vec<(String, i64)>, StoreError> {
    sqlx::query_as(SESSION_SELECT).fetch_all(pool).await.map_err(StoreError::at(Store::Sessions, "read"))
}

pub(crate) async fn bump_session_generation(pool: &SqlitePool, user: &str) -> Result<i64, StoreError> {
    sqlx::query_scalar(&SESSION_UPSERT.replace("$1", "?")).bind(user).fetch_one(pool).await.map_err(|e| StoreError::new(Store::Sessions, "revoke", format!("{user:?}: {e}")))
}

pub(crate) async fn suspension(pool: &SqlitePool, id: &ExecutionId) -> Result<Option<Gate>, StoreError> {
    let uuid = id.as_str().rsplit_once("}:").map(|(_, u)| u.to_owned()).unwrap_or_default();
    let u = uuid::Uuid::parse_str(&uuid).map_err(|e| StoreError::invalid(Store::Suspensions, "read suspension", format!("execution id {id}: {e}")))?;
    let row: Option<SuspensionRow> = sqlx::query_as(
        "SELECT condition, member_map, timeout_at_ms, timeout_behavior, suspended_at_ms FROM ff_suspension_current \
         WHERE partition_key = ? AND execution_id = ?",
    )
    .bind(i64::from(id.partition()))
    .bind(u.as_bytes().to_vec())
    .fetch_optional(pool)
    .await
    .map_err(StoreError::at(Store::Suspensions, "read suspension"))?;
    row.map(|r| r.gate(id)).transpose()
}

pub(crate) async fn waitpoint_execution(pool: &SqlitePool, wp: &WaitpointId) -> Result<Option<ExecutionId>, EngineError> {
    let row: Option<(i64, String)> = sqlx::query_as(&waitpoint_owner(Dialect::Sqlite))
        .bind(wp.to_string())
        .fetch_optional(pool)
        .await
        .map_err(lookup_error)?;
    Ok(row.and_then(|(part, eid)| exec_id(part, &eid)))
}
