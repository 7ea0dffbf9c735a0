//! Bulk actions: a preview lists exactly the executions a run will touch
//! (at most [`BULK_MAX`]), and the browser sends them back in steps of
//! [`BULK_BATCH`]; each step re-reads every execution and acts through the
//! same audited pipeline as a single action. The server holds the cap too:
//! one user acts on at most the two-person threshold ([`approval_over`],
//! `FF_BOARD_BULK_APPROVAL`, default [`DEFAULT_APPROVAL_OVER`]) through
//! bulk steps per [`BULK_WINDOW_MS`], whatever the browser sends. A larger
//! run is asked for instead (`repair_request` with the tool `bulk`: the
//! server takes its own preview and keeps exactly those ids) and runs when
//! a different admin approves it ([`run_approved`]), each execution still
//! its own audited action.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The window of the per-user bulk cap.
pub const BULK_WINDOW_MS: i64 = 5 * 60 * 1000;

#[cfg(feature = "ssr")]
mod budget {
    //! Executions acted on through bulk steps, per user, in the window: an
    //! allowance every replica shares (`ff_board_engine::allowance`), so a
    //! second board behind the balancer does not give a person a second
    //! budget.
    use ff_board_engine::allowance::{self, Allowance};
    use ff_board_engine::backend::side::SideStore;

    use super::BULK_WINDOW_MS;
    use crate::error::AppError;

    /// Take `n` from `user`'s budget at `now`, or refuse with 429.
    pub async fn take(side: &SideStore, user: &str, n: usize, now: i64, cap: usize) -> Result<(), AppError> {
        match allowance::take(side, &format!("bulk:{user}"), n as u64, cap as u64, BULK_WINDOW_MS, now).await? {
            Allowance::Taken { .. } => Ok(()),
            Allowance::Refused { used } => Err(AppError::TooMany(format!(
                "one person acts on at most {cap} executions through bulk actions every {} minutes ({used} used): ask for a second person's approval, or wait",
                BULK_WINDOW_MS / 60_000
            ))),
        }
    }
}

/// Executions a bulk action may touch at most (per confirmation).
pub const BULK_MAX: usize = 1000;
/// Executions handled per bulk step.
pub const BULK_BATCH: usize = 25;
/// The two-person threshold when `FF_BOARD_BULK_APPROVAL` is not set.
pub const DEFAULT_APPROVAL_OVER: usize = 100;

/// Executions one person may act on through bulk steps per
/// [`BULK_WINDOW_MS`]; a larger run needs a second person
/// (`FF_BOARD_BULK_APPROVAL`, at most [`BULK_MAX`]; 0: every bulk run).
#[cfg(feature = "ssr")]
pub fn approval_over() -> usize {
    std::env::var("FF_BOARD_BULK_APPROVAL").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(DEFAULT_APPROVAL_OVER).min(BULK_MAX)
}

/// What a bulk run will act on: exactly these executions, no more.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BulkCount {
    pub state: String,
    /// `ids.len()`: the number the operator confirms.
    pub count: usize,
    /// More may match than the preview holds (over [`BULK_MAX`], or past
    /// the scan bound): the count is "at least", and the run still acts on
    /// `ids` only.
    pub more: bool,
    pub action: crate::api::states::ExecAction,
    /// The executions a run acts on, sent back in steps of [`BULK_BATCH`].
    pub ids: Vec<String>,
    /// The query that chose them (canonical form; empty: the whole state).
    pub q: String,
    /// Over this many, the run waits for a second person ([`approval_over`]).
    pub approval_over: usize,
}

/// One bounded batch of a bulk action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BulkProgress {
    pub done: usize,
    pub failures: Vec<(String, String)>,
}


#[server(prefix = "/api", endpoint = "bulk_preview", output = crate::api::codec::PostcardAnswer)]
pub async fn bulk_preview(state: String, #[server(default)] q: Option<String>) -> Result<BulkCount, AppError> {
    preview(&state, q.as_deref().unwrap_or("")).await
}

/// The executions in `state` matching `q` a bulk run would act on (at most
/// [`BULK_MAX`]), read page by page as the list reads them.
#[cfg(feature = "ssr")]
pub async fn preview(state: &str, q: &str) -> Result<BulkCount, AppError> {
    use ff_board_domain::query::{Query, Scope};
    use ff_board_engine::backend::{search::Search, ExecQuery};
    let st = crate::api::states::ExecState::filter(Some(state)).map_err(AppError::BadRequest)?
        .ok_or_else(|| AppError::BadRequest("choose a state to act on".into()))?;
    // The query narrows the state's executions (docs/SEARCH.md); the state
    // still decides the action, and each step re-reads it.
    let search = Query::parse(q, Scope::Executions).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let q = search.to_string();
    let query = ExecQuery {
        state: ff_board_engine::backend::public_state(st),
        search: (!search.is_empty()).then(|| Search::new(search)),
        ..Default::default()
    };
    let (mut ids, more) = super::read::read(|c| async move {
        let mut ids = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = c.reads.executions(&query, after.as_deref(), 200).await?;
            ids.extend(page.rows.into_iter().map(|l| l.id.to_string()));
            match page.next {
                // The preview lists at most BULK_MAX; "more" says others match.
                Some(_) if ids.len() >= BULK_MAX => return Ok((ids, true)),
                Some(n) => after = Some(n),
                None => return Ok((ids, false)),
            }
        }
    })
    .await?;
    let more = more || ids.len() > BULK_MAX;
    ids.truncate(BULK_MAX);
    Ok(BulkCount { count: ids.len(), more, action: crate::api::states::ExecAction::bulk_for(st), ids, state: st.as_str().to_owned(), q, approval_over: approval_over() })
}

