//! Valkey lease history: 0.15 writes lease events only to one stream per
//! execution, `ff:exec:{fp:N}:<id>:lease:history` (XADDs by the Lua:
//! `acquired`, `released` with a reason, `expired`, `revoked`, `reclaimed`;
//! fields `lease_id`/`new_lease_id`, `worker_id`, `worker_instance_id`,
//! `ts`); the aggregate stream the trait tails is never written. The
//! reader keeps a position per stream and learns which streams to read in
//! one of two ways.
//!
//! **Notified** (the server publishes keyspace events for streams, see
//! [`super::notify`]): the watcher names each stream as it is written and
//! the reader XREADs it, batching what is queued — an event is in the
//! board milliseconds after its commit, and an idle board reads nothing.
//! Each time the watcher's view becomes whole (at start, after a node came
//! back, after a failover) the reader first catches up with one poll as
//! below, from its positions.
//!
//! **Polling** (notifications off, or a node not covered), every
//! [`LEASE_TICK`] and only while a browser watches (`Feed::is_wanted`),
//! one pipeline:
//! - `ZRANGE ff:idx:{fp:N}:lease_expiry 0 -1 WITHSCORES` for all 256
//!   partitions: an execution that appears, disappears, changes score
//!   (renew / reclaim) or is overdue (candidate for `expired`, which does not
//!   leave the set) has its stream read;
//! - `ZRANGEBYSCORE ff:idx:{fp:N}:lane:<lane>:terminal (since +inf` per lane
//!   and partition (scores are the server's completion time): catches leases
//!   taken and released (complete / fail / cancel) within one tick. Lanes
//!   come from `ff:idx:lanes`, the lanes of executions seen, and an
//!   incremental `SCAN … MATCH ff:idx:{fp:*}:lane:*` (one step of 1000 keys
//!   per tick, standalone only); a newly found lane is read from the
//!   reader's start;
//! - then one `XREAD COUNT 100 STREAMS …` per partition for the streams to
//!   read, each from its last id.
//!
//! A lease taken and released by a suspend / delay / retry within one tick
//! is read when that execution next takes a lease or ends. Cost: 3 + 256 ×
//! (1 + lanes) commands per tick, in one round trip, plus one XREAD per
//! partition with changes: 519 commands/s with 1 lane, 775/s with 2
//! (`measure_idle_cost`); an idle board with no browser, about 0.3/s.
//!
//! A stream's position is forgotten after [`FORGET`] without a read; a
//! stream without a position is read from the reader's start, or from
//! `FORGET` + 1 min back if that is later (a forgotten stream was not
//! written for that long), so nothing is emitted twice. `replay_initiated`
//! entries are not lease events and are skipped.
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use ferriskey::{Client, PipeSlot, TypedPipeline, Value};
use ff_core::keys::{lanes_index_key, ExecKeyContext, IndexKeys};
use ff_core::types::{ExecutionId, LaneId};
use tokio::sync::mpsc;

use super::follow::{follow, Follower, Source};
use super::live::Server;
use super::notify::Notice;
use super::reply::{execute, items, non_empty, number, pairs, partition, server_time_ms, server_time_ms_of, stream_id_ms, text, xread_entries};
use crate::connect::Connected;
use crate::live::{reconnect, Backoff, Feed, Session, SourceEvent};
use crate::store_error::{Store, StoreError};

/// Poll interval of the lease reader without notifications.
pub(crate) const LEASE_TICK: Duration = Duration::from_secs(1);
/// Terminal-index look-back beyond the last tick (ms), for stamps racing the read.
const TERMINAL_SLACK_MS: f64 = 2_000.0;
/// Entries read per lease stream per XREAD.
const LEASE_COUNT: usize = 100;
/// A stream's position is forgotten after this long without a read.
const FORGET: Duration = Duration::from_secs(600);
/// Streams read per notified batch at most.
const BATCH: usize = 4_096;

fn lease_event(execution_id: &ExecutionId, id: &str, f: &HashMap<String, String>) -> Option<SourceEvent> {
    let event = non_empty(f, "event")?;
    if event == "replay_initiated" {
        return None;
    }
    Some(SourceEvent::Lease {
        execution_id: execution_id.clone(),
        event,
        lease_id: non_empty(f, "lease_id").or_else(|| non_empty(f, "new_lease_id")),
        holder: non_empty(f, "worker_instance_id").or_else(|| non_empty(f, "worker_id")),
        at: f.get("ts").and_then(|s| s.parse::<f64>().ok()).map(|t| t as i64).unwrap_or_else(|| stream_id_ms(id)),
    })
}

