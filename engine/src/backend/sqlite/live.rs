//! SQLite: the trait's own subscriptions, for all three families.
//!
//! The 0.15 SQLite backend advertises `subscribe_completion`,
//! `subscribe_lease_history` and `subscribe_signal_delivery` in its
//! capabilities, and implements each as a durable reader of its outbox table
//! (`ff_completion_event`, `ff_lease_event`, `ff_signal_event`): a catch-up
//! `SELECT … WHERE partition_key = 0 AND event_id > cursor` on subscribe, then
//! one more per in-process post-commit wakeup. SQLite is one logical
//! partition, so partition 0 is the whole store, and the cursor (`0x02` ++
//! `event_id`) resumes exactly: a resubscription from the last event's cursor
//! loses and repeats nothing.
//!
//! Two gaps of the trait's reader are covered here:
//! - **Start position.** An empty cursor means "from the `MAX(event_id)` at
//!   subscribe time", which the caller never learns; the reader reads that
//!   maximum itself on the side pool and always subscribes with a concrete
//!   cursor, so a resubscription before the first event loses nothing either.
//! - **Writes by another process.** The backend's wakeup is an in-process
//!   broadcast: rows committed by another process on the same file (a worker
//!   started separately) are only read at the next in-process write. Every
//!   [`FOREIGN_CHECK`] without an event the reader compares the table's
//!   `MAX(event_id)` with its position and resubscribes from its cursor when
//!   it is behind. Cost: one indexed `SELECT MAX(event_id)` per stream per 5 s
//!   while idle (0.6 queries/s for the three streams), none while events
//!   flow. (A dropped subscription's backend task stays parked until the next
//!   in-process write wakes it; that is the backend's design.)
//!
//! Signal effects: the SQLite outbox has no effect column and the trait fills
//! `Satisfied` into every event; the board reports `""` ("the store does not
//! say") instead of an effect that may be wrong.
use std::sync::Arc;
use std::time::Duration;

use ff_core::backend::ScannerFilter;
use ff_core::engine_backend::EngineBackend;
use ff_core::engine_error::EngineError;
use ff_core::stream_events::{
    CompletionEvent, CompletionSubscription, LeaseHistoryEvent, LeaseHistorySubscription,
    SignalDeliveryEvent, SignalDeliverySubscription,
};
use ff_core::stream_subscribe::{decode_postgres_event_cursor, encode_postgres_event_cursor, StreamCursor};
use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use sqlx::SqlitePool;

use crate::live::{completion_event, supervise, Backoff, Feed, SourceEvent, StatusTx};
use crate::connect::Connected;

/// Idle time after which the reader looks for rows written by another process.
pub(crate) const FOREIGN_CHECK: Duration = Duration::from_secs(5);

/// The trait's subscription to one stream family.
type Subscribe<S> = for<'a> fn(&'a dyn EngineBackend, StreamCursor) -> BoxFuture<'a, Result<S, EngineError>>;

/// One stream family: its outbox table, the trait's subscription to it,
/// and how its events are read.
struct Family<E, S> {
    stream: &'static str,
    table: &'static str,
    subscribe: Subscribe<S>,
    cursor: fn(&E) -> StreamCursor,
    event: fn(E) -> Option<SourceEvent>,
}

/// No filter: every event of the family.
static ALL: ScannerFilter = ScannerFilter::NOOP;

static COMPLETIONS: Family<CompletionEvent, CompletionSubscription> = Family { stream: "completion", table: "ff_completion_event",
    subscribe: |b, cursor| b.subscribe_completion(cursor, &ALL), cursor: |e| e.cursor.clone(), event: completion_event };

static LEASES: Family<LeaseHistoryEvent, LeaseHistorySubscription> = Family { stream: "lease", table: "ff_lease_event",
    subscribe: |b, cursor| b.subscribe_lease_history(cursor, &ALL), cursor: |e| e.cursor().clone(), event: lease_event };

