//! Operator actions: cancel a flow or an execution, approve / reject a
//! waitpoint, revoke a lease, change priority, replay, reset a budget.
//!
//! Every action: the role is checked here (hidden buttons are not
//! security), the CSRF token must match the session, input is validated
//! with clear messages, the attempt is written to the audit log BEFORE the
//! engine call and the outcome after it, and an idempotency key makes a
//! double click, a retry or two tabs one effect (the second call returns
//! the first call's outcome).
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What an action did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionResult {
    pub ok: bool,
    pub message: String,
    pub audit_id: String,
    /// The idempotency key had been used: this is the earlier outcome.
    pub duplicate: bool,
}

/// What a dialog shows before an action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    /// Plain-words effect, e.g. "cancel flow 7f3a…: 12 members, 3 running".
    pub summary: String,
    /// `(state, count)` of the members hit.
    pub counts: Vec<(String, usize)>,
    /// Executions affected besides the target (replay: downstream nodes).
    pub affected: Vec<String>,
    pub backend: String,
}

#[cfg(feature = "ssr")]
mod run {
    //! The shared action pipeline.
    use std::future::Future;

    use crate::api::actions::ActionResult;
    use crate::auth::Role;
    use crate::error::AppError;
    use ff_board_engine::audit::Recorded;
    use ff_board_engine::connect::Connected;

    /// Give an action's error its HTTP status (401, 403, 400, 404, 501, 502, 503).
    pub fn status<T>(r: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(e) = &r {
            crate::components::feedback::set_status(e.status());
        }
        r
    }

    pub fn check_text(reason: &str, key: &str) -> Result<(), AppError> {
        if reason.chars().count() > 500 {
            return Err(AppError::BadRequest("reason is longer than 500 characters".into()));
        }
        if key.trim().is_empty() || key.len() > 128 {
            return Err(AppError::BadRequest("missing or oversized idempotency key: reload the page".into()));
        }
        Ok(())
    }

    /// Attempts one idempotency key may make after failures.
    const MAX_RETRIES: usize = 20;

    /// Authorize, audit, call, audit the outcome.
    pub async fn act<F, Fut>(
        needed: Role,
        csrf: &str,
        action: &str,
        target: &str,
        reason: &str,
        key: &str,
        call: F,
    ) -> Result<ActionResult, AppError>
    where
        F: FnOnce(Connected) -> Fut,
        Fut: Future<Output = Result<String, AppError>>,
    {
        let actor = crate::state::writer(needed, csrf)?;
        check_text(reason, key)?;
        let c = crate::state::conn()?;
        let audit = crate::state::audit(&c).await?;
        // A key whose attempt failed may be used again: the retry is
        // recorded as a new attempt under `key#2`, `key#3`, …
        let mut entry = None;
        for n in 1..=MAX_RETRIES {
            let k = if n == 1 { key.to_owned() } else { format!("{key}#{n}") };
            match audit
                .record_attempt(&actor.user, actor.role.as_str(), action, target, reason, &k)
                .await
                .map_err(|e| AppError::Engine { op: "audit log".into(), error: e })?
            {
                Recorded::Existing(e) if e.outcome.as_deref().is_some_and(|o| o.starts_with("error")) => continue,
                Recorded::Existing(e) => {
                    let outcome = e.outcome.clone().unwrap_or_else(|| "still in progress".into());
                    return Ok(ActionResult { ok: true, message: outcome, audit_id: e.id, duplicate: true });
                }
                Recorded::New(e) => {
                    entry = Some(e);
                    break;
                }
            }
        }
        let entry = entry.ok_or_else(|| AppError::BadRequest(format!("this action failed {MAX_RETRIES} times: reload the page to try again")))?;
        let reads = c.reads.clone();
        let result = call(c).await;
        // Its author sees the effect on the next read, not a kept answer.
        reads.invalidate();
        let outcome = match &result {
            Ok(m) => format!("ok: {m}"),
            Err(e) => format!("error: {e}"),
        };
        if let Err(e) = audit.record_outcome(&entry.id, &outcome).await {
            tracing::error!(audit_id = %entry.id, error = %e, "audit outcome not recorded");
        }
        result.map(|message| ActionResult { ok: true, message, audit_id: entry.id, duplicate: false })
    }
}

