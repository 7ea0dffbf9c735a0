//! Valkey's live readers: which source each stream family reads, started
//! by [`spawn`].
//!
//! - **Completions** ([`completions`], here): the trait's
//!   `subscribe_completion`, a RESP3 SUBSCRIBE on `ff:dag:completions` that
//!   the Lua PUBLISHes to (for flow members only: a standalone execution's
//!   completion is never published in 0.15; the payload has no time, so
//!   `at` is the receipt time). Pubsub is at most once, and the trait hides
//!   its connection: it returns before the SUBSCRIBE is sent, and ferriskey
//!   resubscribes by itself after a reconnect without telling anyone. So
//!   the reader probes the server every [`PROBE`] (`INFO server`:
//!   reachable, same `run_id`; `PING` on a cluster); on a failed probe or a
//!   restarted server it drops the subscription (status `Reconnecting`),
//!   and once the server answers again it subscribes anew, waits until
//!   `PUBSUB NUMSUB ff:dag:completions` shows one more subscriber (at most
//!   2 s), and emits `Resync { stream: "completion" }`. It does so at the
//!   first subscription too: completions published before it was in place
//!   were not received. Cost: 1 command/s.
//! - **Lease history** ([`super::leases`]): the per-execution lease streams,
//!   followed through keyspace notifications ([`super::notify`]) where the
//!   server publishes them, polled from the partition indexes otherwise.
//! - **Signal deliveries** ([`super::signals`]): the 256 per-partition
//!   delivery streams, by one blocking XREAD on a standalone server, by
//!   keyspace notifications (or polling) on a cluster.
//!
//! Lease and signal readers keep their positions across a reconnect; if the
//! server's `run_id` changed meanwhile (restart: what it had not persisted
//! is gone) they emit `Resync` ([`Server::start`]).
use std::time::{Duration, Instant};

use ferriskey::{Client, Value};
use ff_core::backend::ScannerFilter;
use ff_core::stream_subscribe::StreamCursor;
use futures::StreamExt;

use super::reply::{number, pairs, server_id};
use super::{leases, notify, signals};
use crate::connect::Connected;
use crate::live::completion_event;
use crate::live::{supervise, Backoff, Feed, SourceEvent};
use crate::store_error::StoreError;

/// Probe interval of the completion reader.
pub(crate) const PROBE: Duration = Duration::from_secs(1);
const COMPLETION_CHANNEL: &str = "ff:dag:completions";

/// Start Valkey's three readers (and the keyspace watcher they share).
/// Each runs supervised (`crate::live::supervise`); a lease or signal
/// reader started again after a panic has lost its notification channel
/// and polls, saying so.
pub(crate) fn spawn(
    c: Connected,
    client: Client,
    feed: impl Fn(&'static str) -> Feed + Clone + Send + 'static,
    status: &crate::live::StatusTx,
) {
    let watch = c.valkey_seed.clone().map(|seed| notify::spawn(client.clone(), seed));
    let (mut lease_notices, mut signal_notices) = match watch {
        Some(w) => (Some(w.leases), Some(w.signals)),
        None => (None, None),
    };
    let (c1, k1, f1) = (c.clone(), client.clone(), feed.clone());
    supervise("completion", status, move |_| completions(c1.clone(), k1.clone(), f1("completion")));
    let (c2, k2, f2) = (c.clone(), client.clone(), feed.clone());
    supervise("lease", status, move |_| leases::leases(c2.clone(), k2.clone(), f2("lease"), lease_notices.take()));
    supervise("signal", status, move |_| signals::signals(c.clone(), client.clone(), feed("signal"), signal_notices.take()));
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
            Err(e) if backoff.retry(&feed, format!("valkey unreachable: {e}")).await => continue,
            Err(_) => return,
        };
        let before = subscribers(&client).await.unwrap_or(0);
        let mut sub = match c.backend.subscribe_completion(StreamCursor::empty(), &ScannerFilter::NOOP).await {
            Ok(s) => s,
            Err(e) if backoff.retry(&feed, format!("subscribe: {e}")).await => continue,
            Err(_) => return,
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
        if !backoff.retry(&feed, error).await {
            return;
        }
    }
}

/// The server a lease or signal reader reads, as its sessions see it.
pub(super) struct Server {
    pub client: Client,
    /// The server's `run_id` at the last session (`None` before the first).
    run_id: Option<Option<String>>,
}

impl Server {
    pub fn new(client: Client) -> Self {
        Server { client, run_id: None }
    }

    /// At the start of a session: whether the store is a cluster, after a
    /// `Resync` of `what` if the server restarted since the last session
    /// (or cannot tell); `None` when the consumer is gone.
    pub async fn start(&mut self, feed: &mut Feed, what: &str) -> Result<Option<bool>, StoreError> {
        let cluster = self.client.is_cluster().await;
        let now = server_id(&self.client, cluster).await?;
        let restarted = match &self.run_id {
            None => false,
            Some(before) => before.is_none() || *before != now,
        };
        self.run_id = Some(now);
        let reason = format!("valkey restarted (or cannot tell): {what} it had not persisted are lost");
        if restarted && !feed.resync(reason).await {
            return Ok(None);
        }
        Ok(Some(cluster))
    }
}
