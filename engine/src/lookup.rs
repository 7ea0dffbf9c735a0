//! What a bare id an operator pasted names (the board's jump box): a
//! flow, an execution, or a pending waitpoint (then: its execution).
//! Bounded work: one engine read per candidate kind; a waitpoint is found
//! with one SQL row on Postgres / SQLite and one pipeline of `HGET`s over
//! the partitions on Valkey (its key names the partition, the id does not).
use ff_core::engine_error::EngineError;
use ff_core::types::{ExecutionId, FlowId, WaitpointId};

use crate::connect::Connected;

/// Longest id the lookup takes (an execution id is 45 characters).
pub const MAX_ID: usize = 64;

/// What an id names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Flow(FlowId),
    Execution(ExecutionId),
    /// A pending waitpoint, and the execution it belongs to.
    Waitpoint(ExecutionId),
}

/// Resolve `raw`; `None` when nothing in the store has that id.
pub async fn resolve(c: &Connected, raw: &str) -> Result<Option<Found>, EngineError> {
    let raw = raw.trim();
    if let Ok(id) = ExecutionId::parse(raw) {
        return Ok(c.backend.describe_execution(&id).await?.map(|_| Found::Execution(id)));
    }
    let Ok(uuid) = uuid::Uuid::parse_str(raw) else { return Ok(None) };
    let flow = FlowId::from_uuid(uuid);
    if c.backend.describe_flow(&flow).await?.is_some() {
        return Ok(Some(Found::Flow(flow)));
    }
    Ok(waitpoint_execution(c, &WaitpointId::from_uuid(uuid)).await?.map(Found::Waitpoint))
}

async fn waitpoint_execution(c: &Connected, wp: &WaitpointId) -> Result<Option<ExecutionId>, EngineError> {
    c.side.waitpoint_execution(wp, &c.partitions).await
}
