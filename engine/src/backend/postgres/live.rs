//! Postgres: the three outbox tables, read directly over every partition.
//!
//! FlowFabric 0.15's Postgres backend writes one outbox row per event in the
//! same transaction as the state change — `ff_completion_event`,
//! `ff_lease_event`, `ff_signal_event` — each with a `BIGSERIAL`/identity
//! `event_id` shared by all partitions and an `AFTER INSERT` trigger that
//! `pg_notify`s the id on `ff_completion` / `ff_lease_event` /
//! `ff_signal_event` at commit. The trait's subscriptions read them, but:
//! - `subscribe_lease_history` and `subscribe_signal_delivery` read partition
//!   0 only (`WHERE partition_key = 0`, "cross-partition consumers
//!   instantiate one backend per partition"): 255 of 256 partitions unseen;
//! - `subscribe_completion` reads every partition but ignores the cursor it
//!   is given and stamps every event with the placeholder cursor
//!   `event_id = 0`, so it cannot resume; and it retries connection loss
//!   internally without telling the caller, so an outage never shows.
//!
//! So one reader per table here ([`run`]), on one connection of its own (a
//! pool of one beside the board's pool, 3 connections in all, named
//! `ff-board live <table>` in `pg_stat_activity`): it LISTENs on
//! the table's channel, and each wake runs the catch-up query
//! `SELECT … FROM <table> WHERE event_id > $cursor ORDER BY event_id LIMIT 512`
//! on that connection (no partition filter: every partition; an index range
//! scan on `event_id`). Wakes are at least [`MIN_GAP`] apart; the
//! notifications meanwhile are coalesced into one query. A fallback query
//! runs after [`FALLBACK_POLL`] without a wake, so a lost NOTIFY (e.g. a
//! pooler that does not forward them) delays events by at most that long.
//! On a listener or query error the stream shows `Reconnecting`, and the
//! reader reconnects with capped backoff and catches up from its cursor:
//! nothing is lost or repeated.
//!
//! Ids commit out of order: a transaction that took `event_id` 41 may commit
//! after the one that took 42. A plain `event_id > cursor` reader skips 41
//! for good (the trait's readers do). Here every id jumped over becomes a
//! *gap*, re-read by the catch-up query (`event_id > lowest gap - 1`) until
//! its row shows up — the late commit NOTIFYs too — or [`GAP_TTL`] passes
//! (a rolled-back insert burns its id forever). Gaps wider than
//! [`MAX_GAP`] ids (a sequence jump) are not tracked.
//!
//! Cost, measured on PG 15 (test `measure_idle_cost`: the outbox tables'
//! scan counters in `pg_stat_user_tables`, since every reader query is one
//! index scan of its table): 0.30 queries/s for the three readers together
//! while idle (one fallback catch-up per reader per 10 s); per event at most
//! one catch-up query, shared by all events committed before it runs (the
//! test's 31 events, committed one by one over 14 s, cost 18 queries beyond
//! the idle polls), and
//! at most 10 queries/s per reader however busy the store (one query per 512
//! rows beyond that). `ff_lease_event` and `ff_signal_event` are plain tables
//! (≈0.7 ms per catch-up). `ff_completion_event` is hash-partitioned 256
//! ways, so its catch-up is a Merge Append of 256 index scans: planning it
//! costs 15–60 ms, executing it ≈4 ms (EXPLAIN ANALYZE on PG 15, empty
//! partitions). The reader's connection sets `plan_cache_mode =
//! force_generic_plan`, so the statement sqlx prepares is planned once per
//! connection and each catch-up costs only the execution.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ff_core::types::ExecutionId;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::Row;

use crate::live::{reconnect, Backoff, Feed, Session, SourceEvent};
use crate::store_error::{Store, StoreError};

/// Catch-up query without a NOTIFY this often.
pub(crate) const FALLBACK_POLL: Duration = Duration::from_secs(10);
/// Shortest time between two catch-up queries of one reader.
pub(crate) const MIN_GAP: Duration = Duration::from_millis(100);
/// Rows per catch-up query page.
const BATCH: i64 = 512;
/// How long an id jumped over is waited for.
pub(crate) const GAP_TTL: Duration = Duration::from_secs(30);
/// Widest jump whose ids are tracked as gaps.
pub(crate) const MAX_GAP: i64 = 1024;

/// One outbox table.
pub(crate) struct Outbox {
    table: &'static str,
    channel: &'static str,
    /// `$1` = exclusive lower `event_id`, `$2` = limit; first column `event_id`.
    select: &'static str,
    decode: fn(&PgRow) -> Result<SourceEvent, StoreError>,
}

pub(crate) static COMPLETIONS: Outbox = Outbox {
    table: "ff_completion_event",
    channel: "ff_completion",
    select: "SELECT event_id, partition_key::int AS partition_key, execution_id::text AS execution_id, \
                    outcome, occurred_at_ms \
               FROM ff_completion_event WHERE event_id > $1 ORDER BY event_id LIMIT $2",
    decode: decode_completion,
};

