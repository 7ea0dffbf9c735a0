//! Approvals: every suspended execution over all partitions with its reason
//! and pending waitpoints. Waitpoint tokens never leave the server: only the
//! key, state and required signal names are sent.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitpointView {
    pub waitpoint_id: String,
    pub key: String,
    pub state: String,
    pub required_signals: Vec<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRow {
    pub execution_id: String,
    pub flow_id: Option<String>,
    pub lane: String,
    pub namespace: String,
    pub reason: String,
    pub suspended_at: i64,
    /// Pending waitpoints, or why they could not be read.
    pub waitpoints: Result<Vec<WaitpointView>, String>,
    /// For n-of-m gates: approvals required, and who approved so far.
    pub required: Option<u32>,
    pub approvers: Vec<String>,
}

/// A pending waitpoint without its token (kid and fingerprint stay on the server too).
#[cfg(feature = "ssr")]
pub fn waitpoint_view(w: ff_core::contracts::PendingWaitpointInfo) -> WaitpointView {
    WaitpointView {
        waitpoint_id: w.waitpoint_id.to_string(),
        key: w.waitpoint_key,
        state: w.state,
        required_signals: w.required_signal_names,
        created_at: w.created_at.0,
        expires_at: w.expires_at.map(|t| t.0),
    }
}

/// Suspended executions read per partition.
pub const PER_PARTITION: usize = 200;

#[server(prefix = "/api", endpoint = "list_approvals")]
pub async fn list_approvals() -> Result<Vec<ApprovalRow>, AppError> {
    use ff_core::contracts::ListPendingWaitpointsArgs;
    use futures::StreamExt;
    let c = crate::state::conn()?;
    let entries = ff_board_engine::board::suspended_all(&c, PER_PARTITION)
        .await
        .map_err(|e| AppError::engine("list_suspended", e))?;
    let rows = futures::stream::iter(entries)
        .map(|entry| {
            let backend = c.backend.clone();
            let c = c.clone();
            async move {
                let gate = ff_board_engine::side::gate_progress(&c, &entry.execution_id).await.ok().flatten();
                let snap = backend.describe_execution(&entry.execution_id).await.ok().flatten();
                let waitpoints = backend
                    .list_pending_waitpoints(ListPendingWaitpointsArgs::new(entry.execution_id.clone()).with_limit(20))
                    .await
                    .map(|r| r.entries.into_iter().map(waitpoint_view).collect())
                    .map_err(|e| match e {
                        ff_core::engine_error::EngineError::Unavailable { .. } => {
                            "not supported by this backend".to_owned()
                        }
                        other => format!("list_pending_waitpoints failed: {other}"),
                    });
                ApprovalRow {
                    execution_id: entry.execution_id.to_string(),
                    flow_id: snap.as_ref().and_then(|s| s.flow_id.as_ref().map(|f| f.to_string())),
                    lane: snap.as_ref().map(|s| s.lane_id.to_string()).unwrap_or_default(),
                    namespace: snap.as_ref().map(|s| s.namespace.to_string()).unwrap_or_default(),
                    reason: entry.reason,
                    suspended_at: entry.suspended_at_ms,
                    waitpoints,
                    required: gate.as_ref().map(|g| g.0),
                    approvers: gate.map(|g| g.1).unwrap_or_default(),
                }
            }
        })
        .buffered(ff_board_engine::side::concurrency(&c))
        .collect::<Vec<_>>()
        .await;
    Ok(rows)
}
