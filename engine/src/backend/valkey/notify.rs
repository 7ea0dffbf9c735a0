//! Valkey keyspace notifications: which lease-history (and, on a cluster,
//! signal-delivery) streams were just written, pushed by the server.
//!
//! With `notify-keyspace-events` holding `K` (keyspace channel) and `t`
//! (stream commands) or `A`, every `XADD` publishes
//! `__keyspace@0__:<key>` with the message `xadd`. The board's
//! [`spawn`]ed watcher opens one RESP3 connection per primary (ferriskey's
//! `push_sender`), `PSUBSCRIBE`s [`LEASE_PATTERN`] (and [`SIGNAL_PATTERN`]
//! on a cluster) and hands the written keys to the live readers, which
//! then `XREAD` just those streams: an event reaches the board a few
//! milliseconds after its commit, and an idle board costs no reads.
//!
//! Keyspace notifications are node-local (a cluster does not forward them
//! between shards), so on a cluster the watcher subscribes on every
//! primary and re-reads the topology (`CLUSTER SLOTS`) every
//! [`TOPOLOGY_EVERY`]: a new primary (failover, resharding) gets its own
//! subscription. Each node's setting is read again every
//! [`CONFIG_EVERY`] (`CONFIG GET`; an operator may turn it off), and a
//! closed connection is reported by ferriskey as a `Disconnection` push.
//!
//! Notifications are pubsub: at most once. The readers learn when the
//! watcher's view is whole ([`Notice::Covered`]: every primary subscribed
//! with the setting on) and when it is not ([`Notice::Uncovered`]: a node
//! down or unsubscribed, the setting off or unreadable). A reader whose
//! buffer is full has keys dropped and gets `Covered` again once it has
//! room. On `Uncovered` they fall back to polling (while a browser
//! watches); on every `Covered` they first catch up with one poll from
//! their last positions, so what was written while the view had a hole is
//! read too.
//!
//! Idle cost: `CONFIG GET` per primary every 5 s, plus `CLUSTER SLOTS`
//! every 5 s on a cluster — 0.2 and 0.8 commands/s for one node and
//! three primaries.
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ferriskey::value::ProtocolVersion;
use ferriskey::{Client, ClientBuilder, PushInfo, PushKind, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::connect::ValkeyNode;
use crate::store_error::{Store, StoreError};

/// Lease history streams, `ff:exec:{fp:N}:<eid>:lease:history`.
pub(crate) const LEASE_PATTERN: &str = "__keyspace@0__:ff:exec:*:lease:history";
/// Per-partition signal delivery streams, `ff:part:{fp:N}:signal_delivery`.
pub(crate) const SIGNAL_PATTERN: &str = "__keyspace@0__:ff:part:*:signal_delivery";
const CHANNEL_PREFIX: &str = "__keyspace@0__:";
/// How often the cluster topology is read again.
pub(crate) const TOPOLOGY_EVERY: Duration = Duration::from_secs(5);
/// How often each node's `notify-keyspace-events` is read again.
pub(crate) const CONFIG_EVERY: Duration = Duration::from_secs(5);
/// Notices buffered per reader. Keys that do not fit are dropped and the
/// reader gets `Covered` again as soon as there is room, so it catches up
/// from its positions: keys are dropped, never events.
pub(crate) const NOTICE_BUFFER: usize = 16_384;
/// Connect, subscribe and `CONFIG GET` deadline per node.
const NODE_DEADLINE: Duration = Duration::from_secs(3);

/// What the watcher tells a reader.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Notice {
    /// This stream key was written.
    Key(String),
    /// Every primary is subscribed and notifying: catch up once, then
    /// follow the keys.
    Covered,
    /// Some writes may go unnoticed from now on (why): poll.
    Uncovered(String),
}

/// The watcher's receivers, one per reader.
pub(crate) struct Watch {
    pub leases: mpsc::Receiver<Notice>,
    /// Signal-delivery keys (on a cluster only: a standalone server's
    /// signal reader blocks on all partitions at once and needs none).
    pub signals: mpsc::Receiver<Notice>,
}

/// Whether a `notify-keyspace-events` value publishes stream writes on the
/// keyspace channel.
pub(crate) fn flags_cover_streams(flags: &str) -> bool {
    flags.contains('K') && (flags.contains('t') || flags.contains('A'))
}

/// The stream key a keyspace message names, if it is an `xadd`.
fn written_key(push: &PushInfo) -> Option<String> {
    if push.kind != PushKind::PMessage {
        return None;
    }
    let text = |v: &Value| match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    };
    let channel = text(push.data.get(1)?)?;
    if text(push.data.get(2)?)? != "xadd" {
        return None;
    }
    channel.strip_prefix(CHANNEL_PREFIX).map(str::to_owned)
}

