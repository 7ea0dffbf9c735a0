//! /quotas: the deployment's quota policies with their windows, caps and
//! current use, read in one bounded store read (`Reads::quotas`: at most
//! `MAX_QUOTAS` policies; FlowFabric 0.15 lists none through the trait,
//! which reads one policy's limits at a time), rendered on the server.
#![cfg(feature = "ssr")]

use leptos::prelude::*;

use crate::components::table::{DataTable, R};
use crate::error::AppError;

/// The page's HTML.
pub async fn html() -> Result<String, AppError> {
    super::read::read(|c| async move {
        let now = c.backend.server_time_ms().await.map(|t| t as i64).unwrap_or_else(|_| super::leases::wall_ms());
        let rows = c.reads.quotas(now).await?;
        Ok(render(rows))
    })
    .await
}

/// "used / cap" with a bar, or "no cap".
fn used(used: u64, cap: u64, what: &str) -> AnyView {
    if cap == 0 {
        return view! { <span class="text-slate-500">{format!("{used} · no {what}")}</span> }.into_any();
    }
    let pct = (used.min(cap) * 100 / cap.max(1)) as u32;
    let full = used >= cap;
    let bar = if full { "bg-red-600" } else if pct >= 80 { "bg-amber-500" } else { "bg-green-600" };
    view! {
        <span class="inline-flex items-center gap-2" data-full=full.to_string()>
            <span class="tabular-nums">{format!("{used} / {cap}")}</span>
            <span class="inline-block h-1.5 w-20 rounded bg-slate-200 dark:bg-slate-700">
                <span class=format!("block h-1.5 rounded {bar}") style=format!("width:{pct}%")></span>
            </span>
            {full.then(|| view! { <span class="text-xs font-semibold text-red-700 dark:text-red-300">"full: new work waits"</span> })}
        </span>
    }
    .into_any()
}

fn render(rows: Vec<ff_board_engine::backend::QuotaLine>) -> String {
    let capped = rows.len() >= ff_board_engine::backend::MAX_QUOTAS;
    view! {
        <p class="mb-3 text-sm text-slate-500">
            "A quota policy admits at most its rate per window and its concurrency cap at once; executions past it wait "
            <a class="text-blue-700 underline dark:text-blue-300" href="/executions?q=blocked%3Aquota">"blocked by quota"</a>"."
        </p>
        {if rows.is_empty() {
            view! { <p class="text-sm text-slate-500" data-testid="quotas-none">"No quota policy is defined in this deployment."</p> }.into_any()
        } else {
            view! {
                <DataTable head=&[("Policy", ""), ("Window", R), ("Admitted in window", ""), ("Running now", "")] attr:data-testid="quotas">
                    {rows.into_iter().map(|q| view! {
                        <tr data-testid="quota-row" data-id=q.id.clone()>
                            <td class="py-1.5 font-mono text-xs">{q.id.clone()}</td>
                            <td class="text-right tabular-nums">{if q.window_seconds == 0 { "—".to_owned() } else { format!("{} s", q.window_seconds) }}</td>
                            <td data-testid="quota-rate">{used(q.in_window, q.max_per_window, "rate limit")}</td>
                            <td data-testid="quota-concurrency">{used(q.active, q.concurrency_cap, "concurrency cap")}</td>
                        </tr>
                    }).collect_view()}
                </DataTable>
            }
            .into_any()
        }}
        {capped.then(|| view! { <p class="mt-2 text-xs text-slate-500">{format!("The first {} policies by id.", ff_board_engine::backend::MAX_QUOTAS)}</p> })}
    }
    .into_view()
    .to_html()
}
