//! [`Filled`]: an engine backend with reads it lacks (or gets wrong in
//! 0.15) answered from its own tables through a side store, everything
//! else delegated. SQLite fills nine reads (`crate::backend::sqlite::fill`);
//! Postgres fixes `describe_execution` (`crate::backend::postgres::fill`).
//!
//! Every trait method is delegated to the wrapped backend (module
//! `forward`), including the ones with a default body in the trait,
//! `capabilities()`, `backend_label()`, `prepare` and the `subscribe_*`
//! family, except:
//! - `describe_execution`, always answered from the `ff_exec_core` row
//!   ([`exec_row::ExecRow`]): the Postgres 0.15 decoder fails on its own
//!   flow members, and on both backends finished executions keep a live
//!   `public_state` (see `crate::backend::state_fix`);
//! - `read_execution_info`, delegated but with that same state fix on
//!   terminal rows;
//! - the reads the store fills through [`FillReads`] (defaults delegate).
//!
//! `as_any` returns the wrapper, so it downcasts to `SqliteFilled` (or
//! `PostgresFilled`).
//!
//! Delegated calls go through `<Backend as EngineBackend>` so an inherent
//! backend method of the same name is never picked instead. ff-core is
//! built with its default features (core, streaming, suspension, budget),
//! so every feature-gated trait method exists and is delegated here.
use std::sync::Arc;

use async_trait::async_trait;
use ff_core::contracts::{
    EdgeDirection, EdgeSnapshot, FlowSnapshot, ListExecutionsPage, ListFlowsPage, ListLanesPage, ListSuspendedPage,
};
use ff_core::engine_backend::EngineBackend;
use ff_core::engine_error::EngineError;
use ff_core::partition::PartitionKey;
use ff_core::types::{EdgeId, ExecutionId, FlowId, LaneId};

pub mod exec_row;
mod forward;

use exec_row::ExecRow;

/// The side store of a [`Filled`] backend: the `ff_exec_core` row reader
/// every wrapper needs, plus the reads it answers instead of its backend.
/// Each of those defaults to the backend's own answer.
#[async_trait]
pub trait FillReads: Send + Sync + 'static {
    /// The wrapped backend.
    type Backend: EngineBackend;

    /// The `ff_exec_core` row of `id` with its current attempt's outcome
    /// ([`exec_row_sql`]); `Ok(None)` when the execution is missing.
    async fn exec_row(&self, id: &ExecutionId) -> Result<Option<ExecRow>, EngineError>;

    async fn describe_flow(&self, b: &Self::Backend, id: &FlowId) -> Result<Option<FlowSnapshot>, EngineError> {
        b.describe_flow(id).await
    }
    async fn list_flows(
        &self,
        b: &Self::Backend,
        partition: PartitionKey,
        cursor: Option<FlowId>,
        limit: usize,
    ) -> Result<ListFlowsPage, EngineError> {
        b.list_flows(partition, cursor, limit).await
    }
    async fn list_edges(
        &self,
        b: &Self::Backend,
        flow_id: &FlowId,
        direction: EdgeDirection,
    ) -> Result<Vec<EdgeSnapshot>, EngineError> {
        b.list_edges(flow_id, direction).await
    }
    async fn describe_edge(
        &self,
        b: &Self::Backend,
        flow_id: &FlowId,
        edge_id: &EdgeId,
    ) -> Result<Option<EdgeSnapshot>, EngineError> {
        b.describe_edge(flow_id, edge_id).await
    }
    async fn resolve_execution_flow_id(
        &self,
        b: &Self::Backend,
        eid: &ExecutionId,
    ) -> Result<Option<FlowId>, EngineError> {
        b.resolve_execution_flow_id(eid).await
    }
    async fn list_lanes(
        &self,
        b: &Self::Backend,
        cursor: Option<LaneId>,
        limit: usize,
    ) -> Result<ListLanesPage, EngineError> {
        b.list_lanes(cursor, limit).await
    }
    async fn list_suspended(
        &self,
        b: &Self::Backend,
        partition: PartitionKey,
        cursor: Option<ExecutionId>,
        limit: usize,
    ) -> Result<ListSuspendedPage, EngineError> {
        b.list_suspended(partition, cursor, limit).await
    }
    async fn list_executions(
        &self,
        b: &Self::Backend,
        partition: PartitionKey,
        cursor: Option<ExecutionId>,
        limit: usize,
    ) -> Result<ListExecutionsPage, EngineError> {
        b.list_executions(partition, cursor, limit).await
    }
    async fn ping(&self, b: &Self::Backend) -> Result<(), EngineError> {
        b.ping().await
    }
}

/// A backend plus its side store `S` (see the module doc).
pub struct Filled<S: FillReads> {
    inner: Arc<S::Backend>,
    pool: S,
}

pub(crate) type Inner<S> = <S as FillReads>::Backend;

impl<S: FillReads> Filled<S> {
    /// Wrap `inner`; `pool` must be opened on the same database.
    pub fn new(inner: Arc<S::Backend>, pool: S) -> Arc<Self> {
        Arc::new(Self { inner, pool })
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &Arc<S::Backend> {
        &self.inner
    }
}
