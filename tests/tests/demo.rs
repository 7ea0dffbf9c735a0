//! The embedded demo workload (`ff_board_engine::demo`) on each backend:
//! one `seed` round, then a check through the `EngineBackend` trait that
//! the store holds what the report claims — flows with their edges, at
//! least one completed and one failed execution, approval gates pending on
//! `release-signoff`, one needing two distinct approvers (proved by delivering
//! `release-signoff` twice from alice, then from bob), a budget that
//! refused usage over its hard limit and one over its soft limit, and the
//! registered workers.
use ff_board_engine::connect::{BackendKind, Connected};
use ff_board_engine::demo::{self, DemoReport};
use ff_board_engine::backend::FlowQuery;
use ff_board_tests::{connect, fresh_postgres, sqlite_path, state, Valkey};
use ff_core::contracts::{
    DeliverSignalArgs, DeliverSignalResult, EdgeDirection, ListPendingWaitpointsArgs, ListWorkersArgs,
};
use ff_core::partition::{execution_partition, PartitionKey};
use ff_core::state::{PublicState, TerminalOutcome};
use ff_core::types::{ExecutionId, Namespace, SignalId, TimestampMs, WaitpointId, WaitpointToken};

/// Members of the five seeded flows: 8 + 8 + 8 + 5 + 57.
const SEEDED_EXECUTIONS: usize = 86;
/// Edges of the five seeded flows: 10 + 8 + 11 + 4 + 108.
const SEEDED_EDGES: usize = 141;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seed_on_sqlite() {
    let c = connect(&format!("sqlite:{}", sqlite_path())).await;
    let report = demo::seed(&c).await.expect("seed");
    assert!(
        report.skipped.iter().any(|s| s.starts_with("set_edge_group_policy")),
        "SQLite refuses edge-group policies: {:?}",
        report.skipped
    );
    check(&c, &report).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seed_on_postgres() {
    let c = connect(&fresh_postgres().await).await;
    let report = demo::seed(&c).await.expect("seed");
    assert_eq!(report.edge_group_policies, 3, "AnyOf + Quorum groups: {report:?}");
    check(&c, &report).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seed_on_valkey() {
    let valkey = Valkey::start();
    let c = connect(&valkey.url()).await;
    let report = demo::seed(&c).await.expect("seed");
    assert_eq!(report.edge_group_policies, 3, "AnyOf + Quorum groups: {report:?}");
    check(&c, &report).await;
}

async fn check(c: &Connected, r: &DemoReport) {
    println!("{:?} seed: {r:#?}", c.kind);
    assert_eq!(r.flows, 5);
    assert_eq!(r.executions, SEEDED_EXECUTIONS);
    assert_eq!(r.edges, SEEDED_EDGES);
    assert!(r.completed >= 10, "completed: {r:?}");
    assert!(r.failed >= 1 && r.retried >= 1 && r.abandoned >= 1, "{r:?}");
    assert!(r.frames > r.claimed, "frames while running: {r:?}");
    assert!(r.resumed >= 1, "a single-approval gate was approved and finished: {r:?}");
    assert_eq!(r.budgets, 3);
    assert_eq!(r.workers, 3);

    check_flows(c, r).await;
    check_outcomes(c, r).await;
    check_two_approver_gate(c, r).await;
    check_budgets(c, r).await;

    // Per namespace: Postgres refuses a cross-namespace listing.
    let mut workers = Vec::new();
    for ns in ["payments", "search", "media"] {
        let mut args = ListWorkersArgs::new();
        args.namespace = Some(Namespace::new(ns));
        workers.extend(c.backend.list_workers(args).await.expect("list_workers").entries);
    }
    assert_eq!(workers.len(), 3, "registered workers: {workers:?}");
}

/// Every seeded flow is listed, and its members' outgoing edges add up.
async fn check_flows(c: &Connected, r: &DemoReport) {
    let listed = c.reads.flows(&FlowQuery::default(), None, 200).await.expect("board flow list").rows;
    let mut edges = 0;
    let mut members = 0;
    for flow in &r.flow_ids {
        assert!(listed.iter().any(|f| &f.id == flow), "flow {flow} listed");
        let snap = c.backend.describe_flow(flow).await.expect("describe_flow").expect("flow exists");
        let ids = members_of(c, flow).await;
        assert_eq!(ids.len(), snap.node_count as usize, "members of {} {flow}", snap.flow_kind);
        for id in &ids {
            let out = c
                .backend
                .list_edges(flow, EdgeDirection::Outgoing { from_node: id.clone() })
                .await
                .expect("list_edges");
            edges += out.len();
        }
        members += ids.len();
    }
    assert_eq!(members, SEEDED_EXECUTIONS);
    assert_eq!(edges, SEEDED_EDGES, "edges listed through the trait");
}

/// The store holds completed, failed and suspended executions. Outcomes
/// come from `read_execution_info`'s state vector: Postgres 0.15 leaves
/// `public_state` at `running` (read as Active) after complete / fail and
/// records the outcome in `lifecycle_phase` + the attempt's `outcome`.
async fn check_outcomes(c: &Connected, r: &DemoReport) {
    let mut seen = Vec::new();
    for flow in &r.flow_ids {
        for id in members_of(c, flow).await {
            let info = c.backend.read_execution_info(&id).await.expect("read_execution_info").expect("exists");
            seen.push((info.state_vector.terminal_outcome, info.state_vector.public_state));
        }
    }
    let outcome = |o: TerminalOutcome| seen.iter().filter(|(t, _)| *t == o).count();
    assert!(outcome(TerminalOutcome::Success) >= 10, "completed: {seen:?}");
    assert!(outcome(TerminalOutcome::Failed) >= 1, "failed: {seen:?}");
    assert!(seen.iter().any(|(_, p)| *p == PublicState::Suspended), "suspended: {seen:?}");
}

/// Approval gates wait for `release-signoff`; the two-approver one is pending,
/// and alice twice does not open it, bob does.
async fn check_two_approver_gate(c: &Connected, r: &DemoReport) {
    let mut named = false;
    for gate in &r.gates {
        let pending = c
            .backend
            .list_pending_waitpoints(ListPendingWaitpointsArgs::new(gate.clone()))
            .await
            .expect("list_pending_waitpoints");
        named |= pending.entries.iter().any(|w| w.required_signal_names.iter().any(|n| n == demo::SIGNOFF_SIGNAL));
    }
    assert!(named, "a pending waitpoint lists `release-signoff` in required_signal_names");

    let gate = r.two_approver_gates.first().expect("a two-approver gate");
    let pending = c
        .backend
        .list_pending_waitpoints(ListPendingWaitpointsArgs::new(gate.clone()))
        .await
        .expect("list_pending_waitpoints");
    let [wp] = pending.entries.as_slice() else {
        panic!("one pending waitpoint on the gate: {:?}", pending.entries);
    };
    // Valkey stores no signal names for a composite (`Count`) condition;
    // SQLite and Postgres list the matcher's name.
    if c.kind != BackendKind::Valkey {
        assert_eq!(wp.required_signal_names, [demo::SIGNOFF_SIGNAL], "{wp:?}");
    }
    assert_eq!(state(c, gate).await, PublicState::Suspended);

    let effects = [
        approve(c, gate, &wp.waitpoint_id, "alice", "1").await,
        approve(c, gate, &wp.waitpoint_id, "alice", "2").await,
        approve(c, gate, &wp.waitpoint_id, "bob", "1").await,
    ];
    assert_ne!(effects[0], "resume_condition_satisfied", "{effects:?}");
    assert_ne!(effects[1], "resume_condition_satisfied", "same source twice: {effects:?}");
    assert_eq!(effects[2], "resume_condition_satisfied", "second distinct source: {effects:?}");
}

async fn approve(c: &Connected, eid: &ExecutionId, wp: &WaitpointId, who: &str, n: &str) -> String {
    let partition = PartitionKey::from(execution_partition(eid, &c.partitions));
    let token = c.backend.read_waitpoint_token(partition, wp).await.expect("read token").expect("token");
    let delivered = c
        .backend
        .deliver_signal(DeliverSignalArgs {
            execution_id: eid.clone(),
            waitpoint_id: wp.clone(),
            signal_id: SignalId::new(),
            signal_name: demo::SIGNOFF_SIGNAL.into(),
            signal_category: "approval".into(),
            source_type: "user".into(),
            source_identity: who.into(),
            payload: None,
            payload_encoding: None,
            correlation_id: None,
            idempotency_key: Some(format!("test:{who}:{n}")),
            target_scope: "execution".into(),
            created_at: None,
            dedup_ttl_ms: None,
            resume_delay_ms: None,
            max_signals_per_execution: None,
            signal_maxlen: None,
            waitpoint_token: WaitpointToken::new(token),
            now: TimestampMs::now(),
        })
        .await
        .expect("deliver_signal");
    match delivered {
        DeliverSignalResult::Accepted { effect, .. } => effect,
        other => panic!("signal not accepted: {other:?}"),
    }
}

/// One budget refused usage past its hard limit and sits at it; another
/// is over its soft limit.
async fn check_budgets(c: &Connected, r: &DemoReport) {
    let listed = c.reads.budget_ids().await.expect("budget ids");
    assert!(listed.len() >= 3, "budgets listed: {listed:?}");
    let hard = r.hard_breached_budgets.first().expect("a hard-breached budget");
    let status = c.backend.get_budget_status(hard).await.expect("get_budget_status");
    assert!(status.breach_count >= 1, "hard breaches recorded: {status:?}");
    assert!(
        status.hard_limits.iter().any(|(dim, limit)| status.usage.get(dim) == Some(limit)),
        "usage at the hard limit: {status:?}"
    );
    let mut over_soft = false;
    for id in &listed {
        let s = c.backend.get_budget_status(id).await.expect("get_budget_status");
        over_soft |= s.soft_limits.iter().any(|(dim, soft)| s.usage.get(dim).is_some_and(|u| u > soft));
    }
    assert!(over_soft, "a budget over its soft limit");
}

/// A flow's member ids, through the board's reads.
async fn members_of(c: &Connected, flow: &ff_core::types::FlowId) -> Vec<ExecutionId> {
    c.reads.flow_members(flow, 10_000).await.expect("flow members").into_iter().map(|m| m.id).collect()
}

// ── the running demo keeps moving ──────────────────────────────────────

/// A step whose worker "crashed" leaves a lease that expires. A board
/// started again on the same store (`demo::spawn`) reclaims it through the
/// engine (reclaim grant, fresh attempt) and completes it — what a
/// deployment's lease scanner and another worker do — so the demo never
/// freezes on the dead leases of an earlier run.
async fn reclaims_expired_leases(c: &Connected) {
    let report = demo::seed(c).await.expect("seed");
    assert!(report.abandoned >= 1, "{report:?}");
    // What the "crashed" worker held: active executions past their lease
    // (ff-backend-valkey 0.15's own `list_expired_leases` fails on RESP3,
    // so this reads the lease list the board shows).
    let expired = |c: Connected| async move {
        let now = TimestampMs::now().0;
        c.reads.invalidate();
        c.reads
            .leases(500)
            .await
            .expect("leases")
            .into_iter()
            .filter(|l| l.expires_at < now)
            .map(|l| l.exec.id)
            .collect::<Vec<_>>()
    };
    // The demo's leases last 20 s.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(40);
    let dead = loop {
        let dead = expired(c.clone()).await;
        if !dead.is_empty() {
            break dead;
        }
        assert!(tokio::time::Instant::now() < deadline, "no lease expired");
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    };
    println!("{:?}: expired leases {dead:?}", c.kind);
    let running = demo::spawn(c.clone());
    // Generous: CI runs two test binaries at once on two cores.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(150);
    loop {
        let mut open = Vec::new();
        for id in &dead {
            let now = state(c, id).await;
            if now != PublicState::Completed {
                open.push((id.clone(), now));
            }
        }
        if open.is_empty() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not reclaimed and completed: {open:?}");
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    running.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_reclaims_expired_leases_on_sqlite() {
    reclaims_expired_leases(&connect(&format!("sqlite:{}", sqlite_path())).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_reclaims_expired_leases_on_valkey() {
    let valkey = Valkey::start();
    reclaims_expired_leases(&connect(&valkey.url()).await).await;
}
