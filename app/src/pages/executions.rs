//! /executions: every execution over all partitions, paged by id.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::executions::{list_executions, ExecutionRow};
use crate::api::states::ExecState;
use crate::components::bulk::BulkPanel;
use crate::components::feedback::{loaded, Empty};
use crate::components::refresh::{now_ms, use_tick};
use crate::components::state::StateBadge;
use crate::components::table::{DataTable, Footer, R};
use crate::components::text::{encode, execution_href, flow_href, Id, Time};

#[component]
pub fn ExecutionsPage() -> impl IntoView {
    let query = use_query_map();
    let cursor = move || query.get().get("cursor");
    let state = move || query.get().get("state").filter(|s| !s.is_empty());
    let tick = use_tick(5000);
    let lane = move || query.get().get("lane").filter(|s| !s.is_empty());
    let data = crate::api::codec::resource(move || (cursor(), state(), lane(), tick.get()), |(c, s, l, _)| list_executions(c, s, l));
    view! {
        <Title text="Executions"/>
        <div class="mb-4 flex items-end justify-between gap-4">
            <h1 class="text-2xl font-semibold">"Executions"</h1>
            <form method="get" action="/executions" class="flex items-end gap-2 text-sm" data-testid="execution-filters">
                <label class="flex flex-col text-xs text-slate-500">"State"
                    <select name="state" class="rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100">
                        <option value="">"any"</option>
                        {ExecState::ALL.map(ExecState::as_str).into_iter().map(|s| view! { <option value=s selected=move || state().as_deref() == Some(s)>{s}</option> }).collect_view()}
                    </select>
                </label>
                <label class="flex flex-col text-xs text-slate-500">"Lane"
                    <input name="lane" value=move || lane().unwrap_or_default() placeholder="any" data-testid="lane-filter" class="w-32 rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"/>
                </label>
                <button class="rounded bg-slate-900 px-3 py-1.5 text-white dark:bg-slate-100 dark:text-slate-900">"Apply"</button>
            </form>
        </div>
        <BulkPanel state=Signal::derive(state) open=Signal::derive(move || query.get().get("bulk").as_deref() == Some("1"))
            open_href=Signal::derive(move || format!("/executions?state={}&bulk=1", encode(&state().unwrap_or_default())))/>
        {loaded(data, None, move |list| if list.rows.is_empty() {
            view! { <Empty title="No executions" hint="Nothing has been submitted to this backend yet."/> }.into_any()
        } else {
            let next = list.next_cursor.clone().map(|c| {
                format!("/executions?cursor={}{}{}", encode(&c), state().map(|s| format!("&state={s}")).unwrap_or_default(), lane().map(|l| format!("&lane={}", encode(&l))).unwrap_or_default())
            });
            view! {
                <ExecutionTable rows=list.rows/>
                <Footer note=if list.cut_short { "stopped after the scan limit: more may match on the next page".into() } else { String::new() } next=next/>
            }.into_any()
        })}
    }
}

#[component]
fn ExecutionTable(rows: Vec<ExecutionRow>) -> impl IntoView {
    let now = now_ms();
    view! {
        <DataTable head=&[("Execution", ""), ("Flow", ""), ("State", ""), ("Lane", ""), ("Namespace", ""), ("Attempts", R), ("Changed", R)]>
            {rows.into_iter().map(|r| view! {
                <tr data-testid="execution-row" data-execution-id=r.execution_id.clone()>
                    <td class="py-1.5"><Id id=r.execution_id.clone() href=execution_href(&r.execution_id)/></td>
                    <td>{r.flow_id.map(|f| view! { <Id id=f.clone() href=flow_href(&f)/> })}</td>
                    <td><StateBadge state=r.state/></td>
                    <td>{r.lane}</td>
                    <td class="text-slate-600 dark:text-slate-400">{r.namespace}</td>
                    <td class="text-right tabular-nums">{r.attempts}</td>
                    <td class="text-right"><Time t=r.last_mutation_at now=now/></td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
}
