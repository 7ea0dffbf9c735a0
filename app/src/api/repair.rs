//! Repair tools behind a two-person rule (`/repair`): an operator or admin
//! asks for a tool (`repair_request`: the board counts first what it would
//! do, and keeps the request in the store, `ff_board_engine::requests`),
//! and a different admin approves it (`repair_decide`), which runs it in
//! bounded steps (`ff_board_engine::maintenance`) — or refuses it. Each
//! step is audited like every action (its entry written before the engine
//! is called, its outcome after, a refusal included). Both are plain form
//! posts from the page: the outcome or the refusal shows in its banner.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One request as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestRow {
    pub id: String,
    pub tool: String,
    pub what: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: i64,
    /// What it would do, counted when asked for.
    pub estimate: Option<String>,
    /// `pending`, `running`, `ran`, `failed`, `refused`.
    pub state: String,
    /// Who decided, when, and what came of it.
    pub outcome: Option<String>,
    /// Why the reader may not decide it (`None`: they may).
    pub blocked: Option<String>,
    /// A bulk run that stopped short (its deadline, or its replica stopped
    /// running it): a second admin may continue it.
    pub unfinished: bool,
}

/// One tool as the page offers it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolRow {
    pub key: String,
    pub name: String,
    pub needs_lane: bool,
    pub needs_hours: bool,
    /// Why this backend cannot run it.
    pub unsupported: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepairView {
    pub tools: Vec<ToolRow>,
    pub requests: Vec<RequestRow>,
    /// The reader's CSRF token when they may ask (operator or admin).
    pub csrf: Option<String>,
    pub now: i64,
}

#[cfg(feature = "ssr")]
mod server {
    use ff_board_engine::maintenance::{self, Progress, Tool};
    use ff_board_engine::requests::{second_person, unfinished, Request, RequestState};

    use super::{RepairView, RequestRow, ToolRow};
    use crate::auth::Role;
    use crate::error::AppError;

    /// Every tool, with its sample parameters for the support check.
    fn tools() -> [(Tool, &'static str); 5] {
        [
            (Tool::TrimRetention { lane: String::new(), hours: 1 }, "Trim retention (delete a lane's executions finished before a cutoff)"),
            (Tool::CheckIndex { lane: String::new() }, "Check the execution index (count drift per partition)"),
            (Tool::ReconcileBudgets, "Reconcile budget counters"),
            (Tool::ReconcileQuotas, "Reconcile quota counters"),
            (Tool::RotateHmac, "Rotate the waitpoint HMAC secret"),
        ]
    }

    fn what(tool: &Tool) -> &'static str {
        match tool {
            Tool::TrimRetention { .. } => "executions purged",
            Tool::CheckIndex { .. } => "executions out of place in the index",
            Tool::ReconcileBudgets => "budgets corrected",
            Tool::ReconcileQuotas => "quota policies corrected",
            Tool::RotateHmac => "partitions rotated",
            Tool::Bulk(_) => "executions",
        }
    }

    fn row(r: Request, reader: Option<&crate::auth::Actor>) -> RequestRow {
        let blocked = match reader {
            Some(a) if a.role.can(Role::Admin) => second_person(&r, &a.user, ff_board_engine::backend::now_ms()),
            Some(_) => Some("approving needs the admin role".into()),
            None => Some("sign in to decide".into()),
        };
        let outcome = match &r.state {
            RequestState::Pending => None,
            RequestState::Running { by, .. } => Some(format!("approved by {by}, running")),
            RequestState::Ran { by, progress, .. } => Some(format!("approved by {by}: {}", progress.describe(what(&r.tool)))),
            RequestState::Failed { by, error, .. } => Some(format!("approved by {by}: failed: {error}")),
            RequestState::Refused { by, .. } => Some(format!("refused by {by}")),
        };
        RequestRow {
            id: r.id.clone(),
            tool: r.tool.key().to_owned(),
            what: r.tool.describe(),
            reason: r.reason.clone(),
            requested_by: r.requested_by.clone(),
            requested_at: r.requested_at,
            estimate: r.estimate.as_ref().map(|p| format!("would touch {}", p.describe(what(&r.tool)))),
            state: r.state.key().to_owned(),
            unfinished: unfinished(&r, ff_board_engine::backend::now_ms()),
            outcome,
            blocked,
        }
    }

