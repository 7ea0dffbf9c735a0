//! Live engine events, read once per board process and covering every
//! partition of every backend.
//!
//! [`spawn`] starts one reader per stream family (completions, lease
//! history, signal deliveries). Where the trait's subscription covers the
//! whole deployment it is used; where it is empty or partial (0.15: Valkey
//! lease history is never written to the aggregate stream it tails, Valkey
//! signal delivery and Postgres lease history / signal delivery read one
//! partition only, Postgres completions cannot resume from a cursor) the
//! board sources the events from the store itself.
//! Readers resubscribe from their last cursor with backoff on any error and
//! report their state on [`LiveHandle::status`]; a reader that may have lost
//! events (pubsub reconnect) emits [`SourceEvent::Resync`].
use std::collections::BTreeMap;

use ff_core::types::ExecutionId;
use tokio::sync::{mpsc, watch};

use crate::connect::Connected;
use crate::store_error::StoreError;

/// One event from the engine, as the board needs it.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceEvent {
    Completion {
        execution_id: ExecutionId,
        outcome: String,
        at: i64,
    },
    Lease {
        execution_id: ExecutionId,
        /// `acquired`, `renewed`, `expired`, `reclaimed`, `revoked` (or `released` where the store records it).
        event: String,
        lease_id: Option<String>,
        holder: Option<String>,
        at: i64,
    },
    Signal {
        execution_id: ExecutionId,
        signal_id: String,
        waitpoint_id: Option<String>,
        source_identity: Option<String>,
        /// `satisfied`, `buffered`, `deduped`, … (empty when the store does not say).
        effect: String,
        at: i64,
    },
    /// Events of `stream` may have been lost: consumers must refetch.
    Resync {
        stream: &'static str,
        reason: String,
    },
}

pub use ff_board_domain::StreamState;

/// The running readers: their events and their states by stream name
/// (`completion`, `lease`, `signal`).
pub struct LiveHandle {
    pub events: mpsc::Receiver<SourceEvent>,
    pub status: watch::Receiver<BTreeMap<&'static str, StreamState>>,
    /// Whether anyone watches (true at start). Readers that poll (Valkey's
    /// lease tail) pause while it is false and resume from where they
    /// were, so nothing is lost, only delivered when someone watches again.
    pub demand: watch::Sender<bool>,
}


use ff_core::stream_events::{CompletionEvent, CompletionOutcome};

use std::sync::Arc;
use std::time::{Duration, Instant};


/// Capacity of [`LiveHandle::events`]. A reader whose event does not fit
/// waits (with a warning in the log, at most every 10 s) until the
/// consumer takes events again: backpressure is the consumer's job, and no
/// event is dropped. 4096 holds several seconds of a busy deployment's
/// lease / signal / completion traffic, so a briefly slow consumer does not
/// stall the readers.
pub const EVENT_BUFFER: usize = 4096;

/// The three stream names of [`LiveHandle::status`].
pub const STREAMS: [&str; 3] = ["completion", "lease", "signal"];