pub(crate) static LEASES: Outbox = Outbox {
    table: "ff_lease_event",
    channel: "ff_lease_event",
    select: "SELECT event_id, partition_key::int AS partition_key, execution_id, lease_id, event_type, \
                    occurred_at_ms \
               FROM ff_lease_event WHERE event_id > $1 ORDER BY event_id LIMIT $2",
    decode: decode_lease,
};

pub(crate) static SIGNALS: Outbox = Outbox {
    table: "ff_signal_event",
    channel: "ff_signal_event",
    select: "SELECT event_id, partition_key::int AS partition_key, execution_id, signal_id, waitpoint_id, \
                    source_identity, delivered_at_ms \
               FROM ff_signal_event WHERE event_id > $1 ORDER BY event_id LIMIT $2",
    decode: decode_signal,
};

fn col<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r PgRow,
    name: &str,
) -> Result<T, StoreError> {
    row.try_get(name).map_err(|e| StoreError::invalid(Store::Live, "decode outbox row", format!("column {name}: {e}")))
}

fn execution_id(row: &PgRow) -> Result<ExecutionId, StoreError> {
    let part: i32 = col(row, "partition_key")?;
    let uuid: String = col(row, "execution_id")?;
    ExecutionId::parse(&format!("{{fp:{part}}}:{uuid}"))
        .map_err(|e| StoreError::invalid(Store::Live, "decode outbox row", format!("execution id {uuid:?}: {e}")))
}

fn decode_completion(row: &PgRow) -> Result<SourceEvent, StoreError> {
    Ok(SourceEvent::Completion {
        execution_id: execution_id(row)?,
        outcome: col(row, "outcome")?,
        at: col(row, "occurred_at_ms")?,
    })
}

fn decode_lease(row: &PgRow) -> Result<SourceEvent, StoreError> {
    Ok(SourceEvent::Lease {
        execution_id: execution_id(row)?,
        event: col(row, "event_type")?,
        lease_id: col(row, "lease_id")?,
        // The Postgres outbox does not record the worker.
        holder: None,
        at: col(row, "occurred_at_ms")?,
    })
}

fn decode_signal(row: &PgRow) -> Result<SourceEvent, StoreError> {
    Ok(SourceEvent::Signal {
        execution_id: execution_id(row)?,
        signal_id: col(row, "signal_id")?,
        waitpoint_id: col(row, "waitpoint_id")?,
        source_identity: col::<Option<String>>(row, "source_identity")?.filter(|s| !s.is_empty()),
        // The Postgres outbox has no effect column.
        effect: String::new(),
        at: col(row, "delivered_at_ms")?,
    })
}

/// Position in an outbox: the highest id seen plus the ids jumped over.
#[derive(Debug, Default)]
pub(crate) struct Cursor {
    high: i64,
    gaps: BTreeMap<i64, Instant>,
}

impl Cursor {
    pub(super) fn new(high: i64) -> Self {
        Self { high, gaps: BTreeMap::new() }
    }

    /// Exclusive lower bound of the next catch-up query.
    pub(super) fn lower(&self) -> i64 {
        self.gaps.keys().next().map_or(self.high, |g| g - 1)
    }

    /// Whether the row `id` is new; records it.
    pub(super) fn accept(&mut self, id: i64, now: Instant) -> bool {
        if id > self.high {
            let jumped = id - self.high - 1;
            if jumped > MAX_GAP {
                tracing::warn!(from = self.high, to = id, "live: event_id jump too wide to track its gaps");
            } else {
                for g in self.high + 1..id {
                    self.gaps.insert(g, now);
                }
            }
            self.high = id;
            true
        } else {
            self.gaps.remove(&id).is_some()
        }
    }

    /// Forget gaps older than [`GAP_TTL`].
    pub(super) fn expire(&mut self, now: Instant) {
        self.gaps.retain(|_, since| now.duration_since(*since) < GAP_TTL);
    }
}

/// Read all rows above the cursor (and the gaps), emit the new ones. Err on
/// a query error; Ok(false) when the consumer is gone.
async fn catch_up(
    conn: &mut PgListener,
    outbox: &Outbox,
    cursor: &mut Cursor,
    feed: &mut Feed,
) -> Result<bool, StoreError> {
    let now = Instant::now();
    cursor.expire(now);
    let mut from = cursor.lower();
    loop {
        let rows = sqlx::query(outbox.select)
            .bind(from)
            .bind(BATCH)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| StoreError::new(Store::Live, "read outbox", format!("{}: {e}", outbox.table)))?;
        let full = rows.len() as i64 == BATCH;
        for row in &rows {
            let id: i64 = col(row, "event_id")?;
            from = id;
            if !cursor.accept(id, now) {
                continue;
            }
            match (outbox.decode)(row) {
                Ok(event) => {
                    if !feed.emit(event).await {
                        return Ok(false);
                    }
                }
                Err(e) => {
                    tracing::warn!(table = outbox.table, event_id = id, error = %e, "live: skipped an undecodable outbox row")
                }
            }
        }
        if !full {
            return Ok(true);
        }
    }
}

