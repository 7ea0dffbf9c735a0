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

const ALLOWANCE_TABLE: &str = "CREATE TABLE IF NOT EXISTS ff_board_allowance \
     (name TEXT NOT NULL, slice BIGINT NOT NULL, used BIGINT NOT NULL, PRIMARY KEY (name, slice))";
/// Adds `$3` to slice `$2` of `$1` only when the window's slices (those
/// above `$4`) plus `$3` stay at most `$5`; returns the slice's new count.
const ALLOWANCE_TAKE: &str = "INSERT INTO ff_board_allowance (name, slice, used) \
     SELECT $1, $2, $3 WHERE (SELECT COALESCE(SUM(used), 0) FROM ff_board_allowance WHERE name = $1 AND slice > $4) + $3 <= $5 \
     ON CONFLICT (name, slice) DO UPDATE SET used = ff_board_allowance.used + excluded.used RETURNING used";
const ALLOWANCE_USED: &str = "SELECT CAST(COALESCE(SUM(used), 0) AS BIGINT) FROM ff_board_allowance WHERE name = $1 AND slice > $2";
const ALLOWANCE_TRIM: &str = "DELETE FROM ff_board_allowance WHERE name = $1 AND slice <= $2";

/// A statement without parameters.
fn plain(sql: &str) -> Query {
    Query::new(sql.to_owned(), Vec::new())
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

/// Take `n` from allowance `name` in `slice` (`crate::allowance`): one
/// statement; the table is created on first use.
pub(crate) async fn take_allowance(pool: &Pool, name: &str, n: u64, cap: u64, slice: i64) -> Result<crate::allowance::Allowance, StoreError> {
    use crate::allowance::{Allowance, SLICES};
    let d = pool.dialect();
    let oldest = slice - SLICES;
    let take = || {
        Query::new(
            d.finish(ALLOWANCE_TAKE.to_owned()),
            vec![Bind::Text(name.to_owned()), Bind::Int(slice), Bind::Int(n as i64), Bind::Int(oldest), Bind::Int(cap as i64)],
        )
    };
    let lock = format!("ff_board_allowance:{name}");
    let row: Option<(i64,)> = match pool.fetch_optional_locked(&lock, take()).await {
        Ok(r) => r,
        // The table is missing (first use): create it, once more.
        Err(_) => {
            pool.create(&[ALLOWANCE_TABLE.to_owned()]).await.map_err(StoreError::at(Store::Allowances, "create table"))?;
            pool.fetch_optional_locked(&lock, take()).await.map_err(StoreError::at(Store::Allowances, "take"))?
        }
    };
    let trim = Query::new(d.finish(ALLOWANCE_TRIM.to_owned()), vec![Bind::Text(name.to_owned()), Bind::Int(oldest)]);
    pool.execute(trim).await.map_err(StoreError::at(Store::Allowances, "trim"))?;
    let used_q = Query::new(d.finish(ALLOWANCE_USED.to_owned()), vec![Bind::Text(name.to_owned()), Bind::Int(oldest)]);
    let (used,): (i64,) = pool.fetch_optional(used_q).await.map_err(StoreError::at(Store::Allowances, "read"))?.unwrap_or((0,));
    Ok(match row {
        Some(_) => Allowance::Taken { used: used.max(0) as u64 },
        None => Allowance::Refused { used: used.max(0) as u64 },
    })
}

const USAGE_TABLE: &str = "CREATE TABLE IF NOT EXISTS ff_board_usage \
     (minute BIGINT NOT NULL, budget TEXT NOT NULL, usage TEXT NOT NULL, PRIMARY KEY (minute, budget))";
const USAGE_PUT: &str = "INSERT INTO ff_board_usage (minute, budget, usage) VALUES ($1, $2, $3) \
     ON CONFLICT (minute, budget) DO UPDATE SET usage = excluded.usage";
const USAGE_TRIM: &str = "DELETE FROM ff_board_usage WHERE minute < $1";
const USAGE_AT: &str = "SELECT budget, usage FROM ff_board_usage WHERE minute = $1";

/// Keep a minute's usage samples (`crate::usage`): one statement a budget,
/// then the samples older than an hour deleted; the table is created on first use.
pub(crate) async fn put_usage(pool: &Pool, minute: i64, rows: &[(String, String)]) -> Result<(), StoreError> {
    let d = pool.dialect();
    pool.create(&[USAGE_TABLE.to_owned()]).await.map_err(StoreError::at(Store::Usage, "create table"))?;
    for (budget, usage) in rows {
        let q = Query::new(d.finish(USAGE_PUT.to_owned()), vec![Bind::Int(minute), Bind::Text(budget.clone()), Bind::Text(usage.clone())]);
        pool.execute(q).await.map_err(StoreError::at(Store::Usage, "write"))?;
    }
    let trim = Query::new(d.finish(USAGE_TRIM.to_owned()), vec![Bind::Int(minute - crate::usage::KEPT_MS)]);
    pool.execute(trim).await.map_err(StoreError::at(Store::Usage, "trim"))?;
    Ok(())
}

/// A minute's usage samples; none when the table does not exist yet.
pub(crate) async fn usage_at(pool: &Pool, minute: i64) -> Result<Vec<(String, String)>, StoreError> {
    let q = Query::new(pool.dialect().finish(USAGE_AT.to_owned()), vec![Bind::Int(minute)]);
    match pool.fetch_all::<(String, String)>(q).await {
        Ok(rows) => Ok(rows),
        Err(_) => {
            pool.create(&[USAGE_TABLE.to_owned()]).await.map_err(StoreError::at(Store::Usage, "create table"))?;
            Ok(Vec::new())
        }
    }
}

/// Every user's session generation.
pub(crate) async fn session_generations(pool: &Pool) -> Result<Vec<(String, i64)>, StoreError> {
    pool.fetch_all(plain(SESSION_SELECT)).await.map_err(StoreError::at(Store::Sessions, "read"))
}

/// Move `user` to the next generation; the new value.
pub(crate) async fn bump_session_generation(pool: &Pool, user: &str) -> Result<i64, StoreError> {
    let q = Query::new(pool.dialect().finish(SESSION_UPSERT.to_owned()), vec![Bind::Text(user.to_owned())]);
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
    let q = Query::new(waitpoint_owner(pool.dialect()), vec![Bind::Text(wp.to_string())]);
    let row: Option<(i64, String)> = pool.fetch_optional(q).await.map_err(lookup_error)?;
    Ok(row.and_then(|(part, eid)| exec_id(part, &eid)))
}
