//! Action panels. Each destructive action sits behind a confirmation that
//! states its effect, asks for a reason and names the backend; it is a
//! plain form in a modal dialog opened by a real button (invoker
//! commands, no script), so it works without wasm, and with wasm it posts
//! in place and shows the outcome.
//! Panels live outside the live-refreshed part of a page and refetch only
//! after an action, so a live update never closes an open confirmation.
use leptos::prelude::*;

use crate::api::states::ExecAction;
use crate::api::actions::{
    decide_waitpoint, execution_action, get_execution_panel, flow_cancel_preview, replay_preview, reset_budget_action,
    ActionResult, CancelFlowAction, DecideWaitpoint, ExecutionAction, ResetBudgetAction,
};
use crate::api::approvals::{Decision, Plan};
use crate::auth::{Actor, Role};
use crate::components::card::Card;
use crate::components::form::{self, PostForm};
use crate::components::gate::GateSummary;
use crate::components::text::{execution_href, short_id};
use crate::error::AppError;

const BTN: &str = "rounded px-3 py-1.5 text-sm font-medium";
const INPUT: &str = "w-full rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100";

/// The outcome of the last action, where the operator is looking.
#[component]
pub fn Outcome(value: Signal<Option<Result<ActionResult, AppError>>>) -> impl IntoView {
    move || {
        value.get().map(|r| match r {
            Ok(a) => view! {
                <p data-testid="action-result" data-ok="true" role="status" class="rounded border border-green-300 bg-green-50 px-3 py-2 text-sm text-green-900 dark:border-green-800 dark:bg-green-950 dark:text-green-100">
                    {if a.duplicate { "Already done: " } else { "Done: " }}{a.message}
                    <span class="ml-2 text-xs opacity-70">{format!("audit {}", a.audit_id)}</span>
                </p>
            }
            .into_any(),
            Err(e) => view! {
                <p data-testid="action-result" data-ok="false" role="alert" class="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">{e.to_string()}</p>
            }
            .into_any(),
        })
    }
}

