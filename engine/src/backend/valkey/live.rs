//! Valkey: completions from the trait, lease history and signal deliveries
//! read from the store's streams over every partition.
//!
//! **Completions** ([`completions`]): the trait's `subscribe_completion`, a
//! RESP3 SUBSCRIBE on `ff:dag:completions` that the Lua PUBLISHes to (for
//! flow members only: a standalone execution's completion is never
//! published in 0.15; the payload has no time, so `at` is the receipt time).
//! Pubsub is at most once, and the trait hides its
//! connection: it returns before the SUBSCRIBE is sent, and ferriskey
//! resubscribes by itself after a reconnect without telling anyone. So the
//! reader probes the server every [`PROBE`] (`INFO server`: reachable, same
//! `run_id`); on a failed probe or a restarted server it drops the
//! subscription (status `Reconnecting`), and once the server answers again
//! it subscribes anew, waits until `PUBSUB NUMSUB ff:dag:completions` shows
//! one more subscriber (at most 2 s), and emits `Resync { stream:
//! "completion" }`. It does so at the first subscription too: completions
//! published before it was in place were not received. Cost: 1 command/s.
//!
//! **Lease history** ([`leases`]): 0.15 writes lease events only to one
//! stream per execution, `ff:exec:{fp:N}:<id>:lease:history` (XADDs by the
//! Lua: `acquired`, `released` with a reason, `expired`, `revoked`,
//! `reclaimed`; fields `lease_id`/`new_lease_id`, `worker_id`,
//! `worker_instance_id`, `ts`); the aggregate stream the trait tails is
//! never written. Keyspace notifications (`notify-keyspace-events` +
//! PSUBSCRIBE) would name each stream as it changes, but need a RESP3 client
//! with a push channel, which ferriskey only builds from host and port
//! (`ClientBuilder::push_sender`) — [`Connected`] carries neither (only the
//! dialed side client, whose `duplicate_connection` drops push frames) — and
//! they mean rewriting the server's config, which managed Valkey refuses. So
//! the reader tails the streams of executions it finds in the partition
//! indexes, every [`LEASE_TICK`], with one pipeline:
//! - `ZRANGE ff:idx:{fp:N}:lease_expiry 0 -1 WITHSCORES` for all 256
//!   partitions: an execution that appears, disappears, changes score
//!   (renew / reclaim) or is overdue (candidate for `expired`, which does not
//!   leave the set) has its stream read;
//! - `ZRANGEBYSCORE ff:idx:{fp:N}:lane:<lane>:terminal (since +inf` per lane
//!   and partition (scores are the server's completion time): catches leases
//!   taken and released (complete / fail / cancel) within one tick. Lanes
//!   come from `ff:idx:lanes`, the lanes of executions seen, and an
//!   incremental `SCAN … MATCH ff:idx:{fp:*}:lane:*` (one step of 1000 keys
//!   per tick, standalone only); a newly found lane is read from the reader's
//!   start;
//! - then one `XREAD COUNT 100 STREAMS …` per partition for the streams to
//!   read, each from its last id (an unknown stream from the reader's start).
//!
//! A lease taken and released by a suspend / delay / retry within one tick
//! is read when that execution next takes a lease or ends; a stream is
//! forgotten 10 min after its execution ended (6 h idle otherwise) and, if
//! it is ever written again (replay), read from the reader's start, which
//! repeats its events. `replay_initiated` entries are not lease events and
//! are skipped. Cost: 3 + 256 × (1 + lanes) commands per tick, in one round
//! trip, plus one XREAD per partition with changes; measured (test
//! `measure_idle_cost`, `INFO stats` `total_commands_processed`) 519
//! commands/s for the three Valkey readers with 1 lane, 775/s with 2.
//! So the tail polls only while someone watches (`LiveHandle::demand`: the
//! board's pump sets it while a browser is subscribed); meanwhile it keeps
//! its position and reads what happened once someone watches again. An idle
//! board with no browser costs about 0.3 commands/s (test
//! `valkey_idle_board_polls_only_while_watched`).
//!
//! **Signal deliveries** ([`signals`]): `ff_deliver_signal` XADDs every
//! delivery to its partition's `ff:part:{fp:N}:signal_delivery` (fields
//! `signal_id`, `execution_id`, `waitpoint_id`, `source_identity`, `effect`,
//! `delivered_at_ms`); the trait tails partition 0's only. The reader
//! blocks on all 256 at once — `XREAD COUNT 256 BLOCK 5000 STREAMS <256
//! keys> <256 ids>` on a connection of its own — from the server time at
//! start, then each from its last id: 0.2 commands/s idle, one per batch of
//! deliveries. On a cluster, where one XREAD cannot span slots, it polls one
//! non-blocking XREAD per partition, pipelined, every [`CLUSTER_POLL`].
//!
//! Lease and signal readers keep their positions across a reconnect; if the
//! server's `run_id` changed meanwhile (restart: what it had not persisted
//! is gone) they emit `Resync`.
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use ferriskey::{Client, Value};
use ff_core::backend::ScannerFilter;
use ff_core::keys::{lanes_index_key, ExecKeyContext, IndexKeys};
use ff_core::partition::{Partition, PartitionFamily};
use ff_core::stream_subscribe::StreamCursor;
use ff_core::types::{ExecutionId, LaneId};
use futures::StreamExt;

