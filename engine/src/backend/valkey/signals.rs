//! Valkey signal deliveries: `ff_deliver_signal` XADDs every delivery to
//! its partition's `ff:part:{fp:N}:signal_delivery` (fields `signal_id`,
//! `execution_id`, `waitpoint_id`, `source_identity`, `effect`,
//! `delivered_at_ms`); the trait tails partition 0's only.
//!
//! - **Standalone**: the reader blocks on all 256 at once — `XREAD COUNT 256
//!   BLOCK 5000 STREAMS <256 keys> <256 ids>` on a connection of its own —
//!   from the server time at start, then each from its last id: 0.2
//!   commands/s idle, one per batch of deliveries, milliseconds late.
//! - **Cluster**, where one XREAD cannot span slots: the keyspace watcher
//!   ([`super::notify`]) names the partitions written, and the reader
//!   XREADs just those (pipelined). Each time the watcher covers every
//!   primary again it first reads all 256 once from their positions, so
//!   nothing written meanwhile is missed. Without notifications it polls one
//!   non-blocking XREAD per partition, pipelined, every [`CLUSTER_POLL`],
//!   and only while a browser watches (512 commands/s while it does).
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use ferriskey::{Client, Value};
use ff_core::keys::IndexKeys;
use ff_core::types::ExecutionId;
use tokio::sync::mpsc;

use super::follow::{follow, Follower, Source};
use super::live::Server;
use super::notify::Notice;
use super::reply::{execute, non_empty, partition, server_time_ms, stream_id_ms, xread_entries};
use crate::connect::Connected;
use crate::live::{reconnect, Backoff, Feed, Session, SourceEvent};
use crate::store_error::{Store, StoreError};

/// Poll interval of the signal reader on a cluster without notifications.
pub(crate) const CLUSTER_POLL: Duration = Duration::from_millis(500);
/// Block timeout of the signal reader's XREAD.
const BLOCK_MS: u64 = 5_000;
/// Entries read per partition per XREAD.
const COUNT: usize = 256;

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

/// The reader's positions: one stream per partition.
struct Positions {
    keys: Vec<String>,
    slot: HashMap<String, usize>,
    ids: Vec<String>,
}

pub(crate) async fn signals(c: Connected, client: Client, feed: Feed, notices: Option<mpsc::Receiver<Notice>>) {
    let keys: Vec<String> = (0..c.partitions.num_flow_partitions)
        .map(|i| IndexKeys::new(&partition(i)).partition_signal_delivery())
        .collect();
    let slot = keys.iter().cloned().enumerate().map(|(i, k)| (k, i)).collect();
    let pos = Positions { keys, slot, ids: Vec::new() };
    reconnect(Signals { server: Server::new(client), pos, source: Source::new(notices, CLUSTER_POLL) }, feed).await
}

/// The signal reader across its sessions.
struct Signals {
    server: Server,
    pos: Positions,
    source: Source,
}

#[async_trait::async_trait]
impl Session for Signals {
    async fn session(&mut self, feed: &mut Feed, backoff: &mut Backoff) -> Result<(), StoreError> {
        let Some(cluster) = self.server.start(feed, "signal deliveries").await? else { return Ok(()) };
        let (client, pos) = (&self.server.client, &mut self.pos);
        if pos.ids.is_empty() {
            let now = server_time_ms(client).await?;
            pos.ids = vec![format!("{now}-0"); pos.keys.len()];
        }
        if !cluster {
            return blocking(client, pos, feed, backoff).await;
        }
        let mut reader = Reader { client, pos };
        // Positions may lag after a reconnect: read everything once.
        if !reader.catch_up(feed).await? {
            return Ok(());
        }
        self.source.show(feed);
        backoff.reset();
        follow(&mut self.source, &mut reader, feed).await
    }
}

/// The cluster reader as a [`Follower`] of the keyspace watcher: a
/// notified key is its partition; a catch-up or a poll reads them all.
struct Reader<'a> {
    client: &'a Client,
    pos: &'a mut Positions,
}

