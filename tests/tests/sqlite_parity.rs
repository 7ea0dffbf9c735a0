//! Parity of the nine reads `SqliteFilled` fills in for the SQLite
//! backend against the Postgres backend's own implementation.
//!
//! The same scenario runs through the `EngineBackend` trait on a real
//! SQLite file (via `connect("sqlite:…")`, i.e. through `SqliteFilled`)
//! and on a fresh Postgres database: two flows, a fan-out/fan-in graph
//! A → {B, C} → D of four executions plus one standalone execution E,
//! staged + applied edges, A claimed and completed, B and C claimed and
//! suspended on waitpoints. Both runs use the same uuids for flows,
//! executions and edges (Postgres ids are minted with
//! `ExecutionId::for_flow`, SQLite ids reuse the uuid on partition 0) and
//! the same `now` arguments, so the reads can be compared field for
//! field once the partition tag `{fp:N}` is normalised. Postgres is
//! dialed as the board does, i.e. through `PostgresFilled`, whose
//! `describe_execution` decodes flow members.
//!
//! `finished_executions_describe_with_their_outcome` checks the 0.15
//! terminal-state fix (`state_fix`) on both backends.
use std::sync::Arc;

use ff_board_engine::connect::{Connected, SideStore};
use ff_board_engine::backend::postgres::fill::PostgresFilled;
use ff_board_engine::backend::sqlite::fill::SqliteFilled;
use ff_board_tests::{connect, fresh_postgres, sqlite_path};
use ff_core::backend::{CapabilitySet, ClaimPolicy, FailOutcome, FailureClass, FailureReason, Handle};
use ff_core::contracts::{
    AddExecutionToFlowArgs, ApplyDependencyToChildArgs, CancelExecutionArgs, CreateExecutionArgs, CreateFlowArgs,
    EdgeDependencyPolicy, EdgeDirection, ResumeCondition, ResumePolicy, SeedWaitpointHmacSecretArgs,
    SignalMatcher, StageDependencyEdgeArgs, StageDependencyEdgeResult, SuspendArgs, SuspensionReasonCode,
    WaitpointBinding,
};
use ff_core::engine_backend::EngineBackend;
use ff_core::partition::{flow_partition, Partition, PartitionConfig, PartitionFamily, PartitionKey};
use ff_core::state::PublicState;
use ff_core::types::{
    CancelSource, EdgeId, ExecutionId, FlowId, LaneId, Namespace, SuspensionId, TimestampMs, WaitpointId,
    WorkerId, WorkerInstanceId,
};
use uuid::Uuid;

const LANE: &str = "parity-main";
const SOLO_LANE: &str = "parity-solo";
const T0: i64 = 1_700_000_000_000;

/// Uuids shared by both runs.
struct Ids {
    f1: Uuid,
    f2: Uuid,
    /// A, B, C, D (members of f1) and E (standalone).
    ex: [Uuid; 5],
    /// A→B, A→C, B→D, C→D.
    edges: [Uuid; 4],
    /// The Postgres flow partition of f1 (and f2).
    pg_part: u16,
}

impl Ids {
    fn mint() -> Ids {
        let cfg = PartitionConfig::default();
        let f1 = FlowId::new();
        let pg_part = flow_partition(&f1, &cfg).index;
        // A second flow on the same Postgres partition, so both backends
        // list the same two flows on the partition under test.
        let f2 = loop {
            let f = FlowId::new();
            if flow_partition(&f, &cfg).index == pg_part {
                break f;
            }
        };
        let ex = std::array::from_fn(|_| uuid_of(&ExecutionId::for_flow(&f1, &cfg)));
        let edges = std::array::from_fn(|_| Uuid::new_v4());
        Ids { f1: f1.0, f2: f2.0, ex, edges, pg_part }
    }
}

fn uuid_of(e: &ExecutionId) -> Uuid {
    Uuid::parse_str(e.as_str().split_once("}:").expect("{fp:N}:uuid").1).expect("uuid")
}

