//! The board moves without reload: a client-side tick that pages put in
//! their resource keys, and the clock relative times are read against.
use leptos::prelude::*;

/// A counter that increments every `every_ms` in the browser (on the server
/// it stays 0, so SSR renders once). Background tabs keep their last view:
/// the tick skips while `document.hidden`.
pub fn use_tick(every_ms: u64) -> ReadSignal<u32> {
    let (tick, set_tick) = signal(0u32);
    Effect::new(move |_| {
        let _ = set_interval_with_handle(
            move || {
                #[cfg(feature = "hydrate")]
                if web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden()) {
                    return;
                }
                set_tick.update(|t| *t = t.wrapping_add(1));
            },
            std::time::Duration::from_millis(every_ms),
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
