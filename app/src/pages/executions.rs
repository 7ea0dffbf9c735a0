//! /executions: every execution over all partitions, newest first, found
//! by the query language (`?q=`, `docs/SEARCH.md`) beside the state and
//! lane filters; each row says its step and first tags, each a link that
//! adds its term to the query; the rows of a query export as CSV / NDJSON.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use ff_board_domain::query::{adding, Field};

use crate::api::executions::{list_executions, ExecutionRow};
use crate::api::states::ExecState;
use crate::components::bulk::BulkPanel;
use crate::components::feedback::{loaded, Empty};
use crate::components::refresh::{now_ms, use_tick};
use crate::components::state::StateBadge;
use crate::components::table::{shown, shows, Col, DataTable, Exports, Footer, R};
use crate::components::text::{encode, execution_href, flow_href, Id, Time};

#[component]
pub fn ExecutionsPage() -> impl IntoView {
    let query = use_query_map();
    let cursor = move || query.get().get("cursor");
    let state = move || query.get().get("state").filter(|s| !s.is_empty());
    let tick = use_tick(5000);
    let lane = move || query.get().get("lane").filter(|s| !s.is_empty());
    let q = move || query.get().get("q").unwrap_or_default();
    let cols = move || query.get().get("cols").unwrap_or_default();
    let view_name = move || query.get().get("view").filter(|v| !v.is_empty());
    let data = crate::api::codec::resource(move || (cursor(), state(), lane(), q(), tick.get()), |(c, s, l, q, _)| {
        list_executions(c, s, l, (!q.is_empty()).then_some(q))
    });
    view! {
        <Title text="Executions"/>
        <div class="mb-4 flex items-end justify-between gap-4">
            <h1 class="text-2xl font-semibold">"Executions"{move || view_name().map(|v| view! { <span data-testid="view-title" class="ml-2 text-base font-normal text-slate-500">{format!("· view {v}")}</span> })}</h1>
            <form method="get" action="/executions" class="flex flex-wrap items-end gap-2 text-sm" data-testid="execution-filters">
                <label class="flex flex-col text-xs text-slate-500">"Query"
                    <input name="q" value=q maxlength="512" spellcheck="false" data-testid="query"
                        placeholder="state:failed kind:deploy* tag:shop.order_id=A-1234 created:<1h"
                        class="w-96 rounded border border-slate-300 bg-white px-2 py-1 font-mono text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"/>
                </label>
                <label class="flex flex-col text-xs text-slate-500">"State"
                    <select name="state" class="rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100">
                        <option value="">"any"</option>
                        {ExecState::ALL.map(ExecState::as_str).into_iter().map(|s| view! { <option value=s selected=move || state().as_deref() == Some(s)>{s}</option> }).collect_view()}
                    </select>
                </label>
                <label class="flex flex-col text-xs text-slate-500">"Lane"
                    <input name="lane" value=move || lane().unwrap_or_default() placeholder="any" data-testid="lane-filter" class="w-32 rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"/>
                </label>
                {move || Some(cols()).filter(|c| !c.is_empty()).map(|c| view! { <input type="hidden" name="cols" value=c/> })}
                <button class="rounded bg-slate-900 px-3 py-1.5 text-white dark:bg-slate-100 dark:text-slate-900">"Apply"</button>
            </form>
        </div>
        <BulkPanel state=Signal::derive(state) q=Signal::derive(q) open=Signal::derive(move || query.get().get("bulk").as_deref() == Some("1"))
            open_href=Signal::derive(move || {
                let q = q();
                let q = if q.is_empty() { String::new() } else { format!("&q={}", encode(&q)) };
                format!("/executions?state={}{q}&bulk=1", encode(&state().unwrap_or_default()))
            })/>
        <Exports list="executions" q=Signal::derive(q)/>
        {loaded(data, None, move |list| {
            let note = list.note.clone().map(|n| view! { <p data-testid="index-note" role="status" class="mb-2 rounded border border-amber-300 bg-amber-50 px-3 py-1.5 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">{n}</p> });
            let body = if list.rows.is_empty() {
            let filtered = !q().is_empty() || state().is_some() || lane().is_some() || cursor().is_some();
            let hint = if filtered { "No execution matches this query on this page." } else { "Nothing has been submitted to this backend yet." };
            view! { <Empty title="No executions" hint=hint/> }.into_any()
        } else {
            let next = list.next_cursor.clone().map(|c| {
                format!(
                    "/executions?cursor={}{}{}{}{}",
                    encode(&c),
                    state().map(|s| format!("&state={s}")).unwrap_or_default(),
                    lane().map(|l| format!("&lane={}", encode(&l))).unwrap_or_default(),
                    Some(q()).filter(|q| !q.is_empty()).map(|q| format!("&q={}", encode(&q))).unwrap_or_default(),
                    Some(cols()).filter(|c| !c.is_empty()).map(|c| format!("&cols={}", encode(&c))).unwrap_or_default()
                )
            });
            view! {
                <ExecutionTable rows=list.rows q=q() cols=cols()/>
                <Footer note=if list.cut_short { "stopped after the scan limit: more may match on the next page".into() } else { String::new() } next=next/>
            }.into_any()
            };
            view! { {note}{body} }.into_any()
        })}
    }
}

