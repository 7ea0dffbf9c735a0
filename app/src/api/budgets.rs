//! Budgets: every budget of the deployment (enumerated from the store, the
//! trait has no listing) with usage per dimension against soft and hard
//! limits (`get_budget_status`), and on a budget's page its usage over the
//! last hour as sampled by the board (`ff_board_engine::usage`).
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DimensionUsage {
    pub name: String,
    pub used: u64,
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetView {
    pub budget_id: String,
    pub scope: String,
    pub enforcement: String,
    pub dimensions: Vec<DimensionUsage>,
    pub breach_count: u64,
    pub soft_breach_count: u64,
    pub last_breach_at: Option<String>,
    pub last_breach_dim: Option<String>,
    pub next_reset_at: Option<String>,
    /// Usage per dimension over the last hour, one point a minute, as
    /// sampled by this board (detail and overview only; empty in lists).
    pub history: Vec<DimHistory>,
}

/// One dimension's usage over time: `(minute start ms, used)`, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DimHistory {
    pub name: String,
    pub points: Vec<(i64, u64)>,
}

/// Budgets shown at most (budgets are policies, few per deployment).
pub const MAX_BUDGETS: usize = 200;

#[server(prefix = "/api", endpoint = "list_budgets", output = crate::api::codec::PostcardAnswer)]
pub async fn list_budgets() -> Result<Vec<BudgetView>, AppError> {
    use crate::api::read::Call;
    use futures::{StreamExt, TryStreamExt};
    super::read::read(|c| async move {
        let mut ids = c.reads.budget_ids().await?;
        ids.truncate(MAX_BUDGETS);
        futures::stream::iter(ids)
            .map(|id| {
                let backend = c.backend.clone();
                async move { backend.get_budget_status(&id).await.map(view) }
            })
            .buffered(8)
            .try_collect()
            .timed("get_budget_status")
            .await
    })
    .await
}

#[server(prefix = "/api", endpoint = "budget_detail", output = crate::api::codec::PostcardAnswer)]
pub async fn budget_detail(budget_id: String) -> Result<BudgetView, AppError> {
    use crate::api::read::Call;
    let raw = budget_id.trim().to_owned();
    let id = ff_core::types::BudgetId::parse(&raw)
        .map_err(|_| AppError::BadRequest(format!("malformed budget id {budget_id:?}: expected a UUID")))?;
    super::read::read(|c| async move {
        if !c.reads.budget_ids().await?.contains(&id) {
            return Err(AppError::not_found("budget", raw));
        }
        let mut b = c.backend.get_budget_status(&id).timed("get_budget_status").await.map(view)?;
        with_history(&mut b);
        Ok(b)
    })
    .await
}

/// Fill `history` from the board's samples.
#[cfg(feature = "ssr")]
pub fn with_history(b: &mut BudgetView) {
    let samples = ff_board_engine::usage::global().last_hour(&b.budget_id, ff_core::types::TimestampMs::now().0);
    b.history = b
        .dimensions
        .iter()
        .map(|d| DimHistory {
            name: d.name.clone(),
            points: samples.iter().filter_map(|(at, u)| u.get(&d.name).map(|v| (*at, *v))).collect(),
        })
        .collect();
}

#[cfg(feature = "ssr")]
fn view(s: ff_core::contracts::BudgetStatus) -> BudgetView {
    let usage = s.usage.iter().map(|(k, v)| (k.clone(), *v)).collect();
    ff_board_engine::usage::global().record(&s.budget_id, ff_core::types::TimestampMs::now().0, &usage);
    let mut names: Vec<&String> = s.usage.keys().chain(s.hard_limits.keys()).chain(s.soft_limits.keys()).collect();
    names.sort();
    names.dedup();
    let dimensions = names
        .into_iter()
        .map(|n| DimensionUsage {
            name: n.clone(),
            used: s.usage.get(n).copied().unwrap_or(0),
            soft: s.soft_limits.get(n).copied(),
            hard: s.hard_limits.get(n).copied(),
        })
        .collect();
    BudgetView {
        budget_id: s.budget_id.clone(),
        scope: format!("{} {}", s.scope_type, s.scope_id).trim().to_owned(),
        enforcement: s.enforcement_mode.clone(),
        dimensions,
        breach_count: s.breach_count,
        soft_breach_count: s.soft_breach_count,
        last_breach_at: s.last_breach_at.clone(),
        last_breach_dim: s.last_breach_dim.clone(),
        next_reset_at: s.next_reset_at.clone(),
        history: Vec::new(),
    }
}
