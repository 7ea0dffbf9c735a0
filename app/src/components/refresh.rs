//! The board moves without reload: a client-side tick that pages put in
//! their resource keys, and the clock relative times are read against.
//!
//! The tick follows the live event stream (at most one refetch per
//! [`MIN_GAP_MS`] while events arrive) with a slow fallback poll, so pages
//! move when the engine moves and stay quiet otherwise.
use leptos::prelude::*;

use crate::components::live::LiveCtx;

/// Minimum time between two refetches driven by live events.
pub const MIN_GAP_MS: u64 = 1000;

/// A counter that moves in the browser when live events arrive (checked
/// every [`MIN_GAP_MS`]) and at least every `fallback_ms`; on the server it
/// stays 0, so SSR renders once. Background tabs keep their last view: the
/// tick skips while `document.hidden`.
pub fn use_tick(fallback_ms: u64) -> ReadSignal<u32> {
    let (tick, set_tick) = signal(0u32);
    let live = use_context::<LiveCtx>();
    Effect::new(move |_| {
        let seen = std::cell::Cell::new(live.map(|l| l.bump.get_untracked()).unwrap_or(0));
        let quiet_ms = std::cell::Cell::new(0u64);
        let _ = set_interval_with_handle(
            move || {
                #[cfg(feature = "hydrate")]
                if web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden()) {
                    return;
                }
                quiet_ms.set(quiet_ms.get() + MIN_GAP_MS);
                let bump = live.map(|l| l.bump.get_untracked()).unwrap_or(0);
                if bump != seen.get() || quiet_ms.get() >= fallback_ms {
                    seen.set(bump);
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
