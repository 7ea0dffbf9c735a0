//! Operator actions: cancel a flow or an execution, approve / reject a
//! waitpoint, revoke a lease, change priority, replay, reset a budget.
//!
//! Every action: the role is checked here (hidden buttons are not
//! security), the CSRF token must match the session, input is validated
//! with clear messages, the attempt is written to the audit log BEFORE the
//! engine call and the outcome after it, and an idempotency key makes a
//! double click, a retry or two tabs one effect (the second call returns
//! the first call's outcome).
//!
//! The key the browser sends is scoped on the server by the signed-in
//! user, the action, the target and every parameter ([`run::scoped_key`]):
//! another user's key, or the same key with other parameters, is another
//! action. Only a success deduplicates; an attempt still without outcome
//! answers 409 for [`run::IN_FLIGHT_MS`] and then counts as lost; a
//! failure may be retried.
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
pub(crate) mod run {
    //! The shared action pipeline.
    use std::future::Future;

    use crate::api::actions::ActionResult;
    use crate::auth::Role;
    use crate::error::AppError;
    use ff_board_engine::audit::{Attempt, Recorded};

    use crate::api::states::{AuditOutcome, ExecAction};
    use ff_board_engine::connect::Connected;

    /// Give an action's error its HTTP status (401, 403, 400, 404, 501,
    /// 502, 503), except to a browser's own form post (no wasm, or a
    /// server-rendered form): server_fn answers that with a redirect back
    /// carrying the error (`?__err=`), which a status would replace.
    pub fn status<T>(r: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(e) = &r {
            if !crate::state::form_post() {
                crate::components::feedback::set_status(e.status());
            }
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

    /// Whether this backend supports `action`: `capabilities()`, or for
    /// the methods it has no flag for, the board's table (`Quirks`,
    /// `docs/ENGINE.md`).
    pub fn supported(action: ExecAction, sup: &ff_core::capability::Supports, q: ff_board_engine::backend::quirks::Quirks) -> bool {
        match action {
            ExecAction::Cancel => sup.cancel_execution,
            ExecAction::RevokeLease => sup.revoke_lease,
            ExecAction::Replay => sup.replay_execution,
            ExecAction::ChangePriority => sup.change_priority,
            ExecAction::Unblock => q.unblock,
            // All three backends of 0.15 implement `resume_execution`.
            ExecAction::Resume => true,
            ExecAction::ExpireSuspension => q.expire_suspension,
        }
    }

    /// Attempts one idempotency key may make after failures.
    const MAX_RETRIES: usize = 20;
    /// How long an attempt without an outcome holds its key (longer than
    /// any backend deadline); after that it counts as lost.
    pub const IN_FLIGHT_MS: i64 = 60_000;

    /// The stored idempotency key: the user, the browser's key and a
    /// digest (FNV-1a, stable across builds and replicas) of the action,
    /// target and parameters.
    pub fn scoped_key(user: &str, key: &str, parts: &[&str]) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for part in parts {
            for b in part.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{user}/{key}/{h:016x}")
    }

    /// Authorize, audit, call (with the scoped key, for engine calls that
    /// take one), audit the outcome. `params` are the action's parameters
    /// besides target and reason.
    #[allow(clippy::too_many_arguments)]
    pub async fn act<F, Fut>(
        needed: Role,
        csrf: &str,
        action: &str,
        target: &str,
        reason: &str,
        params: &[&str],
        key: &str,
        call: F,
    ) -> Result<ActionResult, AppError>
    where
        F: FnOnce(Connected, String) -> Fut,
        Fut: Future<Output = Result<String, AppError>>,
    {
        let actor = crate::state::writer(needed, csrf)?;
        check_text(reason, key)?;
        // Ids as parsed (surrounding blanks gone), so the log holds one form.
        let target = target.trim();
        let c = crate::state::conn()?;
        let audit = crate::state::audit(&c).await?;
        let parts: Vec<&str> = [action, target, reason].into_iter().chain(params.iter().copied()).collect();
        let scoped = scoped_key(&actor.user, key.trim(), &parts);
        // A key whose attempt failed (or was lost) may be used again: the
        // retry is recorded as a new attempt under `key#2`, `key#3`, …
        let mut entry = None;
        for n in 1..=MAX_RETRIES {
            let k = if n == 1 { scoped.clone() } else { format!("{scoped}#{n}") };
            match audit
                .record_attempt(Attempt { user: &actor.user, role: actor.role.as_str(), action, target, reason, idempotency_key: &k })
                .await
                .map_err(|e| AppError::Engine { op: "audit log".into(), error: e.to_string() })?
            {
                Recorded::Existing(e) if AuditOutcome::decode(action, e.outcome.as_deref()).is_failure() => continue,
                Recorded::Existing(e) if e.outcome.is_none() && ff_core::types::TimestampMs::now().0 - e.at_ms > IN_FLIGHT_MS => continue,
                Recorded::Existing(e) if e.outcome.is_none() => {
                    return Err(AppError::Conflict {
                        op: action.into(),
                        error: format!("your same {action} is still in progress (audit entry {}): wait for its outcome", e.id),
                    })
                }
                Recorded::Existing(e) => {
                    let outcome = e.outcome.clone().unwrap_or_default();
                    return Ok(ActionResult { ok: true, message: outcome, audit_id: e.id, duplicate: true });
                }
                Recorded::New(e) => {
                    entry = Some((e, k));
                    break;
                }
            }
        }
        let (entry, k) = entry.ok_or_else(|| AppError::BadRequest(format!("this action failed {MAX_RETRIES} times: reload the page to try again")))?;
        let reads = c.reads.clone();
        let result = call(c, k).await;
        // Its author sees the effect on the next read, not a kept answer.
        reads.invalidate();
        let outcome = match &result {
            Ok(m) => AuditOutcome::Done(m.clone()),
            Err(e) => AuditOutcome::Failed(e.to_string()),
        };
        if let Err(e) = audit.record_outcome(&entry.id, &outcome.encode().unwrap_or_default()).await {
            tracing::error!(audit_id = %entry.id, error = %e, "audit outcome not recorded");
        }
        result.map(|message| ActionResult { ok: true, message, audit_id: entry.id, duplicate: false })
    }
}

#[server(prefix = "/api", endpoint = "cancel_flow_action", output = crate::api::codec::PostcardAnswer)]
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
    use super::read::Call;
    use ff_board_engine::actions;
    let id = super::parse::flow_id(&flow_id)?;
    let p = actions::cancel_policy(&policy)
        .ok_or_else(|| AppError::BadRequest(format!("unknown cancel policy {policy:?}: cancel_all, cancel_pending or flow_only")))?;
    let w = actions::cancel_wait(&wait, timeout_ms)
        .ok_or_else(|| AppError::BadRequest(format!("bad wait choice {wait:?}: none, indefinite, or timeout with 1..300000 ms")))?;
    let sup = super::read::supports()?;
    if matches!(w, ff_core::backend::CancelFlowWait::WaitTimeout(_)) && !sup.cancel_flow_wait_timeout
        || matches!(w, ff_core::backend::CancelFlowWait::WaitIndefinite) && !sup.cancel_flow_wait_indefinite
    {
        return Err(AppError::Unsupported { op: format!("cancel_flow with wait {wait}") });
    }
    let params = [policy.as_str(), wait.as_str(), &timeout_ms.map(|t| t.to_string()).unwrap_or_default()];
    run::act(crate::auth::Role::Operator, &csrf, "cancel_flow", &flow_id, &reason, &params, &idempotency_key, |c, _| async move {
        actions::cancel_flow(&c, &id, p, w).named("cancel_flow").await
    })
    .await
    }
    .await)
}

