//! The board moves without reload: a client-side tick that pages put in
//! their resource keys, and the clock relative times are read against.
//!
//! The tick follows the live event stream (at most one refetch per
//! [`MIN_GAP_MS`] while events of the page's topic arrive) with a slow
//! fallback poll, so pages move when what they show moves and stay quiet
//! otherwise. The server keeps each list answer for a moment and shares
//! it between tabs (`ff_board_engine::backend::cache`).
use leptos::prelude::*;

use crate::components::live::LiveCtx;

/// Minimum time between two refetches driven by live events.
pub const MIN_GAP_MS: u64 = 1000;

/// A counter that moves in the browser when live events arrive (checked
/// every [`MIN_GAP_MS`]) and at least every `fallback_ms`; on the server it
/// stays 0, so SSR renders once. Background tabs keep their last view: the
/// tick skips while `document.hidden`.
pub fn use_tick(fallback_ms: u64) -> ReadSignal<u32> {
    use_topic_tick(fallback_ms, || "all".to_owned())
}

/// [`use_tick`] for a page that shows one topic (`flow:<id>`,
/// `execution:<id>`, `approvals`, `leases`, `budgets`; see
/// `LiveEvent::matches`): only events of that topic (and resyncs) move it,
/// so a tab on one flow does not refetch when another flow moves.
pub fn use_topic_tick(fallback_ms: u64, topic: impl Fn() -> String + 'static) -> ReadSignal<u32> {
    let (tick, set_tick) = signal(0u32);
    let live = use_context::<LiveCtx>();
    let topic = std::rc::Rc::new(topic);
    Effect::new(move |_| {
        let seen = std::cell::Cell::new(live.map(|l| l.bump.get_untracked()).unwrap_or(0));
        let seen_resyncs = std::cell::Cell::new(live.map(|l| l.resyncs.get_untracked()).unwrap_or(0));
        let quiet_ms = std::cell::Cell::new(0u64);
        let topic = topic.clone();
        let _ = set_interval_with_handle(
            move || {
                #[cfg(feature = "hydrate")]
                if web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden()) {
                    return;
                }
                quiet_ms.set(quiet_ms.get() + MIN_GAP_MS);
                let (bump, resyncs) = live.map(|l| (l.bump.get_untracked(), l.resyncs.get_untracked())).unwrap_or((0, 0));
                let new = bump.saturating_sub(seen.get()) as usize;
                let t = topic();
                // The newest `new` frames of the feed are the ones since the last check.
                let concerns = resyncs != seen_resyncs.get()
                    || live.is_some_and(|l| l.feed.with_untracked(|f| f.iter().take(new).any(|fr| fr.event.matches(&t))));
                seen.set(bump);
                seen_resyncs.set(resyncs);
                if concerns || quiet_ms.get() >= fallback_ms {
                    quiet_ms.set(0);
                    set_tick.update(|t| *t = t.wrapping_add(1));
                }
            },
            std::time::Duration::from_millis(MIN_GAP_MS),
        );
    });
    tick
}

/// Now in ms (server wall clock during SSR, the browser clock after).
pub fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}
