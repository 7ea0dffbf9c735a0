//! `PostForm`: a form posting to a server function, progressively enhanced.
//!
//! Without wasm the browser posts it like any form (the server decodes the
//! fields). With wasm, Leptos's own `ActionForm` turns the fields into the
//! server function's arguments through a generic `serde_qs` decoder, whose
//! copy per argument type and whose parser cost the bundle about 40 KB
//! before wasm-opt. Here each form names a plain reader instead
//! ([`Fields`] to arguments, a few lines each, below), then dispatches on
//! the same `ServerAction`, so values, versions, pending states and
//! redirects behave as before.
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::api::actions::{CancelFlowAction, DecideWaitpoint, ExecutionAction, ResetBudgetAction};
use crate::api::session::{Login, Logout};

/// A submitted form's fields, by name (the last value of a repeated name).
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// The field's value, or "" when the form has no such field.
    pub fn text(&self, name: &str) -> String {
        self.opt(name).unwrap_or_default()
    }

    /// The field's value; `None` when absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone()).filter(|v| !v.trim().is_empty())
    }

    /// The field parsed as a number; `None` when absent, blank or not a number.
    pub fn num<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        self.opt(name).and_then(|v| v.trim().parse().ok())
    }
}

/// A `<form method="post">` to `S`'s URL; with wasm, `read` builds the
/// arguments and `act` runs them.
#[component]
pub fn PostForm<S>(act: ServerAction<S>, read: fn(&Fields) -> S, children: Children) -> impl IntoView
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    // A form whose fields cannot be read is left to the browser to post.
    let submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        if let Some(f) = fields(&ev) {
            ev.prevent_default();
            act.dispatch(read(&f));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, act, read);
    };
    view! { <form method="post" action=S::url() on:submit=submit>{children()}</form> }
}

#[cfg(feature = "hydrate")]
fn fields(ev: &leptos::ev::SubmitEvent) -> Option<Fields> {
    use wasm_bindgen::JsCast;
    let form = ev.target()?.dyn_into::<web_sys::HtmlFormElement>().ok()?;
    let data = web_sys::FormData::new_with_form(&form).ok()?;
    let mut out = Vec::new();
    for entry in js_sys::try_iter(&data).ok()?? {
        let pair: js_sys::Array = entry.ok()?.unchecked_into();
        out.push((pair.get(0).as_string()?, pair.get(1).as_string().unwrap_or_default()));
    }
    Some(Fields(out))
}

pub fn execution_action(f: &Fields) -> ExecutionAction {
    ExecutionAction {
        execution_id: f.text("execution_id"),
        action: f.text("action"),
        priority: f.num("priority"),
        reason: f.text("reason"),
        idempotency_key: f.text("idempotency_key"),
        csrf: f.text("csrf"),
    }
}

pub fn decide_waitpoint(f: &Fields) -> DecideWaitpoint {
    DecideWaitpoint {
        execution_id: f.text("execution_id"),
        waitpoint_id: f.text("waitpoint_id"),
        decision: f.text("decision"),
        signal: f.opt("signal"),
        reason: f.text("reason"),
        idempotency_key: f.text("idempotency_key"),
        csrf: f.text("csrf"),
    }
}

pub fn cancel_flow_action(f: &Fields) -> CancelFlowAction {
    CancelFlowAction {
        flow_id: f.text("flow_id"),
        policy: f.text("policy"),
        wait: f.text("wait"),
        timeout_ms: f.num("timeout_ms"),
        reason: f.text("reason"),
        idempotency_key: f.text("idempotency_key"),
        csrf: f.text("csrf"),
    }
}

pub fn reset_budget_action(f: &Fields) -> ResetBudgetAction {
    ResetBudgetAction {
        budget_id: f.text("budget_id"),
        reason: f.text("reason"),
        idempotency_key: f.text("idempotency_key"),
        csrf: f.text("csrf"),
    }
}

pub fn login(f: &Fields) -> Login {
    Login { username: f.text("username"), password: f.text("password"), next: f.opt("next") }
}

pub fn logout(_: &Fields) -> Logout {
    Logout {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_as_the_server_would() {
        let f = Fields(vec![
            ("execution_id".into(), "{fp:0}:x".into()),
            ("action".into(), "change_priority".into()),
            ("priority".into(), " 12 ".into()),
            ("csrf".into(), "c".into()),
            ("signal".into(), "  ".into()),
        ]);
        let a = execution_action(&f);
        assert_eq!((a.priority, a.reason.as_str(), a.csrf.as_str()), (Some(12), "", "c"));
        assert_eq!(decide_waitpoint(&f).signal, None, "a blank choice is no choice");
        assert_eq!(Fields(vec![("priority".into(), "x".into())]).num::<i32>("priority"), None);
    }
}
