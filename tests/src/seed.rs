//! Stores of real size, seeded through the trait as FlowFabric clients fill
//! them: flows of [`Mix::members`] executions on a fixed set of lanes, some left
//! waiting, some claimed and completed, some suspended on an approval
//! waitpoint, some holding a lease. Each unit keeps those proportions, so a
//! store ten times larger has ten times of every state and every list page
//! of the board is full at both sizes.
use std::time::Instant;

use ff_board_engine::connect::Connected;
use ff_board_engine::BackendKind;
use ff_core::backend::{CapabilitySet, ClaimPolicy};
use ff_core::contracts::{
    AddExecutionToFlowArgs, CreateExecutionArgs, CreateFlowArgs, ResumeCondition, ResumePolicy, SignalMatcher, SuspendArgs,
    SuspendOutcome, SuspensionReasonCode, SuspensionRequester, TimeoutBehavior, WaitpointBinding,
};
use ff_core::types::{
    ExecutionId, FlowId, LaneId, Namespace, SuspensionId, TimestampMs, WaitpointId, WorkerId, WorkerInstanceId,
};
use futures::{StreamExt, TryStreamExt};

/// What each flow of a seeded store holds: `members` executions, of which
/// per flow (on average) `complete` complete, `suspend` suspend on an
/// approval gate and `active` keep an hour-long lease; the rest wait.
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    pub members: usize,
    pub complete: f64,
    pub suspend: f64,
    pub active: f64,
}

/// Five members: one completes, one suspends, one keeps its lease, two wait.
pub const SMALL_MIX: Mix = Mix { members: 5, complete: 1.0, suspend: 1.0, active: 1.0 };
/// The lanes a seeded deployment declares.
pub const LANES: [&str; 2] = ["scale-a", "scale-b"];
/// Units created at once.
const CONCURRENCY: usize = 8;

/// What a seeding pass made.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seeded {
    pub flows: usize,
    pub executions: usize,
    pub completed: usize,
    pub suspended: usize,
    pub active: usize,
    pub secs: f64,
}

/// Add `units` flows of [`SMALL_MIX`].
pub async fn seed_units(c: &Connected, units: usize) -> Seeded {
    seed(c, units, SMALL_MIX).await
}

/// Add `units` flows made as `mix` says.
pub async fn seed(c: &Connected, units: usize, mix: Mix) -> Seeded {
    let started = Instant::now();
    ff_board_engine::backend::declare_lanes(c, &LANES).await.expect("declare lanes");
    ff_board_engine::demo::ensure_waitpoint_secret(c).await.expect("waitpoint secret");
    let mut s = Seeded::default();
    for chunk in (0..units).collect::<Vec<_>>().chunks(200) {
        futures::stream::iter(chunk.iter().copied())
            .map(|u| create_unit(c, u, mix.members))
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await
            .expect("create flows");
        s.flows += chunk.len();
        s.executions += chunk.len() * mix.members;
        // SQLite / Postgres 0.15 leave new executions `submitted`.
        ff_board_engine::demo::promote_submitted(c).await.expect("promote");
        let n = |per: f64| (chunk.len() as f64 * per / LANES.len() as f64).round() as usize;
        let fates: Vec<usize> =
            [(0, n(mix.complete)), (1, n(mix.suspend)), (2, n(mix.active))].iter().flat_map(|&(f, k)| std::iter::repeat_n(f, k)).collect();
        for lane in LANES {
            let done: Vec<(usize, usize, usize)> = futures::stream::iter(fates.iter().copied())
                .map(|fate| work_one(c, lane, fate))
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            for (a, b, d) in done {
                s.completed += a;
                s.suspended += b;
                s.active += d;
            }
        }
    }
    c.reads.invalidate();
    s.secs = started.elapsed().as_secs_f64();
    s
}

async fn create_unit(c: &Connected, unit: usize, members: usize) -> Result<(), ff_core::engine_error::EngineError> {
    let flow_id = FlowId::new();
    let namespace = Namespace::new("scale");
    let lane = LaneId::new(LANES[unit % LANES.len()]);
    let now = TimestampMs::now();
    let tags = shop_tags(unit);
    c.backend
        .create_flow(CreateFlowArgs { flow_id: flow_id.clone(), flow_kind: "scale".into(), namespace: namespace.clone(), now })
        .await?;
    for step in 0..members {
        let execution_id = new_execution_id(c, Some(&flow_id), &lane);
        let mut args = execution_args(&execution_id, &namespace, &lane, &format!("step-{step}"), "ff-board-seed", now);
        args.tags = tags.clone();
        c.backend.create_execution(args).await?;
        c.backend
            .add_execution_to_flow(AddExecutionToFlowArgs { flow_id: flow_id.clone(), execution_id, now })
            .await?;
    }
    Ok(())
}

