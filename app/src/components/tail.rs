//! Following an execution's stream without reload: "Follow live" asks the
//! server for the frames after the last one shown (`api::tail`), appends
//! them, and asks again — at once after a long poll, after [`POLL_MS`]
//! where the backend cannot tail, after [`RETRY_MS`] past an error (shown).
//! At most [`MAX_SHOWN`] frames are kept; leaving the page stops it.
use std::time::Duration;

use leptos::prelude::*;

use crate::api::executions::FrameView;
use crate::api::tail::tail_frames;

/// Pause between reads where the backend answers at once.
pub const POLL_MS: u64 = 2_000;
/// Pause after a failed read.
pub const RETRY_MS: u64 = 5_000;
/// Frames kept on the page (the oldest dropped first).
pub const MAX_SHOWN: usize = 500;

#[derive(Clone, Copy)]
struct Ctx {
    id: Signal<String>,
    cursor: RwSignal<Option<String>>,
    attempt: RwSignal<Option<u32>>,
    frames: RwSignal<Vec<FrameView>>,
    following: RwSignal<bool>,
    /// Which run of "follow" is current (an old loop stops when it changes).
    run: RwSignal<u32>,
    error: RwSignal<Option<String>>,
}

/// One read of the tail, then the next one scheduled (while this run lasts
/// and the page is still there).
fn step(ctx: Ctx, run: u32) {
    leptos::task::spawn_local(async move {
        let current = ctx.following.try_get_untracked() == Some(true) && ctx.run.try_get_untracked() == Some(run);
        let (Some(id), Some(attempt), Some(cursor)) = (ctx.id.try_get_untracked(), ctx.attempt.try_get_untracked(), ctx.cursor.try_get_untracked()) else { return };
        if !current {
            return;
        }
        let delay = match tail_frames(id, attempt, cursor).await {
            Ok(t) => {
                if t.attempt != attempt {
                    let _ = ctx.frames.try_set(Vec::new());
                }
                let _ = ctx.attempt.try_set(t.attempt);
                let _ = ctx.cursor.try_set(t.cursor);
                let _ = ctx.error.try_set(None);
                ctx.frames.try_update(|f| {
                    f.extend(t.frames);
                    let over = f.len().saturating_sub(MAX_SHOWN);
                    f.drain(..over);
                });
                if t.waited { 50 } else { POLL_MS }
            }
            Err(e) => {
                let _ = ctx.error.try_set(Some(e.to_string()));
                RETRY_MS
            }
        };
        set_timeout(move || step(ctx, run), Duration::from_millis(delay));
    });
}

/// The live tail under an execution's stream, from the moment "Follow
/// live" is pressed; another execution (the route changed) stops it.
#[component]
pub fn StreamTail(execution_id: Signal<String>) -> impl IntoView {
    let ctx = Ctx {
        id: execution_id,
        cursor: RwSignal::new(None),
        attempt: RwSignal::new(None),
        frames: RwSignal::new(Vec::new()),
        following: RwSignal::new(false),
        run: RwSignal::new(0),
        error: RwSignal::new(None),
    };
    let toggle = move |_| {
        let on = !ctx.following.get_untracked();
        ctx.following.set(on);
        ctx.run.update(|r| *r += 1);
        if on {
            ctx.attempt.set(None);
            ctx.cursor.set(None);
            ctx.frames.set(Vec::new());
            step(ctx, ctx.run.get_untracked());
        }
    };
    // Another execution: stop, forget the frames.
    Effect::watch(
        move || execution_id.get(),
        move |_, _, _| {
            ctx.following.set(false);
            ctx.run.update(|r| *r += 1);
            ctx.frames.set(Vec::new());
        },
        false,
    );
    view! {
        <div class="mt-2 flex items-center gap-2 text-sm">
            <button type="button" data-testid="tail-follow" aria-pressed=move || ctx.following.get().to_string() on:click=toggle
                class="rounded border border-slate-300 px-2 py-0.5 hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">
                {move || if ctx.following.get() { "Stop following" } else { "Follow live" }}
            </button>
            <span class="text-xs text-slate-500" data-testid="tail-status">
                {move || match (ctx.following.get(), ctx.error.get()) {
                    (_, Some(e)) => format!("tail interrupted, retrying: {e}"),
                    (true, None) => format!("following: {} new frame(s)", ctx.frames.with(Vec::len)),
                    (false, None) => "new frames appear here while following".to_owned(),
                }}
            </span>
        </div>
        {move || (!ctx.frames.with(Vec::is_empty)).then(|| view! {
            <ol class="mt-2 max-h-80 space-y-1 overflow-auto rounded bg-slate-100 p-3 font-mono text-xs dark:bg-slate-900" data-testid="tail" aria-live="polite">
                {ctx.frames.get().into_iter().map(|f| view! {
                    <li data-testid="tail-frame"><span class="text-slate-500">{f.id}" "</span>{f.fields.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")}</li>
                }).collect_view()}
            </ol>
        })}
    }
}