use crate::live::trait_streams::completion_event;
use crate::live::{Backoff, Feed, SourceEvent};
use crate::connect::Connected;

/// Probe interval of the completion reader.
pub(crate) const PROBE: Duration = Duration::from_secs(1);
/// Poll interval of the lease reader.
pub(crate) const LEASE_TICK: Duration = Duration::from_secs(1);
/// Poll interval of the signal reader on a cluster.
pub(crate) const CLUSTER_POLL: Duration = Duration::from_millis(500);
/// Block timeout of the signal reader's XREAD.
const BLOCK_MS: u64 = 5_000;
/// Terminal-index look-back beyond the last tick (ms), for stamps racing the read.
const TERMINAL_SLACK_MS: f64 = 2_000.0;
/// Entries read per lease stream per XREAD.
const LEASE_COUNT: usize = 100;
/// Lease streams are forgotten this long after their execution ended…
const FORGET_ENDED: Duration = Duration::from_secs(600);
/// …or after this long without a read.
const FORGET_IDLE: Duration = Duration::from_secs(6 * 3600);
const COMPLETION_CHANNEL: &str = "ff:dag:completions";

fn partition(index: u16) -> Partition {
    Partition { family: PartitionFamily::Flow, index }
}

// ── reply decoding ──────────────────────────────────────────────────────

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Double(d) => Some(d.to_string()),
        Value::Okay => Some("OK".into()),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Double(d) => Some(*d),
        Value::Int(i) => Some(*i as f64),
        other => text(other)?.parse().ok(),
    }
}

fn items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().filter_map(|r| r.as_ref().ok()).collect(),
        Value::Set(s) => s.iter().collect(),
        _ => Vec::new(),
    }
}

/// Key/value pairs of a map, an array of 2-arrays, or a flat array.
fn pairs(v: &Value) -> Vec<(&Value, &Value)> {
    match v {
        Value::Map(m) => m.iter().map(|(k, v)| (k, v)).collect(),
        Value::Array(_) => {
            let all = items(v);
            let nested = !all.is_empty() && all.iter().all(|e| matches!(e, Value::Array(a) if a.len() == 2));
            if nested {
                all.into_iter()
                    .filter_map(|e| match e {
                        Value::Array(a) => Some((a[0].as_ref().ok()?, a[1].as_ref().ok()?)),
                        _ => None,
                    })
                    .collect()
            } else {
                all.chunks(2).filter(|c| c.len() == 2).map(|c| (c[0], c[1])).collect()
            }
        }
        _ => Vec::new(),
    }
}