#[server(prefix = "/api", endpoint = "execution_action", output = crate::api::codec::PostcardAnswer)]
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
    let sup = super::read::supports()?;
    let quirks = ff_board_engine::backend::quirks::Quirks::of(crate::state::conn()?.kind);
    use crate::api::states::ExecAction as A;
    let act = A::parse(&action).ok_or_else(|| AppError::BadRequest(format!("unknown action {action:?}")))?;
    if !run::supported(act, &sup, quirks) {
        return Err(AppError::Unsupported { op: act.engine_op().into() });
    }
    if act == A::ChangePriority && !priority.is_some_and(|p| (-1000..=1000).contains(&p)) {
        return Err(AppError::BadRequest("priority must be a whole number from -1000 to 1000".into()));
    }
    let why = reason.clone();
    let prio = priority.map(|p| p.to_string()).unwrap_or_default();
    run::act(crate::auth::Role::Operator, &csrf, act.as_str(), &execution_id, &reason, &[&prio], &idempotency_key, |c, _| async move {
        let r = match act {
            A::Cancel => actions::cancel_execution(&c, &id, &why).await,
            A::RevokeLease => match actions::revoke_lease(&c, &id, &why).await {
                Ok(actions::Effect::Done(m)) => Ok(m),
                Ok(actions::Effect::Nothing(m)) => return Err(AppError::NoEffect(m)),
                Err(e) => Err(e),
            },
            A::Replay => actions::replay_execution(&c, &id).await,
            A::ChangePriority => actions::change_priority(&c, &id, priority.unwrap_or_default()).await,
            A::Unblock | A::Resume | A::ExpireSuspension => {
                let done = match act {
                    A::Unblock => ff_board_engine::repair::unblock(&c, &id).await,
                    A::Resume => ff_board_engine::repair::resume(&c, &id).await,
                    _ => ff_board_engine::repair::expire_suspension(&c, &id).await,
                };
                match done {
                    Ok(actions::Effect::Done(m)) => Ok(m),
                    Ok(actions::Effect::Nothing(m)) => return Err(AppError::NoEffect(m)),
                    Err(e) => Err(e),
                }
            }
        };
        r.map_err(|e| AppError::engine(act.as_str(), e))
    })
    .await
    }
    .await)
}

