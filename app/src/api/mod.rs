//! Server functions by domain, each next to the serde types it returns.
//! Every function returns `Result<_, AppError>`; ids arrive as strings and
//! are parsed on the server (400 when malformed, 404 when unknown).
pub mod actions;
pub mod approvals;
pub mod audit_types;
pub mod budgets;
pub mod executions;
pub mod flows;
pub mod leases;
pub mod session;
pub mod status;

#[cfg(feature = "ssr")]
pub(crate) mod parse {
    //! Parsing of ids from URLs into engine ids, with 400 messages.
    use crate::error::AppError;
    use ff_core::types::{ExecutionId, FlowId};

    pub fn flow_id(raw: &str) -> Result<FlowId, AppError> {
        FlowId::parse(raw.trim()).map_err(|_| {
            AppError::BadRequest(format!("malformed flow id {raw:?}: expected a UUID"))
        })
    }

    pub fn execution_id(raw: &str) -> Result<ExecutionId, AppError> {
        ExecutionId::parse(raw.trim()).map_err(|e| {
            AppError::BadRequest(format!(
                "malformed execution id {raw:?}: expected {{fp:N}}:<uuid> ({e})"
            ))
        })
    }
}
