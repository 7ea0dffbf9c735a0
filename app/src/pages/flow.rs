//! /flows/{flow_id}: the flow (`describe_flow`), its DAG with edge-group
//! policies, its timeline (members on one axis, the critical path), and
//! its members.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::flows::{get_flow, DagNode, EdgeGroupView, FlowDetail};
use crate::components::actions::FlowCancel;
use crate::components::audit::AuditTrail;
use crate::components::card::Fact;
use crate::components::dag::Dag;
use crate::components::feedback::loaded;
use crate::components::refresh::{now_ms, use_topic_tick};
use crate::components::state::StateBadge;
use crate::components::table::{DataTable, R};
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
        {loaded(data, Some("Flow"), move |d| {
            let base = format!("/flows/{}", crate::components::text::encode(&d.flow.flow_id));
            view! {
                <Title text=format!("Flow {}", short_id(&d.flow.flow_id))/>
                <Facts d=d.clone()/>
                <h2 class="mb-2 text-lg font-semibold">"DAG"</h2>
                <Legend/>
                {replay().map(|r| view! {
                    <p data-testid="replay-highlight" class="mb-2 text-sm text-pink-700 dark:text-pink-300">
                        {format!("Outlined in pink: what a replay of {} re-runs (it and everything downstream).", short_id(&r))}
                    </p>
                })}
                <Dag nodes=d.nodes.clone() edges=d.edges.clone() groups=d.groups.clone() replay=replay().unwrap_or_default() expanded=expanded() base=base/>
                <h2 class="mb-2 mt-6 text-lg font-semibold">"Timeline"</h2>
                <p class="mb-2 text-xs text-slate-500">
                    "Each member from its creation to its end (dashed: not finished). Outlined in pink: the critical path, the chain of members that decided when the flow finished."
                </p>
                <div class="max-h-[60vh] overflow-auto rounded-lg border border-slate-200 bg-white p-2 text-slate-900 dark:border-slate-800 dark:bg-slate-900 dark:text-slate-100" inner_html=d.timeline.clone()></div>
                {(!d.groups.is_empty()).then(|| view! {
                    <h2 class="mb-2 mt-6 text-lg font-semibold">"Join policies"</h2>
                    <JoinTable groups=d.groups.clone()/>
                })}
                <h2 class="mb-2 mt-6 text-lg font-semibold">"Members"</h2>
                <MemberTable nodes=d.nodes/>
            }
        })}
        <AuditTrail target=id_signal/>
    }
}

/// The flow's kind and state, and what `describe_flow` says of it.
#[component]
fn Facts(d: FlowDetail) -> impl IntoView {
    let now = now_ms();
    let f = d.flow;
    view! {
        <div class="mb-4">
            <a href="/flows" class="text-sm text-blue-700 hover:underline dark:text-blue-300">"← Flows"</a>
            <h1 class="mt-1 flex items-center gap-3 text-2xl font-semibold">
                {f.kind.clone()}<StateBadge state=f.state/>
            </h1>
            <dl class="mt-2 grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-4">
                <Fact label="Flow id"><Id id=f.flow_id.clone()/></Fact>
                <Fact label="Namespace">{f.namespace.clone()}</Fact>
                <Fact label="Members / edges" class="tabular-nums" testid="flow-counts">{format!("{} / {}", d.nodes.len(), d.edges.len())}</Fact>
                <Fact label="Created"><Time t=f.created_at now=now/></Fact>
                <Fact label="Last change"><Time t=f.last_mutation_at now=now/></Fact>
                <Fact label="Graph revision" class="tabular-nums">{d.graph_revision}</Fact>
                {d.cancelled_at.map(|t| view! { <Fact label="Cancelled"><Time t=t now=now/>" "{d.cancel_reason.clone().unwrap_or_default()}</Fact> })}
            </dl>
        </div>
    }
}

/// The edge groups: each downstream node's join policy and progress.
#[component]
fn JoinTable(groups: Vec<EdgeGroupView>) -> impl IntoView {
    view! {
        <DataTable head=&[("Downstream", ""), ("Policy", ""), ("Satisfied", R), ("Failed", R), ("Skipped", R), ("Running", R), ("State", "")] attr:data-testid="edge-groups">
            {groups.into_iter().map(|g| view! {
                <tr data-testid="edge-group">
                    <td class="py-1.5"><Id id=g.downstream.clone() href=execution_href(&g.downstream)/></td>
                    <td class="font-mono text-xs">{g.policy}</td>
                    <td class="text-right tabular-nums">{format!("{}/{}", g.satisfied, g.total)}</td>
                    <td class="text-right tabular-nums">{g.failed}</td>
                    <td class="text-right tabular-nums">{g.skipped}</td>
                    <td class="text-right tabular-nums">{g.running}</td>
                    <td><StateBadge state=g.state/></td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
}

/// The member executions, with their step and why they wait.
#[component]
fn MemberTable(nodes: Vec<DagNode>) -> impl IntoView {
    view! {
        <DataTable head=&[("Execution", ""), ("Step", ""), ("State", ""), ("Lane", ""), ("Attempts", R), ("Blocking", "")] attr:data-testid="members">
            {nodes.into_iter().map(|n| view! {
                <tr data-testid="member-row" data-execution-id=n.execution_id.clone()>
                    <td class="py-1.5"><Id id=n.execution_id.clone() href=execution_href(&n.execution_id)/></td>
                    <td class="font-mono text-xs">{n.kind}</td>
                    <td><StateBadge state=n.state/></td>
                    <td>{n.lane}</td>
                    <td class="text-right tabular-nums">{n.attempts}</td>
                    <td class="text-xs text-slate-500" title=n.blocking_reason.as_ref().map(|b| b.as_str().to_owned())>{n.blocking_reason.as_ref().map(|b| b.words().to_owned()).unwrap_or_default()}</td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
}

#[component]
fn Legend() -> impl IntoView {
    use crate::api::states::ExecState as S;
    view! {
        <div class="mb-2 flex flex-wrap gap-2 text-xs">
            {[S::Waiting, S::Active, S::Suspended, S::Completed, S::Failed, S::Cancelled, S::Expired].into_iter()
                .map(|s| view! { <StateBadge state=s/> }).collect_view()}
            <span class="text-slate-500">"· edges: green satisfied, grey pending, red impossible"</span>
        </div>
    }
}
