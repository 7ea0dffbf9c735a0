//! /approvals: the inbox of suspended executions over all partitions, with
//! reason, age, its gate (n of m, who approved, deadline) and each pending
//! waitpoint (key, what it waits for, state). By default only what can be
//! acted on now (a pending waitpoint); `?all=1` shows every suspended one;
//! `?q=` narrows it with the query language (`docs/SEARCH.md`).
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::approvals::{list_approvals, ApprovalRow, WaitpointView};
use crate::api::states::ExecState;
use crate::components::card::CARD;
use crate::components::feedback::{loaded, Empty};
use crate::components::gate::GateSummary;
use crate::components::refresh::{now_ms, use_topic_tick};
use crate::components::state::StateBadge;
use crate::components::table::NextPage;
use crate::components::text::{execution_href, flow_href, Id, Time};

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let tick = use_topic_tick(10_000, || "approvals".to_owned());
    let query = leptos_router::hooks::use_query_map();
    let cursor = move || query.get().get("cursor");
    let all = move || query.get().get("all").is_some_and(|v| v == "1");
    let q = move || query.get().get("q").unwrap_or_default();
    let data = crate::api::codec::resource(move || (cursor(), all(), q(), tick.get()), |(c, all, q, _)| {
        list_approvals(c, all, (!q.is_empty()).then_some(q))
    });
    view! {
        <form method="get" action="/approvals" class="mb-3 flex items-end gap-2 text-sm" data-testid="approval-filters">
            <label class="flex flex-col text-xs text-slate-500">"Query"
                <input name="q" value=q maxlength="512" spellcheck="false" data-testid="query" placeholder="kind:deploy* tag:shop.region=eu lane:payments"
                    class="w-96 rounded border border-slate-300 bg-white px-2 py-1 font-mono text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"/>
            </label>
            {move || all().then(|| view! { <input type="hidden" name="all" value="1"/> })}
            <button class="rounded bg-slate-900 px-3 py-1.5 text-white dark:bg-slate-100 dark:text-slate-900">"Apply"</button>
        </form>
        {loaded(data, Some("Approvals"), move |page| if page.rows.is_empty() {
            view! {
                <Title text="Approvals"/>
                <h1 class="mb-4 text-2xl font-semibold">"Approvals"</h1>
                {toggle(all(), page.hidden, &q())}
                {pager(page.next_cursor.clone(), all(), &q())}
                <Empty title="Nothing is waiting for approval" hint="Executions suspended on a pending waitpoint show up here, oldest first."/>
            }.into_any()
        } else {
            view! {
                <Title text=format!("Approvals ({}{})", page.rows.len(), if page.next_cursor.is_some() { "+" } else { "" })/>
                <h1 class="mb-4 text-2xl font-semibold">"Approvals "<span class="text-slate-500">{count_label(page.rows.len(), page.next_cursor.is_some())}</span></h1>
                {toggle(all(), page.hidden, &q())}
                {pager(page.next_cursor.clone(), all(), &q())}
                <ul class="space-y-3">
                    {page.rows.into_iter().map(|r| view! { <Approval r=r/> }).collect_view()}
                </ul>
            }.into_any()
        })}
    }
}