#[server(prefix = "/api", endpoint = "cancel_flow_action")]
pub async fn cancel_flow_action(
    flow_id: String,
    policy: String,
    wait: String,
    timeout_ms: Option<u64>,
    reason: String,
    idempotency_key: String,
    csrf: String,
) -> Result<ActionResult, AppError> {
    run::status(async move {
    use ff_board_engine::actions;
    let id = super::parse::flow_id(&flow_id)?;
    let p = actions::cancel_policy(&policy)
        .ok_or_else(|| AppError::BadRequest(format!("unknown cancel policy {policy:?}: cancel_all, cancel_pending or flow_only")))?;
    let w = actions::cancel_wait(&wait, timeout_ms)
        .ok_or_else(|| AppError::BadRequest(format!("bad wait choice {wait:?}: none, indefinite, or timeout with 1..300000 ms")))?;
    let c0 = crate::state::conn()?;
    let sup = c0.backend.capabilities().supports;
    if matches!(w, ff_core::backend::CancelFlowWait::WaitTimeout(_)) && !sup.cancel_flow_wait_timeout
        || matches!(w, ff_core::backend::CancelFlowWait::WaitIndefinite) && !sup.cancel_flow_wait_indefinite
    {
        return Err(AppError::Unsupported { op: format!("cancel_flow with wait {wait}") });
    }
    run::act(crate::auth::Role::Operator, &csrf, "cancel_flow", &flow_id, &reason, &idempotency_key, |c| async move {
        actions::cancel_flow(&c, &id, p, w).await.map_err(|e| AppError::engine("cancel_flow", e))
    })
    .await
    }
    .await)
}

#[server(prefix = "/api", endpoint = "execution_action")]
pub async fn execution_action(
    execution_id: String,
    action: String,
    priority: Option<i32>,
    reason: String,
    idempotency_key: String,
    csrf: String,
) -> Result<ActionResult, AppError> {
    run::status(async move {
    use ff_board_engine::actions;
    let id = super::parse::execution_id(&execution_id)?;
    let sup = crate::state::conn()?.backend.capabilities().supports;
    let gate = |supported: bool, op: &str| if supported { Ok(()) } else { Err(AppError::Unsupported { op: op.into() }) };
    use crate::api::states::ExecAction as A;
    let act = A::parse(&action).ok_or_else(|| AppError::BadRequest(format!("unknown action {action:?}")))?;
    let supported = match act {
        A::Cancel => sup.cancel_execution,
        A::RevokeLease => sup.revoke_lease,
        A::Replay => sup.replay_execution,
        A::ChangePriority => sup.change_priority,
    };
    gate(supported, act.engine_op())?;
    if act == A::ChangePriority && !priority.is_some_and(|p| (-1000..=1000).contains(&p)) {
        return Err(AppError::BadRequest("priority must be a whole number from -1000 to 1000".into()));
    }
    let why = reason.clone();
    run::act(crate::auth::Role::Operator, &csrf, act.as_str(), &execution_id, &reason, &idempotency_key, |c| async move {
        let r = match act {
            A::Cancel => actions::cancel_execution(&c, &id, &why).await,
            A::RevokeLease => actions::revoke_lease(&c, &id, &why).await,
            A::Replay => actions::replay_execution(&c, &id).await,
            A::ChangePriority => actions::change_priority(&c, &id, priority.unwrap_or_default()).await,
        };
        r.map_err(|e| AppError::engine(act.as_str(), e))
    })
    .await
    }
    .await)
}