/// A lane name from a per-lane index key `ff:idx:{fp:N}:lane:<lane>:<kind>`.
fn lane_of_key(key: &str) -> Option<String> {
    const KINDS: [&str; 10] = [
        ":eligible",
        ":delayed",
        ":active",
        ":terminal",
        ":suspended",
        ":blocked:dependencies",
        ":blocked:budget",
        ":blocked:quota",
        ":blocked:route",
        ":blocked:operator",
    ];
    let rest = key.strip_prefix("ff:idx:{fp:")?;
    let rest = &rest[rest.find("}:lane:")? + "}:lane:".len()..];
    KINDS.iter().find_map(|k| rest.strip_suffix(k)).filter(|l| !l.is_empty()).map(str::to_owned)
}

struct Known {
    /// Last id read.
    last: String,
    /// Last time the stream was read.
    touched: Instant,
}

/// The lease reader's memory.
struct LeaseTail {
    partitions: u16,
    /// Read unknown streams from here: the reader's start.
    floor: String,
    start_ms: f64,
    /// The server's time (ms) as last read, and when.
    clock: (Instant, f64),
    known: HashMap<String, Known>,
    /// `lease_expiry` members at the last tick, with their scores.
    active: HashMap<String, f64>,
    /// Lanes and the score from which their terminal indexes are read next.
    lanes: HashMap<String, f64>,
    /// Terminal entries handled recently (id → score).
    terminal_seen: HashMap<String, f64>,
    /// Streams to read again (their last read was full).
    again: HashSet<String>,
    /// Executions whose lane is not known yet.
    lane_unknown: HashSet<String>,
    scan_cursor: String,
}

pub(crate) async fn leases(c: Connected, client: Client, feed: Feed, notices: Option<mpsc::Receiver<Notice>>) {
    let source = Source::new(notices, LEASE_TICK);
    let partitions = c.partitions.num_flow_partitions;
    reconnect(Leases { server: Server::new(client), partitions, tail: None, source }, feed).await
}

/// The lease reader across its sessions.
struct Leases {
    server: Server,
    partitions: u16,
    /// Positioned at the first session, kept across the next.
    tail: Option<LeaseTail>,
    source: Source,
}

#[async_trait::async_trait]
impl Session for Leases {
    async fn session(&mut self, feed: &mut Feed, backoff: &mut Backoff) -> Result<(), StoreError> {
        let Some(cluster) = self.server.start(feed, "lease events").await? else { return Ok(()) };
        let (client, src) = (&self.server.client, &mut self.source);
        let tail = match &mut self.tail {
            Some(t) => {
                // Back after an error: while notified, catch up first.
                if src.notified && !t.catch_up(client, cluster, feed).await? {
                    return Ok(());
                }
                t
            }
            None => self.tail.insert(LeaseTail::start(client, self.partitions).await?),
        };
        // Show "polling" once a poll went through (or none is due).
        if !src.notified && feed.is_wanted() && !tail.tick(client, cluster, feed).await? {
            return Ok(());
        }
        src.show(feed);
        backoff.reset();
        follow(src, &mut Reader { tail, client, cluster }, feed).await
    }
}

/// The lease tail as a [`Follower`] of the keyspace watcher (polling
/// costs ~520 commands/s: [`follow`] polls only while someone watches).
struct Reader<'a> {
    tail: &'a mut LeaseTail,
    client: &'a Client,
    cluster: bool,
}

#[async_trait::async_trait]
impl Follower for Reader<'_> {
    type Batch = HashSet<String>;

    fn add(&self, batch: &mut HashSet<String>, key: &str) {
        batch.extend(eid_of_key(key));
    }

    fn full(&self, batch: &HashSet<String>) -> bool {
        batch.len() >= BATCH
    }

    async fn read(&mut self, batch: HashSet<String>, feed: &mut Feed) -> Result<bool, StoreError> {
        self.tail.read(self.client, batch, feed).await
    }

    async fn catch_up(&mut self, feed: &mut Feed) -> Result<bool, StoreError> {
        self.tail.catch_up(self.client, self.cluster, feed).await
    }

    async fn poll(&mut self, feed: &mut Feed) -> Result<bool, StoreError> {
        self.tail.tick(self.client, self.cluster, feed).await
    }
}