/// Start the watcher for the store `client` talks to; `seed` is the node
/// the board dialed (TLS and, standalone, the only node).
pub(crate) fn spawn(client: Client, seed: ValkeyNode) -> Watch {
    let (lease_tx, leases) = mpsc::channel(NOTICE_BUFFER);
    let (signal_tx, signals) = mpsc::channel(NOTICE_BUFFER);
    tokio::spawn(async move {
        let cluster = client.is_cluster().await;
        let outlets = vec![Outlet::new(lease_tx, "lease"), Outlet::new(signal_tx, "signal")];
        coordinate(client, seed, cluster, outlets).await;
    });
    Watch { leases, signals }
}

/// One reader's end of the watcher.
struct Outlet {
    tx: mpsc::Sender<Notice>,
    /// Keys were dropped (buffer full): owe the reader a `Covered`.
    overflowed: bool,
    name: &'static str,
}

impl Outlet {
    fn new(tx: mpsc::Sender<Notice>, name: &'static str) -> Self {
        Outlet { tx, overflowed: false, name }
    }

    fn send(&mut self, notice: Notice, covered: bool) {
        if self.overflowed && covered && self.tx.try_send(Notice::Covered).is_ok() {
            self.overflowed = false;
        }
        match self.tx.try_send(notice) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) if !self.overflowed => {
                tracing::warn!(reader = self.name, capacity = NOTICE_BUFFER, "live: keyspace notices dropped, the reader falls back to one catch-up poll");
                self.overflowed = true;
            }
            Err(_) => {}
        }
    }
}

/// What a node task reports.
enum NodeEvent {
    Up(String),
    Down(String, String),
    Key(String),
}

async fn coordinate(client: Client, seed: ValkeyNode, cluster: bool, mut outlets: Vec<Outlet>) {
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel::<NodeEvent>();
    let patterns: Vec<&'static str> = if cluster { vec![LEASE_PATTERN, SIGNAL_PATTERN] } else { vec![LEASE_PATTERN] };
    let mut nodes = Nodes::new(seed, patterns, ev_tx);
    // Why some writes may go unnoticed (None: covered); starts unknown.
    let mut last_hole = Some(String::from("starting"));
    let mut refresh = tokio::time::interval(TOPOLOGY_EVERY);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = async { for o in &outlets { o.tx.closed().await } } => break,
            _ = refresh.tick(), if cluster || nodes.tasks.is_empty() => nodes.refresh(&client, cluster).await,
            ev = ev_rx.recv() => match ev {
                Some(NodeEvent::Key(key)) => {
                    let to = if key.ends_with(":lease:history") { 0 } else { 1 };
                    outlets[to].send(Notice::Key(key), last_hole.is_none());
                    continue;
                }
                Some(other) => nodes.report(other),
                None => break,
            },
        }
        let hole = nodes.hole();
        if hole != last_hole {
            let notice = match &hole {
                None => Notice::Covered,
                Some(h) => Notice::Uncovered(format!("keyspace notifications incomplete: {h}")),
            };
            tracing::info!(?notice, "live: keyspace notification coverage");
            for o in &mut outlets {
                o.send(notice.clone(), hole.is_none());
            }
            last_hole = hole;
        }
    }
    for (_, task) in nodes.tasks {
        task.abort();
    }
}

/// The primaries the watcher follows, one task each, and their states.
struct Nodes {
    seed: ValkeyNode,
    patterns: Vec<&'static str>,
    events: mpsc::UnboundedSender<NodeEvent>,
    tasks: HashMap<String, JoinHandle<()>>,
    up: HashSet<String>,
    /// Why a node is not up.
    why: HashMap<String, String>,
    topology_error: Option<String>,
}

impl Nodes {
    fn new(seed: ValkeyNode, patterns: Vec<&'static str>, events: mpsc::UnboundedSender<NodeEvent>) -> Self {
        Nodes { seed, patterns, events, tasks: HashMap::new(), up: HashSet::new(), why: HashMap::new(), topology_error: None }
    }

    /// Read the primaries again (the seed alone when standalone) and follow them.
    async fn refresh(&mut self, client: &Client, cluster: bool) {
        let primaries = if cluster {
            tokio::time::timeout(NODE_DEADLINE, cluster_primaries(client))
                .await
                .unwrap_or_else(|_| Err(StoreError::timeout(Store::Live, "CLUSTER SLOTS", NODE_DEADLINE)))
        } else {
            Ok(vec![(self.seed.host.clone(), self.seed.port)])
        };
        match primaries {
            Ok(list) => {
                self.topology_error = None;
                self.follow(list);
            }
            Err(e) => self.topology_error = Some(e.to_string()),
        }
    }