static SIGNALS: Family<SignalDeliveryEvent, SignalDeliverySubscription> = Family { stream: "signal", table: "ff_signal_event",
    subscribe: |b, cursor| b.subscribe_signal_delivery(cursor, &ALL), cursor: |e| e.cursor.clone(), event: signal_event };

/// Start SQLite's three readers, each supervised.
pub(crate) fn spawn(
    c: Connected,
    pool: SqlitePool,
    feed: impl Fn(&'static str) -> Feed + Clone + Send + 'static,
    status: &StatusTx,
) {
    reader(&COMPLETIONS, &c, &pool, feed.clone(), status);
    reader(&LEASES, &c, &pool, feed.clone(), status);
    reader(&SIGNALS, &c, &pool, feed, status);
}

fn reader<E, S>(
    family: &'static Family<E, S>,
    c: &Connected,
    pool: &SqlitePool,
    feed: impl Fn(&'static str) -> Feed + Send + 'static,
    status: &StatusTx,
) where
    E: Send + 'static,
    S: Stream<Item = Result<E, EngineError>> + Unpin + Send + 'static,
{
    let (backend, pool) = (c.backend.clone(), pool.clone());
    supervise(family.stream, status, move |_| run(feed(family.stream), pool.clone(), backend.clone(), family));
}

pub(crate) fn lease_event(e: LeaseHistoryEvent) -> Option<SourceEvent> {
    use LeaseHistoryEvent as L;
    let (event, execution_id, lease_id, holder, at) = match e {
        L::Acquired { execution_id, lease_id, worker_instance_id, at, .. } => {
            ("acquired", execution_id, lease_id, worker_instance_id, at)
        }
        L::Renewed { execution_id, lease_id, worker_instance_id, at, .. } => {
            ("renewed", execution_id, lease_id, worker_instance_id, at)
        }
        L::Expired { execution_id, lease_id, prev_owner, at, .. } => {
            ("expired", execution_id, lease_id, prev_owner, at)
        }
        L::Reclaimed { execution_id, new_lease_id, new_owner, at, .. } => {
            ("reclaimed", execution_id, new_lease_id, new_owner, at)
        }
        L::Revoked { execution_id, lease_id, at, .. } => ("revoked", execution_id, lease_id, None, at),
        _ => return None,
    };
    Some(SourceEvent::Lease {
        execution_id,
        event: event.to_owned(),
        lease_id: lease_id.map(|l| l.to_string()),
        holder: holder.map(|h| h.to_string()),
        at: at.0,
    })
}

pub(crate) fn signal_event(e: SignalDeliveryEvent) -> Option<SourceEvent> {
    Some(SourceEvent::Signal {
        execution_id: e.execution_id,
        signal_id: e.signal_id.to_string(),
        waitpoint_id: e.waitpoint_id.map(|w| w.to_string()),
        source_identity: e.source_identity,
        // Not recorded by the SQLite outbox (see the module doc).
        effect: String::new(),
        at: e.at.0,
    })
}

async fn max_event_id(pool: &SqlitePool, table: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(&format!("SELECT COALESCE(MAX(event_id), 0) FROM {table} WHERE partition_key = 0"))
        .fetch_one(pool)
        .await
}

/// Subscribe from the last cursor, forward events, resubscribe on any error
/// (capped backoff) or when another process wrote rows.
async fn run<E, S>(mut feed: Feed, pool: SqlitePool, backend: Arc<dyn EngineBackend>, family: &'static Family<E, S>)
where
    S: Stream<Item = Result<E, EngineError>> + Unpin,
{
    let mut backoff = Backoff::new();
    let Some(position) = start(&pool, family.table, &feed, &mut backoff).await else { return };
    let mut tail = Tail { pool, table: family.table, position, skipped_upto: None };
    loop {
        let end = match (family.subscribe)(backend.as_ref(), encode_postgres_event_cursor(tail.position)).await {
            Ok(mut sub) => {
                feed.live();
                backoff.reset();
                tail.follow(&mut sub, &mut feed, family).await
            }
            Err(e) => End::Failed(format!("subscribe: {e}")),
        };
        match end {
            End::Closed => return,
            End::Behind => {}
            End::Failed(error) => {
                if !backoff.retry(&feed, error).await {
                    return;
                }
            }
        }
    }
}

/// The table's position at start, read until it answers; `None` when the
/// consumer went away meanwhile.
async fn start(pool: &SqlitePool, table: &str, feed: &Feed, backoff: &mut Backoff) -> Option<i64> {
    loop {
        match max_event_id(pool, table).await {
            Ok(v) => return Some(v),
            Err(e) => {
                if !backoff.retry(feed, format!("read the {table} position: {e}")).await {
                    return None;
                }
            }
        }
    }
}

/// How one subscription ended.
enum End {
    /// The consumer is gone.
    Closed,
    /// Another process wrote rows past the position: resubscribe from it.
    Behind,
    /// The subscription failed (why): reconnect with backoff.
    Failed(String),
}

/// A reader's place in its outbox table.
struct Tail {
    pool: SqlitePool,
    table: &'static str,
    /// The highest `event_id` delivered (or known skipped).
    position: i64,
    /// Rows the last resubscription was for; if no event came of them by the
    /// next check, the backend skipped them (unknown kind / undecodable).
    skipped_upto: Option<i64>,
}

impl Tail {
    /// Forward the events of `sub` until it ends, fails, or the store is
    /// found ahead of it.
    async fn follow<E, S>(&mut self, sub: &mut S, feed: &mut Feed, family: &Family<E, S>) -> End
    where
        S: Stream<Item = Result<E, EngineError>> + Unpin,
    {
        let mut check = tokio::time::interval_at(tokio::time::Instant::now() + FOREIGN_CHECK, FOREIGN_CHECK);
        let mut received = false;
        loop {
            tokio::select! {
                _ = feed.closed() => return End::Closed,
                item = sub.next() => match item {
                    Some(Ok(ev)) => {
                        received = true;
                        self.advance(&(family.cursor)(&ev));
                        if let Some(event) = (family.event)(ev) {
                            if !feed.emit(event).await {
                                return End::Closed;
                            }
                        }
                    }
                    Some(Err(EngineError::StreamDisconnected { cursor })) => {
                        self.advance(&cursor);
                        return End::Failed("stream disconnected".into());
                    }
                    // One undecodable row: the backend moved past it.
                    Some(Err(e @ EngineError::Validation { .. })) => {
                        tracing::warn!(table = self.table, error = %e, "live: skipped an undecodable outbox row");
                    }
                    Some(Err(e)) => return End::Failed(e.to_string()),
                    None => return End::Failed("subscription ended".into()),
                },
                _ = check.tick() => {
                    if std::mem::take(&mut received) {
                        self.skipped_upto = None;
                        continue;
                    }
                    if let Some(end) = self.check_foreign().await {
                        return end;
                    }
                }
            }
        }
    }

    /// Move the position up to an event's cursor.
    fn advance(&mut self, cursor: &StreamCursor) {
        if let Ok(Some(id)) = decode_postgres_event_cursor(cursor) {
            self.position = self.position.max(id);
        }
    }

    /// After an idle [`FOREIGN_CHECK`]: is the table ahead of the position?
    async fn check_foreign(&mut self) -> Option<End> {
        if let Some(m) = self.skipped_upto.take() {
            self.position = self.position.max(m);
        }
        match max_event_id(&self.pool, self.table).await {
            Ok(max) if max > self.position => {
                self.skipped_upto = Some(max);
                Some(End::Behind)
            }
            Ok(_) => None,
            Err(e) => Some(End::Failed(format!("poll {}: {e}", self.table))),
        }
    }
}