/// The execution id of a lease stream key `ff:exec:{fp:N}:<eid>:lease:history`.
fn eid_of_key(key: &str) -> Option<String> {
    let rest = key.strip_prefix("ff:exec:{fp:")?;
    let eid = rest[rest.find("}:")? + 2..].strip_suffix(":lease:history")?;
    ExecutionId::parse(eid).ok().map(|_| eid.to_owned())
}

impl LeaseTail {
    /// A tail positioned at the server's time now.
    async fn start(client: &Client, partitions: u16) -> Result<LeaseTail, StoreError> {
        let now = server_time_ms(client).await?;
        Ok(LeaseTail {
            partitions,
            floor: format!("{now}-0"),
            start_ms: now as f64,
            clock: (Instant::now(), now as f64),
            known: HashMap::new(),
            active: HashMap::new(),
            lanes: HashMap::new(),
            terminal_seen: HashMap::new(),
            again: HashSet::new(),
            lane_unknown: HashSet::new(),
            scan_cursor: "0".into(),
        })
    }

    /// Read what was written since the positions, as a poll does (twice
    /// when the first one found new lanes, whose terminal indexes it reads
    /// only on the next).
    async fn catch_up(&mut self, client: &Client, cluster: bool, feed: &mut Feed) -> Result<bool, StoreError> {
        let lanes = self.lanes.len();
        if !self.tick(client, cluster, feed).await? {
            return Ok(false);
        }
        if self.lanes.len() != lanes {
            return self.tick(client, cluster, feed).await;
        }
        Ok(true)
    }

    /// One poll: find the streams to read, read them, emit. Ok(false) when
    /// the consumer is gone.
    async fn tick(&mut self, client: &Client, cluster: bool, feed: &mut Feed) -> Result<bool, StoreError> {
        let mut p = client.pipeline();
        let slots = self.queue_poll(&mut p, cluster);
        execute(&mut p, "poll lease indexes").await?;
        let now_ms = server_time_ms_of(&slots.time.value().map_err(StoreError::at(Store::Live, "TIME"))?)
            .ok_or_else(|| StoreError::invalid(Store::Live, "TIME", "bad reply"))?;
        self.clock = (Instant::now(), now_ms);
        // Streams still to read from an earlier tick (full read or failure).
        let mut read: HashSet<String> = self.again.clone();
        self.active_changed(slots.expiry, now_ms, &mut read)?;
        self.recently_ended(slots.terminal, now_ms, &mut read);
        // The diffs above are consumed: keep them until read.
        self.again = read.clone();
        let mut found = self.found_lanes(slots.lanes, slots.scan);
        found.extend(self.lanes_of_unknown(client).await?);
        let new: Vec<String> = found.into_iter().filter(|l| !self.lanes.contains_key(l)).collect();
        if !new.is_empty() {
            // Kept for the page reads of every replica (`super::lanes`).
            super::lanes::note(client, &new).await?;
        }
        for lane in new {
            // A new lane is read from the reader's start.
            self.lanes.entry(lane).or_insert(self.start_ms - TERMINAL_SLACK_MS);
        }
        self.read(client, read, feed).await
    }

    /// Queue a poll's reads: the server's time, the lane registry, one step
    /// of the lane scan (standalone), every partition's lease-expiry index
    /// and the terminal index of every known lane on every partition.
    fn queue_poll(&self, p: &mut TypedPipeline, cluster: bool) -> PollSlots {
        let time = p.cmd::<Value>("TIME").finish();
        let lanes = p.cmd::<Value>("SMEMBERS").arg(lanes_index_key()).finish();
        let scan = (!cluster).then(|| {
            p.cmd::<Value>("SCAN")
                .arg(self.scan_cursor.as_str())
                .arg("MATCH")
                .arg("ff:idx:{fp:*}:lane:*")
                .arg("COUNT")
                .arg(1000)
                .finish()
        });
        let expiry = (0..self.partitions)
            .map(|i| {
                let key = IndexKeys::new(&partition(i)).lease_expiry();
                p.cmd::<Value>("ZRANGE").arg(key).arg(0).arg(-1).arg("WITHSCORES").finish()
            })
            .collect();
        let mut terminal = Vec::new();
        for (lane, since) in &self.lanes {
            let lane_id = LaneId::new(lane.clone());
            for i in 0..self.partitions {
                let key = IndexKeys::new(&partition(i)).lane_terminal(&lane_id);
                let slot =
                    p.cmd::<Value>("ZRANGEBYSCORE").arg(key).arg(format!("({since}")).arg("+inf").arg("WITHSCORES").finish();
                terminal.push((lane.clone(), slot));
            }
        }
        PollSlots { time, lanes, scan, expiry, terminal }
    }

