//! The audit entry type the browser sees.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: String,
    pub at_ms: i64,
    pub user: String,
    pub role: String,
    pub action: String,
    pub target: String,
    pub reason: String,
    pub idempotency_key: String,
    /// What became of it (in progress while the engine call runs).
    pub outcome: crate::api::states::AuditOutcome,
    pub outcome_at_ms: Option<i64>,
}