/// A confirmation: a real button that opens a centred modal `<dialog>`
/// around a form body. It opens and closes through invoker commands
/// (`command="show-modal"` / `"close"`), so it works before and without
/// wasm; the browser traps focus in it, Esc closes it, and it scrolls
/// inside the viewport at any width.
#[component]
fn Confirm(
    #[prop(into)] label: String,
    #[prop(into)] testid: String,
    danger: bool,
    /// A stable id, for buttons elsewhere on the page that open this
    /// confirmation (`commandfor`: the diagnosis's fixes).
    #[prop(optional)]
    id: Option<String>,
    children: Children,
) -> impl IntoView {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let id = id.unwrap_or_else(|| format!("confirm-{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
    let title = format!("{id}-title");
    let (open_for, dialog_id, close_for, labelled_by) = (id.clone(), id.clone(), id, title.clone());
    let heading = label.clone();
    let class = if danger {
        format!("{BTN} bg-red-600 text-white hover:bg-red-700")
    } else {
        format!("{BTN} bg-slate-900 text-white hover:bg-slate-700 dark:bg-slate-100 dark:text-slate-900")
    };
    view! {
        <div data-testid=testid class="inline-block">
            <button type="button" data-open="" commandfor=open_for command="show-modal" aria-haspopup="dialog" class=class>{label}"…"</button>
            <dialog id=dialog_id aria-labelledby=labelled_by data-testid="confirm-dialog"
                class="m-auto max-h-[calc(100dvh-2rem)] w-[min(28rem,calc(100vw-2rem))] overflow-y-auto rounded-lg border border-slate-300 bg-white p-4 text-slate-900 shadow-xl backdrop:bg-slate-950/50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100">
                <div class="mb-2 flex items-center justify-between gap-2">
                    <h2 id=title class="text-base font-semibold">{heading}</h2>
                    <button type="button" commandfor=close_for command="close" aria-label="Close" data-testid="confirm-close"
                        class="rounded px-2 text-lg leading-none text-slate-500 hover:bg-slate-100 dark:hover:bg-slate-800">"×"</button>
                </div>
                <div class="space-y-2">{children()}</div>
            </dialog>
        </div>
    }
}

/// Shown instead of actions to whoever may not act.
#[component]
fn NoActions(actor: Option<Actor>, needed: Role) -> impl IntoView {
    let why = match &actor {
        None => "Sign in as an operator to act.".to_owned(),
        Some(a) => format!("Signed in as {} ({}): actions need the {} role.", a.user, a.role.as_str(), needed.as_str()),
    };
    view! { <p data-testid="action-disabled" class="text-sm text-slate-500">{why}" "<a class="text-blue-700 underline" href="/login">"Sign in"</a></p> }
}

fn can(actor: &Option<Actor>, needed: Role) -> Option<Actor> {
    actor.clone().filter(|a| a.role.can(needed))
}

/// Reason field and hidden form fields every action carries.
#[component]
fn Common(csrf: String, key: String) -> impl IntoView {
    view! {
        <input type="hidden" name="csrf" value=csrf/>
        <input type="hidden" name="idempotency_key" value=key/>
        <label class="block text-xs text-slate-500">"Reason (recorded in the audit log)"
            <input name="reason" maxlength="500" required class=INPUT placeholder="why"/>
        </label>
    }
}

/// Actions of one execution.
#[component]
pub fn ExecutionActions(id: Signal<String>) -> impl IntoView {
    let exec = ServerAction::<ExecutionAction>::new();
    let decide = ServerAction::<DecideWaitpoint>::new();
    let done = Memo::new(move |_| exec.version().get() + decide.version().get());
    let panel = crate::api::codec::resource(move || (id.get(), done.get()), |(id, _)| get_execution_panel(id));
    let replay = crate::api::codec::resource(move || id.get(), replay_preview);
    let last = Signal::derive(move || {
        if decide.version().get() > exec.version().get() { decide.value().get() } else { exec.value().get() }
    });
    let _ = (execution_action, decide_waitpoint);
    view! {
        <Card class="mb-4 space-y-3 p-4" attr:data-testid="execution-actions" attr:id="execution-actions">
            <h2 class="text-lg font-semibold">"Actions"</h2>
            <Outcome value=last/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let p = match panel.await { Ok(p) => p, Err(e) => return view! { <p class="text-sm text-red-700">{e.to_string()}</p> }.into_any() };
                    // What a gate waits for is shown to every reader; deciding needs an operator.
                    let now = crate::components::refresh::now_ms();
                    let gate = match p.gate.clone() {
                        Ok(Some(g)) => Some(view! { <GateSummary gate=g now=now/> }.into_any()),
                        Ok(None) => None,
                        Err(e) => Some(view! { <p class="text-sm text-red-700" data-testid="gate-error">"gate: "{e.to_string()}</p> }.into_any()),
                    };
                    let Some(actor) = can(&p.actor, Role::Operator) else {
                        let waits = p.waitpoints.iter().map(|w| view! {
                            <p class="text-sm" data-testid="waitpoint-waits">"Waitpoint "<code class="text-xs">{w.key.clone()}</code>" waits for "<b data-testid="waits-for">{w.waits_for.clone()}</b></p>
                        }).collect_view();
                        return view! { {gate}{waits}<NoActions actor=p.actor.clone() needed=Role::Operator/> }.into_any();
                    };
                    let backend = p.backend.clone();
                    let eid = id.get_untracked();
                    let version = p.version;
                    let key = move |a: &str| format!("{a}:{}:{version}", id.get_untracked());
                    let approvals = p.waitpoints.iter().map(|w| {
                        view! {
                            <div data-testid="waitpoint-decision" data-waitpoint-id=w.waitpoint_id.clone() class="space-y-1">
                                <p class="text-sm">"Waitpoint "<code class="text-xs">{w.key.clone()}</code>" waits for "<b data-testid="waits-for">{w.waits_for.clone()}</b></p>
                                <div class="flex flex-wrap items-start gap-2">
                                    <DecisionForm act=decide exec=exec decision=Decision::Approve eid=eid.clone() waitpoint=w.waitpoint_id.clone() plan=w.approve.clone() actor=actor.clone() backend=backend.clone()/>
                                    <DecisionForm act=decide exec=exec decision=Decision::Reject eid=eid.clone() waitpoint=w.waitpoint_id.clone() plan=w.reject.clone() actor=actor.clone() backend=backend.clone()/>
                                </div>
                            </div>
                        }
                    }).collect_view();
                    let budget = p.budget.clone().map(|b| view! { <BudgetReset id=Signal::derive(move || b.clone())/> });
                    view! {
                        {gate}
                        {approvals}
                        {budget}
                        <div class="flex flex-wrap items-start gap-2">
                            {p.offered.iter().map(|(a, text)| {
                                let replay = (*a == ExecAction::Replay).then_some(replay);
                                view! { <ExecForm act=exec action=*a text=text.clone() eid=eid.clone() csrf=actor.csrf.clone() key=key(a.as_str()) replay=replay flow=p.flow_id.clone().unwrap_or_default()/> }
                            }).collect_view()}
                        </div>
                    }.into_any()
                })}
            </Suspense>
        </Card>
    }
}

