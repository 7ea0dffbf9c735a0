//! Budget and quota blocks on `make run`: stand-ins for Valkey's scheduler budget
//! check and the engine's unblock scanner (ff-scheduler and ff-engine's
//! scanners, which the board does not run), so the diagnosis of a budget
//! block shows in the demo and moves once an operator resets the budget.
//!
//! - While the media team's GPU budget is at its hard limit, up to
//!   [`BLOCK_PER_TICK`] waiting executions of lane `media` are blocked for
//!   admission with the scheduler's own words (`budget ff:budget:<id>:usage:
//!   <dim> <used>/<limit>`), at most [`MAX_BLOCKED`] at a time.
//! - Once it is under its limit again (an operator's reset, or its daily
//!   reset), the executions blocked for budget are unblocked, as the
//!   engine's unblock scanner does.
//!
//! - The search team's API quota ([`etl_quota`]: [`QUOTA_RATE`] admissions
//!   a minute, created on every backend so `/quotas` has a policy) is
//!   checked for up to [`QUOTA_CHECKS`] waiting `etl` steps a tick with
//!   `check_admission` on the scheduler's dimension; one refused is blocked
//!   for quota with the scheduler's words (`quota <id>: rate limit …`), and
//!   a blocked one is unblocked once a check admits it (the window moved
//!   on), as the scheduler and the unblock scanner do.
//!
//! - A scheduled `billing.reminder` step delayed by five minutes every two
//!   ([`delayed_reminders`], Valkey).
//!
//! The SQL backends have no admission blocks in 0.15 (their scheduler is
//! Valkey's only: `block_execution_for_admission` is not offered there), so
//! there is nothing to stand in for on them.
use ff_board_domain::query::{Query, Scope};
use ff_core::contracts::{BlockExecutionForAdmissionArgs, BlockingReason, CheckAdmissionArgs, CheckAdmissionResult, CreateQuotaPolicyArgs};
use ff_core::engine_error::EngineError;
use ff_core::partition::execution_partition;
use ff_core::state::PublicState;
use ff_core::types::{ExecutionId, LaneId, QuotaPolicyId, TimestampMs};

use super::DemoReport;
use crate::backend::{search::Search, ExecLine, ExecQuery};
use crate::connect::Connected;

/// Waiting executions blocked per tick while the budget is exhausted.
pub const BLOCK_PER_TICK: usize = 1;
/// Executions held blocked for budget at a time.
pub const MAX_BLOCKED: usize = 3;
/// The lane whose steps the media GPU budget pays for.
const LANE: &str = "media";

/// One round: block or unblock, as the budget stands.
pub(super) async fn budget_blocks(c: &Connected, report: &mut DemoReport) -> Result<(), EngineError> {
    if !c.backend.capabilities().supports.block_execution_for_admission {
        return Ok(());
    }
    let budget = super::budgets::media_gpu();
    let st = c.backend.get_budget_status(&budget).await?;
    let breach = st.hard_limits.iter().find_map(|(dim, limit)| {
        let used = st.usage.get(dim).copied().unwrap_or(0);
        (*limit > 0 && used >= *limit).then(|| format!("budget ff:budget:{budget}:usage: {dim} {used}/{limit}"))
    });
    let blocked = lines(c, ExecQuery { search: Some(blocked_for("budget")), ..Default::default() }, MAX_BLOCKED).await;
    let lane = LaneId::new(LANE);
    match breach {
        Some(detail) if blocked.len() < MAX_BLOCKED => {
            let q = ExecQuery { state: Some(PublicState::Waiting), lane: Some(LANE.to_owned()), ..Default::default() };
            for line in lines(c, q, BLOCK_PER_TICK).await {
                let partition = execution_partition(&line.id, &c.partitions);
                let args = BlockExecutionForAdmissionArgs::new(line.id, lane.clone(), partition, BlockingReason::WaitingForBudget, Some(detail.clone()), TimestampMs::now());
                match c.backend.block_execution_for_admission(args).await {
                    Ok(_) => report.budget_blocked += 1,
                    // Claimed meanwhile: the scheduler would have skipped it too.
                    Err(e) => report.skip("block_execution_for_admission", &e),
                }
            }
        }
        Some(_) => {}
        None => {
            for line in blocked {
                let partition = execution_partition(&line.id, &c.partitions);
                match c.backend.unblock_execution(partition, &LaneId::new(&line.lane), &line.id, "waiting_for_budget", TimestampMs::now()).await {
                    Ok(()) => report.unblocked += 1,
                    Err(e) => report.skip("unblock_execution", &e),
                }
            }
        }
    }
    c.reads.invalidate();
    Ok(())
}

fn blocked_for(family: &str) -> Search {
    Search::new(Query::parse(&format!("blocked:{family}"), Scope::Executions).expect("a valid query"))
}

/// Admissions the search team's API quota allows per window.
pub const QUOTA_RATE: u64 = 4;
/// Its window, in seconds.
pub const QUOTA_WINDOW_S: u64 = 60;
/// Waiting `etl` steps checked against it per tick.
pub const QUOTA_CHECKS: usize = 3;
const QUOTA_LANE: &str = "etl";

/// The search team's API quota policy (a fixed id, as the budgets have).
pub fn etl_quota() -> QuotaPolicyId {
    QuotaPolicyId::from_uuid(uuid::Uuid::from_u128(0x0ffb_0a4d_0100_4000_8000_0000_0000_0001))
}