/// The LISTEN of `outbox` failed with `e`.
fn listen_failed(outbox: &Outbox, e: sqlx::Error) -> StoreError {
    StoreError::new(Store::Live, "LISTEN", format!("{}: {e}", outbox.channel))
}

/// The reader of one outbox table; runs until the consumer goes away.
pub(crate) async fn run(pool: PgPool, outbox: &'static Outbox, feed: Feed) {
    reconnect(Reader { pool, outbox, cursor: None }, feed).await
}

/// One outbox table's reader across its LISTEN connections.
struct Reader {
    pool: PgPool,
    outbox: &'static Outbox,
    /// Positioned at the first session, kept across the next.
    cursor: Option<Cursor>,
}

#[async_trait::async_trait]
impl Session for Reader {
    async fn session(&mut self, feed: &mut Feed, backoff: &mut Backoff) -> Result<(), StoreError> {
        let mut listener = listen(&self.pool, self.outbox).await?;
        let outbox = self.outbox;
        if self.cursor.is_none() {
            // Tail from now: the first position is the newest row at start.
            let max: i64 = sqlx::query_scalar(&format!("SELECT COALESCE(MAX(event_id), 0) FROM {}", outbox.table))
                .fetch_one(&mut listener)
                .await
                .map_err(|e| StoreError::new(Store::Live, "read the outbox position", format!("{}: {e}", outbox.table)))?;
            self.cursor = Some(Cursor::new(max));
        }
        let cursor = self.cursor.as_mut().expect("set above");
        if !catch_up(&mut listener, outbox, cursor, feed).await? {
            return Ok(());
        }
        feed.live();
        backoff.reset();
        follow(&mut listener, outbox, cursor, feed).await
    }
}

/// A LISTEN connection on `outbox`'s channel.
async fn listen(pool: &PgPool, outbox: &Outbox) -> Result<PgListener, StoreError> {
    // A pool of one outside the board's pool (as `PgListener::connect` does
    // with a URL): the connection LISTENs and runs the catch-up queries, with
    // generic plans (see the module doc), and takes no board connection.
    let options = (*pool.connect_options())
        .clone()
        .application_name(&format!("ff-board live {}", outbox.table))
        .options([("plan_cache_mode", "force_generic_plan")]);
    let own = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(StoreError::at(Store::Live, "connect listener"))?;
    let mut listener = PgListener::connect_with(&own).await.map_err(StoreError::at(Store::Live, "connect listener"))?;
    listener.ignore_pool_close_event(true);
    listener.listen(outbox.channel).await.map_err(|e| listen_failed(outbox, e))?;
    Ok(listener)
}

/// Catch up on every wake of the listener (at most one per [`MIN_GAP`]),
/// or after [`FALLBACK_POLL`] without one: Ok when the consumer is gone,
/// Err when the connection or a query failed.
async fn follow(listener: &mut PgListener, outbox: &Outbox, cursor: &mut Cursor, feed: &mut Feed) -> Result<(), StoreError> {
    let mut last = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = feed.closed() => return Ok(()),
            got = listener.try_recv() => match got {
                Ok(Some(_)) => {
                    // At most one catch-up per MIN_GAP; the notifications
                    // of the wait are coalesced into it.
                    if !feed.sleep(MIN_GAP.saturating_sub(last.elapsed())).await {
                        return Ok(());
                    }
                    while listener.next_buffered().is_some() {}
                }
                // Connection lost and re-established (notifications in
                // between are gone): the catch-up below covers them.
                Ok(None) => tracing::info!(channel = outbox.channel, "live: LISTEN connection re-established"),
                Err(e) => return Err(listen_failed(outbox, e)),
            },
            _ = tokio::time::sleep_until(last + FALLBACK_POLL) => {}
        }
        if !catch_up(listener, outbox, cursor, feed).await? {
            return Ok(());
        }
        last = tokio::time::Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_tracks_gaps_until_filled_or_expired() {
        let t0 = Instant::now();
        let mut c = Cursor::new(10);
        assert_eq!(c.lower(), 10);
        assert!(c.accept(11, t0));
        assert!(c.accept(14, t0)); // 12, 13 committed later
        assert_eq!(c.lower(), 11);
        assert!(!c.accept(14, t0), "seen once");
        assert!(!c.accept(11, t0));
        assert!(c.accept(13, t0));
        assert_eq!(c.lower(), 11);
        assert!(c.accept(12, t0));
        assert_eq!(c.lower(), 14);
        assert!(c.accept(16, t0)); // 15 rolled back
        assert_eq!(c.lower(), 14);
        c.expire(t0 + GAP_TTL);
        assert_eq!(c.lower(), 16);
        assert!(c.accept(16 + MAX_GAP + 5, t0));
        assert_eq!(c.lower(), 16 + MAX_GAP + 5, "too wide a jump is not tracked");
    }
}
