//! /live: the activity feed (completions by outcome, lease events,
//! signals) as it streams in, with pause and filters, and how each engine
//! stream is read right now (live, polling and why, reconnecting).
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::live::LiveCtx;
use crate::components::table::DataTable;
use crate::components::text::{execution_href, flow_href, iso, Id};
use crate::live::{Frame, LiveEvent};

const KINDS: [&str; 3] = ["completion", "lease", "signal"];

#[component]
pub fn LivePage() -> impl IntoView {
    let ctx = use_context::<LiveCtx>().expect("live context");
    let paused = RwSignal::new(None::<Vec<Frame>>);
    let shown = RwSignal::new(KINDS.iter().map(|k| k.to_string()).collect::<Vec<_>>());
    let toggle_pause = move |_| {
        if paused.get_untracked().is_some() {
            paused.set(None);
        } else {
            paused.set(Some(ctx.feed.get_untracked().iter().cloned().collect()));
        }
    };
    let rows = move || {
        let kinds = shown.get();
        let frames: Vec<Frame> = paused.get().unwrap_or_else(|| ctx.feed.get().iter().cloned().collect());
        frames.into_iter().filter(|f| kinds.iter().any(|k| k == f.event.kind())).take(200).collect::<Vec<_>>()
    };
    view! {
        <Title text="Live"/>
        <div class="mb-4 flex items-center gap-4">
            <h1 class="text-2xl font-semibold">"Live"</h1>
            <button type="button" data-testid="live-pause" on:click=toggle_pause
                class="rounded border border-slate-300 px-3 py-1 text-sm dark:border-slate-700">
                {move || if paused.get().is_some() { "▶ Resume" } else { "❙❙ Pause" }}
            </button>
            {KINDS.map(|k| view! {
                <label class="flex items-center gap-1 text-sm">
                    <input type="checkbox" data-testid=format!("live-filter-{k}")
                        prop:checked=move || shown.get().iter().any(|s| s == k)
                        on:change=move |_| shown.update(|s| if let Some(i) = s.iter().position(|x| x == k) { s.remove(i); } else { s.push(k.to_owned()); })/>
                    {k}
                </label>
            }).collect_view()}
        </div>
        <p class="mb-2 text-xs text-slate-500">"Events pushed by the engine over the board's WebSocket, newest first (the last 500 this tab saw)."</p>
        <dl class="mb-4 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-xs" data-testid="live-sources">
            {move || ctx.streams.get().into_iter().map(|(k, s)| view! {
                <dt class="font-medium">{k.clone()}</dt>
                <dd data-testid=format!("live-source-{k}") class="text-slate-600 dark:text-slate-400">{s.describe()}</dd>
            }).collect_view()}
        </dl>
        <DataTable head=&[("Seq", "pr-4 text-right"), ("At", "pr-4"), ("Kind", ""), ("What", ""), ("Execution", ""), ("Flow", "")] attr:data-testid="live-feed">
            <For each=rows key=|f| (f.epoch.clone(), f.seq) let:f>
                <Row f=f/>
            </For>
        </DataTable>
    }
}

#[component]
fn Row(f: Frame) -> impl IntoView {
    let what = match &f.event {
        LiveEvent::Completion { outcome, .. } => outcome.clone(),
        LiveEvent::Lease { event, holder, .. } => format!("{event}{}", holder.as_ref().map(|h| format!(" by {h}")).unwrap_or_default()),
        LiveEvent::Signal { effect, source_identity, .. } => format!("{effect}{}", source_identity.as_ref().filter(|s| !s.is_empty()).map(|s| format!(" from {s}")).unwrap_or_default()),
        LiveEvent::Resync { reason, .. } => reason.clone(),
        LiveEvent::Streams { .. } => String::new(),
    };
    let exec = f.event.execution_id().map(str::to_owned);
    let flow = f.event.flow_id().map(str::to_owned);
    view! {
        <tr data-testid="live-event" data-kind=f.event.kind()>
            <td class="py-1 pr-4 text-right font-mono text-xs tabular-nums">{f.seq}</td>
            <td class="pr-4 font-mono text-xs whitespace-nowrap">{iso(f.at)}</td>
            <td>{f.event.kind()}</td>
            <td>{what}</td>
            <td>{exec.map(|e| view! { <Id id=e.clone() href=execution_href(&e)/> })}</td>
            <td>{flow.map(|fl| view! { <Id id=fl.clone() href=flow_href(&fl)/> })}</td>
        </tr>
    }
}
