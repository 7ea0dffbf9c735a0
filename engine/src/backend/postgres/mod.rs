//! Postgres: the board's list reads as one query per page on FlowFabric's
//! tables (`backend::sql`, written out by `backend::sql_reads`), plus the
//! board's own indexes.
//!
//! FlowFabric's tables are hash-partitioned 256 ways; every page query is
//! ordered on a `ff_board_*` index, so Postgres reads it as a merge of
//! per-partition index scans that each stop after a page.
use ff_core::partition::{flow_partition, PartitionConfig};
use ff_core::types::FlowId;
use sqlx::PgPool;

use super::sql::{Dialect, Plan};

pub mod dial;
pub mod fill;
pub(crate) mod live;

/// The board's reads on a Postgres store.
pub struct PostgresReads {
    /// Custom plans (`force_custom_plan`), shared with the engine backend.
    pub pool: PgPool,
    /// Kept plans (`force_generic_plan`) for pages over every partition
    /// ([`Plan::Generic`]), a few connections of the board's own.
    pub wide: PgPool,
    pub partitions: PartitionConfig,
}

impl PostgresReads {
    /// The pool that plans a query the way `plan` says.
    fn pool_for(&self, plan: Plan) -> &PgPool {
        match plan {
            Plan::Custom => &self.pool,
            Plan::Generic => &self.wide,
        }
    }

    /// The partition a flow and its members live on.
    fn flow_partition(&self, flow: &FlowId) -> i64 {
        i64::from(flow_partition(flow, &self.partitions).index)
    }
}

/// Every budget id (as text).
const BUDGETS: &str = "SELECT budget_id::text FROM ff_budget_policy ORDER BY 1 LIMIT 10000";

super::sql_reads::sql_reads!(PostgresReads, PgPool, sqlx::postgres::PgRow, Dialect::Postgres, BUDGETS);
