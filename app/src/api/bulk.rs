//! Bulk actions: a preview lists exactly the executions a run will touch
//! (at most [`BULK_MAX`]), and the browser sends them back in steps of
//! [`BULK_BATCH`]; each step re-reads every execution and acts through the
//! same audited pipeline as a single action. The server holds the cap too:
//! one user acts on at most [`BULK_MAX`] executions through bulk steps per
//! [`BULK_WINDOW_MS`], whatever the browser sends.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The window of the per-user bulk cap.
pub const BULK_WINDOW_MS: i64 = 5 * 60 * 1000;

#[cfg(feature = "ssr")]
mod budget {
    //! Executions acted on through bulk steps, per user, in the window.
    use std::collections::{HashMap, VecDeque};
    use std::sync::Mutex;

    use super::{BULK_MAX, BULK_WINDOW_MS};
    use crate::error::AppError;

    fn used() -> &'static Mutex<HashMap<String, VecDeque<(i64, usize)>>> {
        static USED: std::sync::OnceLock<Mutex<HashMap<String, VecDeque<(i64, usize)>>>> = std::sync::OnceLock::new();
        USED.get_or_init(Mutex::default)
    }

    /// Take `n` from `user`'s budget at `now`, or refuse with 429. The map
    /// holds users of the users file only (writers are signed in).
    pub fn take(user: &str, n: usize, now: i64) -> Result<(), AppError> {
        let mut all = used().lock().unwrap_or_else(|p| p.into_inner());
        let steps = all.entry(user.to_owned()).or_default();
        while steps.front().is_some_and(|(at, _)| now - at >= BULK_WINDOW_MS) {
            steps.pop_front();
        }
        let so_far: usize = steps.iter().map(|(_, k)| k).sum();
        if so_far + n > BULK_MAX {
            return Err(AppError::TooMany(format!(
                "bulk actions are capped at {BULK_MAX} executions per user every {} minutes ({so_far} used): wait, or act on fewer",
                BULK_WINDOW_MS / 60_000
            )));
        }
        steps.push_back((now, n));
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn capped_per_user_and_window() {
            let t = 1_000_000;
            assert!(super::take("cap-a", super::BULK_MAX - 5, t).is_ok());
            assert!(super::take("cap-a", 5, t + 1).is_ok());
            let e = super::take("cap-a", 1, t + 2).unwrap_err();
            assert_eq!(e.status(), 429);
            assert!(super::take("cap-b", 25, t + 2).is_ok(), "per user");
            assert!(super::take("cap-a", 25, t + super::BULK_WINDOW_MS).is_ok(), "the window slides");
        }
    }
}

/// Executions a bulk action may touch at most (per confirmation).
pub const BULK_MAX: usize = 1000;
/// Executions handled per bulk step.
pub const BULK_BATCH: usize = 25;

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
}

/// One bounded batch of a bulk action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BulkProgress {
    pub done: usize,
    pub failures: Vec<(String, String)>,
}


#[server(prefix = "/api", endpoint = "bulk_preview", output = crate::api::codec::PostcardAnswer)]
pub async fn bulk_preview(state: String, #[server(default)] q: Option<String>) -> Result<BulkCount, AppError> {
    use ff_board_domain::query::{Query, Scope};
    use ff_board_engine::backend::{search::Search, ExecQuery};
    let st = crate::api::states::ExecState::filter(Some(&state)).map_err(AppError::BadRequest)?
        .ok_or_else(|| AppError::BadRequest("choose a state to act on".into()))?;
    // The query narrows the state's executions (docs/SEARCH.md); the state
    // still decides the action, and each step re-reads it.
    let search = Query::parse(q.as_deref().unwrap_or(""), Scope::Executions).map_err(|e| AppError::BadRequest(e.to_string()))?;
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
    Ok(BulkCount { count: ids.len(), more, action: crate::api::states::ExecAction::bulk_for(st), ids, state: st.as_str().to_owned() })
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
    use super::read::Call;
    super::actions::run::status(
        async move {
            let actor = crate::state::writer(crate::auth::Role::Operator, &csrf)?;
            let state = crate::api::states::ExecState::filter(Some(&state)).map_err(AppError::BadRequest)?
                .ok_or_else(|| AppError::BadRequest("choose a state to act on".into()))?;
            let st = state.as_str();
            if ids.is_empty() || ids.len() > BULK_BATCH {
                return Err(AppError::BadRequest(format!("a bulk step acts on 1 to {BULK_BATCH} executions, not {}", ids.len())));
            }
            let ids = ids.iter().map(|raw| super::parse::execution_id(raw)).collect::<Result<Vec<_>, _>>()?;
            budget::take(&actor.user, ids.len(), ff_core::types::TimestampMs::now().0)?;
            let action = crate::api::states::ExecAction::bulk_for(state);
            super::read::read(|c| async move {
                let mut done = 0;
                let mut failures = vec![];
                for id in ids {
                    if let Some(why) = left_alone(&c, &id, st).await {
                        failures.push((id.to_string(), why));
                        continue;
                    }
                    let key = format!("{idempotency_key}:{id}");
                    let why = reason.clone();
                    let target = id.to_string();
                    let r = super::actions::run::act(crate::auth::Role::Operator, &csrf, action.as_str(), &target, &reason, &[], &key, |c, _| async move {
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
                Ok(BulkProgress { done, failures })
            })
            .await
        }
        .await,
    )
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
