//! The jump box: where a pasted flow, execution or waitpoint id leads.
use leptos::prelude::*;

use crate::error::AppError;

/// The page of what `id` names: a flow, an execution, or (for a pending
/// waitpoint) the execution that waits on it. 400 for something that is
/// no id at all, 404 for an id nothing in the store has.
#[server(prefix = "/api", endpoint = "jump", output = crate::api::codec::PostcardAnswer)]
pub async fn jump(id: String) -> Result<String, AppError> {
    use crate::api::read::Call;
    use crate::components::text::{execution_href, flow_href};
    use ff_board_engine::lookup::{resolve, Found, MAX_ID};
    let id = id.trim().to_owned();
    if id.is_empty() || id.len() > MAX_ID {
        return Err(AppError::BadRequest(format!(
            "paste a flow id (a UUID), an execution id ({{fp:N}}:<uuid>) or a waitpoint id, at most {MAX_ID} characters"
        )));
    }
    let asked = id.clone();
    let found = super::read::read(|c| async move { resolve(&c, &asked).timed("resolve id").await }).await?;
    match found {
        Some(Found::Flow(f)) => Ok(flow_href(&f.to_string())),
        Some(Found::Execution(e)) => Ok(execution_href(&e.to_string())),
        Some(Found::Waitpoint(e)) => Ok(execution_href(&e.to_string())),
        None if ff_core::types::ExecutionId::parse(&id).is_ok() || ff_core::types::FlowId::parse(&id).is_ok() => {
            Err(AppError::NotFound { what: "flow, execution or pending waitpoint".into(), id })
        }
        None => Err(AppError::BadRequest(format!(
            "{id:?} is not an id: expected a flow id (a UUID), an execution id ({{fp:N}}:<uuid>) or a waitpoint id"
        ))),
    }
}