/// Start one reader per stream family for `c`, covering every partition
/// of its backend, and return their events and states. Call it once per
/// process, inside a Tokio runtime. Every stream starts as `Reconnecting
/// { error: "starting" }` and turns `Live` once its reader is positioned;
/// events are delivered from that moment on (a reader tails from "now",
/// it does not replay history). The readers stop when `events` is dropped.
///
/// Sourcing per backend (details and measured costs in the modules):
/// - SQLite: the trait's three subscriptions (durable outbox cursors);
/// - Postgres: the three outbox tables read directly, all partitions, by
///   `event_id` (with gap tracking for ids that commit out of order), woken
///   by LISTEN;
/// - Valkey: completions from the trait (pubsub); lease history by tailing
///   the per-execution lease streams of executions found in the partition
///   indexes; signal deliveries from the 256 per-partition aggregate streams.
///
/// Values are the store's own words. Completion outcomes: `success`,
/// `failed`, `cancelled`, `skipped`, `expired`, and on SQLite / Postgres also
/// `resumable` — the SQL backends write a completion-outbox row when a signal
/// satisfies a suspended execution, which is not terminal. Lease events:
/// `acquired`, `revoked` (the SQL backends' word for a lease ended by
/// complete / fail / suspend), `expired`, `reclaimed`, `renewed`, and on
/// Valkey `released` for every ordinary end. Signal effects: Valkey's Lua
/// effect (`resume_condition_satisfied`, `appended_to_waitpoint`, …); empty
/// on SQLite and Postgres, whose outboxes do not record it.
pub fn spawn(c: Connected) -> LiveHandle {
    let (tx, events) = mpsc::channel(EVENT_BUFFER);
    let initial: BTreeMap<&'static str, StreamState> =
        STREAMS.iter().map(|s| (*s, StreamState::Reconnecting { error: "starting".into() })).collect();
    let (status_tx, status) = watch::channel(initial);
    let _ = STATES.set(status.clone());
    let status_tx = Arc::new(status_tx);
    let (demand, wanted) = watch::channel(true);
    let feed = {
        let (tx, status_tx, wanted) = (tx.clone(), status_tx.clone(), wanted.clone());
        move |stream: &'static str| Feed::new(stream, tx.clone(), status_tx.clone(), wanted.clone())
    };
    c.side.clone().spawn_readers(c, feed, &status_tx);
    LiveHandle { events, status, demand }
}

static STATES: std::sync::OnceLock<watch::Receiver<BTreeMap<&'static str, StreamState>>> = std::sync::OnceLock::new();

/// The readers' states of this process, once [`spawn`] ran (`/healthz`).
pub fn states() -> Option<BTreeMap<&'static str, StreamState>> {
    STATES.get().map(|r| r.borrow().clone())
}

/// The stream states, shared by the readers.
pub(crate) type StatusTx = Arc<watch::Sender<BTreeMap<&'static str, StreamState>>>;

/// Run the reader `make` builds; when it panics, say so in its stream
/// state and build and start it again a second later (`make` is told how
/// many restarts came before). A bug must not silence a stream while the
/// indicator says "live". It ends when the reader returns (its consumer
/// is gone).
pub(crate) fn supervise<F, Fut>(stream: &'static str, status: &StatusTx, mut make: F)
where
    F: FnMut(u32) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let status = status.clone();
    tokio::spawn(async move {
        let mut restarts = 0;
        loop {
            match tokio::spawn(make(restarts)).await {
                Err(e) if e.is_panic() => {
                    restarts += 1;
                    tracing::error!(stream, restarts, "live: the {stream} reader panicked; restarting it");
                    crate::metrics::global().reader_restarted(stream);
                    status.send_modify(|m| {
                        m.insert(stream, StreamState::Reconnecting { error: format!("reader crashed ({restarts}×); restarting") });
                    });
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                _ => return,
            }
        }
    });
}

/// One reader's outlet: its events and its entry in the status map.
pub(crate) struct Feed {
    stream: &'static str,
    tx: mpsc::Sender<SourceEvent>,
    status: Arc<watch::Sender<BTreeMap<&'static str, StreamState>>>,
    wanted: watch::Receiver<bool>,
    last_full_warning: Option<Instant>,
}

impl Feed {
    fn new(
        stream: &'static str,
        tx: mpsc::Sender<SourceEvent>,
        status: Arc<watch::Sender<BTreeMap<&'static str, StreamState>>>,
        wanted: watch::Receiver<bool>,
    ) -> Self {
        Self { stream, tx, status, wanted, last_full_warning: None }
    }

    /// Whether anyone watches right now.
    pub(crate) fn is_wanted(&self) -> bool {
        *self.wanted.borrow()
    }

    /// Hand one event to the consumer, waiting while the buffer is full.
    /// False when the consumer is gone (the reader should stop).
    pub(crate) async fn emit(&mut self, event: SourceEvent) -> bool {
        if let SourceEvent::Completion { at, .. } | SourceEvent::Lease { at, .. } | SourceEvent::Signal { at, .. } = &event {
            crate::metrics::global().event(self.stream, ff_core::types::TimestampMs::now().0 - at);
        }
        match self.tx.try_send(event) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Closed(_)) => false,
            Err(mpsc::error::TrySendError::Full(event)) => {
                if self.last_full_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                    self.last_full_warning = Some(Instant::now());
                    tracing::warn!(
                        stream = self.stream,
                        capacity = EVENT_BUFFER,
                        "live: event buffer full, the {} reader waits for the consumer",
                        self.stream
                    );
                }
                self.tx.send(event).await.is_ok()
            }
        }
    }

    /// Tell the consumer that events of this stream may have been lost.
    pub(crate) async fn resync(&mut self, reason: impl Into<String>) -> bool {
        let reason = reason.into();
        tracing::info!(stream = self.stream, %reason, "live: resync");
        self.emit(SourceEvent::Resync { stream: self.stream, reason }).await
    }

    pub(crate) fn live(&self) {
        self.set(StreamState::Live);
    }

    /// Up by polling every `every`, for the reason `why`.
    pub(crate) fn polling(&self, every: Duration, why: impl Into<String>) {
        self.set(StreamState::Polling { every_ms: every.as_millis() as u64, why: why.into() });
    }

    pub(crate) fn reconnecting(&self, error: impl Into<String>) {
        let error = error.into();
        tracing::warn!(stream = self.stream, %error, "live: reader reconnecting");
        self.set(StreamState::Reconnecting { error });
    }

    fn set(&self, state: StreamState) {
        let stream = self.stream;
        self.status.send_if_modified(|m| {
            if m.get(stream) == Some(&state) {
                false
            } else {
                m.insert(stream, state);
                true
            }
        });
    }

    /// Resolves when the consumer dropped the events receiver.
    pub(crate) async fn closed(&self) {
        self.tx.closed().await
    }

    /// Sleep `d`; false if the consumer went away meanwhile.
    pub(crate) async fn sleep(&self, d: Duration) -> bool {
        tokio::select! {
            _ = self.tx.closed() => false,
            _ = tokio::time::sleep(d) => true,
        }
    }
}