    pub async fn view() -> Result<RepairView, AppError> {
        let reader = crate::state::actor();
        crate::api::read::read(|c| async move {
            let store = crate::state::requests(&c).await?;
            let requests = store.list().await?.into_iter().map(|r| row(r, reader.as_ref())).collect();
            let tools = tools()
                .into_iter()
                .map(|(t, name)| ToolRow {
                    key: t.key().to_owned(),
                    name: name.to_owned(),
                    needs_lane: matches!(t, Tool::TrimRetention { .. } | Tool::CheckIndex { .. }),
                    needs_hours: matches!(t, Tool::TrimRetention { .. }),
                    unsupported: t.unsupported(&c),
                })
                .collect();
            let csrf = reader.filter(|a| a.role.can(Role::Operator)).map(|a| a.csrf);
            Ok(RepairView { tools, requests, csrf, now: ff_board_engine::backend::now_ms() })
        })
        .await
    }

    /// Ask for `tool`: counted, kept as pending, audited.
    pub async fn request(tool: Tool, reason: String, key: String, csrf: String) -> Result<String, AppError> {
        let id = uuid::Uuid::new_v4().to_string();
        let target = format!("repair:{id}");
        let params = [tool.describe()];
        let params: Vec<&str> = params.iter().map(String::as_str).collect();
        let why = reason.clone();
        let r = crate::api::actions::run::act(Role::Operator, &csrf, "repair_request", &target, &reason, &params, &key, |c, _| async move {
            if let Some(why) = tool.unsupported(&c) {
                return Err(AppError::Unsupported { op: format!("{}: {why}", tool.key()) });
            }
            let actor = crate::state::actor().ok_or_else(|| AppError::Unauthorized("sign in to ask for a repair".into()))?;
            let now = ff_board_engine::backend::now_ms();
            let estimate = maintenance::count(&c, &tool, now).await.map_err(|e| AppError::engine("count before repair", e))?;
            let said = estimate.as_ref().map_or_else(|| "FlowFabric 0.15 cannot count it first".to_owned(), |p| format!("it would touch {}", p.describe(what(&tool))));
            let req = Request { id, tool, reason: why, requested_by: actor.user, requested_at: now, estimate, state: RequestState::Pending };
            if !crate::state::requests(&c).await?.add(&req).await? {
                return Err(AppError::TooMany(format!("{} requests wait for approval already: decide those first", ff_board_engine::requests::MAX_PENDING)));
            }
            Ok(format!("asked for {} ({said}); a different admin must approve it", req.tool.describe()))
        })
        .await?;
        Ok(r.message)
    }

    /// Approve (and run) or refuse request `id` as a second person.
    pub async fn decide(id: String, approve: bool, reason: String, key: String, csrf: String) -> Result<String, AppError> {
        let target = format!("repair:{id}");
        let action = if approve { "repair_approve" } else { "repair_refuse" };
        let token = csrf.clone();
        let r = crate::api::actions::run::act(Role::Admin, &csrf, action, &target, &reason, &[], &key, |c, _| async move {
            let actor = crate::state::actor().ok_or_else(|| AppError::Unauthorized("sign in to decide".into()))?;
            let store = crate::state::requests(&c).await?;
            let req = store.get(&id).await?.ok_or_else(|| AppError::not_found("repair request", id.clone()))?;
            if req.requested_by == actor.user {
                return Err(AppError::Forbidden(second_person(&req, &actor.user, 0).unwrap_or_default()));
            }
            let now = ff_board_engine::backend::now_ms();
            if let Some(why) = second_person(&req, &actor.user, now) {
                return Err(AppError::Conflict { op: "repair".into(), error: format!("it moved on: {why}") });
            }
            if !approve && req.state != RequestState::Pending {
                return Err(AppError::Conflict { op: "repair".into(), error: "it moved on: it ran already (continue it or leave it)".into() });
            }
            if !approve {
                let refused = Request { state: RequestState::Refused { by: actor.user.clone(), at: now }, ..req.clone() };
                return if store.swap(&req, &refused).await? {
                    Ok(format!("refused {}", req.tool.describe()))
                } else {
                    Err(AppError::Conflict { op: "repair".into(), error: "it moved on: someone decided it meanwhile".into() })
                };
            }
            if let Some(why) = req.tool.unsupported(&c) {
                return Err(AppError::Unsupported { op: format!("{}: {why}", req.tool.key()) });
            }
            let running = Request { state: RequestState::Running { by: actor.user.clone(), at: now }, ..req.clone() };
            if !store.swap(&req, &running).await? {
                return Err(AppError::Conflict { op: "repair".into(), error: "it moved on: someone decided it meanwhile".into() });
            }
            let result = match &req.tool {
                // Each execution is its own audited action, as the approver.
                Tool::Bulk(run) => Ok(crate::api::bulk::run_approved(&c, run, &req.id, &req.reason, &token).await),
                tool => maintenance::run(&c, tool, now).await,
            };
            let at = ff_board_engine::backend::now_ms();
            let (state, answer) = match result {
                Ok(p) => (RequestState::Ran { by: actor.user.clone(), at, progress: p.clone() }, Ok(message(&req.tool, &p))),
                Err(e) => (RequestState::Failed { by: actor.user.clone(), at, error: e.to_string() }, Err(AppError::engine(req.tool.key(), e))),
            };
            if !store.swap(&running, &Request { state, ..running.clone() }).await? {
                tracing::warn!(request = %req.id, "repair request changed while it ran");
            }
            answer
        })
        .await?;
        Ok(r.message)
    }

