//! The pump: the engine readers' events, with their flow ids resolved,
//! onto the bus; reader state changes as `streams` frames. It also feeds
//! the overview's series ([`throughput`]): completions and retries per
//! lane and namespace.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ff_board_app::live::LiveEvent;
use ff_board_engine::connect::Connected;
use ff_board_engine::live::SourceEvent;
use ff_board_engine::throughput;
use ff_board_engine::Engine;

use super::bus::Bus;
use super::ws::now_ms;

/// Executions remembered (where they run, their last lease) before the
/// caches are cleared.
const CACHE: usize = 50_000;
/// The longest an event waits for its execution's lookup: a hung lookup
/// must not stop every live event while the indicator says "live".
const LOOKUP_DEADLINE: Duration = Duration::from_secs(2);

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
        ff_board_engine::usage::sample_every_minute(c.clone());
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
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect();
                status_bus.publish(now_ms(), LiveEvent::Streams { streams, last_seq: 0 });
                if status.changed().await.is_err() {
                    return;
                }
            }
        });
        let mut events = handle.events;
        let mut known = Known::default();
        while let Some(ev) = events.recv().await {
            let (at, event) = known.map(&c, ev).await;
            bus.publish(at, event);
        }
        tracing::warn!("engine event readers stopped");
    });
}

/// What the pump remembers of an execution: where it runs (one
/// `describe_execution` the first time an execution is seen, under
/// [`LOOKUP_DEADLINE`]) and its last lease, to tell a retry.
#[derive(Clone, Default)]
struct Meta {
    flow: Option<String>,
    lane: Option<String>,
    namespace: Option<String>,
}

#[derive(Default)]
struct Known {
    meta: HashMap<String, Meta>,
    lease: HashMap<String, String>,
}

impl Known {
    async fn meta(&mut self, c: &Connected, id: &ff_core::types::ExecutionId) -> Meta {
        if let Some(m) = self.meta.get(id.as_str()) {
            return m.clone();
        }
        let found = match tokio::time::timeout(LOOKUP_DEADLINE, c.backend.describe_execution(id)).await {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                tracing::debug!(execution = %id, error = %e, "live: execution lookup failed");
                return Meta::default();
            }
            Err(_) => {
                tracing::warn!(execution = %id, "live: execution lookup timed out after {LOOKUP_DEADLINE:?}; event sent without its flow");
                return Meta::default();
            }
        };
        let m = found.map_or_else(Meta::default, |s| Meta {
            flow: s.flow_id.map(|f| f.to_string()),
            lane: Some(s.lane_id.to_string()),
            namespace: Some(s.namespace.to_string()),
        });
        if self.meta.len() >= CACHE {
            self.meta.clear();
        }
        self.meta.insert(id.to_string(), m.clone());
        m
    }

    /// Whether `lease` is a new lease of an execution whose earlier lease
    /// this board saw.
    fn is_retry(&mut self, execution: &str, lease: Option<&str>) -> bool {
        let Some(lease) = lease else { return false };
        if self.lease.len() >= CACHE {
            self.lease.clear();
        }
        match self.lease.insert(execution.to_owned(), lease.to_owned()) {
            Some(prev) => prev != lease,
            None => false,
        }
    }

    async fn map(&mut self, c: &Connected, ev: SourceEvent) -> (i64, LiveEvent) {
        let series = throughput::global();
        match ev {
            SourceEvent::Completion { execution_id, outcome, at } => {
                let m = self.meta(c, &execution_id).await;
                series.record(&outcome, at, m.lane.as_deref(), m.namespace.as_deref());
                (at, LiveEvent::Completion { execution_id: execution_id.to_string(), flow_id: m.flow, outcome })
            }
            SourceEvent::Lease { execution_id, event, lease_id, holder, at } => {
                let m = self.meta(c, &execution_id).await;
                if matches!(event.as_str(), "acquired" | "reclaimed") && self.is_retry(execution_id.as_str(), lease_id.as_deref()) {
                    series.record_retry(at, m.lane.as_deref(), m.namespace.as_deref());
                }
                (at, LiveEvent::Lease { execution_id: execution_id.to_string(), flow_id: m.flow, event, lease_id, holder })
            }
            SourceEvent::Signal { execution_id, signal_id, waitpoint_id, source_identity, effect, at } => {
                let flow_id = self.meta(c, &execution_id).await.flow;
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
}
