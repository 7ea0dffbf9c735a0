//! The diagnosis block at the top of an execution page
//! (`data-testid="diagnosis"`): why it is not moving, in plain words with
//! the blocker's numbers and links, and the fixes, rendered on the server
//! (`api::rendered`, page `diagnosis:<execution id>`).
//!
//! A fix that is an execution action opens that action's confirmation in
//! the page's action panel (`commandfor="confirm-<action>"`: the same
//! role check, reason, idempotency key and audit as every action); a fix
//! this backend cannot run is shown disabled with the reason, and so is
//! one the reader's role does not allow.
#![cfg(feature = "ssr")]

use ff_board_domain::diagnosis::{Cause, Diagnosis, Fix, Offer};
use ff_board_domain::ExecAction;
use leptos::prelude::*;

use crate::auth::{Actor, Role};
use crate::components::state::StateBadge;
use crate::components::text::{encode, execution_href, short_id, Id};
use crate::error::AppError;

/// The diagnosis of execution `raw` as HTML; empty once it finished (and
/// for an unknown id, which the page itself reports).
pub async fn html(raw: &str) -> Result<String, AppError> {
    use crate::api::read::Call;
    let id = super::parse::execution_id(raw)?;
    let d = super::read::read(|c| async move {
        Ok(match c.backend.describe_execution(&id).named("describe_execution").await? {
            Some(s) => ff_board_engine::diagnose::diagnose(&c, &s, ff_board_engine::backend::now_ms()).await,
            None => None,
        })
    })
    .await?;
    Ok(d.map(|d| render(d, crate::state::actor(), ff_board_engine::backend::now_ms())).unwrap_or_default())
}

/// The execution action a fix runs, and the role it needs.
fn action(f: &Fix) -> Option<(ExecAction, Role)> {
    Some(match f {
        Fix::Unblock => (ExecAction::Unblock, Role::Operator),
        Fix::Resume => (ExecAction::Resume, Role::Operator),
        Fix::ExpireSuspension => (ExecAction::ExpireSuspension, Role::Operator),
        Fix::RevokeLease => (ExecAction::RevokeLease, Role::Operator),
        Fix::ChangePriority => (ExecAction::ChangePriority, Role::Operator),
        Fix::Cancel => (ExecAction::Cancel, Role::Operator),
        Fix::ResetBudget { .. } | Fix::MarkWorkerDead { .. } | Fix::Decide | Fix::OpenUpstream { .. } => return None,
    })
}

const BTN: &str = "rounded border px-2.5 py-1 text-sm font-medium";
const LINK: &str = "text-blue-700 underline dark:text-blue-400";

/// One fix: a button opening the action's confirmation, a link to where
/// the fix is made, or a disabled button saying why not.
fn fix_view(o: Offer, actor: &Option<Actor>) -> AnyView {
    let name = fix_name(&o.fix);
    let testid = format!("fix-{}", fix_key(&o.fix));
    if let Some(why) = o.disabled {
        return view! { <button type="button" disabled data-testid=testid title=why.clone() class=format!("{BTN} cursor-not-allowed opacity-50")>{name}" "<span class="text-xs">{format!("({why})")}</span></button> }.into_any();
    }
    let needed = match &o.fix {
        Fix::ResetBudget { .. } | Fix::MarkWorkerDead { .. } => Some(Role::Admin),
        Fix::OpenUpstream { .. } => None,
        f => action(f).map(|(_, r)| r),
    };
    if let Some(role) = needed.filter(|r| !actor.as_ref().is_some_and(|a| a.role.can(*r))) {
        let why = format!("needs the {} role", role.as_str());
        return view! { <button type="button" disabled data-testid=testid title=why.clone() class=format!("{BTN} cursor-not-allowed opacity-50")>{name}" "<span class="text-xs">{format!("({why})")}</span></button> }.into_any();
    }
    match (&o.fix, action(&o.fix)) {
        (_, Some((a, _))) => view! {
            <button type="button" data-testid=testid commandfor=format!("confirm-{}", a.as_str()) command="show-modal" class=BTN>{name}"…"</button>
        }
        .into_any(),
        // The execution's action panel carries the budget's reset (admins).
        (Fix::ResetBudget { .. }, _) => view! { <button type="button" data-testid=testid commandfor="confirm-reset-budget" command="show-modal" class=BTN>{name}"…"</button> }.into_any(),
        (Fix::MarkWorkerDead { worker }, _) => view! { <a data-testid=testid class=LINK href=format!("/workers#worker-{}", encode(worker))>{name}</a> }.into_any(),
        (Fix::OpenUpstream { id }, _) => view! { <a data-testid=testid class=LINK href=execution_href(id)>{name}</a> }.into_any(),
        _ => view! { <a data-testid=testid class=LINK href="#execution-actions">{name}</a> }.into_any(),
    }
}

