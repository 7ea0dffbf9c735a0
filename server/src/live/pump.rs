//! The pump: the engine readers' events, with their flow ids resolved,
//! onto the bus; reader state changes as `streams` frames.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ff_board_app::live::LiveEvent;
use ff_board_engine::connect::Connected;
use ff_board_engine::live::{SourceEvent, StreamState};
use ff_board_engine::Engine;

use super::bus::Bus;
use super::ws::now_ms;

/// Flow ids remembered per execution before the cache is cleared.
const FLOW_CACHE: usize = 50_000;

/// Start the readers once the backend is dialed, and pump forever.
pub fn spawn(engine: Arc<Engine>, bus: Arc<Bus>) {
    tokio::spawn(async move {
        let c = loop {
            if let Ok(c) = engine.connected() {
                break c;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let handle = ff_board_engine::live::spawn(c.clone());
        // Readers that poll run only while a browser is subscribed.
        let (demand, watchers) = (handle.demand, bus.clone());
        tokio::spawn(async move {
            loop {
                let want = watchers.subscribers() > 0;
                demand.send_if_modified(|d| std::mem::replace(d, want) != want);
                if demand.is_closed() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
        let mut status = handle.status;
        let status_bus = bus.clone();
        tokio::spawn(async move {
            loop {
                let streams = status
                    .borrow_and_update()
                    .iter()
                    .map(|(k, v)| {
                        let s = match v {
                            StreamState::Live => "live".to_owned(),
                            StreamState::Polling { every_ms, why } => format!("polling every {every_ms} ms ({why})"),
                            StreamState::Reconnecting { error } => format!("reconnecting: {error}"),
                        };
                        ((*k).to_owned(), s)
                    })
                    .collect();
                status_bus.publish(now_ms(), LiveEvent::Streams { streams });
                if status.changed().await.is_err() {
                    return;
                }
            }
        });
        let mut events = handle.events;
        let mut flows: HashMap<String, Option<String>> = HashMap::new();
        while let Some(ev) = events.recv().await {
            let (at, event) = map(&c, &mut flows, ev).await;
            bus.publish(at, event);
        }
        tracing::warn!("engine event readers stopped");
    });
}

async fn flow_of(c: &Connected, cache: &mut HashMap<String, Option<String>>, id: &ff_core::types::ExecutionId) -> Option<String> {
    if let Some(f) = cache.get(id.as_str()) {
        return f.clone();
    }
    let f = c.backend.resolve_execution_flow_id(id).await.ok().flatten().map(|f| f.to_string());
    if cache.len() >= FLOW_CACHE {
        cache.clear();
    }
    cache.insert(id.to_string(), f.clone());
    f
}

async fn map(c: &Connected, cache: &mut HashMap<String, Option<String>>, ev: SourceEvent) -> (i64, LiveEvent) {
    match ev {
        SourceEvent::Completion { execution_id, outcome, at } => {
            let flow_id = flow_of(c, cache, &execution_id).await;
            (at, LiveEvent::Completion { execution_id: execution_id.to_string(), flow_id, outcome })
        }
        SourceEvent::Lease { execution_id, event, lease_id, holder, at } => {
            let flow_id = flow_of(c, cache, &execution_id).await;
            (at, LiveEvent::Lease { execution_id: execution_id.to_string(), flow_id, event, lease_id, holder })
        }
        SourceEvent::Signal { execution_id, signal_id, waitpoint_id, source_identity, effect, at } => {
            let flow_id = flow_of(c, cache, &execution_id).await;
            (
                at,
                LiveEvent::Signal { execution_id: execution_id.to_string(), flow_id, signal_id, waitpoint_id, source_identity, effect },
            )
        }
        SourceEvent::Resync { stream, reason } => {
            (now_ms(), LiveEvent::Resync { reason: format!("engine {stream} stream: {reason}"), missed: None })
        }
    }
}
