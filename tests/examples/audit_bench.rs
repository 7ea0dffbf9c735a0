//! Audit benchmark (prints figures; asserts nothing): what a flow's or an
//! execution's page pays to read its own audit entries when the log holds
//! 100,000 and then 1,000,000 entries (issue 22, attack 3).
//!
//! For each backend (Valkey, Postgres, SQLite) and each size:
//! 1. fills the log in bulk as the board writes it (Valkey: the stream
//!    entry and its subject zset entry, pipelined; SQL: one
//!    `INSERT … SELECT` over a generated series), five entries per subject;
//! 2. p50 / p99 over [`RUNS`] reads of one subject's entries (the index by
//!    subject: what every flow and execution page reads), and of an
//!    admin's substring search for a target no entry has (bounded: at most
//!    `MAX_SCANNED` entries looked at on Valkey, a deadline everywhere);
//! 3. the store's cheapest round trip (`PING`, `SELECT 1`) in the same run
//!    as the yardstick, and each read as a ratio to it.
//!
//! `cargo run --profile server-release -p ff-board-tests --example audit_bench`;
//! `BENCH_AUDIT=100000,1000000` and `BENCH_BACKENDS=valkey,postgres,sqlite` choose.
use std::time::Instant;

use ff_board_engine::audit::{AuditFilter, AuditLog};
use ff_board_engine::connect::{Connected, SideStore};
use ff_board_tests::{connect, fresh_postgres, sqlite_path, Valkey};

const RUNS: usize = 50;
/// Entries per subject (an execution's actions and approvals).
const PER_SUBJECT: usize = 5;

fn pct(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn subject(i: usize) -> String {
    format!("{{fp:{}}}:{:08x}-0000-4000-8000-000000000000", i % 256, i)
}

/// Add `n` entries after the `have` already there.
async fn fill(c: &Connected, have: usize, n: usize) {
    let now = ff_board_engine::backend::now_ms() - 86_400_000;
    match &c.side {
        SideStore::Valkey(client) => {
            for chunk in (have..have + n).collect::<Vec<_>>().chunks(5_000) {
                let mut p = client.pipeline();
                for &i in chunk {
                    let (at, target) = ((now + i as i64).to_string(), subject(i / PER_SUBJECT));
                    let key = format!("bench-{i}");
                    let fields = ["at_ms", at.as_str(), "user", "bench", "role", "operator", "action", "cancel_execution", "target", target.as_str(), "reason", "bench", "idempotency_key", key.as_str(), "scope", key.as_str()];
                    let id = format!("{}-{}", now + i as i64, 0);
                    let _ = p.cmd::<String>("XADD").arg("ff_board:{audit}").arg(id.as_str()).arg(fields.as_slice()).finish();
                    let _ = p.cmd::<i64>("ZADD").arg(format!("ff_board:{{audit}}:subject:{target}")).arg(at.as_str()).arg(id.as_str()).finish();
                }
                p.execute().await.expect("fill valkey");
            }
        }
        SideStore::Postgres(pool) => {
            let sql = format!(
                "INSERT INTO ff_board_audit (id, at_ms, user_name, role, action, target, reason, idempotency_key) \
                 SELECT 'bench-' || g, {now} + g, 'bench', 'operator', 'cancel_execution', \
                 '{{fp:' || ((g / {PER_SUBJECT}) % 256) || '}}:' || lpad(to_hex(g / {PER_SUBJECT}), 8, '0') || '-0000-4000-8000-000000000000', \
                 'bench', 'bench-' || g FROM generate_series({have}, {}) g",
                have + n - 1
            );
            sqlx::query(&sql).execute(pool).await.expect("fill postgres");
            sqlx::query("ANALYZE ff_board_audit").execute(pool).await.expect("analyze");
        }
        SideStore::Sqlite(pool) => {
            let sql = format!(
                "WITH RECURSIVE g(x) AS (SELECT {have} UNION ALL SELECT x + 1 FROM g WHERE x < {}) \
                 INSERT INTO ff_board_audit (id, at_ms, user_name, role, action, target, reason, idempotency_key) \
                 SELECT 'bench-' || x, {now} + x, 'bench', 'operator', 'cancel_execution', \
                 '{{fp:' || ((x / {PER_SUBJECT}) % 256) || '}}:' || printf('%08x', x / {PER_SUBJECT}) || '-0000-4000-8000-000000000000', \
                 'bench', 'bench-' || x FROM g",
                have + n - 1
            );
            sqlx::query(&sql).execute(pool).await.expect("fill sqlite");
            sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
        }
    }
}

/// p50 and p99 in ms of `f` over [`RUNS`] runs.
async fn time<F, Fut>(f: F) -> (f64, f64)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut v = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        f().await;
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (pct(&v, 0.5), pct(&v, 0.99))
}

async fn ping(c: &Connected) {
    match &c.side {
        SideStore::Valkey(client) => {
            let _: String = client.cmd("PING").execute().await.expect("ping");
        }
        SideStore::Postgres(pool) => {
            sqlx::query("SELECT 1").execute(pool).await.expect("select 1");
        }
        SideStore::Sqlite(pool) => {
            sqlx::query("SELECT 1").execute(pool).await.expect("select 1");
        }
    }
}

async fn bench(name: &str, url: &str, sizes: &[usize]) {
    let c = connect(url).await;
    // Opening creates the SQL table and its indexes.
    let log = AuditLog::open(&c.side).await.expect("open audit");
    let mut have = 0;
    for &size in sizes {
        let t = Instant::now();
        fill(&c, have, size - have).await;
        have = size;
        println!("{name}: {size} entries written in {:.1} s", t.elapsed().as_secs_f64());
        let one = AuditFilter { subject: Some(subject(size / PER_SUBJECT / 2)), limit: 500, ..AuditFilter::default() };
        let search = AuditFilter { target_contains: Some("no-such-target".into()), limit: 500, ..AuditFilter::default() };
        let (raw50, raw99) = time(|| ping(&c)).await;
        let (s50, s99) = time(|| async { assert_eq!(log.list(&one).await.expect("by subject").len(), PER_SUBJECT) }).await;
        let (q50, q99) = time(|| async {
            let _ = log.list(&search).await;
        })
        .await;
        println!("  {:<44} {:>9} {:>9} {:>8}", "read", "p50 ms", "p99 ms", "p50/raw");
        println!("  {:<44} {raw50:>9.3} {raw99:>9.3} {:>8}", "raw round trip (PING / SELECT 1)", "1.0");
        println!("  {:<44} {s50:>9.3} {s99:>9.3} {:>8.1}", "one subject's entries (a page's audit panel)", s50 / raw50);
        println!("  {:<44} {q50:>9.3} {q99:>9.3} {:>8.1}", "admin substring search, no match (bounded)", q50 / raw50);
    }
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_AUDIT")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "valkey,postgres,sqlite".into());
    for b in backends.split(',').map(str::trim) {
        match b {
            "valkey" => {
                let v = Valkey::start();
                bench("valkey", &format!("valkey://127.0.0.1:{}", v.port), &sizes).await;
            }
            "postgres" => bench("postgres", &fresh_postgres().await, &sizes).await,
            "sqlite" => bench("sqlite", &format!("sqlite:{}", sqlite_path()), &sizes).await,
            other => eprintln!("unknown backend {other}"),
        }
    }
}