#[server(prefix = "/api", endpoint = "decide_waitpoint")]
pub async fn decide_waitpoint(
    execution_id: String,
    waitpoint_id: String,
    decision: String,
    /// The signal the operator chose, where the gate takes several names.
    #[server(default)]
    signal: Option<String>,
    reason: String,
    idempotency_key: String,
    csrf: String,
) -> Result<ActionResult, AppError> {
    run::status(async move {
    use crate::api::approvals::{Decision, Plan};
    // The role first: a denied call never reaches the engine.
    let actor = crate::state::writer(crate::auth::Role::Operator, &csrf)?;
    let id = super::parse::execution_id(&execution_id)?;
    let wp = ff_core::types::WaitpointId::parse(waitpoint_id.trim())
        .map_err(|_| AppError::BadRequest(format!("malformed waitpoint id {waitpoint_id:?}")))?;
    let d = Decision::parse(&decision)
        .ok_or_else(|| AppError::BadRequest(format!("decision must be approve or reject, not {decision:?}")))?;
    let chosen = signal.filter(|s| !s.trim().is_empty());
    if chosen.as_ref().is_some_and(|s| s.len() > 128 || s.chars().any(char::is_control)) {
        return Err(AppError::BadRequest("signal names are at most 128 printable characters".into()));
    }
    let key = idempotency_key.clone();
    let why = reason.clone();
    let who = actor.user.clone();
    run::act(crate::auth::Role::Operator, &csrf, d.as_str(), &format!("{execution_id} {waitpoint_id}"), &reason, &idempotency_key, |c| async move {
        let read = crate::api::approvals::gate_and_waitpoints(&c, &id).await;
        let w = read
            .waitpoints
            .map_err(|e| AppError::Engine { op: "list_pending_waitpoints".into(), error: e })?
            .into_iter()
            .find(|w| w.waitpoint_id == wp.to_string())
            .ok_or_else(|| AppError::not_found("pending waitpoint", wp.to_string()))?;
        let plan = if d == Decision::Approve { w.approve } else { w.reject };
        let signal = match (plan, chosen) {
            (Plan::Send { signal, .. }, None) => signal,
            (Plan::Send { signal, .. }, Some(c)) if c == signal => signal,
            (Plan::Choose { signals, .. }, Some(c)) if signals.contains(&c) => c,
            (Plan::Choose { signals, .. }, _) => {
                return Err(AppError::BadRequest(format!("this gate takes several signals here: choose one of {}", signals.join(", "))))
            }
            (Plan::Send { signal, .. }, Some(c)) => {
                return Err(AppError::BadRequest(format!("this gate takes `{signal}` here, not `{c}`")))
            }
            (Plan::Cancel { note } | Plan::Unavailable { note }, _) => {
                return Err(AppError::NoEffect(format!("{} {}: {note}", d.as_str(), crate::components::text::short_id(&execution_id))))
            }
        };
        let before = read
            .stored
            .map_err(|e| AppError::Engine { op: "read suspension".into(), error: e })?
            .ok_or_else(|| AppError::NoEffect("the execution is no longer suspended".into()))?;
        ff_board_engine::actions::decide(&c, &id, before, &wp, &w.key, &signal, &who, &why, &key).await.map_err(|e| match e {
            ff_board_engine::actions::DecideError::Engine(op, e) => AppError::engine(op, e),
            ff_board_engine::actions::DecideError::Store(e) => AppError::Engine { op: "read suspension".into(), error: e },
            ff_board_engine::actions::DecideError::NoEffect(why) => AppError::NoEffect(why),
        })
    })
    .await
    }
    .await)
}

#[server(prefix = "/api", endpoint = "reset_budget_action")]
pub async fn reset_budget_action(budget_id: String, reason: String, idempotency_key: String, csrf: String) -> Result<ActionResult, AppError> {
    run::status(async move {
    let id = ff_core::types::BudgetId::parse(budget_id.trim())
        .map_err(|_| AppError::BadRequest(format!("malformed budget id {budget_id:?}")))?;
    run::act(crate::auth::Role::Admin, &csrf, "reset_budget", &budget_id, &reason, &idempotency_key, |c| async move {
        ff_board_engine::actions::reset_budget(&c, &id).await.map_err(|e| AppError::engine("reset_budget", e))
    })
    .await
    }
    .await)
}