/// One stream entry: its id and fields.
type Entry = (String, HashMap<String, String>);

/// An XREAD reply: per stream key, its entries.
fn xread_entries(v: &Value) -> Vec<(String, Vec<Entry>)> {
    pairs(v)
        .into_iter()
        .filter_map(|(key, entries)| {
            let key = text(key)?;
            let entries = pairs(entries)
                .into_iter()
                .filter_map(|(id, fields)| {
                    let id = text(id)?;
                    let fields = pairs(fields).into_iter().filter_map(|(k, v)| Some((text(k)?, text(v)?))).collect();
                    Some((id, fields))
                })
                .collect();
            Some((key, entries))
        })
        .collect()
}

fn stream_id_ms(id: &str) -> i64 {
    id.split('-').next().and_then(|ms| ms.parse().ok()).unwrap_or(0)
}

fn non_empty(fields: &HashMap<String, String>, key: &str) -> Option<String> {
    fields.get(key).filter(|s| !s.is_empty()).cloned()
}

async fn server_time_ms(client: &Client) -> Result<u64, String> {
    let v: Value = client.cmd("TIME").execute().await.map_err(|e| format!("TIME: {e}"))?;
    let parts = items(&v);
    let secs: u64 = parts.first().and_then(|v| text(v)).and_then(|s| s.parse().ok()).ok_or("TIME: bad reply")?;
    let micros: u64 = parts.get(1).and_then(|v| text(v)).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok(secs * 1000 + micros / 1000)
}

/// The server's `run_id` (standalone), or `None` on a cluster (each node
/// has its own); Err when the server does not answer within 2 s.
async fn server_id(client: &Client, cluster: bool) -> Result<Option<String>, String> {
    let probe = async {
        if cluster {
            let _: Value = client.cmd("PING").execute().await.map_err(|e| format!("PING: {e}"))?;
            return Ok(None);
        }
        let v: Value = client.cmd("INFO").arg("server").execute().await.map_err(|e| format!("INFO: {e}"))?;
        let info = text(&v).unwrap_or_default();
        Ok(info.lines().find_map(|l| l.strip_prefix("run_id:")).map(|s| s.trim().to_owned()))
    };
    tokio::time::timeout(Duration::from_secs(2), probe).await.unwrap_or_else(|_| Err("no answer within 2 s".into()))
}

// ── completions ─────────────────────────────────────────────────────────

async fn subscribers(client: &Client) -> Option<i64> {
    let v: Value = client.cmd("PUBSUB").arg("NUMSUB").arg(COMPLETION_CHANNEL).execute().await.ok()?;
    let p = pairs(&v);
    p.first().and_then(|(_, n)| number(n)).map(|n| n as i64)
}

