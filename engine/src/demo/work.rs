//! The simulated workers: registration, claims, streaming, renewals,
//! completions, retries, crashes, approval gates and their approvers.
use super::SIGNOFF_SIGNAL;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ff_core::backend::{
    CapabilitySet, ClaimPolicy, FailOutcome, FailureClass, FailureReason, Frame, FrameKind, Handle,
};
use ff_core::contracts::{
    ClaimResumedExecutionArgs, ClaimResumedExecutionResult, CompositeBody, CountKind, IssueReclaimGrantArgs,
    IssueReclaimGrantOutcome, ReclaimExecutionArgs, ReclaimExecutionOutcome,
    DeliverSignalResult, HeartbeatWorkerArgs, IssueClaimGrantArgs, HeartbeatWorkerOutcome, ListPendingWaitpointsArgs,
    RegisterWorkerArgs, ResumeCondition, ResumePolicy, SignalMatcher, SuspendArgs, SuspendOutcome,
    SuspensionReasonCode, SuspensionRequester, TimeoutBehavior, WaitpointBinding,
};
use ff_core::engine_error::EngineError;
use ff_core::partition::execution_partition;
use ff_core::types::{
    AttemptId, ExecutionId, FlowId, LaneId, LeaseId, Namespace, SuspensionId, TimestampMs, WaitpointId,
    WorkerId, WorkerInstanceId,
};
use rand::Rng;

use super::flows::Fate;
use super::standin::Finished;
use super::{budgets, DemoReport, DemoState};
use crate::backend::Quirks;
use crate::connect::{is_unavailable, Connected};

/// Lease the workers take; renewed while a step runs, left to expire by a
/// "crashed" worker.
const LEASE_TTL_MS: u32 = 20_000;

/// How long a worker leaves a lane alone after a claim found nothing.
const IDLE_BACKOFF: Duration = Duration::from_millis(7_500);


struct Worker {
    id: &'static str,
    namespace: &'static str,
    lanes: &'static [&'static str],
}

/// Every lane the demo's workers serve (the demo's declared lanes).
pub(super) fn lanes() -> Vec<&'static str> {
    WORKERS.iter().flat_map(|w| w.lanes.iter().copied()).collect()
}

const WORKERS: [Worker; 3] = [
    Worker { id: "deployer", namespace: "payments", lanes: &["deploy", "billing"] },
    Worker { id: "etl-runner", namespace: "search", lanes: &["etl", "search"] },
    Worker { id: "transcoder", namespace: "media", lanes: &["media"] },
];

impl Worker {
    fn instance(&self) -> WorkerInstanceId {
        WorkerInstanceId::new(format!("{}-demo-1", self.id))
    }

    fn serving(lane: &str) -> &'static Worker {
        WORKERS.iter().find(|w| w.lanes.contains(&lane)).unwrap_or(&WORKERS[0])
    }
}

/// A step a worker holds across ticks.
pub(super) struct Running {
    handle: Handle,
    execution_id: ExecutionId,
    flow_id: Option<FlowId>,
    lane: LaneId,
    step: String,
    steps_left: u32,
}

/// An execution suspended on an approval waitpoint.
pub(super) struct Gate {
    execution_id: ExecutionId,
    flow_id: Option<FlowId>,
    lane: LaneId,
    waitpoint_id: WaitpointId,
    needed: u32,
    approvers: Vec<&'static str>,
    since: Instant,
    /// Never approved by the demo: waits for an operator on the board.
    for_operator: bool,
}

/// A retry parked in Valkey's delayed set until `until`.
pub(super) struct DelayedRetry {
    pub execution_id: ExecutionId,
    pub lane: LaneId,
    pub until: TimestampMs,
}

/// What a step's input says (written by `create_flow_with_dag`).
struct StepInput {
    step: String,
    fate: Fate,
    flow_id: Option<FlowId>,
}