#[server(prefix = "/api", endpoint = "flow_cancel_preview")]
pub async fn flow_cancel_preview(flow_id: String) -> Result<Preview, AppError> {
    let id = super::parse::flow_id(&flow_id)?;
    let c = crate::state::conn()?;
    let counts: Vec<(String, usize)> = ff_board_engine::actions::flow_blast_radius(&c, &id)
        .await
        .map_err(|e| AppError::Engine { op: "flow members".into(), error: e })?
        .into_iter()
        .collect();
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    let running = counts.iter().filter(|(s, _)| s == "active").map(|(_, n)| n).sum::<usize>();
    Ok(Preview {
        summary: format!("cancel flow {}: {total} members, {running} running", crate::components::text::short_id(&flow_id)),
        counts,
        affected: vec![],
        backend: crate::state::engine()?.spec().redacted(),
    })
}

#[server(prefix = "/api", endpoint = "replay_preview")]
pub async fn replay_preview(execution_id: String) -> Result<Preview, AppError> {
    let id = super::parse::execution_id(&execution_id)?;
    let c = crate::state::conn()?;
    let flow = c.backend.resolve_execution_flow_id(&id).await.map_err(|e| AppError::engine("resolve_execution_flow_id", e))?;
    let affected = match &flow {
        Some(f) => ff_board_engine::actions::downstream(&c, f, &id).await.map_err(|e| AppError::engine("list_edges", e))?,
        None => vec![],
    };
    Ok(Preview {
        summary: format!(
            "replay {}: it runs again{}",
            crate::components::text::short_id(&execution_id),
            if affected.is_empty() { String::new() } else { format!(", and {} downstream node(s) re-run", affected.len()) }
        ),
        counts: vec![],
        affected: affected.into_iter().map(|e| e.to_string()).collect(),
        backend: crate::state::engine()?.spec().redacted(),
    })
}

/// What the action panel of an execution page needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionPanel {
    pub actor: Option<crate::auth::Actor>,
    pub state: String,
    pub terminal: bool,
    pub has_lease: bool,
    pub flow_id: Option<String>,
    /// Changes whenever the execution changes: part of idempotency keys, so
    /// two tabs looking at the same state act once.
    pub version: i64,
    pub waitpoints: Vec<crate::api::approvals::WaitpointView>,
    /// The approval gate, when the execution is suspended (or why it could not be read).
    pub gate: Result<Option<crate::api::approvals::GateView>, String>,
    /// `(cancel, revoke_lease, replay, change_priority)` support.
    pub supports: (bool, bool, bool, bool),
    pub backend: String,
}

#[server(prefix = "/api", endpoint = "execution_panel")]
pub async fn get_execution_panel(execution_id: String) -> Result<ExecutionPanel, AppError> {
    let id = super::parse::execution_id(&execution_id)?;
    let c = crate::state::conn()?;
    let s = c
        .backend
        .describe_execution(&id)
        .await
        .map_err(|e| AppError::engine("describe_execution", e))?
        .ok_or_else(|| AppError::not_found("execution", execution_id.clone()))?;
    // SQL backends keep the suspension row after a resume: a gate only
    // shows while the execution is suspended.
    let (gate, waitpoints) = if s.public_state == ff_core::state::PublicState::Suspended {
        let read = crate::api::approvals::gate_and_waitpoints(&c, &id).await;
        (read.gate, read.waitpoints.unwrap_or_default())
    } else {
        (Ok(None), vec![])
    };
    let sup = c.backend.capabilities().supports;
    let state = s.public_state.as_str().to_owned();
    Ok(ExecutionPanel {
        actor: crate::state::actor(),
        terminal: matches!(state.as_str(), "completed" | "failed" | "cancelled" | "expired" | "skipped"),
        state,
        has_lease: s.current_lease.is_some(),
        flow_id: s.flow_id.map(|f| f.to_string()),
        version: s.last_mutation_at.0,
        waitpoints,
        gate,
        supports: (sup.cancel_execution, sup.revoke_lease, sup.replay_execution, sup.change_priority),
        backend: crate::state::engine()?.spec().redacted(),
    })
}

/// Executions a bulk action may touch at most (per confirmation).
pub const BULK_MAX: usize = 1000;
/// Executions handled per bulk step.
pub const BULK_BATCH: usize = 25;

