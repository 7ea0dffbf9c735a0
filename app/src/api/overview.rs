//! The overview (home page): what is running, what completes and fails per
//! minute, what waits for an operator, what is stuck. Every part is bounded
//! by a small page, never by the store: capped counts per state (one list
//! page each), the board's own completion series, the oldest suspended
//! executions, the active leases' first page, the budgets (with the usage
//! the board sampled), completions and retries per lane and namespace.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::states::ExecState;
use crate::error::AppError;

/// States counted in the store on the overview, each up to [`COUNT_CAP`]:
/// each has its own index, so a count is one page. Failed and cancelled
/// executions share the finished index with completed ones (counting them
/// would read finished rows until enough match: a cost that grows with
/// the store), so the overview shows those of the last hour from the
/// board's completion stream instead.
pub const COUNTED: [ExecState; 4] = [ExecState::Active, ExecState::Waiting, ExecState::Delayed, ExecState::Suspended];
/// Ends shown as "last hour" counts from the completion stream.
pub const RECENT: [ExecState; 2] = [ExecState::Failed, ExecState::Cancelled];
/// Counts stop here ("100+"): one list page per state, whatever the store holds.
pub const COUNT_CAP: usize = 50;
/// The diagnosis families "Stuck now" counts (`blocked:<family>`), each up
/// to [`COUNT_CAP`] with one list page: signal and approval waits are the
/// suspended count and /approvals.
pub const STUCK: [ff_board_domain::BlockedFamily; 7] = {
    use ff_board_domain::BlockedFamily as F;
    [F::Budget, F::Quota, F::Children, F::Worker, F::Delay, F::Operator, F::Lane]
};

/// Executions held by one diagnosis family, capped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StuckCount {
    pub family: ff_board_domain::BlockedFamily,
    pub count: usize,
    pub more: bool,
}

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
    /// Counted from the board's completion stream over the last hour, not
    /// read from the store.
    pub last_hour: bool,
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
    /// The dimension closest to (or furthest past) its hard limit, with
    /// its usage over the last hour: the burn-down.
    pub dimension: Option<String>,
    pub limit: Option<u64>,
    pub points: Vec<(i64, u64)>,
}

/// One lane's or namespace's last hour: totals per outcome (in the order
/// of [`OverviewView::outcomes`]) and all series summed per minute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyHourView {
    pub key: String,
    pub totals: Vec<u32>,
    pub per_minute: Vec<u32>,
}

/// Lanes and namespaces listed on the overview, busiest first.
pub const BUSIEST: usize = 10;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverviewView {
    pub counts: Vec<StateCount>,
    /// "Stuck now": executions per diagnosis family ([`STUCK`]).
    pub stuck: Vec<StuckCount>,
    pub outcomes: Vec<String>,
    pub minutes: Vec<MinuteView>,
    /// When this board process started counting completions.
    pub counting_since: i64,
    pub oldest_waiting: Vec<Waiting>,
    /// Leases past their expiry among the first page of active leases.
    pub expired_leases: Vec<StuckLease>,
    pub expired_more: bool,
    pub breached: Vec<BreachedBudget>,
    pub lanes: Vec<KeyHourView>,
    pub namespaces: Vec<KeyHourView>,
    /// Whether retries can be counted on this backend: the SQL backends'
    /// lease events carry no lease id (ff-core 0.15), so a new attempt
    /// cannot be told from a resume there.
    pub retries_counted: bool,
}

#[server(prefix = "/api", endpoint = "get_overview", output = crate::api::codec::PostcardAnswer)]
pub async fn get_overview() -> Result<OverviewView, AppError> {
    use ff_board_engine::throughput::{self, OUTCOMES};
    super::read::read(|c| async move {
        let now = ff_core::types::TimestampMs::now().0;
        let series = throughput::global();
        let hour = series.last_hour(now);
        let mut counts = stored_counts(&c).await?;
        let stuck = stuck_counts(&c).await?;
        counts.extend(RECENT.map(|state| {
            let slot = OUTCOMES.iter().position(|o| *o == state.as_str()).unwrap_or(OUTCOMES.len() - 1);
            StateCount { state, count: hour.iter().map(|(_, c)| c[slot] as usize).sum(), more: false, last_hour: true }
        }));
        let oldest_waiting = c.reads.suspended(None, None, LISTED).await?.rows.into_iter();
        let (expired_leases, expired_more) = expired(&c, now).await?;
        let breached = super::budgets::list_budgets().await?;
        let keys = |rows: Vec<throughput::KeyHour>| {
            rows.into_iter().map(|r| KeyHourView { key: r.key, totals: r.totals.to_vec(), per_minute: r.per_minute }).collect()
        };
        Ok(OverviewView {
            counts,
            stuck,
            outcomes: OUTCOMES.iter().map(|s| (*s).to_owned()).collect(),
            minutes: hour.into_iter().map(|(at, c)| MinuteView { at, counts: c.to_vec() }).collect(),
            counting_since: series.since(),
            oldest_waiting: oldest_waiting
                .map(|s| Waiting { execution_id: s.exec.id.to_string(), reason: s.reason.unwrap_or_default(), since: s.suspended_at })
                .collect(),
            expired_leases,
            expired_more,
            breached: breached.into_iter().filter(|b| b.breach_count > 0 || b.soft_breach_count > 0).map(burn_down).collect(),
            retries_counted: ff_board_engine::backend::Quirks::of(c.kind).retries_counted,
            lanes: keys(series.by_lane(now, BUSIEST)),
            namespaces: keys(series.by_namespace(now, BUSIEST)),
        })
    })
    .await
}