#[server(prefix = "/api", endpoint = "decide_waitpoint", output = crate::api::codec::PostcardAnswer)]
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
    let why = reason.clone();
    let who = actor.user.clone();
    let chosen_param = chosen.clone().unwrap_or_default();
    run::act(crate::auth::Role::Operator, &csrf, d.as_str(), &format!("{execution_id} {waitpoint_id}"), &reason, &[&chosen_param], &idempotency_key, |c, key| async move {
        let read = crate::api::approvals::gate_and_waitpoints(&c, &id).await;
        let w = read
            .waitpoints?
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
            .stored?
            .ok_or_else(|| AppError::NoEffect("the execution is no longer suspended".into()))?;
        ff_board_engine::actions::decide(&c, &id, before, &wp, &w.key, &signal, &who, &why, &key).await.map_err(|e| match e {
            ff_board_engine::actions::DecideError::Engine(op, e) => AppError::engine(op, e),
            ff_board_engine::actions::DecideError::Store(e) => e.into(),
            ff_board_engine::actions::DecideError::NoEffect(why) => AppError::NoEffect(why),
        })
    })
    .await
    }
    .await)
}

#[server(prefix = "/api", endpoint = "reset_budget_action", output = crate::api::codec::PostcardAnswer)]
pub async fn reset_budget_action(budget_id: String, reason: String, idempotency_key: String, csrf: String) -> Result<ActionResult, AppError> {
    run::status(async move {
    use super::read::Call;
    let id = ff_core::types::BudgetId::parse(budget_id.trim())
        .map_err(|_| AppError::BadRequest(format!("malformed budget id {budget_id:?}")))?;
    run::act(crate::auth::Role::Admin, &csrf, "reset_budget", &budget_id, &reason, &[], &idempotency_key, |c, _| async move {
        ff_board_engine::actions::reset_budget(&c, &id).named("reset_budget").await
    })
    .await
    }
    .await)
}

