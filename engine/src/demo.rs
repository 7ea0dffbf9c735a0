//! The embedded live demo: an in-process workload that drives the
//! `EngineBackend` trait the way FlowFabric's workers do, so a newcomer
//! sees a populated board that moves within seconds.
//!
//! One task ([`spawn`]) runs a tick every [`TICK`]; each tick does a little
//! of everything, as separate small activities:
//!
//! - `flows::create_flow_with_dag`: a few flows every ~5 s (kinds
//!   `deploy`, `etl.nightly`, `media.transcode`, `billing.invoice-run`,
//!   and now and then a 57-node `search.reindex`), with fan-out / fan-in
//!   edges, AllOf groups and AnyOf / Quorum groups where the backend takes
//!   them (`set_edge_group_policy` is Unavailable on SQLite). At most
//!   `flows::MAX_OPEN_FLOWS` are open: at start and every 30 s, a store at
//!   the cap has its 10 oldest open flows retired (cancelled), so the demo
//!   keeps moving however long it runs, and across restarts on the same
//!   store (one held at exactly the cap, every flow waiting on a gate,
//!   froze the demo before session 5).
//! - `work::reclaim_expired`: leases left to expire by a "crashed" worker,
//!   or by a board stopped mid-step, are reclaimed by a live worker (reclaim
//!   grant + fresh attempt) and completed.
//! - `work::work_some`: claims with `claim` (the worker hot path; it works
//!   on all three backends), appends stream frames, reports progress,
//!   renews, completes; fails some steps with a retryable class (they come
//!   back as a new attempt) and some for good; "crashes" some workers (the
//!   lease is never renewed and expires).
//! - `work::suspend_for_approval` / `work::approvals_tick`: approval
//!   gates on waitpoints that wait for the signal [`SIGNOFF_SIGNAL`] (not
//!   `approved`, so nothing on the board can lean on that name) — one kind
//!   needs two distinct approvers (`Count { n: 2, DistinctSources }`), the
//!   others one; some are approved over time (signal bridge:
//!   `read_waitpoint_token` + `deliver_signal`), the rest are left for the
//!   operator.
//! - `budgets::budgets_tick`: budgets with soft and hard limits on a few
//!   dimensions; usage reported by the workers and by an admin path drives
//!   one over its soft limit and one into its hard limit.
//! - `stuck::budget_blocks` (Valkey): while the media budget is at its hard
//!   limit, a few waiting media steps are blocked for budget, and unblocked
//!   once it is reset (stand-ins for Valkey's scheduler and unblock scanner);
//!   `stuck::quota_blocks`: the search team's API quota refuses `etl`
//!   steps past its rate, which wait blocked for quota until its window
//!   moves on; `stuck::delayed_reminders` (Valkey): a scheduled step
//!   delayed by five minutes every two, so "delayed until" shows.
//! - `work::register_workers`: the worker registry (`register_worker` /
//!   `heartbeat_worker`), so the workers list is not empty.
//!
//! Engine duties the backends leave to a scheduler / scanner that the board
//! does not run are stood in for in `standin`, and only there:
//! `submitted → runnable` promotion on SQLite and Postgres, the completion
//! cascade that unblocks DAG children on Postgres and Valkey, Valkey's
//! delayed-retry promotion, and the waitpoint HMAC secret a server seeds at
//! boot.
//!
//! Execution ids: SQLite is one logical partition, so every id is minted
//! on partition 0 (`{fp:0}:<uuid>`); on Postgres and Valkey ids come from
//! `ExecutionId::for_flow`, spreading executions over the partitions.
//!
//! The loop never panics out: every tick runs under `catch_unwind`, errors
//! are logged with `tracing::warn!`, and a backend that goes away is retried
//! with capped backoff.
mod budgets;
mod flows;
mod standin;
mod stuck;
mod work;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ff_core::engine_error::EngineError;
use ff_core::types::{BudgetId, ExecutionId, FlowId, TimestampMs};
use futures::FutureExt;

use crate::connect::Connected;
use crate::store_error::{Store, StoreError};

/// The stand-ins (a waitpoint HMAC secret, the missing submitted → runnable promoter), also used
/// by the integration tests' SDK-style fixtures (never by the board itself).
pub use standin::{ensure_waitpoint_secret, promote_submitted};

/// The signal the demo's approval gates wait for, and its approvers send.
pub const SIGNOFF_SIGNAL: &str = "release-signoff";

/// Time between two ticks of the running demo.
pub const TICK: Duration = Duration::from_millis(2_500);