/// The capped counts of [`COUNTED`]: one list page each.
#[cfg(feature = "ssr")]
async fn stored_counts(c: &ff_board_engine::connect::Connected) -> Result<Vec<StateCount>, AppError> {
    let mut counts = Vec::new();
    for state in COUNTED {
        let q = ff_board_engine::backend::ExecQuery { state: ff_board_engine::backend::public_state(state), ..Default::default() };
        let page = c.reads.executions(&q, None, COUNT_CAP).await?;
        counts.push(StateCount { state, count: page.rows.len(), more: page.next.is_some(), last_hour: false });
    }
    Ok(counts)
}

/// The capped counts of [`STUCK`]: one `blocked:<family>` page each.
#[cfg(feature = "ssr")]
async fn stuck_counts(c: &ff_board_engine::connect::Connected) -> Result<Vec<StuckCount>, AppError> {
    use ff_board_domain::query::{Query, Scope};
    // Where the store counts its blocked sets itself (Valkey), that count:
    // exact, at a cost fixed by partitions and lanes.
    if let Some(counts) = c.reads.stuck_counts(&STUCK).await? {
        return Ok(counts.into_iter().map(|(family, n)| StuckCount { family, count: n as usize, more: false }).collect());
    }
    let mut out = Vec::new();
    for family in STUCK {
        let query = Query::parse(&format!("blocked:{}", family.as_str()), Scope::Executions).map_err(|e| AppError::BadRequest(e.to_string()))?;
        let q = ff_board_engine::backend::ExecQuery { search: Some(ff_board_engine::backend::search::Search::new(query)), ..Default::default() };
        let page = c.reads.executions(&q, None, COUNT_CAP).await?;
        out.push(StuckCount { family, count: page.rows.len(), more: page.next.is_some() || page.cut_short });
    }
    Ok(out)
}

/// Leases past their expiry among the first page of active ones, longest
/// expired first: at most [`LISTED`], and whether there were more.
#[cfg(feature = "ssr")]
async fn expired(c: &ff_board_engine::connect::Connected, now: i64) -> Result<(Vec<StuckLease>, bool), AppError> {
    let mut expired: Vec<StuckLease> = c
        .reads
        .leases(COUNT_CAP)
        .await?
        .into_iter()
        .filter(|l| l.expires_at < now)
        .map(|l| StuckLease { execution_id: l.exec.id.to_string(), holder: l.holder, expired_at: l.expires_at })
        .collect();
    expired.sort_by_key(|l| l.expired_at);
    let more = expired.len() > LISTED;
    expired.truncate(LISTED);
    Ok((expired, more))
}

/// A breached budget with the usage of its most used dimension (relative
/// to the hard limit, else the soft one) over the last hour.
#[cfg(feature = "ssr")]
fn burn_down(mut b: super::budgets::BudgetView) -> BreachedBudget {
    super::budgets::with_history(&mut b);
    let ratio = |d: &super::budgets::DimensionUsage| d.hard.or(d.soft).map_or(0.0, |l| d.used as f64 / l.max(1) as f64);
    let worst = b.dimensions.iter().max_by(|x, y| ratio(x).total_cmp(&ratio(y))).cloned();
    let points = worst
        .as_ref()
        .and_then(|d| b.history.iter().find(|h| h.name == d.name))
        .map(|h| h.points.clone())
        .unwrap_or_default();
    BreachedBudget {
        budget_id: b.budget_id,
        scope: b.scope,
        hard: b.breach_count,
        soft: b.soft_breach_count,
        limit: worst.as_ref().and_then(|d| d.hard.or(d.soft)),
        dimension: worst.map(|d| d.name),
        points,
    }
}