/// A fix in words.
fn fix_name(f: &Fix) -> String {
    match f {
        Fix::ResetBudget { budget } => format!("Reset budget {}", short_id(budget)),
        Fix::Unblock => "Unblock (retry admission now)".into(),
        Fix::Resume => "Resume without a signal".into(),
        Fix::ExpireSuspension => "Expire the suspension (past its deadline)".into(),
        Fix::RevokeLease => "Revoke the lease".into(),
        Fix::MarkWorkerDead { worker } => format!("Mark worker {worker} dead"),
        Fix::Decide => "Approve or reject its gate".into(),
        Fix::OpenUpstream { id } => format!("Open upstream {}", short_id(id)),
        Fix::ChangePriority => "Change its priority".into(),
        Fix::Cancel => "Cancel it".into(),
    }
}

/// A fix's stable name (its `data-testid` is `fix-<name>`).
fn fix_key(f: &Fix) -> &'static str {
    match f {
        Fix::ResetBudget { .. } => "reset-budget",
        Fix::Unblock => "unblock",
        Fix::Resume => "resume",
        Fix::ExpireSuspension => "expire-suspension",
        Fix::RevokeLease => "revoke-lease",
        Fix::MarkWorkerDead { .. } => "mark-worker-dead",
        Fix::Decide => "decide",
        Fix::OpenUpstream { .. } => "open-upstream",
        Fix::ChangePriority => "change-priority",
        Fix::Cancel => "cancel",
    }
}

/// The blocker's own links and rows under the headline.
fn blocker(c: &Cause) -> AnyView {
    match c {
        Cause::Children { pending, more } => view! {
            <ul class="mt-1 space-y-0.5 text-sm" data-testid="diagnosis-upstream">
                {pending.iter().map(|u| view! { <li class="flex items-center gap-2"><Id id=u.id.clone() href=execution_href(&u.id)/><StateBadge state=u.state/></li> }).collect_view()}
                {(*more > 0).then(|| view! { <li class="text-xs text-slate-500">{format!("and {more} more upstream edges not read here")}</li> })}
            </ul>
        }
        .into_any(),
        Cause::Worker { workers, .. } => view! {
            <p class="mt-1 text-xs text-slate-500">{format!("{} workers registered in its namespace and lane; ", workers.len())}<a class=LINK href="/workers">"see workers"</a></p>
        }
        .into_any(),
        Cause::Budget { budget: Some(b), .. } => view! { <p class="mt-1 text-xs"><a class=LINK href=format!("/budgets/{}", encode(b))>{format!("budget {b}")}</a></p> }.into_any(),
        Cause::Quota { policy, .. } => view! {
            <p class="mt-1 text-xs"><a class=LINK href="/quotas" data-testid="diagnosis-quota">{format!("quota policy {}", policy.as_deref().unwrap_or("?"))}" on the quotas page"</a></p>
        }
        .into_any(),
        Cause::LeaseExpired { holder, .. } => view! { <p class="mt-1 text-xs"><a class=LINK href=format!("/workers#worker-{}", encode(holder))>{format!("worker {holder}")}</a></p> }.into_any(),
        _ => ().into_any(),
    }
}

fn render(d: Diagnosis, actor: Option<Actor>, now: i64) -> String {
    let family = d.cause.family().map(|f| f.as_str()).unwrap_or("none");
    let headline = d.cause.headline(now);
    let tone = match d.cause {
        Cause::Running { .. } | Cause::Queued { workers_alive: None | Some(1..), .. } | Cause::Resumable => "border-slate-300 bg-slate-50 dark:border-slate-700 dark:bg-slate-900",
        _ => "border-amber-300 bg-amber-50 dark:border-amber-800 dark:bg-amber-950",
    };
    view! {
        <section data-testid="diagnosis" data-family=family class=format!("mb-4 rounded-lg border p-4 {tone}")>
            <h2 class="text-xs font-semibold uppercase tracking-wide text-slate-500">"Why it is not moving"</h2>
            <p class="mt-1 text-base font-medium" data-testid="diagnosis-text">{headline}</p>
            {blocker(&d.cause)}
            {d.cause.family().map(|f| view! { <p class="mt-1 text-xs"><a class=LINK data-testid="diagnosis-others" href=format!("/executions?q={}", encode(&format!("blocked:{}", f.as_str())))>{format!("every execution blocked by {}", f.as_str())}</a></p> })}
            {d.detail.map(|t| view! { <p class="mt-1 font-mono text-xs text-slate-500" title="the engine's blocking_detail">{t}</p> })}
            <div class="mt-3 flex flex-wrap items-center gap-2" data-testid="diagnosis-fixes">
                {d.fixes.into_iter().map(|o| fix_view(o, &actor)).collect_view()}
            </div>
        </section>
    }
    .into_view()
    .to_html()
}
