//! The live readers (`ff_board_engine::live::spawn`) on each backend.
//!
//! For each backend: spawn the readers, wait until every stream is `Live`,
//! then drive a workload through the `EngineBackend` trait — executions
//! spread over many partitions (flows on different partitions on Postgres
//! and Valkey; SQLite is one partition), claimed (lease acquired), completed
//! or failed (completion + lease released / revoked where the store records
//! it), one suspended and resumed by a signal — and assert that every
//! expected event arrives, per execution id, within a timeout. Some
//! executions are finished right after their claim (a lease shorter than a
//! poll), the others after their `acquired` event was seen.
//!
//! `valkey_readers_recover_after_restart` kills Valkey under running readers,
//! restarts it on the same port and checks the states go `Reconnecting` then
//! `Live`, `Resync` is emitted, and events flow again.
//!
//! `measure_idle_cost` (ignored; run with `--ignored --nocapture`) prints the
//! readers' idle cost on Postgres (transactions/s) and Valkey (commands/s).
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use ff_board_engine::connect::{BackendKind, Connected, SideStore};
use ff_board_engine::live::{self, LiveHandle, SourceEvent, StreamState, STREAMS};
use ff_board_tests::seed::{execution_args, new_execution_id};
use ff_board_tests::{connect, fresh_postgres, sqlite_path, Valkey, ValkeyCluster};
use ff_core::backend::{CapabilitySet, ClaimPolicy, FailureClass, FailureReason, Handle};
use ff_core::contracts::{
    AddExecutionToFlowArgs, ClaimResumedExecutionArgs, ClaimResumedExecutionResult, CreateExecutionArgs,
    CreateFlowArgs, DeliverSignalArgs, DeliverSignalResult, ResumeCondition, ResumePolicy, SeedWaitpointHmacSecretArgs,
    SignalMatcher, SuspendArgs, SuspendOutcome, SuspensionReasonCode, SuspensionRequester, TimeoutBehavior,
    WaitpointBinding,
};
use ff_core::engine_error::EngineError;
use ff_core::partition::{execution_partition, PartitionKey};
use ff_core::types::{
    ExecutionId, FlowId, LaneId, LeaseId, Namespace, SignalId, SuspensionId, TimestampMs, WaitpointId, WaitpointToken,
    WorkerId, WorkerInstanceId,
};

const TIMEOUT: Duration = Duration::from_secs(30);

// ── event collection ────────────────────────────────────────────────────

/// The readers plus every event received so far.
struct Live {
    handle: LiveHandle,
    seen: Vec<SourceEvent>,
}

impl Live {
    fn start(c: &Connected) -> Live {
        Live { handle: live::spawn(c.clone()), seen: Vec::new() }
    }

    /// Receive events until `done(seen)` or the timeout; true if done.
    async fn until(&mut self, timeout: Duration, done: impl Fn(&[SourceEvent]) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while !done(&self.seen) {
            match tokio::time::timeout_at(deadline, self.handle.events.recv()).await {
                Ok(Some(e)) => self.seen.push(e),
                Ok(None) => panic!("readers stopped"),
                Err(_) => return false,
            }
        }
        true
    }

    /// Drain events for `d`.
    async fn drain(&mut self, d: Duration) {
        self.until(d, |_| false).await;
    }

    /// Wait until every stream is in a state matching `want`; returns the map.
    async fn states(
        &mut self,
        timeout: Duration,
        want: impl Fn(&StreamState) -> bool,
    ) -> BTreeMap<&'static str, StreamState> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let now = self.handle.status.borrow_and_update().clone();
            if STREAMS.iter().all(|s| now.get(s).is_some_and(&want)) {
                return now;
            }
            // Keep the event buffer moving meanwhile.
            tokio::select! {
                changed = self.handle.status.changed() => changed.expect("status sender alive"),
                Some(e) = self.handle.events.recv() => self.seen.push(e),
                _ = tokio::time::sleep_until(deadline) => panic!("streams not all in the wanted state: {now:?}"),
            }
        }
    }

    /// Wait until stream `name` is in a state matching `want`; returns it.
    async fn stream(&mut self, name: &str, timeout: Duration, want: impl Fn(&StreamState) -> bool) -> StreamState {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let now = self.handle.status.borrow_and_update().get(name).cloned().expect("known stream");
            if want(&now) {
                return now;
            }
            tokio::select! {
                changed = self.handle.status.changed() => changed.expect("status sender alive"),
                Some(e) = self.handle.events.recv() => self.seen.push(e),
                _ = tokio::time::sleep_until(deadline) => panic!("{name} not in the wanted state: {now:?}"),
            }
        }
    }

    /// The readers over a new connection to a store that notifies them,
    /// once every stream is `Live`.
    async fn notified(url: &str) -> (Connected, Live) {
        let c = connect(url).await;
        let mut live = Live::start(&c);
        live.states(TIMEOUT, |s| *s == StreamState::Live).await;
        (c, live)
    }

    async fn all_live(&mut self) {
        self.states(TIMEOUT, |s| s.is_up()).await;
    }

    /// Run the [`workload`] on `c` and wait until every event it must cause
    /// arrived (a failure says which were missing in `phase`).
    async fn workload_arrives(&mut self, c: &Connected, phase: &str) {
        let expects = workload(c, self).await;
        let ok = self.until(TIMEOUT, |s| missing(&expects, s).is_empty()).await;
        assert!(ok, "{phase}: missing {:#?}", missing(&expects, &self.seen));
    }
}

