//! SQLite: the same page queries as Postgres (`backend::sql`, SQLite
//! dialect, written out by `backend::sql_reads`) on the SQLite backend's
//! tables, one logical partition.
use ff_core::types::FlowId;
use sqlx::SqlitePool;

use super::sql::Dialect;

pub mod dial;
pub mod fill;
pub(crate) mod live;
mod queries;

/// The board's reads on a SQLite store.
pub struct SqliteReads {
    pub pool: SqlitePool,
}

impl SqliteReads {
    /// SQLite plans every query the same way: one pool.
    fn pool_for(&self, _: super::sql::Plan) -> &SqlitePool {
        &self.pool
    }

    /// The SQLite backend is one partition (key 0).
    fn flow_partition(&self, _: &FlowId) -> i64 {
        0
    }
}

/// Every budget id (as text).
const BUDGETS: &str = "SELECT budget_id FROM ff_budget_policy ORDER BY 1 LIMIT 10000";

super::sql_reads::sql_reads!(SqliteReads, SqlitePool, sqlx::sqlite::SqliteRow, Dialect::Sqlite, BUDGETS);
