//! Load test (prints figures; asserts nothing): the hardening issue's
//! load, run against the release binary as a separate process (the
//! embedded demo on SQLite, its workload running), for `LOAD_SECS` (60):
//! - 500 live sockets, from five loopback addresses (the per-address cap
//!   is 200), each subscribed to every event and reading its frames;
//! - 50 page requests a second (`/`, `/flows`, `/executions`, `/approvals`);
//! - a sign-in flood: 100 wrong passwords a second from 250 addresses,
//!   each hung up after 50 ms (issue 22's attack 1: hashing that outlived
//!   its client once took the board to 11.9 GB).
//!
//! Prints page p50 / p99 / max and non-200 answers, sign-in answers by
//! status, the board's resident memory and threads (max, sampled each
//! second from /proc), sockets still open at the end and frames they got,
//! and how long SIGTERM took to stop it.
//!
//! `make build`, then `cargo run --profile server-release -p ff-board-tests --example load_bench`
//! (`FF_BOARD_BIN` for another binary, `LOAD_SECS` for another length).
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};

const SOCKETS: usize = 500;
const PAGES_PER_S: u64 = 50;
const SIGN_INS_PER_S: u64 = 100;

fn status_of(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |k: &str| text.lines().find(|l| l.starts_with(k)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0);
    (field("VmRSS:"), field("Threads:"))
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("LOAD_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{}/.cache/ffb-target", std::env::var("HOME").unwrap_or_default()));
    let bin = std::env::var("FF_BOARD_BIN").unwrap_or_else(|_| format!("{target}/server-release/ff-board"));
    let site = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site");
    let dir = std::env::temp_dir().join(format!("ffb-load-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = ff_board_tests::free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(&bin)
        .current_dir(&dir)
        .env("FF_BOARD_ADDR", &addr)
        .env("LEPTOS_SITE_ADDR", &addr)
        .env("LEPTOS_OUTPUT_NAME", "ff-board")
        .env("LEPTOS_SITE_ROOT", &site)
        .env("LEPTOS_SITE_PKG_DIR", "pkg")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{bin}: {e} (run `make build` first)"));
    let pid = child.id();
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    for _ in 0..240 {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (rss0, threads0) = status_of(pid);
    println!("board pid {pid} on {base}: {} MB resident, {threads0} threads before the load; {secs} s of load", rss0 / 1024);
    let stop = Arc::new(AtomicBool::new(false));

    // Live sockets.
    let open = Arc::new(AtomicU64::new(0));
    let frames = Arc::new(AtomicU64::new(0));
    let refused_ws = Arc::new(AtomicU64::new(0));
    let closes: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    for i in 0..SOCKETS {
        let (open, frames, refused, stop, closes) = (open.clone(), frames.clone(), refused_ws.clone(), stop.clone(), closes.clone());
        let local: std::net::IpAddr = format!("127.0.0.{}", 2 + i % 5).parse().unwrap();
        let url = format!("ws://{addr}/ws");
        let addr = addr.clone();
        tokio::spawn(async move {
            let sock = tokio::net::TcpSocket::new_v4().unwrap();
            sock.bind((local, 0).into()).unwrap();
            let Ok(tcp) = sock.connect(addr.parse().unwrap()).await else {
                refused.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let Ok((mut ws, _)) = tokio_tungstenite::client_async(url, tcp).await else {
                refused.fetch_add(1, Ordering::Relaxed);
                return;
            };
            // As the browser does: every event, within the 10 s the board waits for it.
            let subscribe = tokio_tungstenite::tungstenite::Message::Text(r#"{"type":"subscribe","topics":["all"]}"#.into());
            if ws.send(subscribe).await.is_err() {
                refused.fetch_add(1, Ordering::Relaxed);
                return;
            }
            open.fetch_add(1, Ordering::Relaxed);
            while !stop.load(Ordering::Relaxed) {
                match tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
                    Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(why)))) => {
                        *closes.lock().unwrap().entry(why.map_or("no reason".into(), |f| format!("{} {}", f.code, f.reason))).or_default() += 1;
                        break;
                    }
                    Ok(Some(Ok(_))) => {
                        frames.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(other) => {
                        *closes.lock().unwrap().entry(format!("{other:?}").chars().take(80).collect()).or_default() += 1;
                        break;
                    }
                    Err(_) => {}
                }
            }
            open.fetch_sub(1, Ordering::Relaxed);
        });
        if i % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!("live sockets open after connecting: {} of {SOCKETS} ({} refused)", open.load(Ordering::Relaxed), refused_ws.load(Ordering::Relaxed));

    // Pages and sign-ins, paced.
    let pages: Arc<Mutex<Vec<f64>>> = Arc::default();
    let page_errors = Arc::new(AtomicU64::new(0));
    let sign_ins: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let started = Instant::now();
    let mut page_tick = tokio::time::interval(Duration::from_micros(1_000_000 / PAGES_PER_S));
    let mut sign_in_tick = tokio::time::interval(Duration::from_micros(1_000_000 / SIGN_INS_PER_S));
    let mut sample_tick = tokio::time::interval(Duration::from_secs(1));
    let (mut max_rss, mut max_threads, mut n_page, mut n_sign_in) = (rss0, threads0, 0usize, 0usize);
    const VIEWS: [&str; 4] = ["/", "/flows", "/executions", "/approvals"];
    while started.elapsed() < Duration::from_secs(secs) {
        tokio::select! {
            _ = page_tick.tick() => {
                let (http, pages, errors) = (http.clone(), pages.clone(), page_errors.clone());
                let url = format!("{base}{}", VIEWS[n_page % VIEWS.len()]);
                n_page += 1;
                tokio::spawn(async move {
                    let t = Instant::now();
                    match http.get(url).timeout(Duration::from_secs(10)).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            pages.lock().unwrap().push(t.elapsed().as_secs_f64() * 1000.0);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
            _ = sign_in_tick.tick() => {
                let local: std::net::IpAddr = format!("127.0.1.{}", 2 + n_sign_in % 250).parse().unwrap();
                n_sign_in += 1;
                let (sign_ins, base) = (sign_ins.clone(), base.clone());
                tokio::spawn(async move {
                    let client = reqwest::Client::builder().local_address(local).build().unwrap();
                    let r = client
                        .post(format!("{base}/api/login"))
                        .form(&[("username", "alice"), ("password", "wrong")])
                        .timeout(Duration::from_millis(50))
                        .send()
                        .await;
                    let key = match r {
                        Ok(r) => r.status().as_u16().to_string(),
                        Err(e) if e.is_timeout() => "hung up after 50 ms".into(),
                        Err(_) => "connection error".into(),
                    };
                    *sign_ins.lock().unwrap().entry(key).or_default() += 1;
                });
            }
            _ = sample_tick.tick() => {
                let (rss, threads) = status_of(pid);
                max_rss = max_rss.max(rss);
                max_threads = max_threads.max(threads);
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss_end, threads_end) = status_of(pid);
    let mut p = pages.lock().unwrap().clone();
    println!();
    println!("| figure | value |");
    println!("|---|---|");
    println!("| page requests | {} ({} not 200 within 10 s) |", n_page, page_errors.load(Ordering::Relaxed));
    println!("| page p50 / p99 / max ms | {:.1} / {:.1} / {:.1} |", pct(&mut p, 0.5), pct(&mut p, 0.99), pct(&mut p, 1.0));
    let answers: Vec<String> = sign_ins.lock().unwrap().iter().map(|(k, v)| format!("{k}: {v}")).collect();
    println!("| sign-in attempts | {n_sign_in} ({}) |", answers.join(", "));
    println!("| resident memory MB: before / max / after | {} / {} / {} |", rss0 / 1024, max_rss / 1024, rss_end / 1024);
    println!("| threads: before / max / after | {threads0} / {max_threads} / {threads_end} |");
    let closed: Vec<String> = closes.lock().unwrap().iter().map(|(k, v)| format!("{k}: {v}")).collect();
    println!(
        "| live sockets open at the end | {} of {SOCKETS}, {} frames received; closed by the board: {} |",
        open.load(Ordering::Relaxed),
        frames.load(Ordering::Relaxed),
        if closed.is_empty() { "none".into() } else { closed.join(", ") }
    );
    stop.store(true, Ordering::Relaxed);
    let t = Instant::now();
    // SIGTERM, as Kubernetes stops a pod.
    let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    let mut stopped = false;
    for _ in 0..300 {
        if child.try_wait().ok().flatten().is_some() {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if stopped {
        println!("| SIGTERM to exit | {:.1} s |", t.elapsed().as_secs_f64());
    } else {
        println!("| SIGTERM to exit | still running after 30 s (killed) |");
        let _ = child.kill();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
