//! /flows/{flow_id}: the flow (`describe_flow`), its DAG with edge-group
//! policies, and its members.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::flows::get_flow;
use crate::components::actions::FlowCancel;
use crate::components::audit::AuditTrail;
use crate::components::dag::Dag;
use crate::components::feedback::{ErrorPanel, Loading};
use crate::components::refresh::{now_ms, use_topic_tick};
use crate::components::state::StateBadge;
use crate::components::text::{decode, execution_href, short_id, Id, Time};

#[component]
pub fn FlowPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || decode(&params.get().get("flow_id").unwrap_or_default());
    let query = leptos_router::hooks::use_query_map();
    let replay = move || query.get().get("replay").filter(|r| !r.is_empty());
    let expanded = move || query.get().get("dag").as_deref() == Some("all");
    let tick = use_topic_tick(10_000, move || format!("flow:{}", id()));
    let data = crate::api::codec::resource(move || (id(), tick.get()), |(id, _)| get_flow(id));
    let id_signal = Signal::derive(id);
    view! {
        <div class="mb-2 flex justify-end"><FlowCancel id=id_signal/></div>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                let now = now_ms();
                match data.await {
                    Err(e) => view! { <Title text="Flow"/><ErrorPanel error=e/> }.into_any(),
                    Ok(d) => {
                        let f = d.flow.clone();
                        view! {
                            <Title text=format!("Flow {}", short_id(&f.flow_id))/>
                            <div class="mb-4">
                                <a href="/flows" class="text-sm text-blue-700 hover:underline dark:text-blue-300">"← Flows"</a>
                                <h1 class="mt-1 flex items-center gap-3 text-2xl font-semibold">
                                    {f.kind.clone()}<StateBadge state=f.state.clone()/>
                                </h1>
                                <dl class="mt-2 grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-4">
                                    <div><dt class="text-xs text-slate-500">"Flow id"</dt><dd><Id id=f.flow_id.clone()/></dd></div>
                                    <div><dt class="text-xs text-slate-500">"Namespace"</dt><dd>{f.namespace.clone()}</dd></div>
                                    <div><dt class="text-xs text-slate-500">"Members / edges"</dt><dd class="tabular-nums" data-testid="flow-counts">{format!("{} / {}", d.nodes.len(), d.edges.len())}</dd></div>
                                    <div><dt class="text-xs text-slate-500">"Created"</dt><dd><Time t=f.created_at now=now/></dd></div>
                                    <div><dt class="text-xs text-slate-500">"Last change"</dt><dd><Time t=f.last_mutation_at now=now/></dd></div>
                                    <div><dt class="text-xs text-slate-500">"Graph revision"</dt><dd class="tabular-nums">{d.graph_revision}</dd></div>
                                    {d.cancelled_at.map(|t| view! {
                                        <div><dt class="text-xs text-slate-500">"Cancelled"</dt><dd><Time t=t now=now/>" "{d.cancel_reason.clone().unwrap_or_default()}</dd></div>
                                    })}
                                </dl>
                            </div>
                            <h2 class="mb-2 text-lg font-semibold">"DAG"</h2>
                            <Legend/>
                            {replay().map(|r| view! {
                                <p data-testid="replay-highlight" class="mb-2 text-sm text-pink-700 dark:text-pink-300">
                                    {format!("Outlined in pink: what a replay of {} re-runs (it and everything downstream).", short_id(&r))}
                                </p>
                            })}
                            <Dag nodes=d.nodes.clone() edges=d.edges.clone() groups=d.groups.clone() replay=replay().unwrap_or_default()
                                expanded=expanded() base=format!("/flows/{}", crate::components::text::encode(&f.flow_id))/>
                            {(!d.groups.is_empty()).then(|| view! {
                                <h2 class="mb-2 mt-6 text-lg font-semibold">"Join policies"</h2>
                                <table class="w-full text-sm" data-testid="edge-groups">
                                    <thead class="border-b border-slate-200 text-left text-xs uppercase text-slate-500 dark:border-slate-800">
                                        <tr><th class="py-2">"Downstream"</th><th>"Policy"</th><th class="text-right">"Satisfied"</th><th class="text-right">"Failed"</th><th class="text-right">"Skipped"</th><th class="text-right">"Running"</th><th>"State"</th></tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                                        {d.groups.iter().map(|g| view! {
                                            <tr data-testid="edge-group">
                                                <td class="py-1.5"><Id id=g.downstream.clone() href=execution_href(&g.downstream)/></td>
                                                <td class="font-mono text-xs">{g.policy.clone()}</td>
                                                <td class="text-right tabular-nums">{format!("{}/{}", g.satisfied, g.total)}</td>
                                                <td class="text-right tabular-nums">{g.failed}</td>
                                                <td class="text-right tabular-nums">{g.skipped}</td>
                                                <td class="text-right tabular-nums">{g.running}</td>
                                                <td><StateBadge state=g.state.clone()/></td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            })}
                            <h2 class="mb-2 mt-6 text-lg font-semibold">"Members"</h2>
                            <table class="w-full text-sm" data-testid="members">
                                <thead class="border-b border-slate-200 text-left text-xs uppercase text-slate-500 dark:border-slate-800">
                                    <tr><th class="py-2">"Execution"</th><th>"Step"</th><th>"State"</th><th>"Lane"</th><th class="text-right">"Attempts"</th><th>"Blocking"</th></tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                                    {d.nodes.iter().map(|n| view! {
                                        <tr data-testid="member-row" data-execution-id=n.execution_id.clone()>
                                            <td class="py-1.5"><Id id=n.execution_id.clone() href=execution_href(&n.execution_id)/></td>
                                            <td class="font-mono text-xs">{n.kind.clone()}</td>
                                            <td><StateBadge state=n.state.clone()/></td>
                                            <td>{n.lane.clone()}</td>
                                            <td class="text-right tabular-nums">{n.attempts}</td>
                                            <td class="text-xs text-slate-500" title=n.blocking_reason.as_ref().map(|b| b.as_str().to_owned())>{n.blocking_reason.as_ref().map(|b| b.words().to_owned()).unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <AuditTrail target=id_signal/>
    }
}

#[component]
fn Legend() -> impl IntoView {
    view! {
        <div class="mb-2 flex flex-wrap gap-2 text-xs">
            {["waiting", "active", "suspended", "completed", "failed", "cancelled", "expired"].into_iter()
                .map(|s| view! { <StateBadge state=s/> }).collect_view()}
            <span class="text-slate-500">"· edges: green satisfied, grey pending, red impossible"</span>
        </div>
    }
}
