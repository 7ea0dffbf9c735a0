//! How the engine behind each backend behaves where the board or its demo
//! must know it (FlowFabric 0.15, checked by running it; team notes
//! `flowfabric.md`). The one place outside the per-backend folders' code
//! that tells the three apart for behaviour rather than for a store.
use ff_core::engine_error::{EngineError, ValidationKind};
use ff_core::types::{ExecutionId, FlowId};

use crate::connect::{BackendKind, Connected};

/// Engine behaviours that differ per backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quirks {
    /// Every execution lives on partition 0 (SQLite is one logical
    /// partition and refuses ids minted for another).
    pub one_partition: bool,
    /// A failed attempt's retry waits in the lane's delayed set until the
    /// engine's scanner promotes it (Valkey); the SQL backends re-enqueue
    /// retries as runnable at once.
    pub retries_wait_for_scanner: bool,
    /// A resumed execution is claimed with a claim grant its scheduler
    /// issues (Valkey); Postgres and SQLite take none.
    pub resume_needs_grant: bool,
    /// Flows are listed by id, not newest first: Valkey keeps no time
    /// index of flows.
    pub flows_by_id: bool,
    /// Lease events carry the lease id, so a new attempt can be told from a
    /// resume and retries counted (Valkey; the SQL events carry none).
    pub retries_counted: bool,
    /// `unblock_execution` moves a budget-, quota- or route-blocked
    /// execution back to eligible (Valkey); the SQL backends keep no
    /// blocked sets and answer `Unavailable` (no `capabilities()` flag).
    pub unblock: bool,
    /// `expire_suspension` times a due suspension out (Valkey, Postgres);
    /// SQLite answers `Unavailable` (no `capabilities()` flag).
    pub expire_suspension: bool,
}

impl Quirks {
    pub fn of(kind: BackendKind) -> Quirks {
        let valkey = kind == BackendKind::Valkey;
        Quirks {
            one_partition: kind == BackendKind::Sqlite,
            retries_wait_for_scanner: valkey,
            resume_needs_grant: valkey,
            flows_by_id: valkey,
            retries_counted: valkey,
            unblock: valkey,
            expire_suspension: kind != BackendKind::Sqlite,
        }
    }
}

/// A new execution id for a member of `flow`: co-located with the flow's
/// partition, or on partition 0 where the backend has only that one (as
/// FlowFabric's `ff-dev` mints them; ff-core has no public constructor
/// for it, so the id is read from its text).
pub fn mint_execution_id(c: &Connected, flow: &FlowId) -> Result<ExecutionId, EngineError> {
    if Quirks::of(c.kind).one_partition {
        ExecutionId::parse(&format!("{{fp:0}}:{}", uuid::Uuid::new_v4()))
            .map_err(|e| EngineError::Validation { kind: ValidationKind::InvalidInput, detail: e.to_string() })
    } else {
        Ok(ExecutionId::for_flow(flow, &c.partitions))
    }
}
