//! The WebSocket end to end: a real board (engine readers → bus → `/ws`)
//! over real backends, and tokio-tungstenite clients. Completions of a
//! flow reach a client subscribed to that flow; a client that drops and
//! comes back with `after` misses nothing (consecutive `seq`); lease events
//! of partitions other than 0 arrive; a stalled client gets `resync` while
//! another keeps receiving.
use std::time::Duration;

use ff_board::live::bus::Bus;
use ff_board_app::live::{Frame, LiveEvent};
use ff_board_engine::live::StreamState;
use ff_board_engine::{demo, BackendSpec, Engine};
use ff_board_engine::connect::{BackendKind, Connected};
use ff_board_tests::board::serve_ws;
use ff_board_tests::matrix::Store;
use ff_board_tests::{connect, matrix, sqlite_path, Valkey, ValkeyCluster};
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The board over a fresh connection to `url`, with its live pump; the
/// connection and the URL of its `/ws`.
async fn serve_url(url: &str) -> (Connected, String) {
    let c = connect(url).await;
    let engine = Engine::from_connected(BackendSpec::parse(Some(url)).unwrap(), c.clone());
    (c, serve_ws(engine, None).await)
}

async fn subscribe(url: &str, msg: serde_json::Value) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws connect");
    ws.send(Message::Text(msg.to_string().into())).await.unwrap();
    ws
}

/// Next event frame (engine-reader state frames skipped), or None on timeout.
async fn next(ws: &mut Ws, wait: Duration) -> Option<Frame> {
    loop {
        let msg = tokio::time::timeout(wait, ws.next()).await.ok()??.ok()?;
        if let Message::Text(t) = msg {
            let f: Frame = serde_json::from_str(&t).unwrap_or_else(|e| panic!("bad frame {t}: {e}"));
            if !matches!(f.event, LiveEvent::Streams { .. }) {
                return Some(f);
            }
        }
    }
}

/// The engine readers' states as a new subscriber is told them, asked
/// again until all say `live` or `timeout` passes; the last answer.
async fn streams_until_live(ws_url: &str, timeout: Duration) -> Vec<(String, StreamState)> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut streams = Vec::new();
    while tokio::time::Instant::now() < deadline {
        let mut ws = subscribe(ws_url, serde_json::json!({"type": "subscribe", "topics": ["all"]})).await;
        let wait = tokio::time::sleep(Duration::from_secs(1));
        tokio::pin!(wait);
        loop {
            tokio::select! {
                _ = &mut wait => break,
                msg = ws.next() => match msg {
                    Some(Ok(Message::Text(t))) => {
                        if let Ok(Frame { event: LiveEvent::Streams { streams: s, .. }, .. }) = serde_json::from_str::<Frame>(&t) {
                            streams = s;
                        }
                    }
                    _ => break,
                },
            }
        }
        if streams.len() == 3 && streams.iter().all(|(_, s)| *s == StreamState::Live) {
            break;
        }
    }
    streams
}

/// Collect frames until `quiet` passes without one.
async fn drain(ws: &mut Ws, quiet: Duration) -> Vec<Frame> {
    let mut out = vec![];
    while let Some(f) = next(ws, quiet).await {
        out.push(f);
    }
    out
}