    /// Active leases that appeared, changed, are overdue or are gone: their
    /// executions go to `read`.
    fn active_changed(&mut self, expiry: Vec<PipeSlot<Value>>, now_ms: f64, read: &mut HashSet<String>) -> Result<(), StoreError> {
        let mut active = HashMap::new();
        for slot in expiry {
            let v = slot.value().map_err(StoreError::at(Store::Live, "ZRANGE lease_expiry"))?;
            for (m, s) in pairs(&v) {
                if let (Some(m), Some(s)) = (text(m), number(s)) {
                    active.insert(m, s);
                }
            }
        }
        for (eid, score) in &active {
            if self.active.get(eid) != Some(score) || *score <= now_ms {
                read.insert(eid.clone());
                if !self.known.contains_key(eid) {
                    self.lane_unknown.insert(eid.clone());
                }
            }
        }
        read.extend(self.active.keys().filter(|eid| !active.contains_key(*eid)).cloned());
        self.active = active;
        Ok(())
    }

    /// Recently ended executions, per lane, go to `read`.
    fn recently_ended(&mut self, terminal: Vec<(String, PipeSlot<Value>)>, now_ms: f64, read: &mut HashSet<String>) {
        let next_since = now_ms - TERMINAL_SLACK_MS;
        for (lane, slot) in terminal {
            let v = match slot.value() {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(lane, error = %e, "live: terminal index unreadable");
                    continue;
                }
            };
            for (m, s) in pairs(&v) {
                let (Some(eid), Some(score)) = (text(m), number(s)) else { continue };
                if self.terminal_seen.insert(eid.clone(), score) != Some(score) {
                    read.insert(eid.clone());
                }
            }
            if let Some(since) = self.lanes.get_mut(&lane) {
                *since = since.max(next_since);
            }
        }
        self.terminal_seen.retain(|_, score| *score >= now_ms - 60_000.0);
    }

    /// Lanes named by the registry and the keyspace scan (whose cursor moves on).
    fn found_lanes(&mut self, lanes: PipeSlot<Value>, scan: Option<PipeSlot<Value>>) -> Vec<String> {
        let mut found: Vec<String> =
            lanes.value().map(|v| items(&v).into_iter().filter_map(text).collect()).unwrap_or_default();
        if let Some(Ok(v)) = scan.map(|s| s.value()) {
            let parts = items(&v);
            if let Some(next) = parts.first().and_then(|c| text(c)) {
                self.scan_cursor = next;
            }
            if let Some(keys) = parts.get(1) {
                found.extend(items(keys).into_iter().filter_map(text).filter_map(|k| lane_of_key(&k)));
            }
        }
        found
    }

    /// The lanes of executions seen taking their first lease, whose
    /// search index entries are written on the way (`super::index`).
    async fn lanes_of_unknown(&mut self, client: &Client) -> Result<Vec<String>, StoreError> {
        if self.lane_unknown.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<ExecutionId> = self.lane_unknown.drain().filter_map(|e| ExecutionId::parse(&e).ok()).collect();
        let (lanes, _) = super::index::index_ids(client, &ids).await?;
        Ok(lanes)
    }

    /// Read the lease streams of `read` (execution ids), one XREAD per
    /// partition, and emit their events. Ok(false) when the consumer is gone.
    async fn read(&mut self, client: &Client, read: HashSet<String>, feed: &mut Feed) -> Result<bool, StoreError> {
        let mut read = read;
        read.extend(self.again.drain());
        loop {
            if !self.read_once(client, read, feed).await? {
                return Ok(false);
            }
            if self.again.is_empty() {
                return Ok(true);
            }
            // Some streams had more than one batch.
            read = self.again.clone();
        }
    }

    /// One XREAD per partition; `again` holds the streams to read again
    /// (all of them if the read fails, the full ones if it succeeds).
    async fn read_once(&mut self, client: &Client, read: HashSet<String>, feed: &mut Feed) -> Result<bool, StoreError> {
        let mut by_partition: HashMap<u16, Vec<(String, ExecutionId, String)>> = HashMap::new();
        for eid in read {
            let Ok(id) = ExecutionId::parse(&eid) else { continue };
            let key = ExecKeyContext::new(&partition(id.partition()), &id).lease_history();
            by_partition.entry(id.partition()).or_default().push((eid, id, key));
        }
        self.again = read_later(&by_partition);
        if by_partition.is_empty() {
            self.forget();
            return Ok(true);
        }
        // A stream never read (or forgotten) is read from the reader's start,
        // at most FORGET back: a forgotten stream was idle that long.
        let unknown_from = self.unknown_from();
        let mut p = client.pipeline();
        let mut streams: HashMap<String, (String, ExecutionId)> = HashMap::new();
        let mut slots = Vec::new();
        for group in by_partition.into_values() {
            let mut cmd = p.cmd::<Value>("XREAD").arg("COUNT").arg(LEASE_COUNT).arg("STREAMS");
            for (_, _, key) in &group {
                cmd = cmd.arg(key.as_str());
            }
            for (eid, _, _) in &group {
                cmd = cmd.arg(self.known.get(eid).map_or(unknown_from.as_str(), |k| k.last.as_str()));
            }
            slots.push(cmd.finish());
            let now = Instant::now();
            for (eid, id, key) in group {
                let k = self.known.entry(eid.clone()).or_insert_with(|| Known {
                    last: unknown_from.clone(),
                    touched: now,
                });
                k.touched = now;
                streams.insert(key, (eid, id));
            }
        }
        execute(&mut p, "XREAD lease history").await?;
        let mut full = HashSet::new();
        for slot in slots {
            let v = slot.value().map_err(StoreError::at(Store::Live, "XREAD lease history"))?;
            for (key, entries) in xread_entries(&v) {
                let Some((eid, id)) = streams.get(&key) else { continue };
                if entries.len() >= LEASE_COUNT {
                    full.insert(eid.clone());
                }
                for (entry_id, fields) in entries {
                    if let Some(event) = lease_event(id, &entry_id, &fields) {
                        if !feed.emit(event).await {
                            return Ok(false);
                        }
                    }
                    if let Some(k) = self.known.get_mut(eid) {
                        k.last = entry_id;
                    }
                }
            }
        }
        self.again = full;
        self.forget();
        Ok(true)
    }

    /// Drop the positions of streams not read for [`FORGET`].
    fn forget(&mut self) {
        self.known.retain(|_, k| k.touched.elapsed() < FORGET);
    }

    /// The server's time now, as last read plus the time since.
    fn server_now_ms(&self) -> f64 {
        self.clock.1 + self.clock.0.elapsed().as_millis() as f64
    }

    /// Where a stream without a position is read from: the reader's start,
    /// or [`FORGET`] (and a minute) back if that is later — a forgotten
    /// stream was not written for that long, so nothing is read twice.
    fn unknown_from(&self) -> String {
        let back = self.server_now_ms() - FORGET.as_millis() as f64 - 60_000.0;
        if back > self.start_ms {
            format!("{}-0", back as u64)
        } else {
            self.floor.clone()
        }
    }
}