/// One event the workload must cause.
#[derive(Clone, Debug)]
enum Expect {
    Completion(ExecutionId, &'static str),
    /// A lease event of one of these kinds.
    Lease(ExecutionId, &'static [&'static str]),
    Signal(ExecutionId, SignalId),
}

impl Expect {
    fn met(&self, seen: &[SourceEvent]) -> bool {
        seen.iter().any(|e| match (self, e) {
            (Expect::Completion(id, o), SourceEvent::Completion { execution_id, outcome, .. }) => {
                id == execution_id && o == outcome
            }
            (Expect::Lease(id, kinds), SourceEvent::Lease { execution_id, event, .. }) => {
                id == execution_id && kinds.contains(&event.as_str())
            }
            (Expect::Signal(id, sig), SourceEvent::Signal { execution_id, signal_id, .. }) => {
                id == execution_id && *signal_id == sig.to_string()
            }
            _ => false,
        })
    }
}

fn missing(expects: &[Expect], seen: &[SourceEvent]) -> Vec<Expect> {
    expects.iter().filter(|x| !x.met(seen)).cloned().collect()
}

// ── workload ────────────────────────────────────────────────────────────

const ACQUIRED: &[&str] = &["acquired"];
/// How each store records the end of a lease on complete / fail / suspend.
fn released(kind: BackendKind) -> &'static [&'static str] {
    match kind {
        // Valkey's Lua XADDs `released` with a reason.
        BackendKind::Valkey => &["released"],
        // The SQL backends' outboxes record `revoked` when the attempt ends.
        BackendKind::Sqlite | BackendKind::Postgres => &["revoked", "released", "expired"],
    }
}

fn worker() -> (WorkerId, WorkerInstanceId) {
    (WorkerId::new("live-test"), WorkerInstanceId::new("live-test-1"))
}

async fn ensure_secret(c: &Connected) {
    let secret: String = (0..32).map(|i| format!("{:02x}", (i * 37 + 11) % 256)).collect();
    match c.backend.seed_waitpoint_hmac_secret(SeedWaitpointHmacSecretArgs::new("live-test-1", secret)).await {
        Ok(_) => {}
        Err(EngineError::Validation { detail, .. }) if detail.contains("already active") => {}
        Err(e) => panic!("seed waitpoint secret: {e}"),
    }
}

/// `n` flows with one execution each, on as many partitions as the backend
/// has (SQLite: partition 0).
async fn create_executions(c: &Connected, lane: &LaneId, n: usize) -> Vec<ExecutionId> {
    let now = TimestampMs::now();
    let namespace = Namespace::new("live");
    let mut ids = Vec::new();
    for i in 0..n {
        let flow_id = FlowId::new();
        c.backend
            .create_flow(CreateFlowArgs {
                flow_id: flow_id.clone(),
                flow_kind: "live.test".into(),
                namespace: namespace.clone(),
                now,
            })
            .await
            .expect("create_flow");
        let execution_id = new_execution_id(c, Some(&flow_id), lane);
        let args = execution_args(&execution_id, &namespace, lane, "live.step", "live-test", now);
        let input_payload = format!("{{\"i\":{i}}}").into_bytes();
        c.backend.create_execution(CreateExecutionArgs { input_payload, ..args }).await.expect("create_execution");
        c.backend
            .add_execution_to_flow(AddExecutionToFlowArgs { flow_id, execution_id: execution_id.clone(), now })
            .await
            .expect("add_execution_to_flow");
        ids.push(execution_id);
    }
    // SQLite / Postgres 0.15 leave new executions `submitted`.
    ff_board_engine::demo::promote_submitted(c).await.expect("promote");
    ids
}

