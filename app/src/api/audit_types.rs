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
    /// None while the engine call has not finished.
    pub outcome: Option<String>,
    pub outcome_at_ms: Option<i64>,
}