/// Create the quota policy (idempotent; a backend without quotas is skipped).
pub(super) async fn ensure_quota(c: &Connected) -> Result<(), EngineError> {
    let args = CreateQuotaPolicyArgs { quota_policy_id: etl_quota(), window_seconds: QUOTA_WINDOW_S, max_requests_per_window: QUOTA_RATE, max_concurrent: 0, now: TimestampMs::now() };
    match c.backend.create_quota_policy(args).await {
        Ok(_) => Ok(()),
        Err(e) if crate::connect::is_unavailable(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

async fn admit(c: &Connected, id: &ExecutionId) -> Result<CheckAdmissionResult, EngineError> {
    let args = CheckAdmissionArgs { execution_id: id.clone(), now: TimestampMs::now(), window_seconds: QUOTA_WINDOW_S, rate_limit: QUOTA_RATE, concurrency_cap: 0, jitter_ms: None };
    c.backend.check_admission(&etl_quota(), "default", args).await
}

/// One round of the quota's admission checks: block one refused, unblock
/// the blocked ones a check admits again.
pub(super) async fn quota_blocks(c: &Connected, report: &mut DemoReport) -> Result<(), EngineError> {
    if !c.backend.capabilities().supports.block_execution_for_admission {
        return Ok(());
    }
    let blocked = lines(c, ExecQuery { search: Some(blocked_for("quota")), ..Default::default() }, MAX_BLOCKED).await;
    for line in &blocked {
        if matches!(admit(c, &line.id).await, Ok(CheckAdmissionResult::Admitted | CheckAdmissionResult::AlreadyAdmitted)) {
            let partition = execution_partition(&line.id, &c.partitions);
            match c.backend.unblock_execution(partition, &LaneId::new(&line.lane), &line.id, "waiting_for_quota", TimestampMs::now()).await {
                Ok(()) => report.unblocked += 1,
                Err(e) => report.skip("unblock_execution", &e),
            }
        }
    }
    if blocked.len() >= MAX_BLOCKED {
        c.reads.invalidate();
        return Ok(());
    }
    let lane = LaneId::new(QUOTA_LANE);
    let q = ExecQuery { state: Some(PublicState::Waiting), lane: Some(QUOTA_LANE.to_owned()), ..Default::default() };
    for line in lines(c, q, QUOTA_CHECKS).await {
        let Ok(CheckAdmissionResult::RateExceeded { .. }) = admit(c, &line.id).await else { continue };
        let detail = format!("quota {}: rate limit {QUOTA_RATE}/{QUOTA_RATE} per {QUOTA_WINDOW_S}s window", etl_quota());
        let partition = execution_partition(&line.id, &c.partitions);
        let args = BlockExecutionForAdmissionArgs::new(line.id, lane.clone(), partition, BlockingReason::WaitingForQuota, Some(detail), TimestampMs::now());
        match c.backend.block_execution_for_admission(args).await {
            Ok(_) => report.quota_blocked += 1,
            Err(e) => report.skip("block_execution_for_admission", &e),
        }
        break;
    }
    c.reads.invalidate();
    Ok(())
}

/// A page of the board's own list read (the demo reads as the board does).
async fn lines(c: &Connected, q: ExecQuery, limit: usize) -> Vec<ExecLine> {
    match c.reads.executions(&q, None, limit).await {
        Ok(page) => page.rows,
        Err(e) => {
            tracing::debug!(error = %e, "demo: list read for budget blocks");
            Vec::new()
        }
    }
}

/// A scheduled reminder is created every this often (Valkey).
pub const REMINDER_EVERY: std::time::Duration = std::time::Duration::from_secs(120);
/// How long a reminder waits before it may run.
pub const REMINDER_DELAY_MS: i64 = 5 * 60_000;

/// Long delays on `make run` (Valkey, whose delayed set the demo's
/// promoter stands in for): every [`REMINDER_EVERY`] a `billing.reminder`
/// step is created to run [`REMINDER_DELAY_MS`] later, so a "delayed
/// until" diagnosis is always on the board; the delayed promoter's
/// stand-in moves it to eligible once due and the deployer runs it.
pub(super) async fn delayed_reminders(c: &Connected, st: &mut super::DemoState, report: &mut DemoReport) -> Result<(), EngineError> {
    if !crate::backend::Quirks::of(c.kind).retries_wait_for_scanner || st.last_reminder_at.is_some_and(|t| t.elapsed() < REMINDER_EVERY) {
        return Ok(());
    }
    st.last_reminder_at = Some(std::time::Instant::now());
    let lane = LaneId::new("billing");
    let id = ExecutionId::solo(&lane, &c.partitions);
    let now = TimestampMs::now();
    let until = TimestampMs(now.0 + REMINDER_DELAY_MS);
    let args = ff_core::contracts::CreateExecutionArgs {
        execution_id: id.clone(),
        namespace: ff_core::types::Namespace::new("payments"),
        lane_id: lane.clone(),
        execution_kind: "billing.reminder".to_owned(),
        input_payload: serde_json::json!({ "step": "billing.reminder", "simulate": "ok" }).to_string().into_bytes(),
        payload_encoding: Some("json".to_owned()),
        priority: 0,
        creator_identity: "ff-board-demo".to_owned(),
        idempotency_key: None,
        tags: [("shop.region".to_owned(), "eu".to_owned())].into_iter().collect(),
        policy: None,
        delay_until: Some(until),
        execution_deadline_at: None,
        partition_id: id.partition(),
        now,
    };
    c.backend.create_execution(args).await?;
    st.retries.push(super::work::DelayedRetry { execution_id: id, lane, until });
    report.delayed += 1;
    Ok(())
}