/// A reader whose connection to its source is made again after each
/// failure ([`reconnect`]).
#[async_trait::async_trait]
pub(crate) trait Session: Send {
    /// One connection's life: Ok when the consumer is gone, Err with the
    /// reason it ended otherwise (`backoff` is reset once it is up).
    async fn session(&mut self, feed: &mut Feed, backoff: &mut Backoff) -> Result<(), StoreError>;
}

/// Run `reader`'s sessions until the consumer is gone, showing each
/// failure and waiting with backoff before the next.
pub(crate) async fn reconnect(mut reader: impl Session, mut feed: Feed) {
    let mut backoff = Backoff::new();
    while let Err(e) = reader.session(&mut feed, &mut backoff).await {
        if !backoff.retry(&feed, e.to_string()).await {
            return;
        }
    }
}

/// Capped exponential backoff between reconnect attempts: 250 ms doubling
/// to 5 s.
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(250);
    const CAP: Duration = Duration::from_secs(5);

    pub(crate) fn new() -> Self {
        Self { next: Self::FIRST }
    }

    pub(crate) fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    /// Show the stream reconnecting (why), then [`Backoff::wait`].
    pub(crate) async fn retry(&mut self, feed: &Feed, error: impl Into<String>) -> bool {
        feed.reconnecting(error);
        self.wait(feed).await
    }

    /// Wait the current delay, then double it; false if the consumer went
    /// away meanwhile.
    pub(crate) async fn wait(&mut self, feed: &Feed) -> bool {
        let d = self.next;
        self.next = (self.next * 2).min(Self::CAP);
        feed.sleep(d).await
    }
}

/// The outcome as the stores write it (`success`, `failed`, `cancelled`, …).
pub(crate) fn outcome_name(o: &CompletionOutcome) -> String {
    match o {
        CompletionOutcome::Success => "success".into(),
        // Stores write `failed`; the trait only maps `failure` to this variant.
        CompletionOutcome::Failure => "failed".into(),
        CompletionOutcome::Cancelled => "cancelled".into(),
        CompletionOutcome::Other(s) => s.clone(),
        other => format!("{other:?}").to_lowercase(),
    }
}

pub(crate) fn completion_event(e: CompletionEvent) -> Option<SourceEvent> {
    Some(SourceEvent::Completion { outcome: outcome_name(&e.outcome), execution_id: e.execution_id, at: e.at.0 })
}

