//! /flows: every flow over all partitions, found by the query language
//! (`?q=`, `docs/SEARCH.md`: state, flowkind, ns, created, finished) or
//! jumped to by a whole flow id, beside the state and namespace filters;
//! each flow kind is a link that adds its term; everything lives in the URL.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use ff_board_domain::query::{adding, Field};

use crate::api::flows::{list_flows, FlowRow, FlowsQuery};
use crate::api::states::FlowState;
use crate::components::feedback::{loaded, Empty};
use crate::components::refresh::{now_ms, use_tick};
use crate::components::state::StateBadge;
use crate::components::table::{shown, shows, Col, DataTable, Exports, Footer, R};
use crate::components::text::{flow_href, Id, Time};

#[component]
pub fn FlowsPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || {
        let m = query.get();
        FlowsQuery { state: m.get("state"), namespace: m.get("namespace"), q: m.get("q"), cursor: m.get("cursor"), cols: m.get("cols"), view: m.get("view") }
    };
    let tick = use_tick(3000);
    let data = crate::api::codec::resource(move || (q(), tick.get()), |(q, _)| list_flows(q.state, q.namespace, q.q, q.cursor));
    view! {
        <Title text="Flows"/>
        <div class="mb-4 flex items-end justify-between gap-4">
            <h1 class="text-2xl font-semibold">"Flows"{move || q().view.filter(|v| !v.is_empty()).map(|v| view! { <span data-testid="view-title" class="ml-2 text-base font-normal text-slate-500">{format!("· view {v}")}</span> })}</h1>
            {move || view! { <Filters current=q()/> }}
        </div>
        <Exports list="flows" q=Signal::derive(move || q().q.unwrap_or_default())/>
        {loaded(data, None, move |list| if list.rows.is_empty() {
            view! { <Empty title="No flows match" hint="Clear the filters, or point the board at a backend where flows are being created (the embedded demo creates some every few seconds)."/> }.into_any()
        } else {
            let next = list.next_cursor.clone().map(|c| href(&FlowsQuery { cursor: Some(c), ..q() }));
            view! {
                <FlowTable rows=list.rows q=q().q.unwrap_or_default() cols=q().cols.unwrap_or_default()/>
                <Footer note=if list.cut_short { "stopped after the scan limit: more may match on the next page".to_owned() } else { format!("{}, over {} partition(s)", list.order.describe(), list.partitions) } next=next/>
            }.into_any()
        })}
    }
}

/// The table's columns by their view keys (`crate::api::views::FLOW_COLUMNS`).
const COLUMNS: [(&str, Col); 7] = [
    ("id", ("Flow", "")),
    ("kind", ("Kind", "")),
    ("ns", ("Namespace", "")),
    ("state", ("State", "")),
    ("members", ("Members", R)),
    ("edges", ("Edges", R)),
    ("created", ("Created", R)),
];

#[component]
fn FlowTable(rows: Vec<FlowRow>, q: String, cols: String) -> impl IntoView {
    let now = now_ms();
    let head = shown(&COLUMNS, &cols);
    // A column the view leaves out keeps its cells, hidden.
    let c = move |key: &str, base: &'static str| if shows(&cols, key) { base.to_owned() } else { format!("hidden {base}") };
    let with_kind = move |kind: &str| href(&FlowsQuery { q: Some(adding(&q, Field::FlowKind, kind, None)), ..Default::default() });
    view! {
        <DataTable head=head attr:data-testid="flows-table">
            {rows.into_iter().map(|r| view! {
                <tr data-testid="flow-row" data-flow-id=r.flow_id.clone() data-state=r.state.as_str() class="hover:bg-slate-100 dark:hover:bg-slate-900">
                    <td class="py-1.5"><Id id=r.flow_id.clone() href=flow_href(&r.flow_id)/></td>
                    <td data-testid="flow-kind" class=c("kind", "")><a class="text-sky-700 hover:underline dark:text-sky-400" href=with_kind(&r.kind) title="add to the query">{r.kind.clone()}</a></td>
                    <td class=c("ns", "text-slate-600 dark:text-slate-400")>{r.namespace}</td>
                    <td class=c("state", "")><StateBadge state=r.state/></td>
                    <td class=c("members", "text-right tabular-nums")>{r.node_count}</td>
                    <td class=c("edges", "text-right tabular-nums")>{r.edge_count}</td>
                    <td class=c("created", "text-right")><Time t=r.created_at now=now/></td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
}

/// The filter form: a plain GET form, so it works without wasm too.
#[component]
fn Filters(current: FlowsQuery) -> impl IntoView {
    let sel = current.state.clone().unwrap_or_default();
    view! {
        <form method="get" action="/flows" class="flex items-end gap-2 text-sm" data-testid="flow-filters">
            <label class="flex flex-col text-xs text-slate-500">"State"
                <select name="state" class="rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100">
                    {std::iter::once("").chain(FlowState::ALL.map(FlowState::as_str)).map(|s| view! {
                        <option value=s selected=s == sel>{if s.is_empty() { "any" } else { s }}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="flex flex-col text-xs text-slate-500">"Namespace"
                <input name="namespace" value=current.namespace.clone().unwrap_or_default() placeholder="any" class="w-32 rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"/>
            </label>
            <label class="flex flex-col text-xs text-slate-500">"Query"
                <input name="q" value=current.q.clone().unwrap_or_default() maxlength="512" spellcheck="false" placeholder="state:failed flowkind:billing* created:<1d, or a flow id" data-testid="query" class="w-96 rounded border border-slate-300 bg-white px-2 py-1 font-mono text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"/>
            </label>
            {current.cols.clone().filter(|c| !c.is_empty()).map(|c| view! { <input type="hidden" name="cols" value=c/> })}
            <button class="rounded bg-slate-900 px-3 py-1.5 text-white dark:bg-slate-100 dark:text-slate-900">"Apply"</button>
        </form>
    }
}

fn href(q: &FlowsQuery) -> String {
    let mut parts = vec![];
    for (k, v) in [("state", &q.state), ("namespace", &q.namespace), ("q", &q.q), ("cursor", &q.cursor), ("cols", &q.cols), ("view", &q.view)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", crate::components::text::encode(v)));
        }
    }
    if parts.is_empty() { "/flows".into() } else { format!("/flows?{}", parts.join("&")) }
}
