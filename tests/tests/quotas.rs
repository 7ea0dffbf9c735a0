//! Quota policies (`/quotas`, `Reads::quotas`) and the flow timeline
//! (`app/src/components/gantt.rs`) against what the store holds, on every
//! backend: a policy created and two executions admitted through the trait
//! show as "2 / 5" admitted in the window and "2 / 2" running (full); a
//! demo flow's page draws its members on one axis with a critical path.
use ff_board_tests::board::{enc, Board};
use ff_board_tests::matrix;
use ff_board_tests::matrix::Store;
use ff_board_tests::seed::new_execution_id;
use ff_core::contracts::{CheckAdmissionArgs, CheckAdmissionResult, CreateQuotaPolicyArgs};
use ff_core::types::{LaneId, QuotaPolicyId, TimestampMs};

async fn quota_page_shows_limits_and_use(s: Store) {
    let c = s.connect().await;
    let qid = QuotaPolicyId::new();
    let now = TimestampMs::now();
    c.backend
        .create_quota_policy(CreateQuotaPolicyArgs { quota_policy_id: qid.clone(), window_seconds: 60, max_requests_per_window: 5, max_concurrent: 2, now })
        .await
        .expect("create quota policy");
    for _ in 0..2 {
        let eid = new_execution_id(&c, None, &LaneId::new("quota-lane"));
        let args = CheckAdmissionArgs { execution_id: eid, now, window_seconds: 60, rate_limit: 5, concurrency_cap: 2, jitter_ms: None };
        // The scheduler's dimension (ff-scheduler's claim path).
        let r = c.backend.check_admission(&qid, "default", args).await.expect("admission");
        assert_eq!(r, CheckAdmissionResult::Admitted);
    }
    let line = c.reads.quotas(ff_board_engine::backend::now_ms()).await.expect("quotas").into_iter().find(|q| q.id == qid.to_string()).expect("the policy is listed");
    assert_eq!((line.max_per_window, line.window_seconds, line.concurrency_cap), (5, 60, 2), "{line:?}");
    assert_eq!((line.in_window, line.active), (2, 2), "{line:?}");
    let b = Board::start_quiet(&s.url, &c).await;
    let html = b.get("/quotas").await;
    let row = html.split(&format!(r#"data-testid="quota-row" data-id="{qid}""#)).nth(1).expect("a row for the policy").split("</tr>").next().unwrap().to_owned();
    assert!(row.contains("2 / 5"), "{row}");
    assert!(row.contains("2 / 2") && row.contains(r#"data-full="true""#), "{row}");
    assert!(html.contains("60 s"));
}
matrix!(quota_page_shows_limits_and_use);

async fn flow_page_draws_its_timeline(s: Store) {
    let c = s.connect().await;
    ff_board_engine::demo::seed(&c).await.expect("seed");
    let flow = c.reads.flows(&Default::default(), None, 50).await.expect("flows").rows.into_iter().find(|f| f.edge_count > 0).expect("a demo flow with edges");
    let b = Board::start_quiet(&s.url, &c).await;
    let html = b.get(&format!("/flows/{}", enc(&flow.id.to_string()))).await;
    let svg = html.split(r#"data-testid="flow-timeline""#).nth(1).expect("a flow timeline").split("</svg>").next().unwrap();
    let rows = svg.matches(r#"data-testid="gantt-row""#).count();
    let critical = svg.matches(r#"data-critical="true""#).count();
    assert!(rows >= 2, "one row per member or fan-out: {rows}");
    assert!((1..=rows).contains(&critical), "a critical path of 1..={rows} rows: {critical}");
}
matrix!(flow_page_draws_its_timeline: sqlite, postgres, valkey);