/// The trait's pubsub subscription, resubscribed (with a `Resync`) whenever
/// the server was unreachable or restarted.
pub(crate) async fn completions(c: Connected, client: Client, mut feed: Feed) {
    let cluster = client.is_cluster().await;
    let mut backoff = Backoff::new();
    let mut first = true;
    loop {
        let run_id = match server_id(&client, cluster).await {
            Ok(id) => id,
            Err(e) => {
                feed.reconnecting(format!("valkey unreachable: {e}"));
                if !backoff.wait(&feed).await {
                    return;
                }
                continue;
            }
        };
        let before = subscribers(&client).await.unwrap_or(0);
        let mut sub = match c.backend.subscribe_completion(StreamCursor::empty(), &ScannerFilter::NOOP).await {
            Ok(s) => s,
            Err(e) => {
                feed.reconnecting(format!("subscribe: {e}"));
                if !backoff.wait(&feed).await {
                    return;
                }
                continue;
            }
        };
        // The trait subscribes in a background task: wait until it is in.
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && subscribers(&client).await.unwrap_or(0) <= before {
            if !feed.sleep(Duration::from_millis(20)).await {
                return;
            }
        }
        feed.live();
        backoff.reset();
        let reason = if first {
            "subscribed to completions (pubsub, at most once): completions published before now were not received"
        } else {
            "resubscribed to completions after a disconnect: completions published meanwhile are lost"
        };
        first = false;
        if !feed.resync(reason).await {
            return;
        }
        let mut probe = tokio::time::interval_at(tokio::time::Instant::now() + PROBE, PROBE);
        let error = loop {
            tokio::select! {
                _ = feed.closed() => return,
                item = sub.next() => match item {
                    Some(Ok(ev)) => {
                        if let Some(mut event) = completion_event(ev) {
                            // The published payload carries no time (0): use the receipt time.
                            if let SourceEvent::Completion { at, .. } = &mut event {
                                if *at == 0 {
                                    *at = ff_core::types::TimestampMs::now().0;
                                }
                            }
                            if !feed.emit(event).await {
                                return;
                            }
                        }
                    }
                    Some(Err(e)) => break format!("completion subscription: {e}"),
                    None => break "completion subscription ended".to_owned(),
                },
                _ = probe.tick() => match server_id(&client, cluster).await {
                    Ok(id) if id == run_id => {}
                    Ok(_) => break "valkey server restarted".to_owned(),
                    Err(e) => break format!("valkey unreachable: {e}"),
                },
            }
        };
        drop(sub);
        feed.reconnecting(error);
        if !backoff.wait(&feed).await {
            return;
        }
    }
}

/// After a reconnect: Resync if the server restarted (or cannot tell).
async fn resync_if_restarted(
    feed: &mut Feed,
    client: &Client,
    cluster: bool,
    run_id: &mut Option<Option<String>>,
    what: &str,
) -> Result<bool, String> {
    let now = server_id(client, cluster).await?;
    let restarted = match run_id {
        None => false,
        Some(before) => before.is_none() || *before != now,
    };
    *run_id = Some(now);
    if restarted {
        let reason = format!("valkey restarted (or cannot tell): {what} it had not persisted are lost");
        return Ok(feed.resync(reason).await);
    }
    Ok(true)
}

// ── signal deliveries ───────────────────────────────────────────────────

fn signal_event(id: &str, f: &HashMap<String, String>) -> Option<SourceEvent> {
    let execution_id = ExecutionId::parse(f.get("execution_id")?).ok()?;
    Some(SourceEvent::Signal {
        execution_id,
        signal_id: non_empty(f, "signal_id")?,
        waitpoint_id: non_empty(f, "waitpoint_id"),
        source_identity: non_empty(f, "source_identity"),
        effect: f.get("effect").cloned().unwrap_or_default(),
        at: f.get("delivered_at_ms").and_then(|s| s.parse().ok()).unwrap_or_else(|| stream_id_ms(id)),
    })
}

pub(crate) async fn signals(c: Connected, client: Client, mut feed: Feed) {
    let keys: Vec<String> = (0..c.partitions.num_flow_partitions)
        .map(|i| IndexKeys::new(&partition(i)).partition_signal_delivery())
        .collect();
    let slot: HashMap<String, usize> = keys.iter().cloned().enumerate().map(|(i, k)| (k, i)).collect();
    let mut ids: Vec<String> = Vec::new();
    let mut run_id: Option<Option<String>> = None;
    let mut backoff = Backoff::new();
    loop {
        let outcome = signal_session(&client, &keys, &slot, &mut ids, &mut run_id, &mut feed, &mut backoff).await;
        match outcome {
            Ok(()) => return,
            Err(e) => {
                feed.reconnecting(e);
                if !backoff.wait(&feed).await {
                    return;
                }
            }
        }
    }
}

