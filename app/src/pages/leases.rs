//! /leases (active leases with holder and expiry countdown, expired
//! leases) and /lanes, both rendered on the server (`api::rendered`).
use leptos::prelude::*;

use crate::components::feedback::titled;
use crate::components::refresh::use_topic_tick;

#[component]
pub fn LeasesPage() -> impl IntoView {
    let tick = use_topic_tick(5_000, || "leases".to_owned());
    let data = crate::api::codec::resource(move || tick.get(), |_| crate::api::rendered::rendered("leases".into()));
    titled("Leases", data, |html| view! { <div inner_html=html></div> })
}

#[cfg(feature = "ssr")]
pub use render::html;

#[cfg(feature = "ssr")]
mod render {
    //! The leases page's HTML, from its data (rendered on the server: the
    //! browser only swaps it in).
    use leptos::prelude::*;

    use crate::api::leases::LeaseRow;
    use crate::components::feedback::{field_view, rows_or, Empty};
    use crate::components::refresh::now_ms;
    use crate::components::table::{DataTable, R};
    use crate::components::text::{execution_href, Id, Time};

    /// The page's HTML, from its data.
    pub fn html(v: crate::api::leases::LeasesView) -> String {
        let now = now_ms();
        view! {
            <h2 class="mb-2 text-lg font-semibold">"Active leases "<span class="text-slate-500">{format!("({})", v.active.len())}</span></h2>
            {if v.active.is_empty() {
                view! { <Empty title="No active leases" hint="No worker holds an execution right now."/> }.into_any()
            } else {
                view! { <LeaseTable rows=v.active.clone() now=now testid="lease-row"/> }.into_any()
            }}
            <h2 class="mb-2 mt-6 text-lg font-semibold">"Expired leases"</h2>
            {field_view(&v.expired, move |rows| rows_or(rows, "No lease is past its expiry.", move |rows| view! { <LeaseTable rows=rows now=now testid="expired-row"/> }))}
            <p class="mt-6 text-sm">"Who holds them: "<a class="text-blue-700 underline dark:text-blue-400" href="/workers">"workers"</a></p>
        }
        .into_view()
        .to_html()
    }

    #[component]
    fn LeaseTable(rows: Vec<LeaseRow>, now: i64, testid: &'static str) -> impl IntoView {
        view! {
            <DataTable head=&[("Execution", ""), ("Holder", ""), ("Lane", ""), ("Epoch", R), ("Attempt", R), ("Expires", R)]>
                {rows.into_iter().map(|r| {
                    let overdue = r.expires_at < now;
                    view! {
                        <tr data-testid=testid>
                            <td class="py-1.5"><Id id=r.execution_id.clone() href=execution_href(&r.execution_id)/></td>
                            <td class="font-mono text-xs">{r.holder}</td>
                            <td>{r.lane}</td>
                            <td class="text-right tabular-nums">{r.epoch}</td>
                            <td class="text-right tabular-nums">{r.attempt_index}</td>
                            <td class=if overdue { "text-right text-orange-700 font-semibold" } else { "text-right" }><Time t=r.expires_at now=now/></td>
                        </tr>
                    }
                }).collect_view()}
            </DataTable>
        }
    }
}

#[component]
pub fn LanesPage() -> impl IntoView {
    let data = crate::api::codec::resource(|| (), |_| crate::api::rendered::rendered("lanes".into()));
    titled("Lanes", data, |html| view! { <div inner_html=html></div> })
}

/// The lanes page's HTML, from its data.
#[cfg(feature = "ssr")]
pub fn lanes_html(v: crate::api::leases::LanesView) -> String {
    use crate::components::feedback::Empty;
    {
        let walk = v.discovery.map(|(percent, passes)| {
            let text = if passes == 0 {
                format!("Lane discovery: {percent} % of its first pass over every partition: lanes outside the registry may still be missing.")
            } else {
                format!("Lane discovery: {passes} whole pass(es) over every partition, {percent} % into the next.")
            };
            view! { <p data-testid="lane-discovery" class="mb-3 text-sm text-slate-500">{text}</p> }
        });
        let list = if v.lanes.is_empty() {
            view! { <Empty title="No lanes registered" hint="Lanes appear once executions are submitted to them."/> }.into_any()
        } else {
            view! {
                <ul class="grid gap-2 sm:grid-cols-3">
                    {v.lanes.into_iter().map(|l| view! {
                        <li data-testid="lane" data-lane=l.name.clone() class="rounded border border-slate-200 bg-white px-3 py-2 text-sm dark:border-slate-800 dark:bg-slate-900">
                            <a class="font-mono hover:underline" href=format!("/executions?lane={}", crate::components::text::encode(&l.name))>{l.name.clone()}</a>
                            {(!l.registered).then(|| view! { <span data-testid="lane-outside" class="ml-2 rounded bg-amber-100 px-1.5 text-xs text-amber-900 dark:bg-amber-900 dark:text-amber-100" title="the engine's lane registry (ff:idx:lanes) does not name it: the board found it on executions">"outside the registry"</span> })}
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        };
        view! { {walk}{list} }.into_any()
    }
    .into_view()
    .to_html()
}
