//! /workers: registered workers per namespace with capabilities, lanes,
//! last heartbeat (red past its TTL) and leases held, and "mark dead"
//! for admins; rendered on the server (`api::rendered`, page `workers`).
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::feedback::titled;
use crate::components::refresh::use_topic_tick;

#[component]
pub fn WorkersPage() -> impl IntoView {
    let query = use_query_map();
    let tick = use_topic_tick(5_000, || "leases".to_owned());
    let data = crate::api::codec::resource(
        move || (query.get().get("ns").unwrap_or_default(), tick.get()),
        |(ns, _)| crate::api::rendered::rendered(if ns.is_empty() { "workers".into() } else { format!("workers?ns={ns}") }),
    );
    titled("Workers", data, |html| view! { <div inner_html=html></div> })
}

#[cfg(feature = "ssr")]
pub use render::html;

#[cfg(feature = "ssr")]
mod render {
    //! The workers page's HTML, from its data.
    use leptos::prelude::*;

    use crate::api::workers::{WorkerRow, WorkersView};
    use crate::components::feedback::{field_view, rows_or};
    use crate::components::table::{DataTable, R};
    use crate::components::text::Time;

    pub fn html(v: WorkersView) -> String {
        let now = v.now;
        let csrf = v.admin_csrf.clone();
        view! {
            <form method="get" action="/workers" class="mb-4 flex items-center gap-2 text-sm">
                <label>"Namespace "<input name="ns" maxlength="128" data-testid="workers-ns" class="rounded border border-slate-300 px-2 py-1 dark:border-slate-700 dark:bg-slate-900"/></label>
                <button type="submit" class="rounded border px-2 py-1">"Show"</button>
                <span class="text-xs text-slate-500">"FlowFabric lists workers one namespace at a time; the board reads the namespaces it knows (FF_BOARD_NAMESPACES and those on recent executions)."</span>
            </form>
            {(v.namespaces.is_empty()).then(|| view! { <p class="text-sm text-slate-500" data-testid="workers-none">"No namespace known yet: type one above."</p> })}
            {v.namespaces.into_iter().map(|n| {
                let csrf = csrf.clone();
                let ns = n.namespace.clone();
                view! {
                    <h2 class="mb-2 mt-4 text-lg font-semibold">{format!("Namespace {}", n.namespace)}</h2>
                    {field_view(&n.workers, move |rows| rows_or(rows, "No worker is registered in this namespace.", {
                        let (csrf, ns) = (csrf.clone(), ns.clone());
                        move |rows| view! { <Table rows=rows now=now csrf=csrf.clone() ns=ns.clone()/> }
                    }))}
                }
            }).collect_view()}
            {v.leases_capped.then(|| view! { <p class="mt-2 text-xs text-slate-500">"Leases held are counted on the 50 leases soonest to expire: at least this many."</p> })}
        }
        .into_view()
        .to_html()
    }

    #[component]
    fn Table(rows: Vec<WorkerRow>, now: i64, csrf: Option<String>, ns: String) -> impl IntoView {
        view! {
            <DataTable head=&[("Worker", ""), ("Instance", ""), ("Lanes", ""), ("Capabilities", ""), ("Last heartbeat", R), ("Leases", R), ("", R)]>
                {rows.into_iter().map(|w| {
                    let alive = now - w.last_heartbeat_at <= w.ttl_ms as i64;
                    let inst = w.instance.clone();
                    let mark = csrf.clone().map(|csrf| view! {
                        <form method="post" action="/api/mark_worker_dead" class="flex items-center justify-end gap-1">
                            <input type="hidden" name="instance" value=w.instance.clone()/>
                            <input type="hidden" name="namespace" value=ns.clone()/>
                            <input type="hidden" name="csrf" value=csrf/>
                            <input type="hidden" name="idempotency_key" value=format!("dead:{}:{}", w.instance, w.last_heartbeat_at)/>
                            <input name="reason" required maxlength="256" placeholder="reason" aria-label=format!("reason to mark {} dead", w.instance) class="w-28 rounded border border-slate-300 px-1 text-xs dark:border-slate-700 dark:bg-slate-900"/>
                            <button type="submit" data-testid="mark-dead" class="rounded bg-red-600 px-2 py-0.5 text-xs text-white">"Mark dead"</button>
                        </form>
                    });
                    view! {
                        <tr data-testid="worker-row" id=format!("worker-{inst}") data-instance=inst.clone() data-alive=alive.to_string()>
                            <td class="py-1.5">{w.worker_id}</td>
                            <td class="font-mono text-xs">{w.instance}</td>
                            <td class="text-xs">{w.lanes.join(", ")}</td>
                            <td class="text-xs" data-testid="capabilities">{if w.capabilities.is_empty() { "—".to_owned() } else { w.capabilities.join(", ") }}</td>
                            <td class=if alive { "text-right" } else { "text-right font-semibold text-red-700 dark:text-red-400" } title=format!("TTL {} s", w.ttl_ms / 1000)>
                                <Time t=w.last_heartbeat_at now=now/>{(!alive).then_some(" (past its TTL)")}
                            </td>
                            <td class="text-right tabular-nums" data-testid="leases-held">{w.leases}</td>
                            <td class="text-right">{mark}</td>
                        </tr>
                    }
                }).collect_view()}
            </DataTable>
        }
    }
}