/// One backend under test.
struct Run {
    name: &'static str,
    c: Connected,
    part: u16,
}

impl Run {
    fn b(&self) -> &Arc<dyn EngineBackend> {
        &self.c.backend
    }
    fn eid(&self, u: Uuid) -> ExecutionId {
        ExecutionId::parse(&format!("{{fp:{}}}:{u}", self.part)).expect("execution id")
    }
    fn key(&self) -> PartitionKey {
        PartitionKey::from(Partition { family: PartitionFamily::Flow, index: self.part })
    }
    /// The dev-envelope promotion FlowFabric's own examples do: the
    /// claim path only picks `lifecycle_phase = 'runnable'` rows.
    async fn promote(&self, u: Uuid) {
        let n = match &self.c.side {
            SideStore::Sqlite(pool) => sqlx::query(
                "UPDATE ff_exec_core SET lifecycle_phase = 'runnable' WHERE execution_id = ?1",
            )
            .bind(u.as_bytes().to_vec())
            .execute(pool)
            .await
            .expect("promote (sqlite)")
            .rows_affected(),
            SideStore::Postgres(pool) => sqlx::query(
                "UPDATE ff_exec_core SET lifecycle_phase = 'runnable' WHERE execution_id = $1::uuid",
            )
            .bind(u.to_string())
            .execute(pool)
            .await
            .expect("promote (postgres)")
            .rows_affected(),
            SideStore::Valkey(_) => unreachable!(),
        };
        assert_eq!(n, 1, "{}: promote {u}", self.name);
    }
    /// Promote `u` (the only runnable row then) and claim it on `LANE`.
    async fn claim(&self, u: Uuid, what: &str) -> Handle {
        self.promote(u).await;
        let policy = ClaimPolicy::new(WorkerId::new("w-parity"), WorkerInstanceId::new("w-parity-1"), 30_000, None);
        self.b()
            .claim(&LaneId::new(LANE), &CapabilitySet::default(), policy)
            .await
            .unwrap_or_else(|e| panic!("{}: claim {what}: {e}", self.name))
            .unwrap_or_else(|| panic!("{}: claim {what}: nothing claimable", self.name))
    }
}

fn ts(step: i64) -> TimestampMs {
    TimestampMs(T0 + step * 1000)
}

fn create_args(id: ExecutionId, lane: &str, priority: i32, step: i64) -> CreateExecutionArgs {
    CreateExecutionArgs {
        partition_id: id.partition(),
        execution_id: id,
        namespace: Namespace::new("parity"),
        lane_id: LaneId::new(lane),
        execution_kind: "op".into(),
        input_payload: b"in".to_vec(),
        payload_encoding: None,
        priority,
        creator_identity: "parity-test".into(),
        idempotency_key: None,
        tags: [("team.owner".to_owned(), "ops".to_owned())].into_iter().collect(),
        policy: None,
        delay_until: None,
        execution_deadline_at: None,
        now: ts(step),
    }
}