    /// Subscribe on the nodes of `list` not followed yet; stop following the others.
    fn follow(&mut self, list: Vec<(String, u16)>) {
        let want: HashSet<String> = list.iter().map(|(h, p)| format!("{h}:{p}")).collect();
        let (up, why) = (&mut self.up, &mut self.why);
        self.tasks.retain(|addr, task| {
            let keep = want.contains(addr);
            if !keep {
                task.abort();
                up.remove(addr);
                why.remove(addr);
            }
            keep
        });
        for (host, port) in list {
            let addr = format!("{host}:{port}");
            if !self.tasks.contains_key(&addr) {
                self.why.insert(addr.clone(), "subscribing".into());
                let node = ValkeyNode { host, port, tls: self.seed.tls };
                self.tasks.insert(addr, tokio::spawn(watch_node(node, self.patterns.clone(), self.events.clone())));
            }
        }
    }

    /// A node went up or down.
    fn report(&mut self, ev: NodeEvent) {
        match ev {
            NodeEvent::Up(addr) => {
                self.why.remove(&addr);
                self.up.insert(addr);
            }
            NodeEvent::Down(addr, reason) => {
                self.up.remove(&addr);
                self.why.insert(addr, reason);
            }
            NodeEvent::Key(_) => {}
        }
    }

    /// Why some writes may go unnoticed now; `None` when every node is up.
    fn hole(&self) -> Option<String> {
        self.topology_error.clone().or_else(|| {
            let mut missing: Vec<String> = self
                .tasks
                .keys()
                .filter(|a| !self.up.contains(*a))
                .map(|a| format!("{a}: {}", self.why.get(a).map_or("down", String::as_str)))
                .collect();
            missing.sort();
            (!missing.is_empty()).then(|| missing.join("; "))
        })
    }
}

/// The primaries of a cluster, from `CLUSTER SLOTS` (`[start, end,
/// [host, port, id…], replicas…]` per range).
async fn cluster_primaries(client: &Client) -> Result<Vec<(String, u16)>, StoreError> {
    let v: Value = client.cmd("CLUSTER").arg("SLOTS").execute().await.map_err(StoreError::at(Store::Live, "CLUSTER SLOTS"))?;
    let ranges = match v {
        Value::Array(a) => a,
        _ => return Err(StoreError::invalid(Store::Live, "CLUSTER SLOTS", "unexpected reply")),
    };
    let mut out: Vec<(String, u16)> = Vec::new();
    for range in ranges.into_iter().flatten() {
        let Value::Array(parts) = range else { continue };
        let Some(Ok(Value::Array(primary))) = parts.get(2) else { continue };
        let host = match primary.first() {
            Some(Ok(Value::BulkString(b))) => String::from_utf8_lossy(b).into_owned(),
            Some(Ok(Value::SimpleString(s))) => s.clone(),
            _ => continue,
        };
        let port = match primary.get(1) {
            Some(Ok(Value::Int(p))) => *p as u16,
            _ => continue,
        };
        if !out.contains(&(host.clone(), port)) {
            out.push((host, port));
        }
    }
    if out.is_empty() {
        return Err(StoreError::invalid(Store::Live, "CLUSTER SLOTS", "no primary covers any slot"));
    }
    Ok(out)
}

