//! Scale is part of correctness: what one view of the board costs the
//! store does not grow with the store. A store is seeded through the trait
//! (proportions kept, every list page full), the store commands (Valkey)
//! or queries (Postgres) of each view are counted, the store is grown
//! tenfold to 3,000 executions, and the counts must not grow. The overview
//! (`/`) is one of them: its state counts stop at one page each; so is
//! every term of the query language, on Postgres (its page statement) and
//! on Valkey (the board's own index, built by the lane walk after each
//! seeding, as the background walk does on a deployment). A page of a
//! recomputed terminal state reads finished rows a window at a time.
use ff_board_tests::board::Board;
use ff_board_tests::count::{valkey_calls, PgCounter};
use ff_board_tests::seed::seed_units;
use ff_board_tests::{connect, fresh_postgres, Valkey};

/// Every list view of the board.
const VIEWS: [&str; 10] = [
    "/flows",
    "/flows?state=active",
    "/executions",
    "/executions?state=waiting",
    "/executions?state=suspended",
    "/executions?state=completed",
    "/executions?state=waiting&lane=scale-a",
    "/approvals",
    "/leases",
    "/",
];
/// Each term of the query language (`docs/SEARCH.md`) on the lists that
/// take it, and the exports' first page. Postgres answers each in its page
/// statement; Valkey from the engine's state indexes and the board's own
/// (`kind:`, `tag:`), filtering within a bounded window.
const QUERY_VIEWS: [&str; 9] = [
    "/executions?q=kind%3Astep-1",
    "/executions?q=kind%3Astep*",
    "/executions?q=lane%3Ascale-a",
    "/executions?q=ns%3Ascale",
    "/executions?q=tag%3Ashop.order_id%3DA-1",
    "/executions?q=tag%3Ashop.order_id",
    "/executions?q=created%3A%3C1h",
    "/executions?q=attempts%3A%3E0",
    "/flows?q=flowkind%3Ascale%20state%3Aopen",
];
/// Terms Valkey answers by looking at rows one page at a time (no index of
/// the engine's or the board's serves them, or a negation filters what an
/// index gives: `docs/SEARCH.md`): flat on
/// Postgres; on Valkey bounded by `MAX_SCAN` rows looked at per page,
/// which a small store does not reach, so the check there is that ceiling.
const SCANNED_VIEWS: [&str; 6] = [
    "/executions?q=finished%3A%3C1h",
    "/executions?q=blocked%3Aapproval",
    "/approvals?q=kind%3Astep-1",
    "/executions?q=-state%3Acompleted%20kind%3Astep-1",
    // The row's flow kind and its attempts' workers, read for the rows looked at.
    "/executions?q=flowkind%3Ascale",
    "/executions?q=-state%3Acompleted%20worker%3Aseed-worker-1",
];
/// Store commands one execution's page costs on Valkey at most: its
/// snapshot and reads, the diagnosis (`diagnose::MAX_CALLS` beyond the
/// snapshot) and the history behind its timeline (two round trips).
const PAGE_CEILING: u64 = 40;
/// Store commands one row looked at costs on Valkey at most: its exec
/// core and tags, its state index entry, and where the query names them
/// its flow's kind and up to 16 attempts' workers (`valkey::enrich`).
const COMMANDS_PER_ROW: u64 = 20;
/// The page of one waiting execution: its snapshot, reads and diagnosis
/// (`ff_board_engine::diagnose`: at most `MAX_CALLS` engine calls beyond
/// the snapshot), the same execution at both sizes.
async fn execution_page(c: &ff_board_engine::connect::Connected) -> String {
    let q = ff_board_engine::backend::ExecQuery { state: Some(ff_core::state::PublicState::Waiting), ..Default::default() };
    let id = c.reads.executions(&q, None, 1).await.expect("a waiting execution").rows.remove(0).id;
    format!("/executions/{}", ff_board_tests::board::enc(id.as_str()))
}

const SMALL: usize = 60;
const LARGE: usize = 600;

/// The cost of each of `views`, counted by `count` around one GET.
async fn costs<F, Fut>(b: &Board, views: &[&str], count: F) -> Vec<u64>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    let mut out = Vec::new();
    for &v in views {
        // Past the read cache's window: each view pays for its own reads.
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        let before = count().await;
        let (status, body) = b.get_status(v).await;
        assert_eq!(status, 200, "{v}: {}", &body[..body.len().min(400)]);
        out.push(count().await - before);
    }
    out
}