async fn signal_session(
    client: &Client,
    keys: &[String],
    slot: &HashMap<String, usize>,
    ids: &mut Vec<String>,
    run_id: &mut Option<Option<String>>,
    feed: &mut Feed,
    backoff: &mut Backoff,
) -> Result<(), String> {
    let cluster = client.is_cluster().await;
    if !resync_if_restarted(feed, client, cluster, run_id, "signal deliveries").await? {
        return Ok(());
    }
    if ids.is_empty() {
        let now = server_time_ms(client).await?;
        *ids = vec![format!("{now}-0"); keys.len()];
    }
    let conn = if cluster {
        client.clone()
    } else {
        client.duplicate_connection().await.map_err(|e| format!("open the XREAD connection: {e}"))?
    };
    feed.live();
    backoff.reset();
    loop {
        let replies: Vec<Value> = if cluster {
            if !feed.sleep(CLUSTER_POLL).await {
                return Ok(());
            }
            let mut p = conn.pipeline();
            let slots: Vec<_> = keys
                .iter()
                .zip(ids.iter())
                .map(|(k, id)| {
                    p.cmd::<Value>("XREAD")
                        .arg("COUNT")
                        .arg(256)
                        .arg("STREAMS")
                        .arg(k.as_str())
                        .arg(id.as_str())
                        .finish()
                })
                .collect();
            p.execute().await.map_err(|e| format!("XREAD: {e}"))?;
            slots.into_iter().map(|s| s.value()).collect::<Result<_, _>>().map_err(|e| format!("XREAD: {e}"))?
        } else {
            let read = conn
                .cmd("XREAD")
                .arg("COUNT")
                .arg(256)
                .arg("BLOCK")
                .arg(BLOCK_MS)
                .arg("STREAMS")
                .arg(keys)
                .arg(&ids[..])
                .execute::<Value>();
            tokio::select! {
                _ = feed.closed() => return Ok(()),
                r = read => vec![r.map_err(|e| format!("XREAD: {e}"))?],
            }
        };
        for reply in &replies {
            for (key, entries) in xread_entries(reply) {
                let Some(&i) = slot.get(&key) else { continue };
                for (id, fields) in entries {
                    match signal_event(&id, &fields) {
                        Some(event) => {
                            if !feed.emit(event).await {
                                return Ok(());
                            }
                        }
                        None => tracing::warn!(key, id, "live: skipped an undecodable signal-delivery entry"),
                    }
                    ids[i] = id;
                }
            }
        }
    }
}

// ── lease history ───────────────────────────────────────────────────────

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
    /// When the execution was seen ended (in a terminal index).
    ended: Option<Instant>,
}

/// The lease reader's memory.
struct LeaseTail {
    partitions: u16,
    /// Read unknown streams from here: the reader's start.
    floor: String,
    start_ms: f64,
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

pub(crate) async fn leases(c: Connected, client: Client, mut feed: Feed) {
    let mut backoff = Backoff::new();
    let mut run_id: Option<Option<String>> = None;
    let mut tail: Option<LeaseTail> = None;
    loop {
        match lease_session(&client, c.partitions.num_flow_partitions, &mut tail, &mut run_id, &mut feed, &mut backoff)
            .await
        {
            Ok(()) => return,
            Err(e) => {
                feed.reconnecting(e);
                if !backoff.wait(&feed).await {
                    return;
                }
            }
        }
    }
}

async fn lease_session(
    client: &Client,
    partitions: u16,
    tail: &mut Option<LeaseTail>,
    run_id: &mut Option<Option<String>>,
    feed: &mut Feed,
    backoff: &mut Backoff,
) -> Result<(), String> {
    let cluster = client.is_cluster().await;
    if !resync_if_restarted(feed, client, cluster, run_id, "lease events").await? {
        return Ok(());
    }
    if tail.is_none() {
        let now = server_time_ms(client).await?;
        *tail = Some(LeaseTail {
            partitions,
            floor: format!("{now}-0"),
            start_ms: now as f64,
            known: HashMap::new(),
            active: HashMap::new(),
            lanes: HashMap::new(),
            terminal_seen: HashMap::new(),
            again: HashSet::new(),
            lane_unknown: HashSet::new(),
            scan_cursor: "0".into(),
        });
    }
    let tail = tail.as_mut().expect("set above");
    let mut first = true;
    let mut tick = tokio::time::interval(LEASE_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = feed.closed() => return Ok(()),
            _ = tick.tick() => {}
        }
        // Polling costs ~520 commands/s: only while someone watches. The
        // tail is positioned (and the server answered), so the stream is
        // live even while it waits; what happens meanwhile is read later.
        if first && !feed.is_wanted() {
            first = false;
            feed.polling(LEASE_TICK);
            backoff.reset();
        }
        if !feed.wanted().await {
            return Ok(());
        }
        if !tail.tick(client, cluster, feed).await? {
            return Ok(());
        }
        if first {
            first = false;
            feed.polling(LEASE_TICK);
            backoff.reset();
        }
    }
}

