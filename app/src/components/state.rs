//! One colour per state, everywhere (badge, DAG node), always paired with
//! the state's name so colour is never the only signal. Every state shown
//! is a typed domain value (execution, flow, join, waitpoint); each says
//! which [`Tone`] it has, and the tone decides the colours and the glyph.
use leptos::prelude::*;

use crate::api::states::{ExecState, FlowState, GroupState, WaitpointState};

/// What a state means to an operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Queued, waiting its turn (waiting, delayed).
    Queued,
    /// Held back by something else (rate limited, waiting for children).
    Held,
    /// Running (active).
    Running,
    /// Paused for an outside event (suspended, resumable).
    Paused,
    /// Finished well (completed, a satisfied join).
    Done,
    /// Finished badly (failed, an impossible join).
    Bad,
    /// Stopped or passed over (cancelled, skipped).
    Off,
    /// Ran out of time.
    Expired,
    /// Nothing to signal (pending, closed, unknown).
    Neutral,
}

impl Tone {
    /// Tailwind classes of a badge.
    pub fn class(self) -> &'static str {
        match self {
            Tone::Queued => "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100",
            Tone::Held => "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
            Tone::Running => "bg-blue-100 text-blue-900 dark:bg-blue-900 dark:text-blue-100",
            Tone::Paused => "bg-violet-100 text-violet-900 dark:bg-violet-900 dark:text-violet-100",
            Tone::Done => "bg-green-100 text-green-900 dark:bg-green-900 dark:text-green-100",
            Tone::Bad => "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100",
            Tone::Off => "bg-zinc-200 text-zinc-700 dark:bg-zinc-700 dark:text-zinc-200",
            Tone::Expired => "bg-orange-100 text-orange-900 dark:bg-orange-900 dark:text-orange-100",
            Tone::Neutral => "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-200",
        }
    }

    /// Fill and stroke of a DAG node (SVG hex colours).
    pub fn colors(self) -> (&'static str, &'static str) {
        match self {
            Tone::Queued => ("#e2e8f0", "#64748b"),
            Tone::Held => ("#fef3c7", "#d97706"),
            Tone::Running => ("#dbeafe", "#2563eb"),
            Tone::Paused => ("#ede9fe", "#7c3aed"),
            Tone::Done => ("#dcfce7", "#16a34a"),
            Tone::Bad => ("#fee2e2", "#dc2626"),
            Tone::Off => ("#e4e4e7", "#71717a"),
            Tone::Expired => ("#ffedd5", "#ea580c"),
            Tone::Neutral => ("#f1f5f9", "#94a3b8"),
        }
    }

    /// A small glyph for colour-blind operators.
    pub fn glyph(self) -> &'static str {
        match self {
            Tone::Done => "✓",
            Tone::Bad => "✕",
            Tone::Running => "▶",
            Tone::Paused => "❙❙",
            Tone::Off => "⊘",
            Tone::Expired => "◔",
            Tone::Held => "⋯",
            Tone::Queued | Tone::Neutral => "○",
        }
    }
}

/// A state as a badge shows it: its name and its tone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Badge {
    pub name: &'static str,
    pub tone: Tone,
}

impl From<ExecState> for Badge {
    fn from(s: ExecState) -> Badge {
        let tone = match s {
            ExecState::Waiting | ExecState::Delayed => Tone::Queued,
            ExecState::RateLimited | ExecState::WaitingChildren => Tone::Held,
            ExecState::Active => Tone::Running,
            ExecState::Suspended | ExecState::Resumable => Tone::Paused,
            ExecState::Completed => Tone::Done,
            ExecState::Failed => Tone::Bad,
            ExecState::Cancelled | ExecState::Skipped => Tone::Off,
            ExecState::Expired => Tone::Expired,
            ExecState::Unknown => Tone::Neutral,
        };
        Badge { name: s.as_str(), tone }
    }
}

impl From<FlowState> for Badge {
    fn from(s: FlowState) -> Badge {
        use FlowState as F;
        let tone = match s { F::Active => Tone::Running, F::Completed => Tone::Done, F::Failed => Tone::Bad, F::Cancelled => Tone::Off, F::Unknown => Tone::Neutral };
        Badge { name: s.as_str(), tone }
    }
}

impl From<GroupState> for Badge {
    fn from(s: GroupState) -> Badge {
        use GroupState as G;
        let tone = match s { G::Satisfied => Tone::Done, G::Impossible => Tone::Bad, G::Cancelled => Tone::Off, G::Pending | G::Unknown => Tone::Neutral };
        Badge { name: s.as_str(), tone }
    }
}

impl From<WaitpointState> for Badge {
    fn from(s: WaitpointState) -> Badge {
        use WaitpointState as W;
        let tone = match s { W::Active => Tone::Running, W::Pending | W::Closed | W::Unknown => Tone::Neutral };
        Badge { name: s.as_str(), tone }
    }
}

/// A state badge: glyph + name on the state's colour.
#[component]
pub fn StateBadge(#[prop(into)] state: Badge) -> impl IntoView {
    let class = format!("inline-flex items-center gap-1 rounded px-1.5 py-0.5 text-xs font-medium {}", state.tone.class());
    view! { <span class=class data-state=state.name>{state.tone.glyph()}" "{state.name.replace('_', " ")}</span> }
}