/// Act on one batch of the executions a preview listed. Each one is
/// re-read first: one that left `state` since the preview is reported as a
/// failure and left alone, so a run never acts on more than was confirmed.
#[server(prefix = "/api", endpoint = "bulk_step", output = crate::api::codec::PostcardAnswer)]
pub async fn bulk_step(
    state: String,
    #[server(default)] ids: Vec<String>,
    reason: String,
    idempotency_key: String,
    csrf: String,
) -> Result<BulkProgress, AppError> {
    super::actions::run::status(
        async move {
            let actor = crate::state::writer(crate::auth::Role::Operator, &csrf)?;
            let state = crate::api::states::ExecState::filter(Some(&state)).map_err(AppError::BadRequest)?
                .ok_or_else(|| AppError::BadRequest("choose a state to act on".into()))?;
            if ids.is_empty() || ids.len() > BULK_BATCH {
                return Err(AppError::BadRequest(format!("a bulk step acts on 1 to {BULK_BATCH} executions, not {}", ids.len())));
            }
            let ids = ids.iter().map(|raw| super::parse::execution_id(raw)).collect::<Result<Vec<_>, _>>()?;
            super::read::read(|c| async move {
                budget::take(&c.side, &actor.user, ids.len(), ff_core::types::TimestampMs::now().0, approval_over()).await?;
                Ok(act_on(&c, state, &ids, &reason, &idempotency_key, &csrf, None).await)
            })
            .await
        }
        .await,
    )
}

/// Act on `ids` (each re-read first, left alone when it is no longer in
/// `state`), one audited action each under the key `<key>:<id>`, stopping
/// before `deadline` when one is given.
#[cfg(feature = "ssr")]
async fn act_on(
    c: &ff_board_engine::connect::Connected,
    state: crate::api::states::ExecState,
    ids: &[ff_core::types::ExecutionId],
    reason: &str,
    key: &str,
    csrf: &str,
    deadline: Option<std::time::Instant>,
) -> BulkProgress {
    use super::read::Call;
    let action = crate::api::states::ExecAction::bulk_for(state);
    let mut done = 0;
    let mut failures = vec![];
    for id in ids {
        if deadline.is_some_and(|d| std::time::Instant::now() > d) {
            break;
        }
        if let Some(why) = left_alone(c, id, state.as_str()).await {
            failures.push((id.to_string(), why));
            continue;
        }
        let (why, target, id) = (reason.to_owned(), id.to_string(), id.clone());
        let r = super::actions::run::act(crate::auth::Role::Operator, csrf, action.as_str(), &target, reason, &[], &format!("{key}:{target}"), |c, _| async move {
            if action == crate::api::states::ExecAction::Replay {
                ff_board_engine::actions::replay_execution(&c, &id).named(action.as_str()).await
            } else {
                ff_board_engine::actions::cancel_execution(&c, &id, &why).named(action.as_str()).await
            }
        })
        .await;
        match r {
            Ok(_) => done += 1,
            Err(e) => failures.push((target, e.to_string())),
        }
    }
    BulkProgress { done, failures }
}

/// Run a bulk action a second person approved: exactly its ids, until the
/// repair deadline; what it did as a repair's progress.
#[cfg(feature = "ssr")]
pub async fn run_approved(c: &ff_board_engine::connect::Connected, run: &ff_board_engine::maintenance::BulkRun, request: &str, reason: &str, csrf: &str) -> ff_board_engine::maintenance::Progress {
    let ids: Vec<_> = run.ids.iter().filter_map(|raw| ff_core::types::ExecutionId::parse(raw).ok()).collect();
    let deadline = std::time::Instant::now() + ff_board_engine::maintenance::RUN_DEADLINE;
    let p = act_on(c, run.state, &ids, reason, &format!("bulk:{request}"), csrf, Some(deadline)).await;
    let handled = (p.done + p.failures.len()) as u32;
    ff_board_engine::maintenance::Progress {
        count: p.done as u64,
        errors: p.failures.len() as u64,
        done: handled,
        of: run.ids.len() as u32,
        by_partition: vec![],
    }
}

/// Why a bulk step leaves `id` alone: it is no longer in `state` (or gone),
/// or it could not be read.
#[cfg(feature = "ssr")]
async fn left_alone(c: &ff_board_engine::connect::Connected, id: &ff_core::types::ExecutionId, state: &str) -> Option<String> {
    use super::read::Call;
    let now = match c.backend.describe_execution(id).named("describe_execution").await {
        Ok(Some(s)) => s.public_state.as_str().to_owned(),
        Ok(None) => String::from("gone"),
        Err(e) => return Some(e.to_string()),
    };
    (now != state).then(|| format!("left alone: no longer {state} (now {now})"))
}