fn step_input(payload: &[u8]) -> StepInput {
    let v: serde_json::Value = serde_json::from_slice(payload).unwrap_or_default();
    let text = |k: &str| v.get(k).and_then(|s| s.as_str()).unwrap_or_default().to_owned();
    let approvers = v.get("approvers").and_then(|n| n.as_u64()).unwrap_or(1) as u32;
    StepInput {
        step: text("step"),
        fate: Fate::parse(&text("simulate"), approvers),
        flow_id: FlowId::parse(&text("flow_id")).ok(),
    }
}

fn worker_args(w: &Worker) -> RegisterWorkerArgs {
    RegisterWorkerArgs::new(
        WorkerId::new(w.id),
        w.instance(),
        w.lanes.iter().map(|l| LaneId::new(*l)).collect(),
        BTreeSet::new(),
        60_000,
        Namespace::new(w.namespace),
        TimestampMs::now(),
    )
}

/// Register the three demo workers in the worker registry.
pub(super) async fn register_workers(c: &Connected, report: &mut DemoReport) -> Result<(), EngineError> {
    for w in &WORKERS {
        match c.backend.register_worker(worker_args(w)).await {
            Ok(_) => report.workers += 1,
            Err(e) if is_unavailable(&e) || cross_slot(&e) => {
                report.skip("register_worker", &e);
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// FlowFabric 0.15's worker registry is not cluster-safe: its keys
/// (`ff:worker:<ns>:<id>:…`, `ff:idx:<ns>:workers`) carry no hash tag, so
/// `ff_register_worker` / `ff_heartbeat_worker` answer `CrossSlot` on a
/// Valkey cluster. The demo runs without registered workers there.
fn cross_slot(e: &EngineError) -> bool {
    e.to_string().contains("CrossSlot")
}

/// Keep the registrations alive (re-registering after a TTL lapse).
pub(super) async fn heartbeat_workers(c: &Connected, report: &mut DemoReport) -> Result<(), EngineError> {
    for w in &WORKERS {
        let args = HeartbeatWorkerArgs::new(w.instance(), Namespace::new(w.namespace), TimestampMs::now());
        match c.backend.heartbeat_worker(args).await {
            Ok(HeartbeatWorkerOutcome::NotRegistered) => {
                c.backend.register_worker(worker_args(w)).await?;
            }
            Ok(_) => {}
            Err(e) if is_unavailable(&e) || cross_slot(&e) => {
                report.skip("heartbeat_worker", &e);
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn frame(c: &Connected, handle: &Handle, kind: FrameKind, text: String, report: &mut DemoReport) {
    match c.backend.append_frame(handle, Frame::new(text.into_bytes(), kind)).await {
        Ok(_) => report.frames += 1,
        Err(e) => report.skip("append_frame", &e),
    }
}

/// Advance the steps held from earlier ticks, then claim up to
/// `max_claims` new ones across the workers' lanes (a lane that had no work
/// is skipped for [`IDLE_BACKOFF`], as a polling worker would). With `inline`, claimed
/// steps run to their end at once (seed); otherwise they run 1–3 ticks.
/// A claim error (backend gone) ends the call; an error on one execution
/// is logged and that execution dropped.
pub(super) async fn work_some(
    c: &Connected,
    st: &mut DemoState,
    max_claims: usize,
    inline: bool,
    report: &mut DemoReport,
) -> Result<(), EngineError> {
    for r in std::mem::take(&mut st.running) {
        if let Err(e) = advance(c, st, r, report).await {
            tracing::warn!(error = %e, "demo: step lost");
        }
    }
    let mut claims = 0;
    for w in &WORKERS {
        for &name in w.lanes {
            if st.idle_until.get(name).is_some_and(|t| *t > Instant::now()) {
                continue;
            }
            let lane = LaneId::new(name);
            while claims < max_claims {
                let policy = ClaimPolicy::new(WorkerId::new(w.id), w.instance(), LEASE_TTL_MS, None);
                let Some(handle) = c.backend.claim(&lane, &CapabilitySet::default(), policy).await? else {
                    if !inline {
                        st.idle_until.insert(name, Instant::now() + IDLE_BACKOFF);
                    }
                    break;
                };
                claims += 1;
                report.claimed += 1;
                if let Err(e) = start(c, st, w, &lane, handle, inline, report).await {
                    tracing::warn!(error = %e, lane = %lane, "demo: claimed step failed");
                }
            }
        }
    }
    Ok(())
}

/// Leases that expired under a "crashed" worker (or a board that stopped
/// mid-step) are reclaimed by the worker serving the lane: a reclaim grant,
/// then a fresh attempt that runs to completion. `limit` per tick.
pub(super) async fn reclaim_expired(c: &Connected, st: &mut DemoState, limit: u32, report: &mut DemoReport) -> Result<(), EngineError> {
    for e in super::standin::expired_leases(c, limit).await? {
        let Some(snap) = c.backend.describe_execution(&e.execution_id).await? else { continue };
        let lane = snap.lane_id.clone();
        let w = Worker::serving(lane.as_str());
        let now = TimestampMs::now();
        let grant = IssueReclaimGrantArgs::new(
            e.execution_id.clone(),
            WorkerId::new(w.id),
            w.instance(),
            lane.clone(),
            None,
            30_000,
            None,
            None,
            BTreeSet::new(),
            now,
        );
        match c.backend.issue_reclaim_grant(grant).await {
            Ok(IssueReclaimGrantOutcome::Granted(_)) => {}
            Ok(other) => {
                tracing::debug!(execution = %e.execution_id, ?other, "demo: lease not reclaimable");
                continue;
            }
            Err(err) if is_unavailable(&err) => return Ok(()),
            Err(err) => {
                tracing::warn!(execution = %e.execution_id, error = %err, "demo: reclaim grant");
                continue;
            }
        }
        let args = ReclaimExecutionArgs::new(
            e.execution_id.clone(),
            WorkerId::new(w.id),
            w.instance(),
            lane.clone(),
            None,
            LeaseId::new(),
            u64::from(LEASE_TTL_MS),
            AttemptId::new(),
            String::new(),
            Some(10),
            e.worker_instance_id.clone(),
            e.attempt_index,
        );
        match c.backend.reclaim_execution(args).await {
            Ok(ReclaimExecutionOutcome::Claimed(handle)) => {
                report.reclaimed += 1;
                if let Err(err) = start(c, st, w, &lane, handle, false, report).await {
                    tracing::warn!(execution = %e.execution_id, error = %err, "demo: reclaimed step failed");
                }
            }
            Ok(other) => tracing::debug!(execution = %e.execution_id, ?other, "demo: reclaim refused"),
            Err(err) => tracing::warn!(execution = %e.execution_id, error = %err, "demo: reclaim"),
        }
    }
    Ok(())
}

/// A freshly claimed step: read its input, then do what its fate says.
async fn start(
    c: &Connected,
    st: &mut DemoState,
    w: &Worker,
    lane: &LaneId,
    handle: Handle,
    inline: bool,
    report: &mut DemoReport,
) -> Result<(), EngineError> {
    let decoded = ff_core::handle_codec::decode(&handle.opaque)?;
    let execution_id = decoded.payload.execution_id;
    let attempt = decoded.payload.attempt_index.0;
    // A step taken over after a crash: a later attempt, or (SQLite, whose
    // revoked lease is claimed again on the same attempt) a later lease epoch.
    let taken_over = attempt > 0 || decoded.payload.lease_epoch.0 > 1;
    let input = step_input(&c.backend.read_execution_context(&execution_id).await?.input_payload);
    let text = format!("{} picked up {} (attempt {})", w.id, input.step, attempt + 1);
    frame(c, &handle, FrameKind::Event, text, report).await;

    match input.fate {
        Fate::Approval(needed) => {
            // A resumed gate comes back through a fresh claim on Postgres /
            // SQLite: the approval signals are already there.
            if !c.backend.observe_signals(&handle).await?.is_empty() {
                return finish(c, st, &handle, &execution_id, lane, &input.step, input.flow_id.clone(), report).await;
            }
            suspend_for_approval(c, st, &handle, execution_id.clone(), lane, input.flow_id.clone(), needed, report)
                .await
        }
        Fate::Crash if !taken_over => {
            frame(c, &handle, FrameKind::Stderr, format!("{}: loading model weights…", input.step), report).await;
            report.abandoned += 1;
            Ok(())
        }
        Fate::Flaky if attempt == 0 => {
            frame(c, &handle, FrameKind::Stderr, "upstream API answered 503".to_owned(), report).await;
            let reason = FailureReason::new("upstream API unavailable (503)");
            let outcome = c.backend.fail(&handle, reason, FailureClass::Transient).await?;
            failed(c, st, outcome, execution_id, lane, input.flow_id, report);
            Ok(())
        }
        Fate::Fail => {
            frame(c, &handle, FrameKind::Stderr, format!("{}: ledger totals do not match", input.step), report).await;
            let reason = FailureReason::new("ledger mismatch: 3 invoices off by more than 0.5%");
            let outcome = c.backend.fail(&handle, reason, FailureClass::Permanent).await?;
            failed(c, st, outcome, execution_id, lane, input.flow_id, report);
            Ok(())
        }
        // A crashed step's reclaimed attempt, a flaky step's retry, a plain step.
        Fate::Ok | Fate::Flaky | Fate::Crash => {
            let r = Running {
                handle,
                execution_id,
                flow_id: input.flow_id,
                lane: lane.clone(),
                step: input.step,
                steps_left: if inline { 1 } else { st.rng.gen_range(1..=3) },
            };
            advance(c, st, r, report).await
        }
    }
}

/// Account for a failed attempt. A retry comes back as a new attempt
/// (Postgres / SQLite retry the retryable classes at once; Valkey retries
/// any class while the execution's retry policy allows, after its backoff,
/// so the retry is parked for the delayed promoter). A terminal failure is
/// cascaded to the flow.
fn failed(
    c: &Connected,
    st: &mut DemoState,
    outcome: FailOutcome,
    execution_id: ExecutionId,
    lane: &LaneId,
    flow_id: Option<FlowId>,
    report: &mut DemoReport,
) {
    match outcome {
        FailOutcome::RetryScheduled { delay_until } => {
            report.retried += 1;
            if Quirks::of(c.kind).retries_wait_for_scanner {
                st.retries.push(DelayedRetry { execution_id, lane: lane.clone(), until: delay_until });
            }
        }
        FailOutcome::TerminalFailed => {
            report.failed += 1;
            if let Some(flow_id) = flow_id {
                st.finished.push(Finished { execution_id, flow_id, outcome: "failed" });
            }
        }
    }
}

/// One slice of a running step: a log frame, progress, a lease renewal;
/// the last slice completes it.
async fn advance(c: &Connected, st: &mut DemoState, mut r: Running, report: &mut DemoReport) -> Result<(), EngineError> {
    let percent = if r.steps_left <= 1 { 100 } else { st.rng.gen_range(20..80) };
    let line = format!("{}: {} records processed", r.step, st.rng.gen_range(1_000..90_000));
    frame(c, &r.handle, FrameKind::Stdout, line, report).await;
    c.backend.progress(&r.handle, Some(percent), Some(format!("{} running", r.step))).await?;
    r.steps_left = r.steps_left.saturating_sub(1);
    if r.steps_left > 0 {
        c.backend.renew(&r.handle).await?;
        st.running.push(r);
        return Ok(());
    }
    finish(c, st, &r.handle, &r.execution_id, &r.lane, &r.step, r.flow_id, report).await
}

/// Report the step's usage to its team budget and complete it.
#[allow(clippy::too_many_arguments)]
async fn finish(
    c: &Connected,
    st: &mut DemoState,
    handle: &Handle,
    execution_id: &ExecutionId,
    lane: &LaneId,
    step: &str,
    flow_id: Option<FlowId>,
    report: &mut DemoReport,
) -> Result<(), EngineError> {
    let (budget, usage) = budgets::usage_for_lane(lane.as_str(), &mut st.rng);
    match c.backend.report_usage(handle, &budget, usage).await {
        Ok(outcome) => budgets::count(report, &budget, &outcome),
        Err(e) => report.skip("report_usage", &e),
    }
    let result = serde_json::json!({ "step": step, "status": "ok" }).to_string();
    c.backend.complete(handle, Some(result.into_bytes())).await?;
    report.completed += 1;
    if let Some(flow_id) = flow_id {
        st.finished.push(Finished { execution_id: execution_id.clone(), flow_id, outcome: "success" });
    }
    Ok(())
}

/// Suspend a claimed gate on a fresh waitpoint until `needed` distinct
/// approvers sent `release-signoff` (`Single` for one, `Count{n, DistinctSources}`
/// for more). A third of the gates are left for the operator.
#[allow(clippy::too_many_arguments)]
pub(super) async fn suspend_for_approval(
    c: &Connected,
    st: &mut DemoState,
    handle: &Handle,
    execution_id: ExecutionId,
    lane: &LaneId,
    flow_id: Option<FlowId>,
    needed: u32,
    report: &mut DemoReport,
) -> Result<(), EngineError> {
    let waitpoint_id = WaitpointId::new();
    let waitpoint_key = format!("wpk:{waitpoint_id}");
    let matcher = SignalMatcher::ByName(SIGNOFF_SIGNAL.to_owned());
    let condition = if needed > 1 {
        ResumeCondition::Composite(CompositeBody::count(
            needed,
            CountKind::DistinctSources,
            Some(matcher),
            [waitpoint_key.clone()],
        ))
    } else {
        ResumeCondition::Single { waitpoint_key: waitpoint_key.clone(), matcher }
    };
    // Gates left to operators say so in their reason: the first
    // two-approver gate and every other one after it, a third of the rest.
    let for_operator = if needed > 1 {
        st.two_approver_gates += 1;
        st.two_approver_gates % 2 == 1
    } else {
        st.rng.gen_bool(1.0 / 3.0)
    };
    let reason = if for_operator { SuspensionReasonCode::WaitingForOperatorReview } else { SuspensionReasonCode::WaitingForApproval };
    let now = TimestampMs::now();
    let args = SuspendArgs::new(
        SuspensionId::new(),
        WaitpointBinding::Fresh { waitpoint_id, waitpoint_key },
        condition,
        ResumePolicy::normal(),
        reason,
        now,
    )
    .with_requester(SuspensionRequester::Worker)
    .with_timeout(TimestampMs::from_millis(now.0 + 24 * 3_600_000), TimeoutBehavior::Fail);
    let text = format!("waiting for {needed} approval(s): signal `{SIGNOFF_SIGNAL}`");
    frame(c, handle, FrameKind::Event, text, report).await;
    match c.backend.suspend(handle, args).await? {
        SuspendOutcome::Suspended { details, .. } => {
            report.suspended += 1;
            report.gates.push(execution_id.clone());
            if needed > 1 {
                report.two_approver_gates.push(execution_id.clone());
            }
            st.gates.push(Gate {
                execution_id,
                flow_id,
                lane: lane.clone(),
                waitpoint_id: details.waitpoint_id,
                needed,
                approvers: Vec::new(),
                since: Instant::now(),
                for_operator,
            });
            Ok(())
        }
        // Signals buffered earlier already satisfy it: the lease is kept.
        _ => finish(c, st, handle, &execution_id, lane, "approval", flow_id, report).await,
    }
}

/// Approvers at work (bots, never the board's operators, and never on the
/// gates left to operators). Single gates get `carol` after ~12 s (the seed
/// approves its first one at once); two-approver gates get `dave` after
/// ~8 s and `erin` after ~25 s (never in the seed). Gates whose waitpoint is gone were approved
/// elsewhere (the board): they are claimed and finished like the others.
pub(super) async fn approvals_tick(
    c: &Connected,
    st: &mut DemoState,
    seed: bool,
    report: &mut DemoReport,
) -> Result<(), EngineError> {
    for mut gate in std::mem::take(&mut st.gates) {
        let pending = c
            .backend
            .list_pending_waitpoints(ListPendingWaitpointsArgs::new(gate.execution_id.clone()))
            .await?
            .entries
            .into_iter()
            .any(|w| w.waitpoint_id == gate.waitpoint_id);
        let age = gate.since.elapsed();
        let next = match (gate.needed, gate.approvers.len()) {
            _ if !pending || (gate.for_operator && !seed) => None,
            // The seed approves its first single gate and leaves the rest.
            (1, 0) if (seed && report.approvals == 0) || (!seed && age >= Duration::from_secs(12)) => Some("carol"),
            (2, 0) if !seed && age >= Duration::from_secs(8) => Some("dave"),
            (2, 1) if age >= Duration::from_secs(25) => Some("erin"),
            _ => None,
        };
        let satisfied = match next {
            Some(who) => {
                gate.approvers.push(who);
                approve(c, &gate, who, report).await?
            }
            None => !pending,
        };
        if !satisfied {
            st.gates.push(gate);
        } else if let Err(e) = resume_and_finish(c, st, &gate, report).await {
            tracing::warn!(error = %e, execution = %gate.execution_id, "demo: resumed gate not finished");
        }
    }
    Ok(())
}

/// Deliver `release-signoff` from `who` the way a signal bridge does: read the
/// waitpoint token server-side, sign as that user. True when it resumed.
async fn approve(c: &Connected, gate: &Gate, who: &'static str, report: &mut DemoReport) -> Result<bool, EngineError> {
    let payload = serde_json::json!({ "comment": "looks good" });
    let key = format!("{}:{who}", gate.waitpoint_id);
    let Some(delivered) =
        crate::actions::deliver_as(c, &gate.execution_id, &gate.waitpoint_id, SIGNOFF_SIGNAL, who, payload, key).await?
    else {
        return Ok(false);
    };
    report.approvals += 1;
    Ok(matches!(delivered, DeliverSignalResult::Accepted { effect, .. } if effect == "resume_condition_satisfied"))
}

/// Claim a resumed gate on its existing attempt and finish it.
async fn resume_and_finish(c: &Connected, st: &mut DemoState, gate: &Gate, report: &mut DemoReport) -> Result<(), EngineError> {
    let w = Worker::serving(gate.lane.as_str());
    let attempt = c.backend.read_current_attempt_index(&gate.execution_id).await?;
    if Quirks::of(c.kind).resume_needs_grant {
        // Valkey's resumed claim consumes a claim grant, which its
        // scheduler issues (Postgres and SQLite take none).
        let grant = IssueClaimGrantArgs::new(
            gate.execution_id.clone(),
            gate.lane.clone(),
            WorkerId::new(w.id),
            w.instance(),
            execution_partition(&gate.execution_id, &c.partitions),
            BTreeSet::new(),
            5_000,
            TimestampMs::now(),
        );
        c.backend.issue_claim_grant(grant).await?;
    }
    let ClaimResumedExecutionResult::Claimed(claimed) = c
        .backend
        .claim_resumed_execution(ClaimResumedExecutionArgs {
            execution_id: gate.execution_id.clone(),
            worker_id: WorkerId::new(w.id),
            worker_instance_id: w.instance(),
            lane_id: gate.lane.clone(),
            lease_id: LeaseId::new(),
            lease_ttl_ms: u64::from(LEASE_TTL_MS),
            current_attempt_index: attempt,
            remaining_attempt_timeout_ms: None,
            now: TimestampMs::now(),
        })
        .await?;
    let text = format!("approved by {}", if gate.approvers.is_empty() { "an operator".to_owned() } else { gate.approvers.join(" and ") });
    frame(c, &claimed.handle, FrameKind::Event, text, report).await;
    finish(c, st, &claimed.handle, &gate.execution_id, &gate.lane, "approval", gate.flow_id.clone(), report).await?;
    report.resumed += 1;
    Ok(())
}
