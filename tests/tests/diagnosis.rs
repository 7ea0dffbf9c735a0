//! Why an execution is stuck, and what fixes it (`ff_board_engine::diagnose`,
//! `app/src/api/diagnosis.rs`), on every backend: each execution brought to
//! its state through the trait, its diagnosis read (cause, the blocker's
//! numbers, the fixes and which are disabled), the page showing it, and the
//! resolving action run over HTTP and read back through the trait (or the
//! backend's `Unavailable` answered as 501).
use ff_board_domain::diagnosis::{Cause, Diagnosis, Fix};
use ff_board_engine::backend::quirks::Quirks;
use ff_board_engine::connect::Connected;
use ff_board_tests::board::{enc, form, Board, Op};
use ff_board_tests::matrix::Store;
use ff_board_tests::seed::{execution_args, new_execution_id};
use ff_board_tests::{matrix, sdk_gate, state};
use ff_core::backend::{CapabilitySet, ClaimPolicy};
use ff_core::contracts::{BlockExecutionForAdmissionArgs, BlockingReason, RegisterWorkerArgs, ResumeCondition, SignalMatcher};
use ff_core::state::PublicState;
use ff_core::types::{ExecutionId, LaneId, Namespace, TimestampMs, WorkerId, WorkerInstanceId};


async fn diagnosis(c: &Connected, id: &ExecutionId) -> Diagnosis {
    let s = c.backend.describe_execution(id).await.expect("describe").expect("exists");
    ff_board_engine::diagnose::diagnose(c, &s, ff_board_engine::backend::now_ms()).await.expect("an unfinished execution has a diagnosis")
}

/// Whether `d` offers `fix`, and its disabled reason.
fn offer<'a>(d: &'a Diagnosis, fix: &Fix) -> Option<&'a Option<String>> {
    d.fixes.iter().find(|o| &o.fix == fix).map(|o| &o.disabled)
}

/// A new waiting execution of namespace `diag` on lane `lane`.
async fn waiting(c: &Connected, lane: &str) -> ExecutionId {
    ff_board_engine::backend::declare_lanes(c, &[lane]).await.expect("declare lane");
    let lane = LaneId::new(lane);
    let id = new_execution_id(c, None, &lane);
    c.backend.create_execution(execution_args(&id, &Namespace::new("diag"), &lane, "diag-step", "diag-test", TimestampMs::now())).await.expect("create");
    ff_board_engine::demo::promote_submitted(c).await.expect("promote");
    id
}

fn act(who: &Op, id: &ExecutionId, action: &str, key: &str) -> Vec<(&'static str, String)> {
    form(&[("execution_id", id.as_str()), ("action", action), ("reason", "diagnosis"), ("idempotency_key", key), ("csrf", &who.csrf)])
}