/// Drive the scenario through the trait.
async fn build(run: &Run, ids: &Ids) {
    let b = run.b();
    let who = run.name;
    b.seed_waitpoint_hmac_secret(SeedWaitpointHmacSecretArgs::new("kid-parity", "cafebabe".repeat(8)))
        .await
        .unwrap_or_else(|e| panic!("{who}: seed hmac: {e}"));
    for (f, kind, step) in [(ids.f1, "dag", 0), (ids.f2, "batch", 1)] {
        b.create_flow(CreateFlowArgs {
            flow_id: FlowId::from_uuid(f),
            flow_kind: kind.into(),
            namespace: Namespace::new("parity"),
            now: ts(step),
        })
        .await
        .unwrap_or_else(|e| panic!("{who}: create_flow: {e}"));
    }
    let f1 = FlowId::from_uuid(ids.f1);
    for (i, u) in ids.ex.iter().enumerate() {
        let lane = if i == 4 { SOLO_LANE } else { LANE };
        b.create_execution(create_args(run.eid(*u), lane, 10 * i as i32, 2 + i as i64))
            .await
            .unwrap_or_else(|e| panic!("{who}: create_execution {i}: {e}"));
        if i < 4 {
            b.add_execution_to_flow(AddExecutionToFlowArgs {
                flow_id: f1.clone(),
                execution_id: run.eid(*u),
                now: ts(10 + i as i64),
            })
            .await
            .unwrap_or_else(|e| panic!("{who}: add_execution_to_flow {i}: {e}"));
        }
    }
    let [a, bb, c, d, _] = ids.ex;
    let mut rev = 4; // one bump per add_execution_to_flow
    for (n, (edge, up, down)) in
        [(ids.edges[0], a, bb), (ids.edges[1], a, c), (ids.edges[2], bb, d), (ids.edges[3], c, d)]
            .into_iter()
            .enumerate()
    {
        let staged = b
            .stage_dependency_edge(StageDependencyEdgeArgs {
                flow_id: f1.clone(),
                edge_id: EdgeId::from_uuid(edge),
                upstream_execution_id: run.eid(up),
                downstream_execution_id: run.eid(down),
                dependency_kind: "success_only".into(),
                data_passing_ref: (n == 0).then(|| "ref:a-out".to_owned()),
                expected_graph_revision: rev,
                now: ts(20 + n as i64),
            })
            .await
            .unwrap_or_else(|e| panic!("{who}: stage edge {n}: {e}"));
        let StageDependencyEdgeResult::Staged { new_graph_revision, .. } = staged;
        rev = new_graph_revision;
        b.apply_dependency_to_child(ApplyDependencyToChildArgs {
            flow_id: f1.clone(),
            edge_id: EdgeId::from_uuid(edge),
            downstream_execution_id: run.eid(down),
            upstream_execution_id: run.eid(up),
            graph_revision: rev,
            dependency_kind: "success_only".into(),
            data_passing_ref: None,
            now: ts(30 + n as i64),
        })
        .await
        .unwrap_or_else(|e| panic!("{who}: apply edge {n}: {e}"));
    }

    // A: claim + complete.
    let h = run.claim(a, "A").await;
    b.complete(&h, Some(b"a-done".to_vec())).await.unwrap_or_else(|e| panic!("{who}: complete A: {e}"));
    // B and C: claim + suspend on a waitpoint, at the same instant (the
    // listing then orders them by id).
    for (u, key) in [(bb, "wpk:approve-b"), (c, "wpk:approve-c")] {
        let h = run.claim(u, key).await;
        let args = SuspendArgs::new(
            SuspensionId::new(),
            WaitpointBinding::Fresh { waitpoint_id: WaitpointId::new(), waitpoint_key: key.into() },
            ResumeCondition::Single { waitpoint_key: key.into(), matcher: SignalMatcher::Wildcard },
            ResumePolicy::normal(),
            SuspensionReasonCode::WaitingForApproval,
            ts(40),
        );
        b.suspend(&h, args).await.unwrap_or_else(|e| panic!("{who}: suspend {key}: {e}"));
    }
}

/// Debug form with the Postgres partition tag rewritten to SQLite's.
fn norm<T: std::fmt::Debug>(v: &T, pg_part: u16) -> String {
    format!("{v:#?}").replace(&format!("{{fp:{pg_part}}}:"), "{fp:0}:")
}

/// Compare one read on both backends: results must be equal after
/// normalisation, and errors are failures.
macro_rules! same {
    ($what:expr, $sq:expr, $pg:expr, $part:expr) => {{
        let what = $what;
        let sq = $sq.unwrap_or_else(|e| panic!("sqlite {what}: {e}"));
        let pg = $pg.unwrap_or_else(|e| panic!("postgres {what}: {e}"));
        assert_eq!(norm(&sq, 0), norm(&pg, $part), "{what}: sqlite (left) vs postgres (right)");
        (sq, pg)
    }};
}