/// One execution action behind its confirmation. `replay` carries the
/// replay preview (downstream nodes that re-run).
#[component]
fn ExecForm(
    act: ServerAction<ExecutionAction>,
    action: ExecAction,
    text: String,
    eid: String,
    csrf: String,
    key: String,
    replay: Option<Resource<Result<crate::api::actions::Preview, AppError>, crate::api::codec::Postcard>>,
    #[prop(optional)] flow: Option<String>,
) -> impl IntoView {
    let preview = move || replay.and_then(|r| r.get()).and_then(|r| r.ok());
    let (danger, label) = (action.danger(), action.label());
    let action = action.as_str();
    let color = if danger { "bg-red-600 text-white" } else { "bg-slate-900 text-white dark:bg-slate-100 dark:text-slate-900" };
    view! {
        <Confirm label=label testid=format!("{action}-open") danger=danger id=format!("confirm-{action}")>
            <PostForm act=act read=form::execution_action>
                {(!text.is_empty()).then(|| view! { <p class="text-sm">{text.clone()}</p> })}
                {replay.is_some().then(|| view! {
                    <p class="text-sm" data-testid="replay-summary">{move || preview().map(|p| p.summary).unwrap_or_default()}</p>
                    {flow.clone().filter(|f| !f.is_empty()).map(|f| view! {
                        <a class="text-xs text-blue-700 underline" href=format!("{}?replay={}", crate::components::text::flow_href(&f), crate::components::text::encode(&eid))>"See them on the DAG"</a>
                    })}
                    <ul class="max-h-32 overflow-auto text-xs" data-testid="replay-affected">
                        {move || preview().map(|p| p.affected).unwrap_or_default().into_iter().map(|n| view! { <li><a class="font-mono text-blue-700" href=execution_href(&n)>{short_id(&n)}</a></li> }).collect_view()}
                    </ul>
                })}
                <input type="hidden" name="execution_id" value=eid.clone()/>
                <input type="hidden" name="action" value=action/>
                {(action == ExecAction::ChangePriority.as_str()).then(|| view! {
                    <label class="block text-xs text-slate-500">"New priority (-1000 … 1000)"<input type="number" name="priority" required min="-1000" max="1000" class=INPUT/></label>
                })}
                <Common csrf=csrf.clone() key=key.clone()/>
                <button type="submit" data-testid=format!("{action}-confirm") class=format!("{BTN} {color}")>{label}</button>
            </PostForm>
        </Confirm>
    }
}

