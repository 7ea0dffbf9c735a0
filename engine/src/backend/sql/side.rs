//! The SQL bodies of [`crate::backend::side::SideStore`], written once over
//! a [`Pool`] of either backend: session generations (the table
//! `ff_board_session_gen`), a stored suspension as a gate, a waitpoint's
//! owner.
use ff_core::engine_error::EngineError;
use ff_core::types::{ExecutionId, WaitpointId};

use super::pool::Pool;
use super::{exec_id, suspensions, waitpoint_owner, Bind, Dialect, Query, RawSuspension};
use crate::backend::side::lookup_error;
use crate::gate::Gate;
use crate::store_error::{Store, StoreError};

const SESSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS ff_board_session_gen (user_name TEXT PRIMARY KEY, gen BIGINT NOT NULL)";
const SESSION_SELECT: &str = "SELECT user_name, gen FROM ff_board_session_gen";
const SESSION_UPSERT: &str = "INSERT INTO ff_board_session_gen (user_name, gen) VALUES ($1, 1) \
     ON CONFLICT (user_name) DO UPDATE SET gen = ff_board_session_gen.gen + 1 RETURNING gen";

/// A statement without parameters.
fn plain(sql: &str) -> Query {
    Query { sql: sql.to_owned(), binds: Vec::new() }
}

/// Create the session-generation table when missing.
pub(crate) async fn open_sessions(pool: &Pool) -> Result<(), StoreError> {
    let fail = StoreError::at(Store::Sessions, "create table");
    match pool.execute(plain(SESSION_TABLE)).await {
        // Two boards creating at once on Postgres: one of them may lose the race once.
        Err(_) if pool.dialect() == Dialect::Postgres => pool.execute(plain(SESSION_TABLE)).await.map_err(fail)?,
        other => other.map_err(fail)?,
    };
    Ok(())
}

/// Every user's session generation.
pub(crate) async fn session_generations(pool: &Pool) -> Result<Vec<(String, i64)>, StoreError> {
    pool.fetch_all(plain(SESSION_SELECT)).await.map_err(StoreError::at(Store::Sessions, "read"))
}

/// Move `user` to the next generation; the new value.
pub(crate) async fn bump_session_generation(pool: &Pool, user: &str) -> Result<i64, StoreError> {
    let q = Query { sql: pool.dialect().finish(SESSION_UPSERT.to_owned()), binds: vec![Bind::Text(user.to_owned())] };
    let row: Option<(i64,)> =
        pool.fetch_optional(q).await.map_err(|e| StoreError::new(Store::Sessions, "revoke", format!("{user:?}: {e}")))?;
    row.map(|(gen,)| gen).ok_or_else(|| StoreError::invalid(Store::Sessions, "revoke", format!("{user:?}: no generation returned")))
}

/// The stored suspension of `id` as a gate; `None` when it is not suspended.
pub(crate) async fn suspension(pool: &Pool, id: &ExecutionId) -> Result<Option<Gate>, StoreError> {
    let q = suspensions(pool.dialect(), std::slice::from_ref(id))
        .map_err(|e| StoreError::invalid(Store::Suspensions, "read suspension", e.to_string()))?;
    let row: Option<RawSuspension> = pool.fetch_optional(q).await.map_err(StoreError::at(Store::Suspensions, "read suspension"))?;
    row.map(|r| r.stored.gate(id)).transpose()
}

/// The execution a pending waitpoint belongs to (one row).
pub(crate) async fn waitpoint_execution(pool: &Pool, wp: &WaitpointId) -> Result<Option<ExecutionId>, EngineError> {
    let q = Query { sql: waitpoint_owner(pool.dialect()), binds: vec![Bind::Text(wp.to_string())] };
    let row: Option<(i64, String)> = pool.fetch_optional(q).await.map_err(lookup_error)?;
    Ok(row.and_then(|(part, eid)| exec_id(part, &eid)))
}
