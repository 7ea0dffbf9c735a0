//! Page benchmark (prints figures; asserts nothing): what each list view
//! costs at two store sizes, and what 100 tabs cost against one.
//!
//! For each backend (Valkey, Postgres) and each size (default 1,000 then
//! 10,000 flows × 10 members, about 1 suspended execution per 10 flows):
//! 1. seeds the store through the trait (`ff_board_tests::seed`);
//! 2. per view: p50 / p99 of the HTTP page over [`RUNS`] uncached GETs, the
//!    store commands (Valkey `INFO commandstats`) or queries (Postgres,
//!    counted by a wire proxy) one view costs, and the raw trait call
//!    `describe_flow` of one flow in the same run as the yardstick;
//! 3. the 10k/1k growth of both, for every list and every term of the
//!    query language;
//! 4. tabs: 1 and then 100 simulated tabs refetching `/flows` once a
//!    second each (the most the board's client refetches, however many
//!    events arrive), store commands or queries per second.
//!
//! `make bench`, or `cargo run --release -p ff-board-tests --example page_bench`;
//! `BENCH_FLOWS=1000,10000` and `BENCH_BACKENDS=valkey,postgres` choose
//! (`cluster`: a 3-primary Valkey cluster, commands summed over its
//! primaries; `sqlite`: times only, its queries run in-process, uncounted);
//! `BENCH_TEMPLATES=1000` seeds Postgres with that many flows through the
//! trait and copies them in bulk SQL up to each size (1M executions in
//! minutes, where the trait takes hours: `ff_board_tests::replicate`).
use std::time::{Duration, Instant};

use ff_board_tests::board::Board;
use ff_board_tests::count::{valkey_calls, PgCounter};
use ff_board_tests::replicate::{check_sample, Templates};
use ff_board_tests::seed::{seed, Mix};
use ff_board_tests::{connect, fresh_postgres, Valkey, ValkeyCluster};

const VIEWS: [&str; 21] = [
    "/",
    "/flows",
    "/flows?state=active",
    "/executions",
    "/executions?state=waiting",
    "/executions?state=suspended",
    "/executions?state=completed",
    "/approvals",
    "/leases",
    // The query language (`docs/SEARCH.md`), a term at a time: a rare tag
    // (one flow's members however large the store), a common one, and the
    // terms the board's own Valkey index answers (`kind:`, `tag:`).
    "/executions?q=tag%3Ashop.order_id%3DA-7",
    "/executions?q=tag%3Ashop.region%3Deu",
    "/executions?q=tag%3Ashop.order_id",
    "/executions?q=kind%3Astep-1",
    "/executions?q=kind%3Astep*",
    "/executions?q=state%3Afailed",
    "/executions?q=created%3A%3C1h",
    "/executions?q=attempts%3A%3E0",
    "/executions?q=blocked%3Aapproval",
    "/executions?q=-state%3Acompleted%20lane%3Ascale-a",
    "/flows?q=flowkind%3Ascale%20state%3Aopen",
    "/approvals?q=kind%3Astep-1",
];
const RUNS: usize = 20;
const MIX: Mix = Mix { members: 10, complete: 3.0, suspend: 0.1, active: 0.05 };