#[async_trait::async_trait]
impl Follower for Reader<'_> {
    type Batch = BTreeSet<usize>;

    fn add(&self, batch: &mut BTreeSet<usize>, key: &str) {
        batch.extend(self.pos.slot.get(key).copied());
    }

    /// Up to one read per partition.
    fn full(&self, batch: &BTreeSet<usize>) -> bool {
        batch.len() >= self.pos.keys.len()
    }

    async fn read(&mut self, batch: BTreeSet<usize>, feed: &mut Feed) -> Result<bool, StoreError> {
        read(self.client, self.pos, &batch, feed).await
    }

    async fn catch_up(&mut self, feed: &mut Feed) -> Result<bool, StoreError> {
        let all: BTreeSet<usize> = (0..self.pos.keys.len()).collect();
        read(self.client, self.pos, &all, feed).await
    }

    async fn poll(&mut self, feed: &mut Feed) -> Result<bool, StoreError> {
        self.catch_up(feed).await
    }
}

/// One non-blocking XREAD per partition in `which`, pipelined, again for
/// the partitions that had more. Ok(false) when the consumer is gone.
async fn read(client: &Client, pos: &mut Positions, which: &BTreeSet<usize>, feed: &mut Feed) -> Result<bool, StoreError> {
    let mut which = which.clone();
    while !which.is_empty() {
        let mut p = client.pipeline();
        let slots: Vec<_> = which
            .iter()
            .map(|&i| {
                p.cmd::<Value>("XREAD")
                    .arg("COUNT")
                    .arg(COUNT)
                    .arg("STREAMS")
                    .arg(pos.keys[i].as_str())
                    .arg(pos.ids[i].as_str())
                    .finish()
            })
            .collect();
        execute(&mut p, "XREAD").await?;
        let replies: Vec<Value> =
            slots.into_iter().map(|s| s.value()).collect::<Result<_, _>>().map_err(StoreError::at(Store::Live, "XREAD"))?;
        match emit(pos, &replies, feed).await {
            Some(full) => which = full,
            None => return Ok(false),
        }
    }
    Ok(true)
}

/// Standalone: block on every partition at once.
async fn blocking(client: &Client, pos: &mut Positions, feed: &mut Feed, backoff: &mut Backoff) -> Result<(), StoreError> {
    let conn = client.duplicate_connection().await.map_err(StoreError::at(Store::Live, "open the XREAD connection"))?;
    feed.live();
    backoff.reset();
    loop {
        let read = conn
            .cmd("XREAD")
            .arg("COUNT")
            .arg(COUNT)
            .arg("BLOCK")
            .arg(BLOCK_MS)
            .arg("STREAMS")
            .arg(&pos.keys[..])
            .arg(&pos.ids[..])
            .execute::<Value>();
        let reply = tokio::select! {
            _ = feed.closed() => return Ok(()),
            r = read => r.map_err(StoreError::at(Store::Live, "XREAD"))?,
        };
        if emit(pos, std::slice::from_ref(&reply), feed).await.is_none() {
            return Ok(());
        }
    }
}

/// Emit the entries of XREAD replies and advance the positions: the
/// partitions that returned a full batch, or None when the consumer is gone.
async fn emit(pos: &mut Positions, replies: &[Value], feed: &mut Feed) -> Option<BTreeSet<usize>> {
    let mut full = BTreeSet::new();
    for reply in replies {
        for (key, entries) in xread_entries(reply) {
            let Some(&i) = pos.slot.get(&key) else { continue };
            if entries.len() >= COUNT {
                full.insert(i);
            }
            for (id, fields) in entries {
                match signal_event(&id, &fields) {
                    Some(event) => {
                        if !feed.emit(event).await {
                            return None;
                        }
                    }
                    None => tracing::warn!(key, id, "live: skipped an undecodable signal-delivery entry"),
                }
                pos.ids[i] = id;
            }
        }
    }
    Some(full)
}
