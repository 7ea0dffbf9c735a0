//! `SqliteFilled`: the SQLite backend with its missing reads filled in.
//!
//! The 0.15 SQLite backend (`ff-backend-sqlite`) answers
//! `EngineError::Unavailable` for nine reads of the `EngineBackend` trait
//! the board depends on: `describe_flow`, `list_flows`, `list_edges`,
//! `describe_edge`, `describe_execution`, `list_executions`, `list_lanes`,
//! `list_suspended` and `resolve_execution_flow_id`. [`SqliteFilled`]
//! wraps the backend ([`Filled`]) and answers those nine from the
//! backend's own tables through a side `SqlitePool` (module `queries`,
//! ported from the Postgres backend so both give the same shapes,
//! orderings and cursors). It also fills `ping`: the SQLite backend leaves
//! it at the trait's `Unavailable` default, so that answer is replaced by
//! a `SELECT 1` on the side pool (otherwise every health check would
//! report the backend down).
use async_trait::async_trait;
use ff_backend_sqlite::SqliteBackend;
use ff_core::contracts::{
    EdgeDirection, EdgeSnapshot, FlowSnapshot, ListExecutionsPage, ListFlowsPage, ListLanesPage, ListSuspendedPage,
};
use ff_core::engine_backend::EngineBackend;
use ff_core::engine_error::EngineError;
use ff_core::partition::PartitionKey;
use ff_core::types::{EdgeId, ExecutionId, FlowId, LaneId};
use sqlx::SqlitePool;

use super::queries;
use crate::backend::filled::exec_row::ExecRow;
use crate::backend::filled::{FillReads, Filled};

/// The SQLite backend plus the nine reads it lacks.
pub type SqliteFilled = Filled<SqlitePool>;

/// The SQLite side pool fills every read the SQLite backend lacks.
#[async_trait]
impl FillReads for SqlitePool {
    type Backend = SqliteBackend;

    async fn exec_row(&self, id: &ExecutionId) -> Result<Option<ExecRow>, EngineError> {
        queries::exec_row(self, id).await
    }
    async fn describe_flow(&self, _: &SqliteBackend, id: &FlowId) -> Result<Option<FlowSnapshot>, EngineError> {
        queries::describe_flow(self, id).await
    }
    async fn list_flows(
        &self,
        _: &SqliteBackend,
        partition: PartitionKey,
        cursor: Option<FlowId>,
        limit: usize,
    ) -> Result<ListFlowsPage, EngineError> {
        queries::list_flows(self, partition, cursor, limit).await
    }
    async fn list_edges(
        &self,
        _: &SqliteBackend,
        flow_id: &FlowId,
        direction: EdgeDirection,
    ) -> Result<Vec<EdgeSnapshot>, EngineError> {
        queries::list_edges(self, flow_id, direction).await
    }
    async fn describe_edge(
        &self,
        _: &SqliteBackend,
        flow_id: &FlowId,
        edge_id: &EdgeId,
    ) -> Result<Option<EdgeSnapshot>, EngineError> {
        queries::describe_edge(self, flow_id, edge_id).await
    }
    async fn resolve_execution_flow_id(
        &self,
        _: &SqliteBackend,
        eid: &ExecutionId,
    ) -> Result<Option<FlowId>, EngineError> {
        queries::resolve_execution_flow_id(self, eid).await
    }
    async fn list_lanes(
        &self,
        _: &SqliteBackend,
        cursor: Option<LaneId>,
        limit: usize,
    ) -> Result<ListLanesPage, EngineError> {
        queries::list_lanes(self, cursor, limit).await
    }
    async fn list_suspended(
        &self,
        _: &SqliteBackend,
        partition: PartitionKey,
        cursor: Option<ExecutionId>,
        limit: usize,
    ) -> Result<ListSuspendedPage, EngineError> {
        queries::list_suspended(self, partition, cursor, limit).await
    }
    async fn list_executions(
        &self,
        _: &SqliteBackend,
        partition: PartitionKey,
        cursor: Option<ExecutionId>,
        limit: usize,
    ) -> Result<ListExecutionsPage, EngineError> {
        queries::list_executions(self, partition, cursor, limit).await
    }
    async fn ping(&self, b: &SqliteBackend) -> Result<(), EngineError> {
        // The 0.15 SQLite backend leaves `ping` at the trait's
        // `Unavailable` default, which a health check would read as "down":
        // answer that case with a round trip on the same database.
        match <SqliteBackend as EngineBackend>::ping(b).await {
            Err(EngineError::Unavailable { .. }) => queries::ping(self).await,
            other => other,
        }
    }
}