fn pct(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// How the store's work is counted.
enum Counter {
    /// Every primary's port (one for standalone).
    Valkey(Vec<u16>),
    Postgres(PgCounter),
    /// SQLite runs in the board's process: no wire to count on (its
    /// pages are one query each, `tests/tests/scale.rs`).
    Uncounted,
}

impl Counter {
    async fn now(&self) -> u64 {
        match self {
            Counter::Valkey(ports) => {
                let mut n = 0;
                for &port in ports {
                    n += valkey_calls(port).await;
                }
                n
            }
            Counter::Postgres(p) => p.queries(),
            Counter::Uncounted => 0,
        }
    }
}

/// One view's figures at one size.
struct Row {
    p50: f64,
    p99: f64,
    cost: u64,
}

async fn measure(b: &Board, c: &ff_board_engine::connect::Connected, counter: &Counter) -> (Vec<Row>, f64) {
    let mut rows = Vec::new();
    for v in VIEWS {
        let before = counter.now().await;
        c.reads.invalidate();
        let (status, _) = b.get_status(v).await;
        assert_eq!(status, 200, "{v}");
        let cost = counter.now().await - before;
        let mut ms = Vec::new();
        for _ in 0..RUNS {
            c.reads.invalidate();
            let t = Instant::now();
            b.get_status(v).await;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        rows.push(Row { p50: pct(&ms, 0.5), p99: pct(&ms, 0.99), cost });
    }
    // The yardstick: one raw trait call, `describe_flow` of a listed flow.
    let flow = c.reads.flows(&Default::default(), None, 1).await.expect("a flow").rows.remove(0).id;
    let mut raw = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        c.backend.describe_flow(&flow).await.expect("describe_flow");
        raw.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (rows, pct(&raw, 0.5))
}

/// Store work per second while `tabs` tabs each refetch /flows once a second, for 5 s.
async fn tabs(b: &Board, counter: &Counter, tabs: usize) -> f64 {
    let before = counter.now().await;
    let t = Instant::now();
    let run = |i: usize| async move {
        // Tabs are spread over the second, as their timers are.
        tokio::time::sleep(Duration::from_millis((i * 1000 / tabs) as u64)).await;
        for _ in 0..5 {
            let start = Instant::now();
            b.get_status("/flows").await;
            tokio::time::sleep(Duration::from_secs(1).saturating_sub(start.elapsed())).await;
        }
    };
    futures::future::join_all((0..tabs).map(run)).await;
    (counter.now().await - before) as f64 / t.elapsed().as_secs_f64()
}

async fn bench(backend: &str, sizes: &[usize]) {
    // What runs the store: kept until the bench of this backend ends.
    let (_server, url, seed_url, counter): (Option<Box<dyn std::any::Any>>, _, _, _) = match backend {
        "valkey" => {
            let v = Valkey::start();
            let url = format!("valkey://127.0.0.1:{}", v.port);
            let port = v.port;
            (Some(Box::new(v)), url.clone(), url, Counter::Valkey(vec![port]))
        }
        "cluster" => {
            let cl = ValkeyCluster::start();
            let (url, ports) = (cl.url(), cl.nodes.iter().map(|n| n.port).collect());
            (Some(Box::new(cl)), url.clone(), url, Counter::Valkey(ports))
        }
        "sqlite" => {
            let url = format!("sqlite:{}", ff_board_tests::sqlite_path());
            (None, url.clone(), url, Counter::Uncounted)
        }
        _ => {
            let direct = fresh_postgres().await;
            let host = direct.split_once('@').map_or(direct.as_str(), |(_, r)| r).split('/').next().unwrap().to_owned();
            let proxy = PgCounter::start(&host).await;
            (None, proxy.url(&direct), direct, Counter::Postgres(proxy))
        }
    };
    let unit = match backend {
        "valkey" | "cluster" => "commands",
        "sqlite" => "queries (not counted)",
        _ => "queries",
    };
    let seeder = connect(&seed_url).await;
    let c = connect(&url).await;
    let b = Board::start_quiet(&url, &c).await;
    let mut have = 0;
    // Postgres with BENCH_TEMPLATES=N: N flows through the trait, every
    // larger size copied from them in bulk SQL (`ff_board_tests::replicate`).
    let mut templates = None;
    if let (Some(n), Counter::Postgres(_)) = (std::env::var("BENCH_TEMPLATES").ok().and_then(|n| n.parse::<usize>().ok()), &counter) {
        let s = seed(&seeder, n, MIX).await;
        println!("{backend}: seeded {} template flows ({} executions) through the trait in {:.0} s", s.flows, s.executions, s.secs);
        templates = Some(Templates::read(&seed_url).await);
        have = n;
    }
    let mut results: Vec<(usize, Vec<Row>, f64)> = Vec::new();
    for &size in sizes {
        if let Some(t) = templates.as_mut() {
            let r = t.grow_to(&seed_url, size).await;
            let read = check_sample(&seeder, &seed_url, 5).await;
            println!(
                "{backend}: copied {} flows ({} executions) in bulk SQL in {:.0} s; {read} copied executions read back through the trait",
                r.flows, r.executions, r.secs
            );
        } else {
            let s = seed(&seeder, size - have, MIX).await;
            have = size;
            println!(
                "{backend}: seeded {} flows ({} executions, {} suspended, {} active) in {:.0} s",
                s.flows, s.executions, s.suspended, s.active, s.secs
            );
        }
        // Valkey: the board's own index (`kind:`, `tag:`) is built by its
        // background walk; the bench walks it whole before measuring.
        let t = Instant::now();
        if let Counter::Valkey(ports) = &counter {
            // The walk's keys live on one primary: the others answer MOVED.
            ports.iter().for_each(|&port| ff_board_tests::walk_again(port));
        }
        ff_board_tests::walk_whole(&seeder).await;
        println!("{backend}: walked the store (lanes and search index) in {:.0} s", t.elapsed().as_secs_f64());
        let (rows, raw) = measure(&b, &c, &counter).await;
        results.push((size, rows, raw));
    }
    println!("\n### {backend}\n");
    print!("| view |");
    for (size, _, _) in &results {
        print!(" {size} flows p50 / p99 ms | {unit} / view |");
    }
    println!(" growth p50 | growth {unit} |");
    println!("|---|{}---|---|", "---|---|".repeat(results.len()));
    for (i, v) in VIEWS.iter().enumerate() {
        print!("| `{v}` |");
        for (_, rows, _) in &results {
            print!(" {:.1} / {:.1} | {} |", rows[i].p50, rows[i].p99, rows[i].cost);
        }
        let (first, last) = (&results[0].1[i], &results[results.len() - 1].1[i]);
        println!(" {:.2}× | {:.2}× |", last.p50 / first.p50, last.cost as f64 / first.cost.max(1) as f64);
    }
    for (size, rows, raw) in &results {
        let worst = rows.iter().map(|r| r.p50).fold(0.0, f64::max);
        println!("\nraw trait call `describe_flow` (one flow) at {size} flows: p50 {raw:.2} ms; slowest view p50 is {:.0}× that", worst / raw);
    }
    let one = tabs(&b, &counter, 1).await;
    let hundred = tabs(&b, &counter, 100).await;
    println!("\ntabs on /flows, refetching once a second each: 1 tab {one:.0} {unit}/s, 100 tabs {hundred:.0} {unit}/s ({:.2}× one tab)\n", hundred / one.max(1.0));
    // The goals of issue 8, checked against this run's figures (printed, not asserted).
    let (first, last) = (&results[0].1, &results[results.len() - 1].1);
    let worst_p99 = last.iter().map(|r| r.p99).fold(0.0, f64::max);
    let cost_same = first.iter().zip(last).all(|(a, b)| b.cost <= a.cost + a.cost / 20 + 2);
    let worst_growth = first.iter().zip(last).map(|(a, b)| b.p50 / a.p50).fold(0.0, f64::max);
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!("goal: every page p99 < 300 ms at the largest size: {} (worst {worst_p99:.1} ms)", verdict(worst_p99 < 300.0));
    println!("goal: {unit} per view independent of the store size: {}", verdict(cost_same));
    println!("goal: p50 growth largest/smallest <= 1.5x: {} (worst {worst_growth:.2}x)", verdict(worst_growth <= 1.5));
    println!("goal: 100 tabs cost <= 2x one tab: {} ({:.2}x)\n", verdict(hundred <= 2.0 * one.max(1.0)), hundred / one.max(1.0));
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    ff_board_tests::dev_mode();
    let sizes: Vec<usize> = std::env::var("BENCH_FLOWS")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "valkey,postgres".into());
    for backend in backends.split(',').map(str::trim) {
        bench(backend, &sizes).await;
    }
}