/// The executions list of the query with one more term (what a step or tag link opens).
fn with_term(q: &str, field: Field, value: &str, tag_value: Option<&str>) -> String {
    format!("/executions?q={}", encode(&adding(q, field, value, tag_value)))
}

/// The table's columns by their view keys (`crate::api::views::EXECUTION_COLUMNS`).
const COLUMNS: [(&str, Col); 10] = [
    ("id", ("Execution", "")),
    ("kind", ("Step", "")),
    ("tags", ("Tags", "")),
    ("flow", ("Flow", "")),
    ("state", ("State", "")),
    ("why", ("Why", "")),
    ("lane", ("Lane", "")),
    ("ns", ("Namespace", "")),
    ("attempts", ("Attempts", R)),
    ("changed", ("Changed", R)),
];

#[component]
fn ExecutionTable(rows: Vec<ExecutionRow>, q: String, cols: String) -> impl IntoView {
    let now = now_ms();
    let head = shown(&COLUMNS, &cols);
    // A column the view leaves out keeps its cells, hidden.
    let c = move |key: &str, base: &'static str| if shows(&cols, key) { base.to_owned() } else { format!("hidden {base}") };
    let link = "text-sky-700 hover:underline dark:text-sky-400";
    view! {
        <DataTable head=head>
            {rows.into_iter().map(|r| view! {
                <tr data-testid="execution-row" data-execution-id=r.execution_id.clone()>
                    <td class="py-1.5"><Id id=r.execution_id.clone() href=execution_href(&r.execution_id)/></td>
                    <td data-testid="kind" class=c("kind", "whitespace-nowrap")>{(!r.kind.is_empty()).then(|| {
                        let href = with_term(&q, Field::Kind, &r.kind, None);
                        view! { <a class=link href=href title="add to the query">{r.kind.clone()}</a> }
                    })}</td>
                    <td data-testid="tags" class=c("tags", "text-xs")>
                        {r.tags.iter().map(|(k, v)| {
                            let href = with_term(&q, Field::Tag, k, Some(v));
                            view! { <a class=format!("mr-1 inline-block whitespace-nowrap rounded bg-slate-100 px-1 dark:bg-slate-800 {link}") href=href title="add to the query">{format!("{k}={v}")}</a> }
                        }).collect_view()}
                        {(r.more_tags > 0).then(|| view! { <span class="text-slate-500">{format!("+{}", r.more_tags)}</span> })}
                    </td>
                    <td class=c("flow", "")>{r.flow_id.map(|f| view! { <Id id=f.clone() href=flow_href(&f)/> })}</td>
                    <td class=c("state", "")><StateBadge state=r.state/></td>
                    <td data-testid="why" class=c("why", "text-xs")>{r.why.as_ref().and_then(|b| b.family().map(|f| (f, b.words().to_owned()))).map(|(f, words)| {
                        let href = with_term(&q, Field::Blocked, f.as_str(), None);
                        view! { <a class=link href=href title=words>{f.as_str()}</a> }
                    })}</td>
                    <td class=c("lane", "")>{r.lane}</td>
                    <td class=c("ns", "text-slate-600 dark:text-slate-400")>{r.namespace}</td>
                    <td class=c("attempts", "text-right tabular-nums")>{r.attempts}</td>
                    <td class=c("changed", "text-right")><Time t=r.last_mutation_at now=now/></td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
}