/// One suspended execution: where it runs, why it waits, its gate and its
/// pending waitpoints.
#[component]
fn Approval(r: ApprovalRow) -> impl IntoView {
    let now = now_ms();
    view! {
        <li data-testid="approval-row" data-execution-id=r.execution_id.clone() data-needed=r.gate.as_ref().ok().and_then(|g| g.as_ref()).map(|g| g.needed.to_string()) class=format!("{CARD} p-4")>
            <div class="flex flex-wrap items-center gap-3 text-sm">
                <StateBadge state=ExecState::Suspended/>
                <Id id=r.execution_id.clone() href=execution_href(&r.execution_id)/>
                {r.flow_id.clone().map(|f| view! { <span class="text-slate-500">"flow "</span><Id id=f.clone() href=flow_href(&f)/> })}
                <span class="text-slate-500">{format!("{} · {}", r.namespace, r.lane)}</span>
                <span class="flex-1"></span>
                <span class="text-slate-500">"suspended "<Time t=r.suspended_at now=now/></span>
            </div>
            <p class="mt-2 text-sm"><span class="text-slate-500">"Reason: "</span><span data-testid="approval-reason" class="font-medium">{r.reason.clone()}</span>
                <a class="ml-3 text-sm text-blue-700 underline dark:text-blue-300" href=execution_href(&r.execution_id)>"Review & decide →"</a>
            </p>
            <div class="mt-2">{match r.gate.clone() {
                Ok(Some(g)) => view! { <GateSummary gate=g now=now/> }.into_any(),
                Ok(None) => ().into_any(),
                Err(e) => view! { <p class="text-sm text-red-700" data-testid="gate-error">"gate: "{e.to_string()}</p> }.into_any(),
            }}</div>
            {match r.waitpoints {
                Err(e) => view! { <p class="mt-2 text-sm italic text-slate-500">"waitpoints: "{e.to_string()}</p> }.into_any(),
                Ok(wps) if wps.is_empty() => view! { <p class="mt-2 text-sm text-slate-500">"No pending waitpoint."</p> }.into_any(),
                Ok(wps) => view! { <Waitpoints wps=wps now=now/> }.into_any(),
            }}
        </li>
    }
}

/// The pending waitpoints of a suspended execution.
#[component]
fn Waitpoints(wps: Vec<WaitpointView>, now: i64) -> impl IntoView {
    view! {
        <table class="mt-2 w-full text-sm">
            <thead class="text-left text-xs uppercase text-slate-500"><tr><th>"Waitpoint key"</th><th>"Waits for"</th><th>"State"</th><th class="text-right">"Times out"</th></tr></thead>
            <tbody>
                {wps.into_iter().map(|w| view! {
                    <tr data-testid="waitpoint">
                        <td class="font-mono text-xs">{w.key}</td>
                        <td data-testid="waits-for">{w.waits_for}</td>
                        <td><StateBadge state=w.state/></td>
                        <td class="text-right">{match w.expires_at { Some(t) => view! { <Time t=t now=now/> }.into_any(), None => view! { <span class="text-slate-500">"never"</span> }.into_any() }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// `&q=…` when there is a query.
fn with_q(q: &str) -> String {
    if q.is_empty() { String::new() } else { format!("&q={}", crate::components::text::encode(q)) }
}

/// "(12)" on the last page, "(at least 25)" when more follow.
fn count_label(n: usize, more: bool) -> String {
    if more { format!("(at least {n})") } else { format!("({n})") }
}

/// The link to the next page, when there is one.
fn pager(next: Option<String>, all: bool, q: &str) -> impl IntoView {
    next.map(|c| {
        let href = format!("/approvals?cursor={}{}{}", crate::components::text::encode(&c), if all { "&all=1" } else { "" }, with_q(q));
        view! { <p class="mb-3 text-sm"><NextPage href=href/></p> }
    })
}

/// Between the inbox (what can be acted on now) and every suspended
/// execution, with what this page left out.
fn toggle(all: bool, hidden: usize, q: &str) -> impl IntoView {
    let link = "text-blue-700 underline dark:text-blue-300";
    let (every, actionable) = (format!("/approvals?all=1{}", with_q(q)), format!("/approvals?{}", with_q(q).trim_start_matches('&')));
    view! {
        <p class="mb-3 text-sm text-slate-600 dark:text-slate-400" data-testid="approvals-scope">
            {if all {
                view! { "Showing every suspended execution, resolved ones too. "<a class=link data-testid="approvals-actionable" href=actionable>"Only what needs a decision"</a> }.into_any()
            } else if hidden > 0 {
                view! { {format!("{hidden} suspended on this page with no pending waitpoint (already decided, or waiting on something else) not shown. ")}<a class=link data-testid="approvals-all" href=every.clone()>"Show them"</a> }.into_any()
            } else {
                view! { "Only executions with a pending waitpoint. "<a class=link data-testid="approvals-all" href=every>"Show resolved ones too"</a> }.into_any()
            }}
        </p>
    }
}