fn check(backend: &str, unit: &str, views: &[&str], small: &[u64], large: &[u64]) {
    println!("{backend}: {unit} per view, {} vs {} executions", SMALL * 5, LARGE * 5);
    for ((v, s), l) in views.iter().zip(small).zip(large) {
        println!("  {v:<60} {s:>6} {l:>6}");
    }
    for ((v, s), l) in views.iter().zip(small).zip(large) {
        assert!(*s > 0, "{backend} {v}: no {unit} counted: the count is broken");
        assert!(*l <= s + s / 20 + 2, "{backend} {v}: {s} {unit} at {} executions, {l} at {}: grows with the store", SMALL * 5, LARGE * 5);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn valkey_view_cost_does_not_grow_with_the_store() {
    let v = Valkey::start();
    let url = format!("valkey://127.0.0.1:{}", v.port);
    let c = connect(&url).await;
    seed_units(&c, SMALL).await;
    ff_board_tests::walk_whole(&c).await;
    let b = Board::start_quiet(&url, &c).await;
    let page = execution_page(&c).await;
    let views: Vec<&str> = VIEWS.iter().chain(QUERY_VIEWS.iter()).copied().collect();
    let small = costs(&b, &views, || valkey_calls(v.port)).await;
    let page_small = costs(&b, &[page.as_str()], || valkey_calls(v.port)).await[0];
    let scanned_small = costs(&b, &SCANNED_VIEWS, || valkey_calls(v.port)).await;
    seed_units(&c, LARGE - SMALL).await;
    ff_board_tests::walk_again(v.port);
    ff_board_tests::walk_whole(&c).await;
    let large = costs(&b, &views, || valkey_calls(v.port)).await;
    let scanned_large = costs(&b, &SCANNED_VIEWS, || valkey_calls(v.port)).await;
    let page_large = costs(&b, &[page.as_str()], || valkey_calls(v.port)).await[0];
    println!("valkey: one waiting execution's page (diagnosis, timeline): {page_small} / {page_large} commands (ceiling {PAGE_CEILING})");
    assert!(page_small <= PAGE_CEILING && page_large <= PAGE_CEILING, "an execution page past {PAGE_CEILING} commands");
    let ceiling = ff_board_engine::backend::MAX_SCAN as u64 * COMMANDS_PER_ROW;
    println!("valkey: scanned terms, 300 vs 3000 executions (ceiling {ceiling})");
    for ((v, s), l) in SCANNED_VIEWS.iter().zip(&scanned_small).zip(&scanned_large) {
        println!("  {v:<60} {s:>6} {l:>6}");
        assert!(*l <= ceiling, "valkey {v}: {l} commands, past the scan bound's ceiling {ceiling}");
    }
    check("valkey", "commands", &views, &small, &large);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_view_cost_does_not_grow_with_the_store() {
    let direct = fresh_postgres().await;
    let seeder = connect(&direct).await;
    seed_units(&seeder, SMALL).await;
    let host = direct.split_once('@').map_or(direct.as_str(), |(_, r)| r).split('/').next().unwrap().to_owned();
    let proxy = PgCounter::start(&host).await;
    let url = proxy.url(&direct);
    let c = connect(&url).await;
    let b = Board::start_quiet(&url, &c).await;
    let q = || async { proxy.queries() };
    let page = execution_page(&c).await;
    let views: Vec<&str> = VIEWS.iter().chain(QUERY_VIEWS.iter()).chain(SCANNED_VIEWS.iter()).copied().chain([page.as_str()]).collect();
    let small = costs(&b, &views, q).await;
    seed_units(&seeder, LARGE - SMALL).await;
    let large = costs(&b, &views, q).await;
    check("postgres", "queries", &views, &small, &large);
}

/// A recomputed terminal state (`state:completed`, `state:failed`) reads a
/// window of at most 2,000 finished rows per page on Postgres: 100 flows
/// through the trait copied ×30 in bulk SQL (`ff_board_tests::replicate`)
/// are about 9,000 finished rows. `state:failed` (no such row) answers
/// empty pages cut short, each with a cursor past its window, until the
/// finished rows run out; `state:completed` followed page by page lists
/// every completed row exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_pages_of_finished_rows_are_windowed() {
    use ff_board_domain::query::{Query, Scope};
    use ff_board_engine::backend::search::Search;
    use ff_board_engine::backend::ExecQuery;
    use ff_board_tests::replicate::Templates;
    use ff_board_tests::seed::{seed, Mix};
    let url = fresh_postgres().await;
    let c = connect(&url).await;
    seed(&c, 100, Mix { members: 10, complete: 3.0, suspend: 0.1, active: 0.05 }).await;
    Templates::read(&url).await.grow_to(&url, 3100).await;
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    // This seed finishes executions only by completing them.
    let (done,): (i64,) = sqlx::query_as("SELECT count(*) FROM ff_exec_core WHERE lifecycle_phase IN ('terminal', 'cancelled')")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert!(done > 4_000, "the store holds more finished rows than two windows ({done})");
    let ask = |q: &str| ExecQuery { search: Some(Search::new(Query::parse(q, Scope::Executions).expect("query"))), ..Default::default() };
    // No failed row: every page is empty and cut short, until the end.
    let (mut after, mut pages) = (None::<String>, 0);
    loop {
        c.reads.invalidate();
        let page = c.reads.executions(&ask("state:failed"), after.as_deref(), 50).await.expect("page");
        assert!(page.rows.is_empty());
        pages += 1;
        match page.next {
            Some(next) => {
                assert!(page.cut_short, "an empty page with more to read says it was cut short");
                after = Some(next);
            }
            None => break,
        }
        assert!(pages < 100, "the windows advance");
    }
    // Each full window of 2,000 finished rows is a page; the rows left after them, one more.
    assert_eq!(pages, done as usize / 2_000 + 1, "one window of 2,000 finished rows per page");
    // Every completed row once, across windows and pages.
    let (mut after, mut seen) = (None::<String>, std::collections::BTreeSet::new());
    let mut rows = 0;
    loop {
        c.reads.invalidate();
        let page = c.reads.executions(&ask("state:completed"), after.as_deref(), 200).await.expect("page");
        rows += page.rows.len();
        seen.extend(page.rows.into_iter().map(|r| r.id.to_string()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(rows, seen.len(), "no row twice");
    assert_eq!(seen.len() as i64, done, "every completed row");
}
