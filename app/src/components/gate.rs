//! An approval gate at a glance: n of m, what counts as distinct, who
//! approved, and the deadline with what happens when it passes. Shared by
//! the approvals inbox and the execution page.
use leptos::prelude::*;

use crate::api::approvals::GateView;
use crate::components::text::Time;

#[component]
pub fn GateSummary(gate: GateView, now: i64) -> impl IntoView {
    let counted = if gate.approvers.is_empty() { "nobody yet".to_owned() } else { gate.approvers.join(", ") };
    view! {
        <div data-testid="gate" data-have=gate.have data-needed=gate.needed class="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm">
            <span data-testid="gate-progress" class="rounded bg-violet-100 px-2 py-0.5 text-xs font-semibold text-violet-900 dark:bg-violet-900 dark:text-violet-100">
                {format!("{} of {} approval{}", gate.have, gate.needed, if gate.needed == 1 { "" } else { "s" })}
            </span>
            {gate.distinct.map(|d| view! { <span class="text-xs text-slate-500" data-testid="gate-distinct">{format!("counts {}", d.words())}</span> })}
            <span class="text-xs" data-testid="gate-approvers"><span class="text-slate-500">"approved by: "</span>{counted}</span>
            {match gate.timeout_at {
                Some(t) => view! {
                    <span class="text-xs" data-testid="gate-deadline"><span class="text-slate-500">"deadline "</span><Time t=t now=now/>
                        {gate.on_timeout.clone().map(|w| format!(": then {w}"))}
                    </span>
                }.into_any(),
                None => view! { <span class="text-xs text-slate-500" data-testid="gate-deadline">"no deadline"</span> }.into_any(),
            }}
        </div>
    }
}