/// Claim every execution of `lane` (`n` of them).
async fn claim_all(c: &Connected, lane: &LaneId, n: usize) -> HashMap<ExecutionId, Handle> {
    let (wid, wiid) = worker();
    let mut handles = HashMap::new();
    let deadline = Instant::now() + TIMEOUT;
    while handles.len() < n {
        assert!(Instant::now() < deadline, "claimed only {} of {n}", handles.len());
        let policy = ClaimPolicy::new(wid.clone(), wiid.clone(), 30_000, None);
        match c.backend.claim(lane, &CapabilitySet::default(), policy).await.expect("claim") {
            Some(h) => {
                let id = ff_core::handle_codec::decode(&h.opaque).expect("decode handle").payload.execution_id;
                handles.insert(id, h);
            }
            None => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    handles
}

async fn complete(c: &Connected, h: &Handle) {
    c.backend.complete(h, Some(b"{\"ok\":true}".to_vec())).await.expect("complete");
}

async fn fail(c: &Connected, h: &Handle) {
    c.backend.fail(h, FailureReason::new("live test: permanent failure"), FailureClass::Permanent).await.expect("fail");
}

/// Suspend on a fresh waitpoint waiting for the signal `go`.
async fn suspend(c: &Connected, h: &Handle) -> WaitpointId {
    let waitpoint_id = WaitpointId::new();
    let waitpoint_key = format!("wpk:{waitpoint_id}");
    let now = TimestampMs::now();
    let args = SuspendArgs::new(
        SuspensionId::new(),
        WaitpointBinding::Fresh { waitpoint_id, waitpoint_key: waitpoint_key.clone() },
        ResumeCondition::Single { waitpoint_key, matcher: SignalMatcher::ByName("go".into()) },
        ResumePolicy::normal(),
        SuspensionReasonCode::WaitingForApproval,
        now,
    )
    .with_requester(SuspensionRequester::Worker)
    .with_timeout(TimestampMs::from_millis(now.0 + 3_600_000), TimeoutBehavior::Fail);
    match c.backend.suspend(h, args).await.expect("suspend") {
        SuspendOutcome::Suspended { details, .. } => details.waitpoint_id,
        other => panic!("not suspended: {other:?}"),
    }
}

/// Deliver `go` to the waitpoint (signal-bridge path: token read server-side).
async fn signal(c: &Connected, eid: &ExecutionId, wp: &WaitpointId) -> SignalId {
    let partition = PartitionKey::from(execution_partition(eid, &c.partitions));
    let token = c.backend.read_waitpoint_token(partition, wp).await.expect("read token").expect("token");
    let now = TimestampMs::now();
    let signal_id = SignalId::new();
    let delivered = c
        .backend
        .deliver_signal(DeliverSignalArgs {
            execution_id: eid.clone(),
            waitpoint_id: wp.clone(),
            signal_id: signal_id.clone(),
            signal_name: "go".into(),
            signal_category: "approval".into(),
            source_type: "user".into(),
            source_identity: "tester".into(),
            payload: None,
            payload_encoding: None,
            correlation_id: None,
            idempotency_key: Some(format!("{wp}:tester")),
            target_scope: "execution".into(),
            created_at: Some(now),
            dedup_ttl_ms: Some(60_000),
            resume_delay_ms: None,
            max_signals_per_execution: None,
            signal_maxlen: None,
            waitpoint_token: WaitpointToken::new(token),
            now,
        })
        .await
        .expect("deliver_signal");
    assert!(matches!(delivered, DeliverSignalResult::Accepted { .. }), "{delivered:?}");
    signal_id
}

/// Claim a resumed execution again and complete it: through `claim` (the
/// path a worker takes; Valkey's Lua hands resumed executions out there),
/// else `claim_resumed_execution` on its existing attempt.
async fn resume_and_complete(c: &Connected, lane: &LaneId, eid: &ExecutionId) {
    let (wid, wiid) = worker();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let policy = ClaimPolicy::new(wid.clone(), wiid.clone(), 30_000, None);
        if let Some(h) = c.backend.claim(lane, &CapabilitySet::default(), policy).await.expect("claim") {
            let id = ff_core::handle_codec::decode(&h.opaque).expect("decode handle").payload.execution_id;
            assert_eq!(&id, eid, "only the resumed execution is claimable");
            return complete(c, &h).await;
        }
        let attempt = c.backend.read_current_attempt_index(eid).await.expect("attempt index");
        let got = c
            .backend
            .claim_resumed_execution(ClaimResumedExecutionArgs {
                execution_id: eid.clone(),
                worker_id: wid.clone(),
                worker_instance_id: wiid.clone(),
                lane_id: lane.clone(),
                lease_id: LeaseId::new(),
                lease_ttl_ms: 30_000,
                current_attempt_index: attempt,
                remaining_attempt_timeout_ms: None,
                now: TimestampMs::now(),
            })
            .await;
        match got {
            Ok(ClaimResumedExecutionResult::Claimed(claimed)) => return complete(c, &claimed.handle).await,
            Err(e) => {
                assert!(Instant::now() < deadline, "resumed execution not claimable: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// The whole workload; returns what must have been seen.
///
/// Nine executions: 0–2 completed and 3 failed right after their claim, 4
/// suspended right after its claim, then signalled, claimed again and
/// completed; 5–7 completed and 8 failed once their `acquired` was seen.
async fn workload(c: &Connected, live: &mut Live) -> Vec<Expect> {
    ensure_secret(c).await;
    let lane = LaneId::new(format!("live-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]));
    let ids = create_executions(c, &lane, 9).await;
    let partitions: BTreeSet<u16> = ids.iter().map(|e| e.partition()).collect();
    println!("{:?}: executions on partitions {partitions:?}", c.kind);
    if c.kind != BackendKind::Sqlite {
        assert!(partitions.len() >= 6 && partitions.iter().any(|p| *p != 0), "partitions: {partitions:?}");
    }
    let handles = claim_all(c, &lane, ids.len()).await;
    let h = |i: usize| &handles[&ids[i]];

    // Leases shorter than any poll.
    for i in 0..3 {
        complete(c, h(i)).await;
    }
    fail(c, h(3)).await;
    let wp = suspend(c, h(4)).await;

    // Leases held until their acquisition was seen.
    let slow: Vec<Expect> = (5..9).map(|i| Expect::Lease(ids[i].clone(), ACQUIRED)).collect();
    let seen = live.until(TIMEOUT, |s| missing(&slow, s).is_empty()).await;
    assert!(seen, "{:?}: acquired not seen for {:?}\nseen: {:#?}", c.kind, missing(&slow, &live.seen), live.seen);
    for i in 5..8 {
        complete(c, h(i)).await;
    }
    fail(c, h(8)).await;

    let signal_id = signal(c, &ids[4], &wp).await;
    resume_and_complete(c, &lane, &ids[4]).await;

    let mut expects = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let outcome = if i == 3 || i == 8 { "failed" } else { "success" };
        expects.push(Expect::Completion(id.clone(), outcome));
        expects.push(Expect::Lease(id.clone(), ACQUIRED));
        expects.push(Expect::Lease(id.clone(), released(c.kind)));
    }
    expects.push(Expect::Signal(ids[4].clone(), signal_id));
    expects
}

/// Spawn the readers on `c`, run [`workload`], assert every expected event
/// arrived; returns the readers for more.
async fn check_backend(c: &Connected) -> Live {
    let mut live = Live::start(c);
    live.all_live().await;
    let expects = workload(c, &mut live).await;
    let ok = live.until(TIMEOUT, |s| missing(&expects, s).is_empty()).await;
    // Give stragglers a moment, so the printed trace is complete.
    live.drain(Duration::from_millis(500)).await;
    for e in &live.seen {
        println!("  {e:?}");
    }
    assert!(ok, "{:?}: missing {:#?}", c.kind, missing(&expects, &live.seen));
    let status = live.handle.status.borrow().clone();
    assert!(status.values().all(|s| s.is_up()), "{status:?}");
    live
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_sources_sqlite() {
    check_backend(&connect(&format!("sqlite:{}", sqlite_path())).await).await;
}

/// Rows another process commits to the same SQLite file wake nothing in
/// this process (the backend's wakeup is in-process): the readers find them
/// by their idle check. The raw INSERT into the completion outbox stands in
/// for that other process's backend instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_rows_of_another_process_arrive() {
    let path = sqlite_path();
    let c = connect(&format!("sqlite:{path}")).await;
    let mut live = Live::start(&c);
    live.all_live().await;
    let other = sqlx::SqlitePool::connect(&format!("sqlite:{path}")).await.expect("second connection");
    let uuid = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO ff_completion_event (partition_key, execution_id, outcome, occurred_at_ms) VALUES (0, ?1, 'success', ?2)",
    )
    .bind(uuid.as_bytes().to_vec())
    .bind(TimestampMs::now().0)
    .execute(&other)
    .await
    .expect("insert outbox row");
    let id = ExecutionId::parse(&format!("{{fp:0}}:{uuid}")).unwrap();
    let want = [Expect::Completion(id, "success")];
    let t0 = Instant::now();
    assert!(live.until(Duration::from_secs(15), |s| missing(&want, s).is_empty()).await, "seen: {:?}", live.seen);
    println!("row of another process seen after {:?}", t0.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_sources_postgres() {
    let c = connect(&fresh_postgres().await).await;
    let mut live = check_backend(&c).await;

    // Kill the readers' connections: they reconnect and catch up
    // from their cursors, so the next workload's events all arrive.
    let SideStore::Postgres(pool) = &c.side else { unreachable!() };
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
          WHERE datname = current_database() AND application_name LIKE 'ff-board live %'",
    )
    .fetch_all(pool)
    .await
    .expect("terminate listeners");
    assert_eq!(killed.len(), 3, "reader connections: {killed:?}");
    live.workload_arrives(&c, "after killing the listeners").await;
    live.all_live().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_sources_valkey() {
    let valkey = Valkey::start();
    check_backend(&connect(&valkey.url()).await).await;
}

/// With keyspace notifications on, every stream is `Live` (the lease
/// reader follows the notified keys instead of polling) and the workload's
/// events all arrive. With the server's setting turned off under it, the
/// lease reader falls back to polling and says why; turned on again, it
/// catches up and follows the keys again: no event of either phase is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_keyspace_notifications_and_fallback() {
    let valkey = Valkey::start_notifying();
    let (c, mut live) = Live::notified(&valkey.url()).await;
    live.workload_arrives(&c, "notified").await;

    ff_board_tests::resp(valkey.port, &["CONFIG", "SET", "notify-keyspace-events", ""]);
    let polling = live
        .stream("lease", TIMEOUT, |s| matches!(s, StreamState::Polling { why, .. } if why.contains("notify-keyspace-events")))
        .await;
    println!("setting off: {polling:?}");
    live.workload_arrives(&c, "polling").await;

    ff_board_tests::resp(valkey.port, &["CONFIG", "SET", "notify-keyspace-events", "Kt"]);
    live.stream("lease", TIMEOUT, |s| *s == StreamState::Live).await;
    live.workload_arrives(&c, "notified again").await;
}

/// A 3-primary cluster with notifications on: all three streams `Live`
/// (the watcher subscribed on every primary), every event of executions
/// spread over the shards arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_sources_valkey_cluster() {
    let cluster = ValkeyCluster::start();
    let (c, mut live) = Live::notified(&cluster.url()).await;
    live.workload_arrives(&c, "cluster").await;
    let status = live.handle.status.borrow().clone();
    assert!(status.values().all(|s| *s == StreamState::Live), "{status:?}");
}

// ── recovery ────────────────────────────────────────────────────────────

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_readers_recover_after_restart() {
    let valkey = Valkey::start();
    let port = valkey.port;
    let c = connect(&valkey.url()).await;
    let mut live = Live::start(&c);
    live.all_live().await;
    live.workload_arrives(&c, "before").await;

    drop(valkey);
    let down = live.states(TIMEOUT, |s| matches!(s, StreamState::Reconnecting { .. })).await;
    println!("while down: {down:#?}");

    let _valkey = Valkey::start_on(port);
    live.all_live().await;
    // The restarted server is empty: load the FlowFabric library again
    // (what `--migrate` does at board start).
    let deadline = Instant::now() + TIMEOUT;
    while let Err(e) = c.backend.prepare().await {
        assert!(Instant::now() < deadline, "prepare after restart: {e}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let resyncs = |s: &[SourceEvent]| {
        s.iter()
            .filter_map(|e| match e {
                SourceEvent::Resync { stream, .. } => Some(*stream),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    // One Resync per stream after the restart (completion also had one at
    // its first subscription).
    let want = |s: &[SourceEvent]| {
        let r = resyncs(s);
        r.iter().filter(|x| **x == "completion").count() >= 2 && r.contains(&"lease") && r.contains(&"signal")
    };
    assert!(live.until(TIMEOUT, want).await, "resyncs: {:?}", resyncs(&live.seen));

    live.workload_arrives(&c, "after restart").await;
    println!("resyncs: {:?}", resyncs(&live.seen));
}

// ── cost ────────────────────────────────────────────────────────────────

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: run with --ignored --nocapture"]
async fn measure_idle_cost() {
    // Postgres: every reader query is one index scan of its outbox table
    // (producers only insert), so the tables' scan counters count them.
    // (`pg_stat_database` transaction counts are no measure: autovacuum
    // and stats activity on the 3,300 partitions dwarf the readers.)
    let url = fresh_postgres().await;
    let c = connect(&url).await;
    let admin = sqlx::PgPool::connect(&url).await.expect("admin");
    let settle = Duration::from_secs(12); // idle sessions flush their stats every 10 s
    let window = Duration::from_secs(60);
    let per_s = |a: i64, b: i64| (b - a) as f64 / window.as_secs_f64();
    let mut live = Live::start(&c);
    live.all_live().await;
    tokio::time::sleep(settle).await;
    let (p2, c2, _) = pg_counters(&admin).await;
    live.drain(window).await;
    let (p3, c3, i3) = pg_counters(&admin).await;
    println!(
        "postgres, readers idle: queries/s: lease+signal {:.2}, completion {:.3} ({:.2} partition scans/s / 256)",
        per_s(p2, p3),
        per_s(c2, c3) / 256.0,
        per_s(c2, c3),
    );
    let t = Instant::now();
    let expects = workload(&c, &mut live).await;
    assert!(live.until(TIMEOUT, |s| missing(&expects, s).is_empty()).await);
    tokio::time::sleep(settle).await;
    let busy = t.elapsed().as_secs_f64();
    let (p4, c4, i4) = pg_counters(&admin).await;
    println!(
        "postgres, workload over {busy:.0}s: {} outbox rows; queries: lease+signal {}, completion {:.1}; of which idle polls ~{:.1} + {:.1}",
        i4 - i3,
        p4 - p3,
        (c4 - c3) as f64 / 256.0,
        per_s(p2, p3) * busy,
        per_s(c2, c3) / 256.0 * busy
    );
    drop(live);

    // Valkey: commands processed while idle, with 1 then 2 lanes known.
    let valkey = Valkey::start();
    let c = connect(&valkey.url()).await;
    let mut live = Live::start(&c);
    live.all_live().await;
    for lanes in 1..=2 {
        let before = workload(&c, &mut live).await;
        assert!(live.until(TIMEOUT, |s| missing(&before, s).is_empty()).await);
        live.drain(Duration::from_secs(3)).await;
        let n0 = valkey_commands(&c.side).await;
        let window = Duration::from_secs(20);
        live.drain(window).await;
        let n1 = valkey_commands(&c.side).await;
        println!(
            "valkey idle, {lanes} lane(s): {} commands in {}s = {:.1}/s (includes 1 INFO)",
            n1 - n0,
            window.as_secs(),
            (n1 - n0) as f64 / window.as_secs_f64()
        );
    }
}

/// `total_commands_processed` of the Valkey behind `side`.
async fn valkey_commands(side: &SideStore) -> i64 {
    let SideStore::Valkey(client) = side else { panic!("not valkey") };
    let text: String = client.cmd("INFO").arg("stats").execute().await.expect("INFO stats");
    text.lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .and_then(|n| n.trim().parse::<i64>().ok())
        .expect("total_commands_processed")
}

/// Counters of the current database: scans of `ff_lease_event` +
/// `ff_signal_event`, scans of the 256 `ff_completion_event` partitions (one
/// reader query scans each partition's index), outbox rows inserted.
async fn pg_counters(admin: &sqlx::PgPool) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT COALESCE(SUM(s) FILTER (WHERE relname IN ('ff_lease_event', 'ff_signal_event')), 0)::bigint, \
                COALESCE(SUM(s) FILTER (WHERE relname LIKE 'ff\\_completion\\_event\\_p%'), 0)::bigint, \
                COALESCE(SUM(n_tup_ins), 0)::bigint \
           FROM (SELECT relname, COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0) AS s, n_tup_ins \
                   FROM pg_stat_user_tables \
                  WHERE relname IN ('ff_lease_event', 'ff_signal_event') \
                     OR relname LIKE 'ff\\_completion\\_event\\_p%') t",
    )
    .fetch_one(admin)
    .await
    .expect("pg_stat_user_tables")
}