/// The first page of the partition's `$list` on both backends, compared ([`same!`]).
macro_rules! first_page {
    ($list:ident, $limit:expr, $sq:expr, $pg:expr, $part:expr) => {
        same!(
            format!("{} limit {}", stringify!($list), $limit),
            $sq.b().$list($sq.key(), None, $limit).await,
            $pg.b().$list($pg.key(), None, $limit).await,
            $part
        )
    };
}

/// Page through a partition's `$list` on both backends, `$limit` per page,
/// comparing each page ([`same!`]); at most `$max` pages. The SQLite pages.
macro_rules! pages {
    ($list:ident, $limit:expr, $max:expr, $sq:expr, $pg:expr, $part:expr) => {{
        let (mut sq_cur, mut pg_cur, mut pages) = (None, None, Vec::new());
        loop {
            let (s, g) = same!(
                format!("{} page {}", stringify!($list), pages.len()),
                $sq.b().$list($sq.key(), sq_cur.clone(), $limit).await,
                $pg.b().$list($pg.key(), pg_cur.clone(), $limit).await,
                $part
            );
            let next = (s.next_cursor.clone(), g.next_cursor);
            pages.push(s);
            assert!(pages.len() <= $max, "{} paging does not end", stringify!($list));
            if next.0.is_none() {
                break;
            }
            (sq_cur, pg_cur) = next;
        }
        pages
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filled_sqlite_reads_match_postgres() {
    let ids = Ids::mint();
    let sq = Run { name: "sqlite", c: connect(&format!("sqlite:{}", sqlite_path())).await, part: 0 };
    let pg = Run { name: "postgres", c: connect(&fresh_postgres().await).await, part: ids.pg_part };
    assert!(sq.b().as_any().downcast_ref::<SqliteFilled>().is_some(), "sqlite backend is SqliteFilled");
    assert!(pg.b().as_any().downcast_ref::<PostgresFilled>().is_some(), "postgres backend is PostgresFilled");
    build(&sq, &ids).await;
    build(&pg, &ids).await;
    let p = ids.pg_part;
    let (f1, f2) = (FlowId::from_uuid(ids.f1), FlowId::from_uuid(ids.f2));

    // describe_flow: header, counters, edge groups; unknown flow → None.
    let (flow, _) = same!("describe_flow f1", sq.b().describe_flow(&f1).await, pg.b().describe_flow(&f1).await, p);
    let flow = flow.expect("f1 exists");
    assert_eq!((flow.node_count, flow.edge_count, flow.public_flow_state.as_str()), (4, 4, "open"));
    assert_eq!(flow.edge_groups.len(), 3, "edge groups on B, C and D: {flow:#?}");
    let d_group = flow.edge_groups.iter().find(|g| g.downstream_execution_id == sq.eid(ids.ex[3])).expect("D group");
    assert_eq!((d_group.policy.clone(), d_group.total_deps), (EdgeDependencyPolicy::AllOf, 2));
    same!("describe_flow f2", sq.b().describe_flow(&f2).await, pg.b().describe_flow(&f2).await, p);
    let missing = FlowId::new();
    let (none, _) = same!("describe_flow missing", sq.b().describe_flow(&missing).await, pg.b().describe_flow(&missing).await, p);
    assert!(none.is_none());

    // list_flows: whole partition, then paged one by one through the cursor.
    let (all, _) = first_page!(list_flows, 10, sq, pg, p);
    assert_eq!(all.flows.len(), 2);
    assert!(all.next_cursor.is_none());
    assert_eq!(pages!(list_flows, 1, 3, sq, pg, p).len(), 2, "two flows, one per page");
    first_page!(list_flows, 0, sq, pg, p);

    // list_edges both directions for every execution; describe_edge.
    for (i, u) in ids.ex.iter().enumerate() {
        for outgoing in [true, false] {
            let dir = |r: &Run| {
                if outgoing {
                    EdgeDirection::Outgoing { from_node: r.eid(*u) }
                } else {
                    EdgeDirection::Incoming { to_node: r.eid(*u) }
                }
            };
            same!(
                format!("list_edges exec {i} outgoing={outgoing}"),
                sq.b().list_edges(&f1, dir(&sq)).await,
                pg.b().list_edges(&f1, dir(&pg)).await,
                p
            );
        }
    }
    let (into_d, _) = same!(
        "list_edges into D",
        sq.b().list_edges(&f1, EdgeDirection::Incoming { to_node: sq.eid(ids.ex[3]) }).await,
        pg.b().list_edges(&f1, EdgeDirection::Incoming { to_node: pg.eid(ids.ex[3]) }).await,
        p
    );
    assert_eq!(into_d.len(), 2, "fan-in: two edges into D");
    for (n, e) in ids.edges.iter().enumerate() {
        let e = EdgeId::from_uuid(*e);
        let (edge, _) =
            same!(format!("describe_edge {n}"), sq.b().describe_edge(&f1, &e).await, pg.b().describe_edge(&f1, &e).await, p);
        assert!(edge.is_some());
    }
    let e = EdgeId::new();
    let (none, _) = same!("describe_edge missing", sq.b().describe_edge(&f1, &e).await, pg.b().describe_edge(&f1, &e).await, p);
    assert!(none.is_none());

    // resolve_execution_flow_id: members → f1, standalone / unknown → None.
    for (i, u) in ids.ex.iter().enumerate() {
        let (fid, _) = same!(
            format!("resolve_execution_flow_id {i}"),
            sq.b().resolve_execution_flow_id(&sq.eid(*u)).await,
            pg.b().resolve_execution_flow_id(&pg.eid(*u)).await,
            p
        );
        assert_eq!(fid, (i < 4).then(|| f1.clone()));
    }
    let u = Uuid::new_v4();
    same!(
        "resolve_execution_flow_id missing",
        sq.b().resolve_execution_flow_id(&sq.eid(u)).await,
        pg.b().resolve_execution_flow_id(&pg.eid(u)).await,
        p
    );

    // describe_execution: the same snapshot on both, flow members included
    // (the Postgres 0.15 decoder fails on those; `PostgresFilled` does not).
    for (i, u) in ids.ex.iter().enumerate() {
        let (snap, _) = same!(
            format!("describe_execution {i}"),
            sq.b().describe_execution(&sq.eid(*u)).await,
            pg.b().describe_execution(&pg.eid(*u)).await,
            p
        );
        let snap = snap.unwrap_or_else(|| panic!("describe_execution {i}: missing"));
        assert_eq!(snap.flow_id, (i < 4).then(|| f1.clone()), "describe_execution {i}: flow id");
    }
    let a = sq.b().describe_execution(&sq.eid(ids.ex[0])).await.expect("describe A").expect("A");
    assert_eq!(a.public_state, PublicState::Completed, "A was completed");
    let u = Uuid::new_v4();
    let (none, _) = same!(
        "describe_execution missing",
        sq.b().describe_execution(&sq.eid(u)).await,
        pg.b().describe_execution(&pg.eid(u)).await,
        p
    );
    assert!(none.is_none());

    // list_executions: everything, then pages of two.
    let (all, _) = first_page!(list_executions, 100, sq, pg, p);
    assert_eq!(all.executions.len(), 5);
    let seen: Vec<_> = pages!(list_executions, 2, 4, sq, pg, p).into_iter().flat_map(|page| page.executions).collect();
    assert_eq!(seen, all.executions, "pages of two cover the partition once, in order");

    // list_lanes, whole and paged.
    let (lanes, _) = same!("list_lanes", sq.b().list_lanes(None, 100).await, pg.b().list_lanes(None, 100).await, p);
    assert!(lanes.lanes.contains(&LaneId::new(LANE)) && lanes.lanes.contains(&LaneId::new(SOLO_LANE)));
    let (first, _) = same!("list_lanes page 1", sq.b().list_lanes(None, 1).await, pg.b().list_lanes(None, 1).await, p);
    same!(
        "list_lanes page 2",
        sq.b().list_lanes(first.next_cursor.clone(), 1).await,
        pg.b().list_lanes(first.next_cursor.clone(), 1).await,
        p
    );

    // list_suspended: B and C with their reason, whole and paged.
    let (all, _) = first_page!(list_suspended, 10, sq, pg, p);
    let suspended: Vec<_> = all.entries.iter().map(|e| uuid_of(&e.execution_id)).collect();
    let mut expected = vec![ids.ex[1], ids.ex[2]];
    expected.sort();
    assert_eq!(suspended, expected, "B and C are suspended, tied on time, ordered by id");
    assert!(all.entries.iter().all(|e| e.reason == "waiting_for_approval" && e.suspended_at_ms == ts(40).0));
    let seen: Vec<_> = pages!(list_suspended, 1, 3, sq, pg, p).into_iter().flat_map(|page| page.entries).collect();
    assert_eq!(seen, all.entries, "pages of one cover the suspended set once, in order");
}

/// SQLite-only behaviour of the wrapper: other partitions are empty,
/// unknown ids are `None`, and the rest of the trait still reaches the
/// SQLite backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_filled_wrapper_basics() {
    let c = connect(&format!("sqlite:{}", sqlite_path())).await;
    let b = c.backend.clone();
    assert_eq!(b.backend_label(), "sqlite");
    assert_eq!(b.capabilities().identity.family, "sqlite");
    // The 0.15 SQLite backend has no ping; the wrapper answers it from its pool.
    b.ping().await.expect("ping");
    let other = PartitionKey::from(Partition { family: PartitionFamily::Flow, index: 1 });
    let run = Run { name: "sqlite", c, part: 0 };
    let f = FlowId::new();
    b.create_flow(CreateFlowArgs { flow_id: f.clone(), flow_kind: "k".into(), namespace: Namespace::new("n"), now: ts(0) })
        .await
        .expect("create_flow delegates");
    let u = Uuid::new_v4();
    b.create_execution(create_args(run.eid(u), LANE, 0, 1)).await.expect("create_execution delegates");
    assert_eq!(b.list_flows(run.key(), None, 10).await.unwrap().flows.len(), 1);
    assert!(b.list_flows(other.clone(), None, 10).await.unwrap().flows.is_empty());
    assert_eq!(b.list_executions(run.key(), None, 10).await.unwrap().executions, vec![run.eid(u)]);
    assert!(b.list_executions(other.clone(), None, 10).await.unwrap().executions.is_empty());
    assert!(b.list_suspended(other, None, 10).await.unwrap().entries.is_empty());
    let snap = b.describe_execution(&run.eid(u)).await.unwrap().expect("described");
    assert_eq!((snap.flow_id, snap.lane_id.as_str()), (None, LANE));
    assert_eq!(b.resolve_execution_flow_id(&run.eid(u)).await.unwrap(), None);
    assert!(b.describe_execution(&run.eid(Uuid::new_v4())).await.unwrap().is_none());
    assert!(b.list_flows(PartitionKey::from(Partition { family: PartitionFamily::Flow, index: 0 }), None, 0)
        .await
        .unwrap()
        .flows
        .is_empty());
    // A read SqliteFilled does not fill still comes from the backend.
    let state = b.read_execution_state(&run.eid(u)).await.expect("read_execution_state delegates");
    assert_eq!(state, Some(ff_core::state::PublicState::Waiting));
}

/// The 0.15 terminal-state gap, through the wrappers the board dials, on
/// both backends: the engine leaves `public_state = 'running'` on rows
/// `complete` / `fail` finish, and the reads must still say how they
/// ended. Four executions of one lane: completed, failed for good
/// (`Permanent`, no retry), cancelled while running, and running. The
/// three flow members describe with their flow id (the Postgres 0.15
/// decoder fails on flow members).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_executions_describe_with_their_outcome() {
    let ids = Ids::mint();
    let sq = Run { name: "sqlite", c: connect(&format!("sqlite:{}", sqlite_path())).await, part: 0 };
    let pg = Run { name: "postgres", c: connect(&fresh_postgres().await).await, part: ids.pg_part };
    for run in [&sq, &pg] {
        check_outcome_states(run, &ids).await;
    }
}

async fn check_outcome_states(run: &Run, ids: &Ids) {
    let (b, who) = (run.b(), run.name);
    let flow = FlowId::from_uuid(ids.f1);
    b.create_flow(CreateFlowArgs {
        flow_id: flow.clone(),
        flow_kind: "dag".into(),
        namespace: Namespace::new("parity"),
        now: ts(0),
    })
    .await
    .unwrap_or_else(|e| panic!("{who}: create_flow: {e}"));
    let [done, failed, cancelled, running, _] = ids.ex;
    for (i, u) in [done, failed, cancelled, running].into_iter().enumerate() {
        b.create_execution(create_args(run.eid(u), LANE, 0, 1 + i as i64))
            .await
            .unwrap_or_else(|e| panic!("{who}: create_execution {i}: {e}"));
        if u != cancelled {
            b.add_execution_to_flow(AddExecutionToFlowArgs {
                flow_id: flow.clone(),
                execution_id: run.eid(u),
                now: ts(10 + i as i64),
            })
            .await
            .unwrap_or_else(|e| panic!("{who}: add_execution_to_flow {i}: {e}"));
        }
    }

    let h = run.claim(done, "done").await;
    b.complete(&h, Some(b"ok".to_vec())).await.unwrap_or_else(|e| panic!("{who}: complete: {e}"));
    let h = run.claim(failed, "failed").await;
    let out = b
        .fail(&h, FailureReason::new("boom"), FailureClass::Permanent)
        .await
        .unwrap_or_else(|e| panic!("{who}: fail: {e}"));
    assert_eq!(out, FailOutcome::TerminalFailed, "{who}: a permanent failure is not retried");
    run.claim(cancelled, "cancelled").await;
    b.cancel_execution(CancelExecutionArgs {
        execution_id: run.eid(cancelled),
        reason: "parity-test".into(),
        source: CancelSource::OperatorOverride,
        lease_id: None,
        lease_epoch: None,
        attempt_id: None,
        now: ts(20),
    })
    .await
    .unwrap_or_else(|e| panic!("{who}: cancel_execution: {e}"));
    run.claim(running, "running").await;

    for (u, state, member) in [
        (done, PublicState::Completed, true),
        (failed, PublicState::Failed, true),
        (cancelled, PublicState::Cancelled, false),
        (running, PublicState::Active, true),
    ] {
        let id = run.eid(u);
        let snap = b
            .describe_execution(&id)
            .await
            .unwrap_or_else(|e| panic!("{who}: describe_execution {state}: {e}"))
            .unwrap_or_else(|| panic!("{who}: describe_execution {state}: missing"));
        assert_eq!(snap.public_state, state, "{who}: describe_execution state");
        assert_eq!(snap.flow_id, member.then(|| flow.clone()), "{who}: describe_execution {state}: flow id");
        let info = b
            .read_execution_info(&id)
            .await
            .unwrap_or_else(|e| panic!("{who}: read_execution_info {state}: {e}"))
            .unwrap_or_else(|| panic!("{who}: read_execution_info {state}: missing"));
        assert_eq!(
            (info.public_state, info.state_vector.public_state),
            (state, state),
            "{who}: read_execution_info state"
        );
    }
    // The gap itself, as the engine reports it (`read_execution_state` is
    // delegated untouched). Once this fails, the engine writes terminal
    // states itself: delete `state_fix` and this check.
    let raw = b.read_execution_state(&run.eid(done)).await.unwrap_or_else(|e| panic!("{who}: read_execution_state: {e}"));
    assert_eq!(raw, Some(PublicState::Active), "{who}: the 0.15 engine still calls a completed execution active");
}
