//! Budget blocks on `make run`: stand-ins for Valkey's scheduler budget
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
//! The SQL backends have no admission blocks in 0.15 (their scheduler is
//! Valkey's only: `block_execution_for_admission` is not offered there), so
//! there is nothing to stand in for on them.
use ff_board_domain::query::{Query, Scope};
use ff_core::contracts::{BlockExecutionForAdmissionArgs, BlockingReason};
use ff_core::engine_error::EngineError;
use ff_core::partition::execution_partition;
use ff_core::state::PublicState;
use ff_core::types::{LaneId, TimestampMs};

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
    let blocked = lines(c, ExecQuery { search: Some(blocked_for_budget()), ..Default::default() }, MAX_BLOCKED).await;
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

fn blocked_for_budget() -> Search {
    Search::new(Query::parse("blocked:budget", Scope::Executions).expect("a valid query"))
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