/// Counts of what one [`seed`] (or one tick) did, plus the ids a caller
/// needs to look the results up through the trait.
#[derive(Clone, Debug, Default)]
pub struct DemoReport {
    /// Flows created.
    pub flows: usize,
    /// Executions created (flow members).
    pub executions: usize,
    /// Dependency edges staged and applied.
    pub edges: usize,
    /// AnyOf / Quorum edge-group policies set.
    pub edge_group_policies: usize,
    /// Executions claimed.
    pub claimed: usize,
    /// Stream frames appended.
    pub frames: usize,
    /// Executions completed.
    pub completed: usize,
    /// Executions failed for good.
    pub failed: usize,
    /// Attempts failed with a retryable class (a new attempt follows).
    pub retried: usize,
    /// Claims left to expire (never renewed nor completed).
    pub abandoned: usize,
    /// Executions suspended on an approval waitpoint.
    pub suspended: usize,
    /// Approval signals delivered.
    pub approvals: usize,
    /// Suspended executions resumed, claimed again and completed.
    pub resumed: usize,
    /// Budgets created (idempotent: counted when newly created).
    pub budgets: usize,
    /// Usage reports answered with a soft breach.
    pub soft_breaches: usize,
    /// Usage reports refused with a hard breach.
    pub hard_breaches: usize,
    /// Workers registered.
    pub workers: usize,
    /// Expired leases reclaimed and run again.
    pub reclaimed: usize,
    /// Open flows cancelled to stay under the cap.
    pub retired: usize,
    /// Executions blocked for budget by the scheduler's stand-in (Valkey).
    pub budget_blocked: usize,
    /// Executions blocked for quota by the scheduler's stand-in (Valkey).
    pub quota_blocked: usize,
    /// Scheduled steps created with a delay (Valkey).
    pub delayed: usize,
    /// Executions unblocked by the unblock scanner's stand-in (Valkey).
    pub unblocked: usize,
    /// Flows created in this round.
    pub flow_ids: Vec<FlowId>,
    /// Executions suspended on an approval gate.
    pub gates: Vec<ExecutionId>,
    /// Executions suspended on a two-distinct-approver gate.
    pub two_approver_gates: Vec<ExecutionId>,
    /// Budgets that refused a report over their hard limit.
    pub hard_breached_budgets: Vec<BudgetId>,
    /// What the backend does not take and was skipped (`op: reason`).
    pub skipped: Vec<String>,
}

impl DemoReport {
    fn skip(&mut self, op: &str, e: &EngineError) {
        let line = format!("{op}: {e}");
        if !self.skipped.contains(&line) {
            self.skipped.push(line);
        }
    }
}

/// What the demo remembers between ticks.
struct DemoState {
    rng: rand::rngs::StdRng,
    /// Open flows in the store (counted at start and every 30 s, then
    /// incremented as flows are created).
    open_flows: usize,
    last_retire_at: Option<Instant>,
    last_reclaim_at: Option<Instant>,
    /// Flows created by this process (picks the next template).
    created: usize,
    last_flows_at: Option<Instant>,
    last_heartbeat_at: Option<Instant>,
    last_budget_at: Option<Instant>,
    /// When the last delayed reminder was created (`stuck::delayed_reminders`).
    last_reminder_at: Option<Instant>,
    running: Vec<work::Running>,
    gates: Vec<work::Gate>,
    /// Two-approver gates suspended so far (every other one is left to operators).
    two_approver_gates: usize,
    retries: Vec<work::DelayedRetry>,
    /// Lanes whose last claim found nothing, polled again after this time
    /// (Postgres's `claim` walks all 256 partitions, one transaction each).
    idle_until: HashMap<&'static str, Instant>,
    /// Flow members that reached a terminal outcome and whose completion
    /// still has to be cascaded to their DAG children.
    finished: Vec<standin::Finished>,
}

impl DemoState {
    fn new() -> Self {
        use rand::SeedableRng;
        DemoState {
            rng: rand::rngs::StdRng::from_entropy(),
            open_flows: 0,
            last_retire_at: None,
            last_reclaim_at: None,
            created: 0,
            last_flows_at: None,
            last_heartbeat_at: None,
            last_budget_at: None,
            last_reminder_at: None,
            running: Vec::new(),
            gates: Vec::new(),
            two_approver_gates: 0,
            retries: Vec::new(),
            idle_until: HashMap::new(),
            finished: Vec::new(),
        }
    }
}

/// Start the demo workload: one [`seed`] round, then a tick every
/// [`TICK`], forever. Errors are logged and retried with backoff.
pub fn spawn(connected: Connected) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut st = DemoState::new();
        let mut seeded = false;
        let mut backoff = TICK;
        loop {
            let round = async {
                if seeded {
                    tick(&connected, &mut st)
                        .await
                        .map(|report| tracing::debug!(?report, "demo tick"))
                        .map_err(StoreError::at(Store::Demo, "tick"))
                } else {
                    let report = seed_round(&connected, &mut st).await?;
                    tracing::info!(?report, "demo seeded");
                    seeded = true;
                    Ok(())
                }
            };
            match std::panic::AssertUnwindSafe(round).catch_unwind().await {
                Ok(Ok(())) => backoff = TICK,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "demo tick failed");
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
                Err(_) => {
                    tracing::warn!(retry_in = ?backoff, "demo tick panicked; state reset");
                    st = DemoState::new();
                    seeded = false;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
            tokio::time::sleep(backoff).await;
        }
    })
}