#[server(prefix = "/api", endpoint = "flow_cancel_preview", output = crate::api::codec::PostcardAnswer)]
pub async fn flow_cancel_preview(flow_id: String) -> Result<Preview, AppError> {
    let id = super::parse::flow_id(&flow_id)?;
    let counts: Vec<(String, usize)> = super::read::read(|c| async move {
        ff_board_engine::actions::flow_blast_radius(&c, &id).await.map_err(AppError::from)
    })
    .await?
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

#[server(prefix = "/api", endpoint = "replay_preview", output = crate::api::codec::PostcardAnswer)]
pub async fn replay_preview(execution_id: String) -> Result<Preview, AppError> {
    use super::read::Call;
    let id = super::parse::execution_id(&execution_id)?;
    let affected = super::read::read(|c| async move {
        match c.backend.resolve_execution_flow_id(&id).named("resolve_execution_flow_id").await? {
            Some(f) => ff_board_engine::actions::downstream(&c, &f, &id).named("list_edges").await,
            None => Ok(vec![]),
        }
    })
    .await?;
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
    pub state: crate::api::states::ExecState,
    pub flow_id: Option<String>,
    /// Changes whenever the execution changes: part of idempotency keys, so
    /// two tabs looking at the same state act once.
    pub version: i64,
    pub waitpoints: Vec<crate::api::approvals::WaitpointView>,
    /// The approval gate, when the execution is suspended (or why it could not be read).
    pub gate: Result<Option<crate::api::approvals::GateView>, AppError>,
    /// The actions that apply to it now and this backend supports, each
    /// with its confirmation text.
    pub offered: Vec<(crate::api::states::ExecAction, String)>,
    /// The budget that blocks it (named by the engine's `blocking_detail`):
    /// its reset is offered beside the execution's actions.
    pub budget: Option<String>,
    pub backend: String,
}

/// The actions that apply to execution `s` and this backend supports,
/// each with the effect its confirmation states.
#[cfg(feature = "ssr")]
fn offered(c: &ff_board_engine::connect::Connected, s: &ff_core::contracts::ExecutionSnapshot, backend: &str) -> Vec<(crate::api::states::ExecAction, String)> {
    use crate::api::states::ExecAction as A;
    let sup = c.backend.capabilities().supports;
    let q = ff_board_engine::backend::quirks::Quirks::of(c.kind);
    let state = ff_board_engine::backend::exec_state(s.public_state);
    let id = crate::components::text::short_id(&s.execution_id.to_string());
    let reason = s.blocking_reason.as_deref().unwrap_or("");
    let suspended = state == crate::api::states::ExecState::Suspended;
    A::ALL
        .into_iter()
        .filter(|a| run::supported(*a, &sup, q))
        .filter_map(|a| {
            let text = match a {
                A::Cancel if !state.is_terminal() => format!("Cancel execution {id} ({state}) on {backend}. Its lease is dropped and it will not run again."),
                A::RevokeLease if s.current_lease.is_some() => format!("Revoke the lease on {id} on {backend}: its worker loses it and the execution becomes claimable again."),
                A::ChangePriority if state.is_queued() => String::new(),
                A::Replay if state.is_terminal() => String::new(),
                A::Unblock if matches!(reason, "waiting_for_budget" | "waiting_for_quota" | "waiting_for_capable_worker" | "waiting_for_locality_match") => {
                    format!("Unblock {id} on {backend}: it leaves the {reason} set and is eligible now; the scheduler blocks it again if its cause still holds.")
                }
                A::Resume if suspended => format!("Resume {id} on {backend} without a signal: its waitpoint is closed as resumed by an operator and it becomes runnable."),
                A::ExpireSuspension if suspended => format!("Expire the suspension of {id} on {backend} as its deadline would: its timeout behaviour applies. The engine does nothing before the deadline."),
                _ => return None,
            };
            Some((a, text))
        })
        .collect()
}

#[server(prefix = "/api", endpoint = "execution_panel", output = crate::api::codec::PostcardAnswer)]
pub async fn get_execution_panel(execution_id: String) -> Result<ExecutionPanel, AppError> {
    use super::read::Call;
    let id = super::parse::execution_id(&execution_id)?;
    super::read::read(|c| async move {
        let s = c.backend.describe_execution(&id).named("describe_execution").await?.ok_or_else(|| AppError::not_found("execution", execution_id))?;
        // SQL backends keep the suspension row after a resume: a gate only
        // shows while the execution is suspended.
        let (gate, waitpoints) = if s.public_state == ff_core::state::PublicState::Suspended {
            let read = crate::api::approvals::gate_and_waitpoints(&c, &id).await;
            (read.gate, read.waitpoints.unwrap_or_default())
        } else {
            (Ok(None), vec![])
        };
        let backend = crate::state::engine()?.spec().redacted();
        Ok(ExecutionPanel {
            actor: crate::state::actor(),
            offered: offered(&c, &s, &backend),
            budget: (s.blocking_reason.as_deref() == Some("waiting_for_budget"))
                .then(|| ff_board_domain::diagnosis::Detail::read(s.blocking_detail.as_deref().unwrap_or("")).budget)
                .flatten(),
            state: ff_board_engine::backend::exec_state(s.public_state),
            flow_id: s.flow_id.map(|f| f.to_string()),
            version: s.last_mutation_at.0,
            waitpoints,
            gate,
            backend,
        })
    })
    .await
}