/// Approve or reject one waitpoint, as its [`Plan`] says: send the one
/// signal the gate takes, let the operator choose among several, explain
/// that rejecting cancels the execution, or say why the board cannot.
#[component]
fn DecisionForm(
    act: ServerAction<DecideWaitpoint>,
    exec: ServerAction<ExecutionAction>,
    decision: Decision,
    eid: String,
    waitpoint: String,
    plan: Plan,
    actor: Actor,
    backend: String,
) -> impl IntoView {
    let d = decision.as_str();
    let verb = if decision == Decision::Approve { "Approve" } else { "Reject" };
    let key = format!("{d}:{eid}:{waitpoint}:{}", actor.user);
    let fields = view! {
        <input type="hidden" name="execution_id" value=eid.clone()/>
        <input type="hidden" name="waitpoint_id" value=waitpoint.clone()/>
        <input type="hidden" name="decision" value=d/>
    };
    let confirm = view! {
        <button type="submit" data-testid=format!("{d}-confirm") class=format!("{BTN} bg-slate-900 text-white dark:bg-slate-100 dark:text-slate-900")>{format!("Confirm {d}")}</button>
    };
    match plan {
        Plan::Send { signal, note } => view! {
            <Confirm label=verb testid=format!("{d}-open") danger=decision == Decision::Reject>
                <PostForm act=act read=form::decide_waitpoint>
                    <p class="text-sm" data-testid="decision-text">{format!("{verb} {}: sends signal `{signal}` as {} on {backend}.", short_id(&eid), actor.user)}</p>
                    <p class="text-xs text-slate-500">{note}</p>
                    {fields}
                    <input type="hidden" name="signal" value=signal/>
                    <Common csrf=actor.csrf.clone() key=key/>
                    {confirm}
                </PostForm>
            </Confirm>
        }
        .into_any(),
        Plan::Choose { signals, note } => view! {
            <Confirm label=verb testid=format!("{d}-open") danger=decision == Decision::Reject>
                <PostForm act=act read=form::decide_waitpoint>
                    <p class="text-sm">{format!("{verb} {} as {} on {backend}.", short_id(&eid), actor.user)}</p>
                    <p class="text-xs text-slate-500">{note}</p>
                    {fields}
                    <label class="block text-xs text-slate-500">"Signal to send"
                        <select name="signal" required data-testid="decision-signal" class=INPUT>
                            <option value="">"choose…"</option>
                            {signals.into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <Common csrf=actor.csrf.clone() key=key/>
                    {confirm}
                </PostForm>
            </Confirm>
        }
        .into_any(),
        Plan::Cancel { note } => view! {
            <Confirm label=verb testid=format!("{d}-open") danger=true>
                <PostForm act=exec read=form::execution_action>
                    <p class="text-sm font-medium" data-testid="decision-text">{format!("Reject {} by cancelling it on {backend}.", short_id(&eid))}</p>
                    <p class="text-xs text-slate-500">{note}</p>
                    <input type="hidden" name="execution_id" value=eid.clone()/>
                    <input type="hidden" name="action" value=ExecAction::Cancel.as_str()/>
                    <Common csrf=actor.csrf.clone() key=format!("cancel:{eid}:reject")/>
                    <button type="submit" data-testid="reject-cancel-confirm" class=format!("{BTN} bg-red-600 text-white")>"Cancel execution"</button>
                </PostForm>
            </Confirm>
        }
        .into_any(),
        Plan::Unavailable { note } => view! {
            <span data-testid=format!("{d}-unavailable") class="rounded border border-slate-300 px-2 py-1 text-xs text-slate-500">{format!("{verb}: {note}")}</span>
        }
        .into_any(),
    }
}

/// Cancel a flow, with its blast radius.
#[component]
pub fn FlowCancel(id: Signal<String>) -> impl IntoView {
    let me = crate::api::codec::resource(|| (), |_| crate::api::session::get_me());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let actor = me.await.ok().and_then(|m| m.actor);
                view! { <FlowCancelForm id=id actor=actor/> }
            })}
        </Suspense>
    }
}

/// A labelled choice of `(value, words)`, the first selected.
#[component]
fn Choice(label: &'static str, name: &'static str, options: &'static [(&'static str, &'static str)]) -> impl IntoView {
    view! {
        <label class="block text-xs text-slate-500">{label}
            <select name=name class=INPUT>
                {options.iter().map(|(value, words)| view! { <option value=*value>{*words}</option> }).collect_view()}
            </select>
        </label>
    }
}