/// A queued execution names its lane and its workers, offers a priority
/// change, and the execution page shows the diagnosis first.
async fn queued_names_its_lane(s: Store) {
    let c = s.connect().await;
    let id = waiting(&c, "diag-q").await;
    let d = diagnosis(&c, &id).await;
    assert!(matches!(&d.cause, Cause::Queued { lane, workers_alive: Some(0) } if lane == "diag-q"), "{:?}", d.cause);
    assert_eq!(offer(&d, &Fix::ChangePriority), Some(&None));
    let b = Board::start_quiet(&s.url, &c).await;
    let html = b.get(&format!("/executions/{}", enc(id.as_str()))).await;
    assert!(html.contains(r#"data-testid="diagnosis""#), "no diagnosis on the page");
    assert!(html.contains("Waiting for a worker on lane diag-q: no registered worker is alive."), "headline missing");
    assert!(html.contains(r#"data-testid="fix-change-priority""#), "fix missing");
}
matrix!(queued_names_its_lane);

/// A lapsed lease names its holder and offers revoke and mark-dead; an
/// admin marks the worker dead from the board (an operator may not), read
/// back in the registry.
async fn lapsed_lease_names_its_holder(s: Store) {
    let c = s.connect().await;
    let id = waiting(&c, "diag-l").await;
    let (worker, instance) = (WorkerId::new("diag-worker"), WorkerInstanceId::new("diag-worker-1"));
    let reg = RegisterWorkerArgs::new(worker.clone(), instance.clone(), [LaneId::new("diag-l")].into(), Default::default(), 60_000, Namespace::new("diag"), TimestampMs::now());
    c.backend.register_worker(reg).await.expect("register worker");
    let policy = ClaimPolicy::new(worker, instance, 1_000, None);
    c.backend.claim(&LaneId::new("diag-l"), &CapabilitySet::default(), policy).await.expect("claim").expect("claimable");
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let d = diagnosis(&c, &id).await;
    assert!(matches!(&d.cause, Cause::LeaseExpired { holder, .. } if holder == "diag-worker-1"), "{:?}", d.cause);
    assert!(d.cause.headline(ff_board_engine::backend::now_ms()).contains("worker diag-worker-1 stopped heartbeating"));
    assert!(offer(&d, &Fix::RevokeLease).is_some() && offer(&d, &Fix::MarkWorkerDead { worker: "diag-worker-1".into() }).is_some());

    let b = Board::start_quiet(&s.url, &c).await;
    let (bob, ada) = (b.op("bob").await, b.op("ada").await);
    let mark = |who: &Op, key: &str| form(&[("instance", "diag-worker-1"), ("namespace", "diag"), ("reason", "silent"), ("idempotency_key", key), ("csrf", &who.csrf)]);
    assert_eq!(b.post("mark_worker_dead", Some(&bob.cookie), &mark(&bob, "md0")).await.0, 403, "an operator may not mark a worker dead");
    let (st, body) = b.post("mark_worker_dead", Some(&ada.cookie), &mark(&ada, "md1")).await;
    assert_eq!(st, 200, "{body}");
    let mut args = ff_core::contracts::ListWorkersArgs::new();
    args.namespace = Some(Namespace::new("diag"));
    let left = c.backend.list_workers(args).await.expect("list_workers").entries;
    assert!(left.iter().all(|w| w.worker_instance_id.as_str() != "diag-worker-1"), "still registered: {left:?}");
    // Again: the engine says it is not registered, which is not success.
    let (st, body) = b.post("mark_worker_dead", Some(&ada.cookie), &mark(&ada, "md2")).await;
    assert_eq!(st, 409, "{body}");
    // The workers page lists the namespace.
    let html = b.get("/workers?ns=diag").await;
    assert!(html.contains("Namespace diag"), "workers page");
}
// FlowFabric 0.15's worker registry is not cluster-safe (CrossSlot).
matrix!(lapsed_lease_names_its_holder: sqlite, postgres, valkey);

/// A budget block (as the engine's scheduler writes it: only Valkey's
/// scheduler blocks for admission in 0.15) names the budget, its dimension
/// and usage against the limit, read from the store, and offers the reset
/// and the unblock; an operator unblocks it from the board, read back.
async fn budget_block_names_the_budget(s: Store) {
    let c = s.connect().await;
    let report = ff_board_engine::demo::seed(&c).await.expect("seed");
    let Some(bid) = report.hard_breached_budgets.first().cloned() else {
        assert!(!c.backend.capabilities().supports.budget_admin, "the demo breaches a budget where budgets are supported");
        return;
    };
    let st = c.backend.get_budget_status(&bid).await.expect("budget status");
    let (dim, limit) = st.hard_limits.iter().find(|(d, l)| st.usage.get(*d).is_some_and(|u| u >= *l)).map(|(d, l)| (d.clone(), *l)).expect("a breached dimension");
    let used = st.usage[&dim];
    let id = waiting(&c, "diag-b").await;
    let detail = format!("budget ff:budget:{bid}:usage: {dim} {used}/{limit}");
    let args = BlockExecutionForAdmissionArgs::new(
        id.clone(),
        LaneId::new("diag-b"),
        ff_core::partition::execution_partition(&id, &c.partitions),
        BlockingReason::WaitingForBudget,
        Some(detail),
        TimestampMs::now(),
    );
    c.backend.block_execution_for_admission(args).await.expect("block for admission");
    let d = diagnosis(&c, &id).await;
    let want = Cause::Budget { budget: Some(bid.to_string()), dimension: Some(dim.clone()), used: Some(used), limit: Some(limit), resets_at: d_resets(&d) };
    assert_eq!(d.cause, want);
    assert_eq!(offer(&d, &Fix::ResetBudget { budget: bid.to_string() }), Some(&None));
    assert_eq!(offer(&d, &Fix::Unblock), Some(&None));

    let b = Board::start_quiet(&s.url, &c).await;
    let html = b.get(&format!("/executions/{}", enc(id.as_str()))).await;
    assert!(html.contains(&format!("Waiting for budget {bid}: {dim} at {used} of {limit}")), "headline with the numbers");
    let bob = b.op("bob").await;
    let (st, body) = b.post("execution_action", Some(&bob.cookie), &act(&bob, &id, "unblock", "ub1")).await;
    assert_eq!(st, 200, "{body}");
    let after = c.backend.describe_execution(&id).await.unwrap().unwrap();
    assert_ne!(after.blocking_reason.as_deref(), Some("waiting_for_budget"), "still blocked");
    // Unblocked already: nothing to do, not success.
    let (st, body) = b.post("execution_action", Some(&bob.cookie), &act(&bob, &id, "unblock", "ub2")).await;
    assert_eq!(st, 409, "{body}");
}
matrix!(budget_block_names_the_budget: valkey, valkey_cluster);

fn d_resets(d: &Diagnosis) -> Option<String> {
    match &d.cause {
        Cause::Budget { resets_at, .. } => resets_at.clone(),
        _ => None,
    }
}

/// A gate suspended by an SDK worker is diagnosed as suspended on its
/// waitpoint; resuming it without a signal moves it on, read back; a
/// suspension not yet due does not expire (the engine does nothing, which
/// the board answers as 409, not success), or the backend says it cannot.
async fn suspension_resumes_from_the_diagnosis(s: Store) {
    let c = s.connect().await;
    let id = sdk_gate(&c, |key| ResumeCondition::Single { waitpoint_key: key.to_owned(), matcher: SignalMatcher::ByName("go".into()) }).await;
    let d = diagnosis(&c, &id).await;
    assert!(matches!(&d.cause, Cause::Suspended { waitpoint: Some(_), .. }), "{:?}", d.cause);
    assert!(offer(&d, &Fix::Decide).is_some() && offer(&d, &Fix::Resume) == Some(&None));
    let b = Board::start_quiet(&s.url, &c).await;
    let bob = b.op("bob").await;
    let (st, body) = b.post("execution_action", Some(&bob.cookie), &act(&bob, &id, "expire_suspension", "ex1")).await;
    let expected = if Quirks::of(c.kind).expire_suspension { 409 } else { 501 };
    assert_eq!(st, expected, "{body}");
    assert_eq!(state(&c, &id).await, PublicState::Suspended, "a suspension not yet due stays");
    let (st, body) = b.post("execution_action", Some(&bob.cookie), &act(&bob, &id, "resume", "rs1")).await;
    assert_eq!(st, 200, "{body}");
    assert_ne!(state(&c, &id).await, PublicState::Suspended, "resumed");
    // Now there is nothing to resume: not reported as done.
    let (st, body) = b.post("execution_action", Some(&bob.cookie), &act(&bob, &id, "resume", "rs2")).await;
    assert_eq!(st, 409, "{body}");
}
matrix!(suspension_resumes_from_the_diagnosis);

/// The board's table of the methods `capabilities()` has no flag for
/// (`Quirks`, `docs/ENGINE.md`) says what the engine answers.
async fn unflagged_methods_match_the_table(s: Store) {
    let c = s.connect().await;
    let id = waiting(&c, "diag-t").await;
    let part = ff_core::partition::execution_partition(&id, &c.partitions);
    let q = Quirks::of(c.kind);
    let unavailable = |r: Result<(), ff_core::engine_error::EngineError>| matches!(r, Err(ff_core::engine_error::EngineError::Unavailable { .. }));
    let now = TimestampMs::now();
    assert_eq!(unavailable(c.backend.unblock_execution(part, &LaneId::new("diag-t"), &id, "waiting_for_budget", now).await), !q.unblock, "unblock_execution");
    assert_eq!(unavailable(c.backend.expire_suspension(part, &id, now).await), !q.expire_suspension, "expire_suspension");
    // Blocks for budget and quota come from Valkey's scheduler only: the SQL
    // backends neither write them nor offer the primitive.
    let sup = c.backend.capabilities().supports;
    assert_eq!(sup.block_execution_for_admission, q.unblock, "block_execution_for_admission");
    // An unblock of an execution that is not blocked is refused before the engine (409).
    let b = Board::start_quiet(&s.url, &c).await;
    let bob = b.op("bob").await;
    let (st, body) = b.post("execution_action", Some(&bob.cookie), &act(&bob, &id, "unblock", "ut1")).await;
    assert_eq!(st, if q.unblock { 409 } else { 501 }, "{body}");
}
matrix!(unflagged_methods_match_the_table);