/// The slots of one poll's pipeline ([`LeaseTail::queue_poll`]).
struct PollSlots {
    time: PipeSlot<Value>,
    lanes: PipeSlot<Value>,
    scan: Option<PipeSlot<Value>>,
    expiry: Vec<PipeSlot<Value>>,
    terminal: Vec<(String, PipeSlot<Value>)>,
}

/// The executions of a planned read, to retry if it fails.
fn read_later(by_partition: &HashMap<u16, Vec<(String, ExecutionId, String)>>) -> HashSet<String> {
    by_partition.values().flatten().map(|(eid, _, _)| eid.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_names_from_index_keys() {
        assert_eq!(lane_of_key("ff:idx:{fp:7}:lane:etl:eligible").as_deref(), Some("etl"));
        assert_eq!(lane_of_key("ff:idx:{fp:0}:lane:a:b:blocked:dependencies").as_deref(), Some("a:b"));
        assert_eq!(lane_of_key("ff:idx:{fp:0}:lease_expiry"), None);
        assert_eq!(lane_of_key("ff:idx:{fp:3}:lane::terminal"), None);
    }

    #[test]
    fn execution_ids_from_stream_keys() {
        let eid = "{fp:7}:0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(eid_of_key(&format!("ff:exec:{{fp:7}}:{eid}:lease:history")).as_deref(), Some(eid));
        assert_eq!(eid_of_key(&format!("ff:exec:{{fp:7}}:{eid}:attempts")), None);
        assert_eq!(eid_of_key("ff:exec:{fp:7}:{fp:7}:not-a-uuid:lease:history"), None);
        assert_eq!(eid_of_key("ff:part:{fp:7}:signal_delivery"), None);
    }
}