/// Completions of a flow reach a client subscribed to it with consecutive
/// `seq`; lease events of partitions other than 0 arrive (where there are
/// others: not SQLite); on the SQL backends a client that drops and comes
/// back with `after` misses nothing.
async fn events_reach_subscribers_in_order(s: Store) {
    let (c, ws_url) = serve_url(&s.url).await;
    let resume = c.kind != BackendKind::Valkey;
    let other_partitions = c.kind != BackendKind::Sqlite;
    // Let the readers subscribe before the work starts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut all = subscribe(&ws_url, serde_json::json!({"type": "subscribe", "topics": ["all"]})).await;
    let report = demo::seed(&c).await.expect("seed");
    let frames = drain(&mut all, Duration::from_secs(8)).await;
    let completions: Vec<&Frame> = frames.iter().filter(|f| matches!(f.event, LiveEvent::Completion { .. })).collect();
    assert!(!completions.is_empty(), "completion frames arrive ({} frames)", frames.len());
    // Every completion of the seeded flows carries its flow id.
    let flow = report.flow_ids[0].to_string();
    assert!(completions.iter().any(|f| f.event.flow_id() == Some(flow.as_str())), "a completion of flow {flow}");
    if other_partitions {
        assert!(
            frames.iter().any(|f| matches!(f.event, LiveEvent::Lease { .. })
                && f.event.execution_id().is_some_and(|e| !e.starts_with("{fp:0}:"))),
            "lease events from partitions other than 0"
        );
    }
    // Status frames are outside the sequence (seq 0); every event frame of
    // an `all` subscriber is the previous + 1 (a resync would say why not).
    let events: Vec<&Frame> = frames.iter().filter(|f| !matches!(f.event, LiveEvent::Streams { .. })).collect();
    assert!(frames.iter().filter(|f| matches!(f.event, LiveEvent::Streams { .. })).all(|f| f.seq == 0), "status frames carry seq 0");
    assert!(!events.iter().any(|f| matches!(f.event, LiveEvent::Resync { .. })), "no resync on a keeping-up client");
    for w in events.windows(2) {
        assert_eq!(w[1].seq, w[0].seq + 1, "consecutive seq");
    }
    if resume {
        let last = (*events.last().expect("event frames")).clone();
        drop(all);
        // More work while the client is away.
        ff_board_tests::cancel_some(&c, &report.flow_ids[1..3]).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mut back = subscribe(&ws_url, serde_json::json!({"type": "subscribe", "topics": ["all"], "after": last.seq, "epoch": last.epoch})).await;
        let missed: Vec<Frame> =
            drain(&mut back, Duration::from_secs(5)).await.into_iter().filter(|f| !matches!(f.event, LiveEvent::Streams { .. })).collect();
        assert!(!missed.is_empty(), "events produced while away are replayed");
        assert!(!missed.iter().any(|f| matches!(f.event, LiveEvent::Resync { .. })), "no resync within the replay window");
        let seqs: Vec<u64> = missed.iter().map(|f| f.seq).collect();
        let want: Vec<u64> = (last.seq + 1..=last.seq + seqs.len() as u64).collect();
        assert_eq!(seqs, want, "exactly the missed frames, in order, none lost");
    }
}

matrix!(events_reach_subscribers_in_order);