impl LeaseTail {
    /// One poll: find the streams to read, read them, emit. Ok(false) when
    /// the consumer is gone.
    async fn tick(&mut self, client: &Client, cluster: bool, feed: &mut Feed) -> Result<bool, String> {
        let err = |what: &str, e: ferriskey::Error| format!("{what}: {e}");
        let mut p = client.pipeline();
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
        let expiry: Vec<_> = (0..self.partitions)
            .map(|i| {
                p.cmd::<Value>("ZRANGE")
                    .arg(IndexKeys::new(&partition(i)).lease_expiry())
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .finish()
            })
            .collect();
        let mut terminal = Vec::new();
        for (lane, since) in &self.lanes {
            let lane_id = LaneId::new(lane.clone());
            for i in 0..self.partitions {
                let key = IndexKeys::new(&partition(i)).lane_terminal(&lane_id);
                let slot = p
                    .cmd::<Value>("ZRANGEBYSCORE")
                    .arg(key)
                    .arg(format!("({since}"))
                    .arg("+inf")
                    .arg("WITHSCORES")
                    .finish();
                terminal.push((lane.clone(), slot));
            }
        }
        p.execute().await.map_err(|e| err("poll lease indexes", e))?;

        let now_ms = server_time_ms_of(&time.value().map_err(|e| err("TIME", e))?).ok_or("TIME: bad reply")?;
        // Streams still to read from an earlier tick (full read or failure).
        let mut read: HashSet<String> = self.again.clone();

        // Active leases: appeared, changed, overdue, gone.
        let mut active = HashMap::new();
        for slot in expiry {
            let v = slot.value().map_err(|e| err("ZRANGE lease_expiry", e))?;
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
        for eid in self.active.keys() {
            if !active.contains_key(eid) {
                read.insert(eid.clone());
            }
        }
        self.active = active;

        // Recently ended executions, per lane.
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
                    if let Some(k) = self.known.get_mut(&eid) {
                        k.ended.get_or_insert_with(Instant::now);
                    }
                }
            }
            if let Some(since) = self.lanes.get_mut(&lane) {
                *since = since.max(next_since);
            }
        }
        self.terminal_seen.retain(|_, score| *score >= now_ms - 60_000.0);
        // The diffs above are consumed: keep them until read.
        self.again = read.clone();

        // Lanes: the registry, the keyspace scan, executions seen.
        let mut found: Vec<String> =
            lanes.value().map(|v| items(&v).into_iter().filter_map(text).collect()).unwrap_or_default();
        if let Some(scan) = scan {
            if let Ok(v) = scan.value() {
                let parts = items(&v);
                if let Some(next) = parts.first().and_then(|c| text(c)) {
                    self.scan_cursor = next;
                }
                if let Some(keys) = parts.get(1) {
                    found.extend(items(keys).into_iter().filter_map(text).filter_map(|k| lane_of_key(&k)));
                }
            }
        }
        if !self.lane_unknown.is_empty() {
            let pending: Vec<String> = self.lane_unknown.iter().cloned().collect();
            let mut p = client.pipeline();
            let slots: Vec<_> = pending
                .iter()
                .filter_map(|eid| {
                    let id = ExecutionId::parse(eid).ok()?;
                    let core = ExecKeyContext::new(&partition(id.partition()), &id).core();
                    Some(p.cmd::<Option<String>>("HGET").arg(core).arg("lane_id").finish())
                })
                .collect();
            p.execute().await.map_err(|e| err("HGET lane_id", e))?;
            self.lane_unknown.clear();
            found.extend(slots.into_iter().filter_map(|s| s.value().ok().flatten()));
        }
        for lane in found {
            // A new lane is read from the reader's start.
            self.lanes.entry(lane).or_insert(self.start_ms - TERMINAL_SLACK_MS);
        }

        // Read the streams, one XREAD per partition.
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
        let mut p = client.pipeline();
        let mut streams: HashMap<String, (String, ExecutionId)> = HashMap::new();
        let mut slots = Vec::new();
        for group in by_partition.into_values() {
            let mut cmd = p.cmd::<Value>("XREAD").arg("COUNT").arg(LEASE_COUNT).arg("STREAMS");
            for (_, _, key) in &group {
                cmd = cmd.arg(key.as_str());
            }
            for (eid, _, _) in &group {
                cmd = cmd.arg(self.known.get(eid).map_or(self.floor.as_str(), |k| k.last.as_str()));
            }
            slots.push(cmd.finish());
            let now = Instant::now();
            for (eid, id, key) in group {
                let k = self.known.entry(eid.clone()).or_insert_with(|| Known {
                    last: self.floor.clone(),
                    touched: now,
                    ended: None,
                });
                k.touched = now;
                if self.terminal_seen.contains_key(&eid) {
                    k.ended.get_or_insert(now);
                }
                streams.insert(key, (eid, id));
            }
        }
        p.execute().await.map_err(|e| err("XREAD lease history", e))?;
        let mut full = HashSet::new();
        for slot in slots {
            let v = slot.value().map_err(|e| err("XREAD lease history", e))?;
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

    /// Drop the positions of streams that will most likely not be written again.
    fn forget(&mut self) {
        let active = &self.active;
        self.known.retain(|eid, k| {
            active.contains_key(eid)
                || !(k.ended.is_some_and(|t| t.elapsed() >= FORGET_ENDED) || k.touched.elapsed() >= FORGET_IDLE)
        });
    }
}

