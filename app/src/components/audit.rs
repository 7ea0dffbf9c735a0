//! Audit entries as a table: the full log on /audit, a target's own
//! entries on flow and execution pages.
use leptos::prelude::*;

use crate::api::session::{list_audit, AuditRow};
use crate::api::states::AuditOutcome;
use crate::components::feedback::rows_or;
use crate::components::refresh::{now_ms, use_tick};
use crate::components::table::DataTable;
use crate::components::text::Time;

#[component]
pub fn AuditTable(rows: Vec<AuditRow>) -> impl IntoView {
    let now = now_ms();
    view! {
        <DataTable head=&[("When", ""), ("Who", ""), ("Action", ""), ("Target", ""), ("Reason", ""), ("Outcome", "")] attr:data-testid="audit-table">
            {rows.into_iter().map(|r| {
                let class = match &r.outcome {
                    AuditOutcome::InProgress => "text-amber-700",
                    AuditOutcome::Failed(_) | AuditOutcome::Refused => "text-red-700 dark:text-red-300",
                    AuditOutcome::Done(_) | AuditOutcome::Other(_) => "text-green-700 dark:text-green-400",
                };
                let outcome = r.outcome.label();
                let (action, key) = (r.action.clone(), format!("key {}", r.idempotency_key));
                view! {
                    <tr data-testid="audit-row" data-action=action title=key>
                        <td class="py-1.5"><Time t=r.at_ms now=now/></td>
                        <td>{r.user}<span class="text-xs text-slate-500">{format!(" ({})", r.role)}</span></td>
                        <td class="font-mono text-xs">{r.action}</td>
                        <td class="max-w-48 truncate font-mono text-xs" title=r.target.clone()>{r.target.clone()}</td>
                        <td class="text-xs">{r.reason}</td>
                        <td class=format!("text-xs {class}")>{outcome}</td>
                    </tr>
                }
            }).collect_view()}
        </DataTable>
    }
}

/// This target's audit entries (hidden when the visitor may not read them).
#[component]
pub fn AuditTrail(target: Signal<String>) -> impl IntoView {
    let tick = use_tick(10_000);
    let rows = crate::api::codec::resource(move || (target.get(), tick.get()), |(t, _)| list_audit(None, None, Some(t)));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                rows.await.ok().map(|rows| view! {
                    <section class="mt-6" data-testid="audit-trail">
                        <h2 class="mb-2 text-lg font-semibold">"Audit"</h2>
                        {rows_or(rows, "No operator action on this yet.", |rows| view! { <AuditTable rows=rows/> })}
                    </section>
                })
            })}
        </Transition>
    }
}
