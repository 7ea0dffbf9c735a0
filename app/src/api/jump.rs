//! The jump box: where a pasted flow, execution or waitpoint id leads, or
//! (for a query of the board's language, `docs/SEARCH.md`) the executions
//! list of that query.
use leptos::prelude::*;

use crate::error::AppError;

/// The page of what `id` names: a flow, an execution, or (for a pending
/// waitpoint) the execution that waits on it; for text with a field term
/// or several words, the executions list of that query. 400 for something
/// that is no id and no query, 404 for an id nothing in the store has.
#[server(prefix = "/api", endpoint = "jump", output = crate::api::codec::PostcardAnswer)]
pub async fn jump(id: String) -> Result<String, AppError> {
    use crate::api::read::Call;
    use crate::components::text::{execution_href, flow_href};
    use ff_board_engine::lookup::{resolve, Found, MAX_ID};
    let id = id.trim().to_owned();
    if is_query(&id) {
        use ff_board_domain::query::{Query, Scope};
        Query::parse(&id, Scope::Executions).map_err(|e| AppError::BadRequest(e.to_string()))?;
        return Ok(format!("/executions?q={}", crate::components::text::encode(&id)));
    }
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

/// Text that is a query rather than an id: several words, or a field
/// term (`kind:…`; an execution id's own `{fp:N}:` is not one).
#[cfg(feature = "ssr")]
fn is_query(text: &str) -> bool {
    use ff_board_domain::query::{Field, Scope};
    text.split_whitespace().count() > 1
        || Field::of(Scope::Executions).any(|f| {
            let t = text.trim_start_matches('-');
            t.starts_with(f.name()) && t[f.name().len()..].starts_with(':')
        })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn queries_and_ids_are_told_apart() {
        assert!(super::is_query("kind:deploy*"));
        assert!(super::is_query("-state:completed"));
        assert!(super::is_query("a b"));
        assert!(!super::is_query("{fp:12}:0b6e1c9e-3f0a-4c58-9d8b-7a51d4f3e2a1"));
        assert!(!super::is_query("0b6e1c9e-3f0a-4c58-9d8b-7a51d4f3e2a1"));
        assert!(!super::is_query("hello"));
    }
}