/// What a bulk run will act on: exactly these executions, no more.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BulkCount {
    pub state: String,
    /// `ids.len()`: the number the operator confirms.
    pub count: usize,
    /// More may match than the preview holds (over [`BULK_MAX`], or past
    /// the scan bound): the count is "at least", and the run still acts on
    /// `ids` only.
    pub more: bool,
    pub action: crate::api::states::ExecAction,
    /// The executions a run acts on, sent back in steps of [`BULK_BATCH`].
    pub ids: Vec<String>,
}

/// One bounded batch of a bulk action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BulkProgress {
    pub done: usize,
    pub failures: Vec<(String, String)>,
}


#[server(prefix = "/api", endpoint = "bulk_preview")]
pub async fn bulk_preview(state: String) -> Result<BulkCount, AppError> {
    use ff_board_engine::backend::ExecQuery;
    let st = crate::api::states::ExecState::filter(Some(&state))?
        .ok_or_else(|| AppError::BadRequest("choose a state to act on".into()))?;
    let c = crate::state::conn()?;
    let query = ExecQuery { state: Some(st.to_engine()), ..Default::default() };
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    let more = loop {
        let page = c.reads.executions(&query, after.as_deref(), 200).await?;
        ids.extend(page.rows.into_iter().map(|l| l.id.to_string()));
        match page.next {
            // The preview lists at most BULK_MAX; "more" says others match.
            Some(_) if ids.len() >= BULK_MAX => break true,
            Some(n) => after = Some(n),
            None => break false,
        }
    };
    let more = more || ids.len() > BULK_MAX;
    ids.truncate(BULK_MAX);
    Ok(BulkCount { count: ids.len(), more, action: crate::api::states::ExecAction::bulk_for(st), ids, state: st.as_str().to_owned() })
}

/// Act on one batch of the executions a preview listed. Each one is
/// re-read first: one that left `state` since the preview is reported as a
/// failure and left alone, so a run never acts on more than was confirmed.
#[server(prefix = "/api", endpoint = "bulk_step")]
pub async fn bulk_step(
    state: String,
    #[server(default)] ids: Vec<String>,
    reason: String,
    idempotency_key: String,
    csrf: String,
) -> Result<BulkProgress, AppError> {
    run::status(
        async move {
            crate::state::writer(crate::auth::Role::Operator, &csrf)?;
            let state = crate::api::states::ExecState::filter(Some(&state))?
                .ok_or_else(|| AppError::BadRequest("choose a state to act on".into()))?;
            let st = state.as_str();
            if ids.is_empty() || ids.len() > BULK_BATCH {
                return Err(AppError::BadRequest(format!("a bulk step acts on 1 to {BULK_BATCH} executions, not {}", ids.len())));
            }
            let ids = ids.iter().map(|raw| super::parse::execution_id(raw)).collect::<Result<Vec<_>, _>>()?;
            let c = crate::state::conn()?;
            let action = crate::api::states::ExecAction::bulk_for(state);
            let mut done = 0;
            let mut failures = vec![];
            for id in ids {
                let now = match c.backend.describe_execution(&id).await {
                    Ok(Some(s)) => s.public_state.as_str().to_owned(),
                    Ok(None) => String::from("gone"),
                    Err(e) => {
                        failures.push((id.to_string(), AppError::engine("describe_execution", e).to_string()));
                        continue;
                    }
                };
                if now != st {
                    failures.push((id.to_string(), format!("left alone: no longer {st} (now {now})")));
                    continue;
                }
                let key = format!("{idempotency_key}:{id}");
                let why = reason.clone();
                let target = id.to_string();
                let r = run::act(crate::auth::Role::Operator, &csrf, action.as_str(), &target, &reason, &key, |c| async move {
                    let r = if action == crate::api::states::ExecAction::Replay {
                        ff_board_engine::actions::replay_execution(&c, &id).await
                    } else {
                        ff_board_engine::actions::cancel_execution(&c, &id, &why).await
                    };
                    r.map_err(|e| AppError::engine(action.as_str(), e))
                })
                .await;
                match r {
                    Ok(_) => done += 1,
                    Err(e) => failures.push((target, e.to_string())),
                }
            }
            Ok(BulkProgress { done, failures })
        }
        .await,
    )
}
