//! The overview (home page): what is running, what completes and fails per
//! minute, what waits for an operator, what is stuck. Every part is bounded
//! by a small page, never by the store: capped counts per state (one list
//! page each), the board's own completion series, the oldest suspended
//! executions, the active leases' first page, the budgets.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::states::ExecState;
use crate::error::AppError;

/// States counted on the overview, each up to [`COUNT_CAP`].
pub const COUNTED: [ExecState; 6] =
    [ExecState::Active, ExecState::Waiting, ExecState::Delayed, ExecState::Suspended, ExecState::Failed, ExecState::Cancelled];
/// Counts stop here ("100+"): one list page per state, whatever the store holds.
pub const COUNT_CAP: usize = 100;
/// Suspended executions and expired leases listed.
pub const LISTED: usize = 5;

/// One chart minute: its start and a count per outcome of [`OverviewView::outcomes`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinuteView {
    pub at: i64,
    pub counts: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateCount {
    pub state: ExecState,
    pub count: usize,
    /// More than `count` (the cap was reached).
    pub more: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Waiting {
    pub execution_id: String,
    pub reason: String,
    pub since: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StuckLease {
    pub execution_id: String,
    pub holder: String,
    pub expired_at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BreachedBudget {
    pub budget_id: String,
    pub scope: String,
    pub hard: u64,
    pub soft: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverviewView {
    pub counts: Vec<StateCount>,
    pub outcomes: Vec<String>,
    pub minutes: Vec<MinuteView>,
    /// When this board process started counting completions.
    pub counting_since: i64,
    pub oldest_waiting: Vec<Waiting>,
    /// Leases past their expiry among the first page of active leases.
    pub expired_leases: Vec<StuckLease>,
    pub expired_more: bool,
    pub breached: Vec<BreachedBudget>,
}

#[server(prefix = "/api", endpoint = "get_overview")]
pub async fn get_overview() -> Result<OverviewView, AppError> {
    use ff_board_engine::backend::ExecQuery;
    use ff_board_engine::throughput::{self, OUTCOMES};
    let c = crate::state::conn()?;
    let now = ff_core::types::TimestampMs::now().0;
    let mut counts = Vec::new();
    for state in COUNTED {
        let q = ExecQuery { state: Some(state.to_engine()), ..Default::default() };
        let page = c.reads.executions(&q, None, COUNT_CAP).await?;
        counts.push(StateCount { state, count: page.rows.len(), more: page.next.is_some() });
    }
    let series = throughput::global();
    let minutes = series.last_hour(now).into_iter().map(|(at, c)| MinuteView { at, counts: c.to_vec() }).collect();
    let oldest_waiting = c
        .reads
        .suspended(None, LISTED)
        .await?
        .rows
        .into_iter()
        .map(|s| Waiting { execution_id: s.exec.id.to_string(), reason: s.reason.unwrap_or_default(), since: s.suspended_at })
        .collect();
    let leases = c.reads.leases(COUNT_CAP).await?;
    let mut expired: Vec<StuckLease> = leases
        .iter()
        .filter(|l| l.expires_at < now)
        .map(|l| StuckLease { execution_id: l.exec.id.to_string(), holder: l.holder.clone(), expired_at: l.expires_at })
        .collect();
    expired.sort_by_key(|l| l.expired_at);
    let expired_more = expired.len() > LISTED;
    expired.truncate(LISTED);
    let breached = super::budgets::list_budgets()
        .await?
        .into_iter()
        .filter(|b| b.breach_count > 0 || b.soft_breach_count > 0)
        .map(|b| BreachedBudget { budget_id: b.budget_id, scope: b.scope, hard: b.breach_count, soft: b.soft_breach_count })
        .collect();
    Ok(OverviewView {
        counts,
        outcomes: OUTCOMES.iter().map(|s| (*s).to_owned()).collect(),
        minutes,
        counting_since: series.since(),
        oldest_waiting,
        expired_leases: expired,
        expired_more,
        breached,
    })
}