/// One round of everything, run to a standstill: workers, budgets with a
/// soft and a hard breach, one flow of each kind (one of 57 nodes; none
/// when the store already holds `flows::MAX_OPEN_FLOWS` open ones), and the
/// work that follows until nothing more is claimable (steps that complete,
/// retry, fail, crash, or suspend on approval gates — one gate needing two
/// distinct approvers stays pending).
pub async fn seed(connected: &Connected) -> Result<DemoReport, StoreError> {
    seed_round(connected, &mut DemoState::new()).await
}

async fn seed_round(c: &Connected, st: &mut DemoState) -> Result<DemoReport, StoreError> {
    let step = |op: &'static str| StoreError::at(Store::Demo, op);
    let mut report = DemoReport::default();
    standin::ensure_waitpoint_secret(c).await.map_err(step("seed waitpoint secret"))?;
    crate::backend::declare_lanes(c, &work::lanes()).await?;
    work::register_workers(c, &mut report).await.map_err(step("register workers"))?;
    st.last_heartbeat_at = Some(Instant::now());
    budgets::budgets_tick(c, &mut st.rng, &mut report, true).await.map_err(step("budgets"))?;
    stuck::ensure_quota(c).await.map_err(step("quota policy"))?;
    st.last_budget_at = Some(Instant::now());
    // A store kept from an earlier run may be full: retire its oldest open flows.
    flows::retire_oldest(c, st, &mut report).await.map_err(step("retire flows"))?;
    st.last_retire_at = Some(Instant::now());
    if st.open_flows < flows::MAX_OPEN_FLOWS {
        for template in flows::Template::ALL {
            flows::create_flow_with_dag(c, st, template, false, &mut report)
                .await
                .map_err(|e| StoreError::new(Store::Demo, "create flow", format!("{}: {e}", template.kind())))?;
        }
    }
    st.last_flows_at = Some(Instant::now());
    // Work until a pass moves nothing: each pass unblocks the next DAG layer.
    for _ in 0..32 {
        standin::cascade_completions(c, &mut st.finished).await.map_err(step("cascade"))?;
        standin::promote_submitted(c).await.map_err(step("promote"))?;
        standin::promote_due_retries(c, &mut st.retries).await.map_err(step("retries"))?;
        let before = (report.claimed, report.resumed);
        work::approvals_tick(c, st, true, &mut report).await.map_err(step("approvals"))?;
        work::work_some(c, st, 400, true, &mut report).await.map_err(step("work"))?;
        if (report.claimed, report.resumed) == before && st.finished.is_empty() {
            // Valkey parks retries until their backoff passes: wait for them.
            let Some(next) = st.retries.iter().map(|r| r.until.0).min() else {
                break;
            };
            let wait = u64::try_from(next - TimestampMs::now().0).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(wait + 50)).await;
        }
    }
    // The demo writes beside the board's reads: drop answers kept from before.
    c.reads.invalidate();
    Ok(report)
}

/// One tick of the running demo.
async fn tick(c: &Connected, st: &mut DemoState) -> Result<DemoReport, EngineError> {
    let mut report = DemoReport::default();
    let due = |at: Option<Instant>, every: Duration| at.is_none_or(|t| t.elapsed() >= every);
    if due(st.last_heartbeat_at, Duration::from_secs(10)) {
        work::heartbeat_workers(c, &mut report).await?;
        st.last_heartbeat_at = Some(Instant::now());
    }
    if due(st.last_retire_at, Duration::from_secs(30)) {
        flows::retire_oldest(c, st, &mut report).await?;
        st.last_retire_at = Some(Instant::now());
    }
    if due(st.last_flows_at, Duration::from_secs(5)) && st.open_flows < flows::MAX_OPEN_FLOWS {
        let n = if rand::Rng::gen_bool(&mut st.rng, 0.3) { 2 } else { 1 };
        for _ in 0..n {
            let template = flows::Template::next(st);
            flows::create_flow_with_dag(c, st, template, true, &mut report).await?;
        }
        st.last_flows_at = Some(Instant::now());
    }
    standin::promote_submitted(c).await?;
    standin::promote_due_retries(c, &mut st.retries).await?;
    // Approvals first: a gate approved on the board is claimed as resumed
    // before a plain claim could pick it up.
    work::approvals_tick(c, st, false, &mut report).await?;
    work::work_some(c, st, 6, false, &mut report).await?;
    if due(st.last_reclaim_at, Duration::from_secs(10)) {
        // One read of every partition's lease-expiry index on Valkey: not every tick.
        work::reclaim_expired(c, st, 4, &mut report).await?;
        st.last_reclaim_at = Some(Instant::now());
    }
    if !st.finished.is_empty() {
        // Children may be claimable now: poll every lane again.
        st.idle_until.clear();
    }
    standin::cascade_completions(c, &mut st.finished).await?;
    if due(st.last_budget_at, Duration::from_secs(15)) {
        budgets::budgets_tick(c, &mut st.rng, &mut report, false).await?;
        st.last_budget_at = Some(Instant::now());
    }
    stuck::budget_blocks(c, &mut report).await?;
    stuck::quota_blocks(c, &mut report).await?;
    stuck::delayed_reminders(c, st, &mut report).await?;
    Ok(report)
}
