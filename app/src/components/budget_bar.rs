//! A budget dimension as a bar: usage against the hard limit, with the soft
//! limit marked; full and red when the hard limit is reached.
use leptos::prelude::*;

use crate::api::budgets::DimensionUsage;

/// `hard`, `soft` or `ok`.
pub fn breach(d: &DimensionUsage) -> &'static str {
    match (d.hard, d.soft) {
        (Some(h), _) if d.used >= h => "hard",
        (_, Some(s)) if d.used >= s => "soft",
        _ => "ok",
    }
}

#[component]
pub fn BudgetBar(dim: DimensionUsage) -> impl IntoView {
    let scale = dim.hard.or(dim.soft).unwrap_or(dim.used).max(1) as f64;
    let pct = ((dim.used as f64 / scale) * 100.0).min(100.0);
    let soft_pct = dim.soft.map(|s| ((s as f64 / scale) * 100.0).min(100.0));
    let level = breach(&dim);
    let fill = match level {
        "hard" => "bg-red-500",
        "soft" => "bg-amber-500",
        _ => "bg-green-500",
    };
    let limits = format!(
        "{} used · soft {} · hard {}",
        dim.used,
        dim.soft.map(|v| v.to_string()).unwrap_or_else(|| "—".into()),
        dim.hard.map(|v| v.to_string()).unwrap_or_else(|| "—".into())
    );
    view! {
        <div data-testid="budget-bar" data-dimension=dim.name.clone() data-breach=level data-fill=(pct.round() as i64).to_string() class="space-y-1">
            <div class="flex justify-between text-xs">
                <span class="font-medium">{dim.name.clone()}</span>
                <span class="tabular-nums text-slate-500">{limits}</span>
            </div>
            <div class="relative h-3 w-full overflow-hidden rounded bg-slate-200 dark:bg-slate-800">
                <div class=format!("h-3 {fill}") style=format!("width:{}%", crate::components::chart::d1(pct))></div>
                {soft_pct.map(|s| view! { <div class="absolute top-0 h-3 w-0.5 bg-amber-700" style=format!("left:{}%", crate::components::chart::d1(s)) title="soft limit"></div> })}
            </div>
            {(level != "ok").then(|| view! {
                <p class=if level == "hard" { "text-xs font-semibold text-red-700 dark:text-red-300" } else { "text-xs font-semibold text-amber-700 dark:text-amber-300" }>
                    {if level == "hard" { "⚠ hard limit reached" } else { "⚠ soft limit exceeded" }}
                </p>
            })}
        </div>
    }
}