    fn message(tool: &Tool, p: &Progress) -> String {
        format!("{}: {}", tool.describe(), p.describe(what(tool)))
    }
}

#[cfg(feature = "ssr")]
pub use server::view;

/// Ask for a repair tool (operator or admin): counted first, kept until a
/// different admin approves it. The tool `bulk` (with `state` and `q`) is a
/// bulk action over the two-person threshold, asked for from the bulk panel.
#[server(prefix = "/api", endpoint = "repair_request")]
pub async fn repair_request(
    tool: String,
    #[server(default)] lane: String,
    #[server(default)] hours: String,
    #[server(default)] state: String,
    #[server(default)] q: String,
    reason: String,
    idempotency_key: String,
    csrf: String,
) -> Result<String, AppError> {
    use ff_board_engine::maintenance::{BulkRun, Tool};
    super::actions::run::status(
        async move {
            if reason.trim().is_empty() {
                return Err(AppError::BadRequest("say why (the reason goes to the audit log and to the approver)".into()));
            }
            let tool = if tool.trim() == "bulk" {
                // The server takes its own preview: the request keeps
                // exactly the executions it will act on.
                crate::state::writer(crate::auth::Role::Operator, &csrf)?;
                let p = crate::api::bulk::preview(&state, &q).await?;
                if p.count == 0 {
                    return Err(AppError::BadRequest("nothing matches: no bulk action to ask for".into()));
                }
                let state = crate::api::states::ExecState::filter(Some(&p.state)).map_err(AppError::BadRequest)?
                    .ok_or_else(|| AppError::BadRequest("choose a state to act on".into()))?;
                Tool::Bulk(BulkRun { action: p.action, state, query: p.q, ids: p.ids })
            } else {
                let hours = match hours.trim() {
                    "" => None,
                    h => Some(h.parse::<u64>().map_err(|_| AppError::BadRequest("hours is a whole number".into()))?),
                };
                Tool::parse(tool.trim(), &lane, hours).map_err(AppError::BadRequest)?
            };
            let bulk = matches!(tool, Tool::Bulk(_));
            let said = server::request(tool, reason, idempotency_key, csrf).await?;
            // Asked from the bulk panel: the request waits on /repair.
            if bulk {
                leptos_axum::redirect("/repair");
            }
            Ok(said)
        }
        .await,
    )
}

/// Approve (it runs) or refuse a waiting repair request (admin, not the
/// one who asked).
#[server(prefix = "/api", endpoint = "repair_decide")]
pub async fn repair_decide(id: String, decision: String, #[server(default)] reason: String, idempotency_key: String, csrf: String) -> Result<String, AppError> {
    super::actions::run::status(
        async move {
            let id = id.trim().to_owned();
            if uuid::Uuid::parse_str(&id).is_err() {
                return Err(AppError::BadRequest("a repair request id is a UUID".into()));
            }
            let approve = match decision.as_str() {
                "approve" => true,
                "refuse" => false,
                _ => return Err(AppError::BadRequest("decision is approve or refuse".into())),
            };
            server::decide(id, approve, reason, idempotency_key, csrf).await
        }
        .await,
    )
}