#[component]
fn FlowCancelForm(id: Signal<String>, actor: Option<Actor>) -> impl IntoView {
    let act = ServerAction::<CancelFlowAction>::new();
    let preview = crate::api::codec::resource(move || (id.get(), act.version().get()), |(id, _)| flow_cancel_preview(id));
    let Some(actor) = can(&actor, Role::Operator) else {
        return view! { <NoActions actor=actor needed=Role::Operator/> }.into_any();
    };
    let value = Signal::derive(move || act.value().get());
    view! {
        <div data-testid="flow-actions" class="space-y-2">
            <Outcome value=value/>
            <Confirm label="Cancel flow" testid="cancel-flow-open" danger=true>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        preview.await.ok().map(|p| view! {
                            <p data-testid="cancel-flow-summary" class="text-sm font-medium">{p.summary.clone()}" on "{p.backend.clone()}</p>
                            <ul class="text-xs text-slate-600">{p.counts.iter().map(|(s, n)| view! { <li>{format!("{n} {s}")}</li> }).collect_view()}</ul>
                        })
                    })}
                </Suspense>
                <PostForm act=act read=form::cancel_flow_action>
                    <input type="hidden" name="flow_id" value=id.get_untracked()/>
                    <Choice label="Members" name="policy" options=&[("cancel_all", "cancel all members"), ("cancel_pending", "cancel members not yet running"), ("flow_only", "flow only (members keep running)")]/>
                    <Choice label="Wait" name="wait" options=&[("none", "return at once"), ("timeout", "wait up to the timeout below"), ("indefinite", "wait until every member is cancelled")]/>
                    <input type="hidden" name="timeout_ms" value="30000"/>
                    <Common csrf=actor.csrf.clone() key=format!("cancel_flow:{}", id.get_untracked())/>
                    <button type="submit" data-testid="cancel-flow-confirm" class=format!("{BTN} bg-red-600 text-white")>"Cancel flow"</button>
                </PostForm>
            </Confirm>
        </div>
    }
    .into_any()
}

/// Reset a budget (admins).
#[component]
pub fn BudgetReset(id: Signal<String>) -> impl IntoView {
    let act = ServerAction::<ResetBudgetAction>::new();
    let me = crate::api::codec::resource(|| (), |_| crate::api::session::get_me());
    // Refetched only after a reset: the key changes with the usage it resets.
    let budget = crate::api::codec::resource(move || (id.get(), act.version().get()), |(id, _)| crate::api::budgets::budget_detail(id));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let actor = me.await.ok().and_then(|m| m.actor);
                let version = budget.await.map(|b| format!("{}-{}", b.dimensions.iter().map(|d| d.used).sum::<u64>(), b.breach_count)).unwrap_or_default();
                view! { <BudgetResetForm act=act id=id.get_untracked() version=version actor=actor/> }
            })}
        </Suspense>
    }
}

#[component]
fn BudgetResetForm(act: ServerAction<ResetBudgetAction>, id: String, version: String, actor: Option<Actor>) -> impl IntoView {
    let _ = reset_budget_action;
    let Some(admin) = can(&actor, Role::Admin) else {
        return view! { <NoActions actor=actor needed=Role::Admin/> }.into_any();
    };
    let value = Signal::derive(move || act.value().get());
    view! {
        <div class="mt-3 space-y-2">
            <Outcome value=value/>
            <Confirm label="Reset budget" testid="reset-open" danger=true id="confirm-reset-budget".to_owned()>
                <PostForm act=act read=form::reset_budget_action>
                    <p class="text-sm">{format!("Reset every usage counter of budget {} to zero.", short_id(&id))}</p>
                    <input type="hidden" name="budget_id" value=id.clone()/>
                    <Common csrf=admin.csrf.clone() key=format!("reset_budget:{id}:{version}")/>
                    <button type="submit" data-testid="reset-confirm" class=format!("{BTN} bg-red-600 text-white")>"Reset budget"</button>
                </PostForm>
            </Confirm>
        </div>
    }
    .into_any()
}