/// The tags an application puts on an order's work (`docs/SEARCH.md`):
/// one order id per flow, numbered in this process from 0 (so
/// `tag:shop.order_id=A-7` matches one flow's members however large the
/// store grows) and one of four regions.
pub fn shop_tags(unit: usize) -> std::collections::HashMap<String, String> {
    static ORDERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let order = ORDERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let region = ["eu", "us", "apac", "latam"][unit % 4];
    [("shop.order_id".to_owned(), format!("A-{order}")), ("shop.region".to_owned(), region.to_owned())].into_iter().collect()
}

/// A new execution id on `c`'s store: on `flow`'s partition when given,
/// else on one of `lane`'s (SQLite has partition 0 only).
pub fn new_execution_id(c: &Connected, flow: Option<&FlowId>, lane: &LaneId) -> ExecutionId {
    match (c.kind, flow) {
        (BackendKind::Sqlite, _) => ExecutionId::parse(&format!("{{fp:0}}:{}", uuid::Uuid::new_v4())).expect("id"),
        (_, Some(flow)) => ExecutionId::for_flow(flow, &c.partitions),
        (_, None) => ExecutionId::solo(lane, &c.partitions),
    }
}

/// A new execution as an SDK client creates one: JSON `{}` input, no
/// policy, deadline, delay, tags or idempotency key, priority 0.
pub fn execution_args(
    id: &ExecutionId,
    namespace: &Namespace,
    lane: &LaneId,
    kind: &str,
    creator: &str,
    now: TimestampMs,
) -> CreateExecutionArgs {
    CreateExecutionArgs {
        execution_id: id.clone(),
        namespace: namespace.clone(),
        lane_id: lane.clone(),
        execution_kind: kind.to_owned(),
        input_payload: b"{}".to_vec(),
        payload_encoding: Some("json".into()),
        priority: 0,
        creator_identity: creator.to_owned(),
        idempotency_key: None,
        tags: Default::default(),
        policy: None,
        delay_until: None,
        execution_deadline_at: None,
        partition_id: id.partition(),
        now,
    }
}

/// Claim one execution on `lane` and complete it (fate 0), suspend it on an
/// approval gate (1) or keep its lease (2). Returns (completed, suspended, active).
async fn work_one(c: &Connected, lane: &str, fate: usize) -> (usize, usize, usize) {
    let lane = LaneId::new(lane);
    let lease_ms = if fate == 2 { 3_600_000 } else { 60_000 };
    let policy = ClaimPolicy::new(WorkerId::new("seed-worker"), WorkerInstanceId::new("seed-worker-1"), lease_ms, None);
    let caps = CapabilitySet::default();
    let Some(handle) = retry(|| c.backend.claim(&lane, &caps, policy.clone())).await else {
        return (0, 0, 0);
    };
    match fate {
        0 => {
            retry(|| c.backend.complete(&handle, Some(b"{}".to_vec()))).await;
            (1, 0, 0)
        }
        1 => {
            let now = TimestampMs::now();
            let key = format!("scale-gate:{}", uuid::Uuid::new_v4().simple());
            let condition = ResumeCondition::Single { waitpoint_key: key.clone(), matcher: SignalMatcher::ByName("scale-ok".into()) };
            let args = SuspendArgs::new(
                SuspensionId::new(),
                WaitpointBinding::Fresh { waitpoint_id: WaitpointId::new(), waitpoint_key: key },
                condition,
                ResumePolicy::normal(),
                SuspensionReasonCode::WaitingForApproval,
                now,
            )
            .with_requester(SuspensionRequester::Worker)
            .with_timeout(TimestampMs::from_millis(now.0 + 24 * 3_600_000), TimeoutBehavior::Fail);
            match retry(|| c.backend.suspend(&handle, args.clone())).await {
                SuspendOutcome::Suspended { .. } => (0, 1, 0),
                other => panic!("not suspended: {other:?}"),
            }
        }
        _ => (0, 0, 1),
    }
}

/// A call retried on `Contention` (as an SDK worker retries), a few times.
async fn retry<T, F, Fut>(call: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, ff_core::engine_error::EngineError>>,
{
    for attempt in 1.. {
        match call().await {
            Ok(v) => return v,
            Err(ff_core::engine_error::EngineError::Contention(_)) if attempt < 10 => {
                tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
            }
            Err(e) => panic!("seed: {e}"),
        }
    }
    unreachable!()
}