/// Keep one node subscribed: reconnect with backoff, report up and down.
async fn watch_node(node: ValkeyNode, patterns: Vec<&'static str>, tx: mpsc::UnboundedSender<NodeEvent>) {
    let addr = format!("{}:{}", node.host, node.port);
    let mut wait = Duration::from_millis(250);
    loop {
        let (reason, was_up) = node_session(&node, &addr, &patterns, &tx).await;
        if tx.send(NodeEvent::Down(addr.clone(), reason)).is_err() {
            return;
        }
        if was_up {
            wait = Duration::from_millis(250);
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(CONFIG_EVERY);
    }
}

/// One subscription on one node, until it fails: the reason and whether
/// it was up before.
async fn node_session(
    node: &ValkeyNode,
    addr: &str,
    patterns: &[&'static str],
    tx: &mpsc::UnboundedSender<NodeEvent>,
) -> (String, bool) {
    let (push_tx, mut pushes) = mpsc::unbounded_channel();
    let mut builder = ClientBuilder::new()
        .host(&node.host, node.port)
        .protocol(ProtocolVersion::RESP3)
        .push_sender(push_tx)
        .connect_timeout(NODE_DEADLINE)
        .request_timeout(NODE_DEADLINE);
    if node.tls {
        builder = builder.tls();
    }
    let client = match tokio::time::timeout(NODE_DEADLINE, builder.build()).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return (format!("connect: {e}"), false),
        Err(_) => return (format!("connect: no answer within {NODE_DEADLINE:?}"), false),
    };
    if let Some(hole) = config_hole(&client).await {
        return (hole, false);
    }
    let mut cmd = client.cmd("PSUBSCRIBE");
    for p in patterns {
        cmd = cmd.arg(*p);
    }
    if let Err(e) = cmd.execute::<Value>().await {
        return (format!("PSUBSCRIBE: {e}"), false);
    }
    // Up once the server confirmed every pattern.
    let mut pending: HashSet<&str> = patterns.iter().copied().collect();
    let confirmed = tokio::time::timeout(NODE_DEADLINE, async {
        while !pending.is_empty() {
            let push = pushes.recv().await?;
            if push.kind == PushKind::PSubscribe {
                if let Some(Value::BulkString(p)) = push.data.first() {
                    pending.remove(String::from_utf8_lossy(p).as_ref());
                }
            }
        }
        Some(())
    })
    .await;
    if !matches!(confirmed, Ok(Some(()))) {
        return (format!("PSUBSCRIBE not confirmed within {NODE_DEADLINE:?}"), false);
    }
    if tx.send(NodeEvent::Up(addr.to_owned())).is_err() {
        return ("board stopping".into(), true);
    }
    let mut check = tokio::time::interval_at(tokio::time::Instant::now() + CONFIG_EVERY, CONFIG_EVERY);
    loop {
        tokio::select! {
            push = pushes.recv() => match push {
                Some(p) if p.kind == PushKind::Disconnection => return ("connection lost".into(), true),
                Some(p) => {
                    if let Some(key) = written_key(&p) {
                        if tx.send(NodeEvent::Key(key)).is_err() {
                            return ("board stopping".into(), true);
                        }
                    }
                }
                None => return ("connection closed".into(), true),
            },
            _ = check.tick() => {
                if let Some(hole) = config_hole(&client).await {
                    return (hole, true);
                }
            }
        }
    }
}

/// What to do when the node does not publish stream writes on the
/// keyspace channel (or its setting cannot be read); `None` when it does.
async fn config_hole(client: &Client) -> Option<String> {
    match notify_flags(client).await {
        Ok(flags) if flags_cover_streams(&flags) => None,
        Ok(flags) => Some(format!(
            "notify-keyspace-events is {flags:?}: set it to include K and t (e.g. \"Kt\") for live updates without polling"
        )),
        Err(e) => Some(e.to_string()),
    }
}

/// The node's `notify-keyspace-events` setting.
async fn notify_flags(client: &Client) -> Result<String, StoreError> {
    const OP: &str = "CONFIG GET notify-keyspace-events";
    let read = client.cmd("CONFIG").arg("GET").arg("notify-keyspace-events").execute::<Value>();
    let v = tokio::time::timeout(NODE_DEADLINE, read)
        .await
        .map_err(|_| StoreError::timeout(Store::Live, OP, NODE_DEADLINE))?
        .map_err(StoreError::at(Store::Live, OP))?;
    let flags = match &v {
        Value::Map(m) => m.first().map(|(_, v)| v.clone()),
        Value::Array(a) => a.get(1).and_then(|r| r.as_ref().ok()).cloned(),
        _ => None,
    };
    Ok(match flags {
        Some(Value::BulkString(b)) => String::from_utf8_lossy(&b).into_owned(),
        Some(Value::SimpleString(s)) => s,
        _ => String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        assert!(flags_cover_streams("Kt"));
        assert!(flags_cover_streams("KEA"));
        assert!(flags_cover_streams("tK"));
        assert!(!flags_cover_streams(""));
        assert!(!flags_cover_streams("Et"), "keyevent only: the key is not in the channel the board subscribes to");
        assert!(!flags_cover_streams("Kg"));
    }

    #[test]
    fn keys_from_keyspace_messages() {
        let b = |s: &str| Value::BulkString(s.as_bytes().to_vec().into());
        let msg = |event: &str| PushInfo {
            kind: PushKind::PMessage,
            data: vec![b(LEASE_PATTERN), b("__keyspace@0__:ff:exec:{fp:3}:{fp:3}:abc:lease:history"), b(event)],
        };
        assert_eq!(written_key(&msg("xadd")).as_deref(), Some("ff:exec:{fp:3}:{fp:3}:abc:lease:history"));
        assert_eq!(written_key(&msg("del")), None);
        let confirm = PushInfo { kind: PushKind::PSubscribe, data: vec![b(LEASE_PATTERN), Value::Int(1)] };
        assert_eq!(written_key(&confirm), None);
    }
}
