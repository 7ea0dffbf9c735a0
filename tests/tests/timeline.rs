//! The timeline of an execution (`app/src/api/timeline.rs`) against what the
//! store holds, on every backend: a demo execution that failed once and ran
//! again (the demo's flaky steps) has one attempt element per attempt, in
//! order, the first one failed; the history read behind it is bounded.
use ff_board_domain::query::{Query, Scope};
use ff_board_engine::backend::{search::Search, ExecQuery, HISTORY_ATTEMPTS, HISTORY_LEASES};
use ff_board_tests::board::{enc, Board};
use ff_board_tests::matrix;
use ff_board_tests::matrix::Store;

async fn retried_execution_draws_each_attempt(s: Store) {
    let c = s.connect().await;
    let report = ff_board_engine::demo::seed(&c).await.expect("seed");
    assert!(report.retried > 0, "the demo retries flaky steps: {report:?}");
    let q = ExecQuery { search: Some(Search::new(Query::parse("attempts:>1", Scope::Executions).unwrap())), ..Default::default() };
    let rows = c.reads.executions(&q, None, 50).await.expect("attempts:>1").rows;
    // A retried one: its history holds a failed attempt before a later one.
    let mut found = None;
    for r in rows {
        let h = c.reads.history(&r.id).await.expect("history");
        assert!(h.attempts.len() <= HISTORY_ATTEMPTS && h.leases.len() <= HISTORY_LEASES);
        if h.attempts.len() >= 2 {
            found = Some((r.id, h));
            break;
        }
    }
    let (id, h) = found.expect("an execution with two attempts in its history");
    let b = Board::start_quiet(&s.url, &c).await;
    let html = b.get(&format!("/executions/{}", enc(id.as_str()))).await;
    assert!(html.contains(r#"data-testid="timeline""#), "no timeline on the page");
    let drawn: Vec<(u32, String)> = html
        .split(r#"data-testid="timeline-attempt" data-index=""#)
        .skip(1)
        .filter_map(|s| {
            let (index, rest) = s.split_once('"')?;
            let outcome = rest.split("data-outcome=\"").nth(1)?.split('"').next()?;
            Some((index.parse().ok()?, outcome.to_owned()))
        })
        .collect();
    let mut want: Vec<u32> = h.attempts.iter().filter(|a| a.started_at.is_some()).map(|a| a.index).collect();
    want.sort();
    assert_eq!(drawn.iter().map(|(i, _)| *i).collect::<Vec<_>>(), want, "one element per attempt, oldest first");
    assert!(["failed", "interrupted"].contains(&drawn[0].1.as_str()), "the first attempt of a retried execution did not succeed: {drawn:?}");
}
matrix!(retried_execution_draws_each_attempt: sqlite, postgres, valkey);
