//! /repair: the repair tools (asked for by an operator or admin, approved
//! and run by a different admin) and the requests with their counts and
//! outcomes; rendered on the server (`api::rendered`, page `repair`).
use leptos::prelude::*;

use crate::components::feedback::titled;
use crate::components::refresh::use_tick;

#[component]
pub fn RepairPage() -> impl IntoView {
    let tick = use_tick(5_000);
    let data = crate::api::codec::resource(move || tick.get(), |_| crate::api::rendered::rendered("repair".into()));
    titled("Repair", data, |html| view! { <div inner_html=html></div> })
}

#[cfg(feature = "ssr")]
pub use render::html;

#[cfg(feature = "ssr")]
mod render {
    //! The repair page's HTML, from its data.
    use leptos::prelude::*;

    use crate::api::repair::{RepairView, RequestRow, ToolRow};
    use crate::components::table::DataTable;
    use crate::components::text::Time;

    const INPUT: &str = "rounded border border-slate-300 px-2 py-1 text-sm dark:border-slate-700 dark:bg-slate-900";
    const BTN: &str = "rounded bg-slate-800 px-2.5 py-1 text-sm font-medium text-white disabled:opacity-50 dark:bg-slate-200 dark:text-slate-900";

    pub fn html(v: RepairView) -> String {
        let now = v.now;
        let csrf = v.csrf.clone();
        view! {
            <p class="mb-4 max-w-3xl text-sm text-slate-600 dark:text-slate-400">
                "Each tool is counted first, then waits for a second person: an operator or admin asks, a different admin approves, and only then does it run — in bounded steps with a deadline, saying how far it got. Asking, approving and refusing are audited."
            </p>
            <h2 class="mb-2 text-lg font-semibold">"Tools"</h2>
            <div class="grid gap-3 md:grid-cols-2">
                {v.tools.into_iter().map(|t| view! { <Tool t=t csrf=csrf.clone() now=now/> }).collect_view()}
            </div>
            <h2 class="mb-2 mt-6 text-lg font-semibold">"Requests"</h2>
            {if v.requests.is_empty() {
                view! { <p class="text-sm text-slate-500" data-testid="repair-none">"No repair has been asked for."</p> }.into_any()
            } else {
                view! {
                    <DataTable head=&[("Asked", ""), ("Tool", ""), ("By", ""), ("Reason", ""), ("Count first", ""), ("State", ""), ("", "")]>
                        {v.requests.into_iter().map(|r| view! { <Request r=r csrf=v.csrf.clone() now=now/> }).collect_view()}
                    </DataTable>
                }
                .into_any()
            }}
        }
        .into_view()
        .to_html()
    }

    #[component]
    fn Tool(t: ToolRow, csrf: Option<String>, now: i64) -> impl IntoView {
        let disabled = t.unsupported.clone().or_else(|| csrf.is_none().then(|| "asking needs the operator or admin role".to_owned()));
        view! {
            <form method="post" action="/api/repair_request" data-testid=format!("tool-{}", t.key) class="space-y-2 rounded-lg border border-slate-200 p-3 dark:border-slate-800">
                <p class="text-sm font-medium">{t.name.clone()}</p>
                <input type="hidden" name="tool" value=t.key.clone()/>
                <input type="hidden" name="csrf" value=csrf.unwrap_or_default()/>
                <input type="hidden" name="idempotency_key" value=format!("repair:{}:{now}", t.key)/>
                <div class="flex flex-wrap gap-2">
                    {t.needs_lane.then(|| view! { <input name="lane" required maxlength="128" placeholder="lane" aria-label="lane" class=INPUT/> })}
                    {t.needs_hours.then(|| view! { <input name="hours" type="number" min="1" max="8784" required placeholder="older than (hours)" aria-label="older than, in hours" class=format!("{INPUT} w-44")/> })}
                    <input name="reason" required maxlength="500" placeholder="reason" aria-label=format!("reason for {}", t.key) class=format!("{INPUT} grow")/>
                    <button type="submit" class=BTN disabled=disabled.is_some() data-testid="repair-ask">"Count and ask"</button>
                </div>
                {disabled.map(|why| view! { <p class="text-xs text-slate-500" data-testid="tool-disabled">{why}</p> })}
            </form>
        }
    }

    #[component]
    fn Request(r: RequestRow, csrf: Option<String>, now: i64) -> impl IntoView {
        let decisions: &[&str] = if r.unfinished { &["approve"] } else { &["approve", "refuse"] };
        let decide = (r.state == "pending" || r.unfinished).then(|| match (&r.blocked, csrf) {
            (None, Some(csrf)) => view! {
                <div class="flex justify-end gap-1">
                    {decisions.iter().map(|&d| view! {
                        <form method="post" action="/api/repair_decide">
                            <input type="hidden" name="id" value=r.id.clone()/>
                            <input type="hidden" name="decision" value=d/>
                            <input type="hidden" name="reason" value=format!("{d} {}", r.tool)/>
                            <input type="hidden" name="csrf" value=csrf.clone()/>
                            <input type="hidden" name="idempotency_key" value=if r.unfinished { format!("continue:{}:{now}", r.id) } else { format!("{d}:{}", r.id) }/>
                            <button type="submit" data-testid=format!("repair-{d}") class=if d == "approve" { "rounded bg-red-600 px-2 py-0.5 text-xs text-white" } else { "rounded border px-2 py-0.5 text-xs" }>
                                {match (d, r.unfinished) { ("approve", false) => "Approve and run", ("approve", true) => "Continue the run", _ => "Refuse" }}
                            </button>
                        </form>
                    }).collect_view()}
                </div>
            }
            .into_any(),
            (why, _) => view! { <span class="text-xs text-slate-500" data-testid="repair-waits">{why.clone().unwrap_or_else(|| "waiting for a second admin".into())}</span> }.into_any(),
        });
        view! {
            <tr data-testid="repair-request" data-id=r.id.clone() data-state=r.state.clone() data-tool=r.tool.clone()>
                <td class="py-1.5"><Time t=r.requested_at now=now/></td>
                <td class="text-sm">{r.what}</td>
                <td class="font-mono text-xs">{r.requested_by}</td>
                <td class="text-xs">{r.reason}</td>
                <td class="text-xs" data-testid="repair-estimate">{r.estimate.unwrap_or_else(|| "cannot be counted first (0.15)".into())}</td>
                <td class="text-xs" data-testid="repair-outcome"><span class="font-semibold">{r.state.clone()}</span>" "{r.outcome}</td>
                <td>{decide}</td>
            </tr>
        }
    }
}
