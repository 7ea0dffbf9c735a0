//! The browser end of `/ws`: one socket per tab, resumed with `after` +
//! `epoch` on reconnect, gap detection on `seq`, the header indicator
//! (live / reconnecting / resynced, N missed) and the recent-events feed the
//! /live page shows. Pages refetch through [`crate::components::refresh`].
use std::collections::VecDeque;

use leptos::prelude::*;

use crate::live::Frame;

/// Frames kept for the /live feed.
pub const FEED: usize = 500;

/// Live state shared by the header, the pages and /live.
#[derive(Clone, Copy)]
pub struct LiveCtx {
    /// `connecting`, `live` or `reconnecting`.
    pub conn: RwSignal<String>,
    /// Events this tab knows it missed (then refetched).
    pub missed: RwSignal<u64>,
    pub resyncs: RwSignal<u64>,
    /// Engine readers' states (`live` or `reconnecting: …`).
    pub streams: RwSignal<Vec<(String, ff_board_domain::StreamState)>>,
    pub feed: RwSignal<VecDeque<Frame>>,
    /// Increments on every event: pages refetch when it moves.
    pub bump: RwSignal<u64>,
}

/// Create the live state and (in the browser) connect.
pub fn provide_live() -> LiveCtx {
    let ctx = LiveCtx {
        conn: RwSignal::new("connecting".to_owned()),
        missed: RwSignal::new(0),
        resyncs: RwSignal::new(0),
        streams: RwSignal::new(vec![]),
        feed: RwSignal::new(VecDeque::new()),
        bump: RwSignal::new(0),
    };
    provide_context(ctx);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        client::connect(ctx, std::rc::Rc::new(std::cell::RefCell::new(client::Cursor::default())));
    });
    ctx
}

/// Apply one frame to the state. `last` is the last seq seen and `epoch`
/// the board process it belongs to; returns the new cursor.
pub fn apply(ctx: LiveCtx, last: Option<(u64, String)>, f: Frame) -> Option<(u64, String)> {
    use crate::live::LiveEvent;
    let same_epoch = last.as_ref().is_some_and(|(_, e)| *e == f.epoch);
    match &f.event {
        LiveEvent::Resync { missed, .. } => {
            ctx.resyncs.update(|r| *r += 1);
            ctx.missed.update(|m| *m += missed.unwrap_or(0));
            ctx.bump.update(|b| *b += 1);
            return Some((f.seq, f.epoch));
        }
        // Status frames are outside the event sequence (seq 0); a client
        // without a position takes the one the frame names.
        LiveEvent::Streams { streams, last_seq } => {
            ctx.streams.set(streams.clone());
            return last.or_else(|| Some((*last_seq, f.epoch.clone())));
        }
        _ => {}
    }
    if let Some((seq, _)) = &last {
        if same_epoch && f.seq > seq + 1 {
            ctx.missed.update(|m| *m += f.seq - seq - 1);
        }
    }
    let cursor = Some((f.seq, f.epoch.clone()));
    ctx.feed.update(|feed| {
        if feed.len() == FEED {
            feed.pop_back();
        }
        feed.push_front(f);
    });
    ctx.bump.update(|b| *b += 1);
    cursor
}

#[cfg(feature = "hydrate")]
mod client {
    //! The WebSocket itself (browser only).
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;
    use web_sys::{MessageEvent, WebSocket};

    use super::{apply, LiveCtx};
    use crate::live::{ClientMsg, Frame};

    #[derive(Default)]
    pub struct Cursor {
        pub last: Option<(u64, String)>,
        pub failures: u32,
    }

    pub fn connect(ctx: LiveCtx, cur: Rc<RefCell<Cursor>>) {
        let Some(loc) = web_sys::window().map(|w| w.location()) else { return };
        let proto = if loc.protocol().ok().as_deref() == Some("https:") { "wss" } else { "ws" };
        let url = format!("{proto}://{}/ws", loc.host().unwrap_or_default());
        let Ok(ws) = WebSocket::new(&url) else {
            retry(ctx, cur);
            return;
        };
        let on_open = {
            let ws = ws.clone();
            let cur = cur.clone();
            Closure::<dyn FnMut()>::new(move || {
                let (after, epoch) = match &cur.borrow().last {
                    Some((seq, epoch)) => (Some(*seq), Some(epoch.clone())),
                    None => (None, None),
                };
                let msg = ClientMsg::Subscribe { topics: vec!["all".into()], after, epoch };
                let _ = ws.send_with_str(&serde_json::to_string(&msg).unwrap_or_default());
                cur.borrow_mut().failures = 0;
                ctx.conn.set("live".into());
            })
        };
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();
        let on_message = {
            let cur = cur.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                let Some(text) = e.data().as_string() else { return };
                let Ok(frame) = serde_json::from_str::<Frame>(&text) else { return };
                let last = cur.borrow().last.clone();
                let next = apply(ctx, last, frame);
                cur.borrow_mut().last = next;
            })
        };
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let on_close = {
            let cur = cur.clone();
            Closure::<dyn FnMut()>::new(move || {
                ctx.conn.set("reconnecting".into());
                retry(ctx, cur.clone());
            })
        };
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        on_close.forget();
    }

    fn retry(ctx: LiveCtx, cur: Rc<RefCell<Cursor>>) {
        let failures = {
            let mut c = cur.borrow_mut();
            c.failures += 1;
            c.failures
        };
        let delay = Duration::from_millis((250u64 << failures.min(5)).min(5000));
        set_timeout(move || connect(ctx, cur), delay);
    }
}

/// The header indicator.
#[component]
pub fn LiveIndicator() -> impl IntoView {
    let ctx = use_context::<LiveCtx>();
    view! {
        {move || {
            let Some(ctx) = ctx else { return ().into_any() };
            let conn = ctx.conn.get();
            let streams = ctx.streams.get();
            let engine_down: Vec<String> = streams.iter().filter(|(_, s)| !s.is_up()).map(|(k, _)| k.clone()).collect();
            // Streams read by polling (Valkey without keyspace notifications):
            // "polling every N ms" here, the reason on hover.
            let polled: Vec<(String, String)> = streams
                .iter()
                .filter(|(_, s)| matches!(s, ff_board_domain::StreamState::Polling { .. }))
                .map(|(k, s)| (format!("{k} {}", s.short()), format!("{k}: {}", s.describe())))
                .collect();
            let why = polled.iter().map(|(_, full)| full.as_str()).collect::<Vec<_>>().join("\n");
            let (dot, class) = match conn.as_str() {
                "live" if engine_down.is_empty() => ("●", "text-green-700 dark:text-green-400"),
                "live" => ("●", "text-amber-700 dark:text-amber-400"),
                _ => ("○", "text-amber-700 dark:text-amber-400"),
            };
            let mut text = conn.clone();
            if !engine_down.is_empty() {
                text.push_str(&format!(" · engine {} reconnecting", engine_down.join(", ")));
            }
            if !polled.is_empty() {
                text.push_str(&format!(" · {}", polled.iter().map(|(short, _)| short.as_str()).collect::<Vec<_>>().join(", ")));
            }
            if ctx.resyncs.get() > 0 {
                text.push_str(&format!(" · resynced, {} missed", ctx.missed.get()));
            }
            view! {
                <span data-testid="live-indicator" data-state=conn title=why class=format!("text-xs {class}")>{dot}" "{text}</span>
            }
            .into_any()
        }}
    }
}
