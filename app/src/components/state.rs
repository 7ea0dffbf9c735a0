//! One colour per public state, everywhere (badge, DAG node), always paired
//! with the state's name so colour is never the only signal.

/// Tailwind classes of a state badge.
pub fn badge_class(state: &str) -> &'static str {
    match state {
        "waiting" | "delayed" => "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100",
        "rate_limited" | "waiting_children" | "blocked" => "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
        "active" | "running" | "open" => "bg-blue-100 text-blue-900 dark:bg-blue-900 dark:text-blue-100",
        "suspended" | "resumable" => "bg-violet-100 text-violet-900 dark:bg-violet-900 dark:text-violet-100",
        "completed" | "satisfied" => "bg-green-100 text-green-900 dark:bg-green-900 dark:text-green-100",
        "failed" | "impossible" => "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100",
        "cancelled" | "skipped" => "bg-zinc-200 text-zinc-700 dark:bg-zinc-700 dark:text-zinc-200",
        "expired" => "bg-orange-100 text-orange-900 dark:bg-orange-900 dark:text-orange-100",
        _ => "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-200",
    }
}

/// Fill and stroke of a DAG node (SVG hex colours).
pub fn node_colors(state: &str) -> (&'static str, &'static str) {
    match state {
        "waiting" | "delayed" => ("#e2e8f0", "#64748b"),
        "rate_limited" | "waiting_children" => ("#fef3c7", "#d97706"),
        "active" => ("#dbeafe", "#2563eb"),
        "suspended" | "resumable" => ("#ede9fe", "#7c3aed"),
        "completed" => ("#dcfce7", "#16a34a"),
        "failed" => ("#fee2e2", "#dc2626"),
        "cancelled" | "skipped" => ("#e4e4e7", "#71717a"),
        "expired" => ("#ffedd5", "#ea580c"),
        _ => ("#f1f5f9", "#94a3b8"),
    }
}

/// A small glyph per state for colour-blind operators.
pub fn glyph(state: &str) -> &'static str {
    match state {
        "completed" | "satisfied" => "✓",
        "failed" | "impossible" => "✕",
        "active" | "running" => "▶",
        "suspended" | "resumable" => "❙❙",
        "cancelled" | "skipped" => "⊘",
        "expired" => "◔",
        "rate_limited" | "waiting_children" | "blocked" => "⋯",
        _ => "○",
    }
}

use leptos::prelude::*;

/// A state badge: glyph + name on the state's colour.
#[component]
pub fn StateBadge(#[prop(into)] state: String) -> impl IntoView {
    let class = format!(
        "inline-flex items-center gap-1 rounded px-1.5 py-0.5 text-xs font-medium {}",
        badge_class(&state)
    );
    view! { <span class=class data-state=state.clone()>{glyph(&state)}" "{state.replace('_', " ")}</span> }
}
