//! Server functions by domain, each next to the serde types it returns.
//! Every function returns `Result<_, AppError>`; ids arrive as strings and
//! are parsed on the server (400 when malformed, 404 when unknown).
pub mod actions;
pub mod approvals;
pub mod audit_types;
pub mod budgets;
pub mod bulk;
pub mod codec;
pub mod diagnosis;
pub mod executions;
pub mod flows;
pub mod jump;
pub mod leases;
pub mod overview;
pub mod quotas;
#[cfg(feature = "ssr")]
pub(crate) mod read;
pub mod rendered;
pub mod repair;
pub mod session;
pub mod states;
pub mod status;
pub mod tail;
pub mod timeline;
pub mod views;
pub mod workers;

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

#[cfg(feature = "ssr")]
pub(crate) mod cursor {
    //! Page cursors in URLs: the backend's own cursor, base64url so it
    //! stays opaque; one that does not decode is a 400.
    use base64::Engine as _;

    use crate::error::AppError;

    pub fn encode(raw: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(raw: Option<&str>) -> Result<Option<String>, AppError> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
        let bad = || AppError::BadRequest(format!("malformed cursor {raw:?}: start again from the first page"));
        if raw.len() > 512 {
            return Err(bad());
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        String::from_utf8(bytes).map(Some).map_err(|_| bad())
    }
}
