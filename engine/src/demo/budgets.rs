//! Budgets: three team budgets with soft and hard limits, usage reported
//! by the workers (per step) and by an admin path (drift), so one budget
//! sits over its soft limit and one at its hard limit refusing more.
use ff_core::backend::UsageDimensions;
use ff_core::contracts::{CreateBudgetArgs, CreateBudgetResult, ReportUsageAdminArgs, ReportUsageResult};
use ff_core::engine_error::EngineError;
use ff_core::types::{BudgetId, TimestampMs};
use rand::rngs::StdRng;
use rand::Rng;

use super::DemoReport;
use crate::connect::{is_unavailable, Connected};

struct BudgetDef {
    id: u128,
    namespace: &'static str,
    /// `(dimension, soft limit, hard limit)`.
    dims: &'static [(&'static str, u64, u64)],
}

/// LLM spend of the payments team (driven over its soft limit).
const PAYMENTS_LLM: BudgetDef = BudgetDef {
    id: 0x0ffb_0a4d_0001_4000_8000_0000_0000_0001,
    namespace: "payments",
    dims: &[("tokens", 40_000, 50_000), ("cost_cents", 800, 1_000)],
};
/// GPU time of the media team (driven into its hard limit).
const MEDIA_GPU: BudgetDef = BudgetDef {
    id: 0x0ffb_0a4d_0002_4000_8000_0000_0000_0002,
    namespace: "media",
    dims: &[("gpu_seconds", 3_000, 3_600)],
};
/// Search API calls and egress (grows slowly).
const SEARCH_API: BudgetDef = BudgetDef {
    id: 0x0ffb_0a4d_0003_4000_8000_0000_0000_0003,
    namespace: "search",
    dims: &[("api_calls", 8_000, 10_000), ("egress_mb", 500, 600)],
};

const BUDGETS: [&BudgetDef; 3] = [&PAYMENTS_LLM, &MEDIA_GPU, &SEARCH_API];

fn id(def: &BudgetDef) -> BudgetId {
    BudgetId::from_uuid(uuid::Uuid::from_u128(def.id))
}

/// The media team's GPU budget (the one driven into its hard limit).
pub(super) fn media_gpu() -> BudgetId {
    id(&MEDIA_GPU)
}

/// The budget a step on `lane` charges, with this step's usage.
pub(super) fn usage_for_lane(lane: &str, rng: &mut StdRng) -> (BudgetId, UsageDimensions) {
    let mut dims = UsageDimensions::new();
    let budget = match lane {
        "media" => {
            dims.custom.insert("gpu_seconds".into(), rng.gen_range(30..240));
            &MEDIA_GPU
        }
        "etl" | "search" => {
            dims.custom.insert("api_calls".into(), rng.gen_range(20..200));
            dims.custom.insert("egress_mb".into(), rng.gen_range(1..12));
            &SEARCH_API
        }
        _ => {
            dims.custom.insert("tokens".into(), rng.gen_range(100..600));
            dims.custom.insert("cost_cents".into(), rng.gen_range(2..12));
            &PAYMENTS_LLM
        }
    };
    (id(budget), dims)
}

/// Count a usage report's answer.
pub(super) fn count(report: &mut DemoReport, budget: &BudgetId, outcome: &ReportUsageResult) {
    match outcome {
        ReportUsageResult::SoftBreach { .. } => report.soft_breaches += 1,
        ReportUsageResult::HardBreach { .. } => {
            report.hard_breaches += 1;
            if !report.hard_breached_budgets.contains(budget) {
                report.hard_breached_budgets.push(budget.clone());
            }
        }
        _ => {}
    }
}

async fn admin_report(
    c: &Connected,
    def: &BudgetDef,
    deltas: &[(&str, u64)],
    report: &mut DemoReport,
) -> Result<(), EngineError> {
    let budget = id(def);
    let args = ReportUsageAdminArgs::new(
        deltas.iter().map(|(d, _)| (*d).to_owned()).collect(),
        deltas.iter().map(|(_, v)| *v).collect(),
        TimestampMs::now(),
    );
    let outcome = c.backend.report_usage_admin(&budget, args).await?;
    count(report, &budget, &outcome);
    Ok(())
}

/// With `initial`: create the budgets (idempotent) and drive payments over
/// its soft limit and media into its hard limit (a report past it is
/// refused). Later: a little admin drift on the search budget.
pub(super) async fn budgets_tick(
    c: &Connected,
    rng: &mut StdRng,
    report: &mut DemoReport,
    initial: bool,
) -> Result<(), EngineError> {
    if !initial {
        return match admin_report(c, &SEARCH_API, &[("api_calls", rng.gen_range(50..150))], report).await {
            Err(e) if is_unavailable(&e) => {
                report.skip("report_usage_admin", &e);
                Ok(())
            }
            other => other,
        };
    }
    for def in BUDGETS {
        let created = c
            .backend
            .create_budget(CreateBudgetArgs {
                budget_id: id(def),
                scope_type: "namespace".to_owned(),
                scope_id: def.namespace.to_owned(),
                enforcement_mode: "strict".to_owned(),
                on_hard_limit: "reject".to_owned(),
                on_soft_limit: "warn".to_owned(),
                reset_interval_ms: 86_400_000,
                dimensions: def.dims.iter().map(|(d, _, _)| (*d).to_owned()).collect(),
                hard_limits: def.dims.iter().map(|(_, _, h)| *h).collect(),
                soft_limits: def.dims.iter().map(|(_, s, _)| *s).collect(),
                now: TimestampMs::now(),
            })
            .await;
        match created {
            Ok(CreateBudgetResult::Created { .. }) => report.budgets += 1,
            Ok(CreateBudgetResult::AlreadySatisfied { .. }) => {}
            Err(e) if is_unavailable(&e) => {
                report.skip("create_budget", &e);
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    }
    // Bring each driven dimension to its target from wherever it is now.
    let to_target = |usage: &std::collections::HashMap<String, u64>, dim: &str, target: u64| {
        target.saturating_sub(usage.get(dim).copied().unwrap_or(0))
    };
    let payments = c.backend.get_budget_status(&id(&PAYMENTS_LLM)).await?;
    let deltas = [
        ("tokens", to_target(&payments.usage, "tokens", 41_000)),
        ("cost_cents", to_target(&payments.usage, "cost_cents", 640)),
    ];
    if deltas.iter().any(|(_, d)| *d > 0) {
        admin_report(c, &PAYMENTS_LLM, &deltas, report).await?;
    }
    let media = c.backend.get_budget_status(&id(&MEDIA_GPU)).await?;
    let fill = to_target(&media.usage, "gpu_seconds", 3_600);
    if fill > 0 {
        admin_report(c, &MEDIA_GPU, &[("gpu_seconds", fill)], report).await?;
    }
    // One more transcode's worth: refused, counted as a hard breach.
    admin_report(c, &MEDIA_GPU, &[("gpu_seconds", 120)], report).await
}