/// The executions of a planned read, to retry if it fails.
fn read_later(by_partition: &HashMap<u16, Vec<(String, ExecutionId, String)>>) -> HashSet<String> {
    by_partition.values().flatten().map(|(eid, _, _)| eid.clone()).collect()
}

fn server_time_ms_of(v: &Value) -> Option<f64> {
    let parts = items(v);
    let secs: f64 = parts.first().and_then(|v| text(v))?.parse().ok()?;
    let micros: f64 = parts.get(1).and_then(|v| text(v)).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    Some(secs * 1000.0 + (micros / 1000.0).floor())
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
    fn xread_replies_in_both_protocols() {
        let b = |s: &str| Value::BulkString(s.as_bytes().to_vec().into());
        let arr = |v: Vec<Value>| Value::Array(v.into_iter().map(Ok).collect());
        let fields = arr(vec![b("event"), b("acquired"), b("ts"), b("5")]);
        let resp2 = arr(vec![arr(vec![b("k1"), arr(vec![arr(vec![b("5-0"), fields.clone()])])])]);
        let resp3 = Value::Map(vec![(b("k1"), arr(vec![arr(vec![b("5-0"), fields])]))]);
        for v in [resp2, resp3] {
            let got = xread_entries(&v);
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].0, "k1");
            assert_eq!(got[0].1[0].0, "5-0");
            assert_eq!(got[0].1[0].1.get("event").map(String::as_str), Some("acquired"));
        }
        assert!(xread_entries(&Value::Nil).is_empty());
    }
}