/// A client that stops reading gets `resync` once it falls behind; a
/// second client on the same bus keeps receiving every frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_client_gets_resync_others_keep_up() {
    ff_board_tests::dev_mode();
    let c = connect(&format!("sqlite:{}", sqlite_path())).await;
    let engine = Engine::from_connected(BackendSpec::parse(Some("sqlite:/unused")).unwrap(), c);
    let bus = Bus::new();
    let url = serve_ws(engine, Some(bus.clone())).await;
    let mut stalled = subscribe(&url, serde_json::json!({"type": "subscribe", "topics": ["all"]})).await;
    let mut fast = subscribe(&url, serde_json::json!({"type": "subscribe", "topics": ["all"]})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Eight times the fan-out buffer: the stalled client must overflow.
    let total = 8 * ff_board::live::bus::FANOUT as u64;
    let reader = tokio::spawn(async move {
        let mut seen = 0u64;
        let mut resynced = false;
        while seen < total {
            match next(&mut fast, Duration::from_secs(10)).await {
                Some(f) if matches!(f.event, LiveEvent::Resync { .. }) => resynced = true,
                // The position frame a subscription starts with is no event.
                Some(f) if matches!(f.event, LiveEvent::Streams { .. }) => {}
                Some(_) => seen += 1,
                None => break,
            }
        }
        (seen, resynced)
    });
    // Big frames: the stalled socket's kernel buffers fill fast, so the
    // server side must lag (and resync it) well before the run ends.
    let pad = "x".repeat(4000);
    for i in 0..total {
        bus.publish(i as i64, LiveEvent::Completion { execution_id: format!("{{fp:0}}:{i}"), flow_id: Some(pad.clone()), outcome: "success".into() });
        // Paced like a busy engine (~2k events/s, what a 2-core CI box
        // keeps up with while other tests run), not a tight loop.
        if i % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let (seen, resynced) = reader.await.unwrap();
    assert_eq!(seen, total, "the reading client got every frame");
    assert!(!resynced, "and never needed a resync");
    let mut got_resync = false;
    while let Some(f) = next(&mut stalled, Duration::from_secs(5)).await {
        if let LiveEvent::Resync { missed, .. } = f.event {
            assert!(missed.unwrap_or(0) > 0);
            got_resync = true;
            break;
        }
    }
    assert!(got_resync, "the stalled client was told to resync");
}

/// An idle board on Valkey costs almost nothing while no browser is
/// subscribed (the lease tail, ~520 commands/s, runs only while someone
/// watches), and polls again as soon as one subscribes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_idle_board_polls_only_while_watched() {
    let v = Valkey::start();
    let (_c, ws_url) = serve_url(&v.url()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let per_sec = |a: u64, b: u64, secs: u64| (b - a) as f64 / secs as f64;
    let a = ff_board_tests::count::valkey_calls(v.port).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = per_sec(a, ff_board_tests::count::valkey_calls(v.port).await, 3);
    let _ws = subscribe(&ws_url, serde_json::json!({"type": "subscribe", "topics": ["all"]})).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let a = ff_board_tests::count::valkey_calls(v.port).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let watched = per_sec(a, ff_board_tests::count::valkey_calls(v.port).await, 3);
    println!("valkey commands/s: idle {idle:.1}, one browser subscribed {watched:.1}");
    assert!(idle <= 20.0, "an idle board costs {idle:.1} commands/s");
    assert!(watched > 5.0 * idle.max(1.0), "the lease tail polls while a browser watches ({watched:.1}/s)");
}

/// With keyspace notifications on, a board with a browser subscribed costs
/// almost nothing while the store is idle (no lease polling), and its
/// streams say `live`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_notified_board_is_cheap_while_watched() {
    let v = Valkey::start_notifying();
    let (_c, ws_url) = serve_url(&v.url()).await;
    let _ws = subscribe(&ws_url, serde_json::json!({"type": "subscribe", "topics": ["all"]})).await;
    let streams = streams_until_live(&ws_url, Duration::from_secs(20)).await;
    assert!(streams.iter().all(|(_, s)| *s == StreamState::Live), "{streams:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let a = ff_board_tests::count::valkey_calls(v.port).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let watched = (ff_board_tests::count::valkey_calls(v.port).await - a) as f64 / 5.0;
    println!("valkey commands/s with one browser subscribed, notifications on: {watched:.1}");
    assert!(watched <= 20.0, "a watched idle board costs {watched:.1} commands/s");
}

/// A cluster primary killed and brought back while a browser watches: the
/// live stream tells the browser to resync (events may have been missed)
/// rather than going quiet, and events flow again afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_cluster_failover_resyncs_live_streams() {
    let mut cluster = ValkeyCluster::start();
    let (c, ws_url) = serve_url(&cluster.url()).await;
    let mut all = subscribe(&ws_url, serde_json::json!({"type": "subscribe", "topics": ["all"]})).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.kill(2);
    tokio::time::sleep(Duration::from_secs(3)).await;
    cluster.restart(2);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    let mut resynced = false;
    while !resynced && tokio::time::Instant::now() < deadline {
        if let Some(f) = next(&mut all, Duration::from_secs(2)).await {
            resynced = matches!(f.event, LiveEvent::Resync { .. });
        }
    }
    assert!(resynced, "a resync frame after the primary came back");
    // Every shard answers again (the harness's primaries persist every write).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        c.reads.invalidate();
        // Both clients: the board's reads and the engine backend's own.
        if c.reads.flows(&Default::default(), None, 1).await.is_ok() && demo::ensure_waitpoint_secret(&c).await.is_ok() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the cluster answers again");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    ff_board_tests::seed::seed_units(&c, 4).await;
    let frames = drain(&mut all, Duration::from_secs(6)).await;
    assert!(
        frames.iter().any(|f| matches!(f.event, LiveEvent::Lease { .. } | LiveEvent::Completion { .. })),
        "events flow again after the failover ({} frames)",
        frames.len()
    );
    // The keyspace watcher subscribed on the restarted primary again: no stream polls.
    let streams = streams_until_live(&ws_url, Duration::from_secs(30)).await;
    assert!(streams.iter().all(|(_, s)| *s == StreamState::Live), "after the failover: {streams:?}");
}
