//! /workers: the engine's worker registry (`list_workers`) with each
//! worker's capabilities, lanes, last heartbeat against its TTL and the
//! leases it holds; marking a worker dead (admin).
//!
//! FlowFabric 0.15 lists workers one namespace at a time on every backend
//! (`list_workers` without a namespace answers `Unavailable`) and keeps no
//! index of namespaces. The page reads the namespaces it knows: the one
//! asked for (`?ns=`), those in `FF_BOARD_NAMESPACES`, and those on the
//! first page of executions; at most [`MAX_NAMESPACES`], one
//! `list_workers` page each.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::executions::Field;
use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerRow {
    pub worker_id: String,
    pub instance: String,
    pub namespace: String,
    pub lanes: Vec<String>,
    pub capabilities: Vec<String>,
    pub last_heartbeat_at: i64,
    pub ttl_ms: u64,
    /// Leases it holds among the soonest-to-expire page of leases.
    pub leases: usize,
}

/// One namespace's workers (or why they could not be read).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamespaceWorkers {
    pub namespace: String,
    pub workers: Field<Vec<WorkerRow>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkersView {
    pub now: i64,
    pub namespaces: Vec<NamespaceWorkers>,
    /// The lease page the counts come from was full: counts are "at least".
    pub leases_capped: bool,
    /// The signed-in admin's CSRF token (mark dead), when an admin reads.
    pub admin_csrf: Option<String>,
}

/// Namespaces read per view.
pub const MAX_NAMESPACES: usize = 8;
/// Workers read per namespace (one page).
pub const WORKERS_PER_NAMESPACE: u32 = 200;
/// Longest namespace name taken from the URL.
pub const MAX_NAMESPACE_LEN: usize = 128;

#[server(prefix = "/api", endpoint = "get_workers", output = crate::api::codec::PostcardAnswer)]
pub async fn get_workers(#[server(default)] ns: Option<String>) -> Result<WorkersView, AppError> {
    let asked = ns.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if asked.as_ref().is_some_and(|n| n.len() > MAX_NAMESPACE_LEN || n.chars().any(char::is_control)) {
        return Err(AppError::BadRequest(format!("a namespace is at most {MAX_NAMESPACE_LEN} printable characters")));
    }
    let admin_csrf = crate::state::actor().filter(|a| a.role.can(crate::auth::Role::Admin)).map(|a| a.csrf);
    super::read::read(|c| async move {
        let now = c.backend.server_time_ms().await.map(|t| t as i64).unwrap_or_else(|_| super::leases::wall_ms());
        let leases = c.reads.leases(super::leases::ACTIVE).await?;
        let mut names: Vec<String> = asked.into_iter().collect();
        names.extend(std::env::var("FF_BOARD_NAMESPACES").unwrap_or_default().split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()));
        let page = c.reads.executions(&Default::default(), None, super::executions::PAGE).await?;
        names.extend(page.rows.into_iter().map(|r| r.namespace));
        let mut seen = std::collections::BTreeSet::new();
        names.retain(|n| seen.insert(n.clone()));
        names.truncate(MAX_NAMESPACES);
        let mut namespaces = Vec::new();
        for namespace in names {
            let mut args = ff_core::contracts::ListWorkersArgs::new();
            args.namespace = Some(ff_core::types::Namespace::new(&namespace));
            args.limit = Some(WORKERS_PER_NAMESPACE);
            let workers = super::read::field(c.backend.list_workers(args).await, |r| {
                r.entries.into_iter().map(|w| row(w, &leases)).collect()
            });
            namespaces.push(NamespaceWorkers { namespace, workers });
        }
        Ok(WorkersView { now, namespaces, leases_capped: leases.len() >= super::leases::ACTIVE, admin_csrf })
    })
    .await
}

#[cfg(feature = "ssr")]
fn row(w: ff_core::contracts::WorkerInfo, leases: &[ff_board_engine::backend::LeaseLine]) -> WorkerRow {
    let instance = w.worker_instance_id.to_string();
    WorkerRow {
        leases: leases.iter().filter(|l| l.holder == instance).count(),
        worker_id: w.worker_id.to_string(),
        instance,
        namespace: w.namespace.to_string(),
        lanes: w.lanes.iter().map(|l| l.to_string()).collect(),
        capabilities: w.capabilities.iter().cloned().collect(),
        last_heartbeat_at: w.last_heartbeat_ms.0,
        ttl_ms: w.liveness_ttl_ms,
    }
}

/// Mark a worker instance dead (admin; a plain form post from /workers:
/// the outcome or the refusal shows in the page's banner). Audited like
/// every action; an unknown worker is "nothing happened", not success.
#[server(prefix = "/api", endpoint = "mark_worker_dead")]
pub async fn mark_worker_dead(instance: String, namespace: String, reason: String, idempotency_key: String, csrf: String) -> Result<String, AppError> {
    super::actions::run::status(
        async move {
            let bad = |m: &str| Err(AppError::BadRequest(m.to_owned()));
            let (instance, namespace) = (instance.trim().to_owned(), namespace.trim().to_owned());
            if instance.is_empty() || instance.len() > 256 || instance.chars().any(char::is_control) {
                return bad("a worker instance id is 1 to 256 printable characters");
            }
            if namespace.is_empty() || namespace.len() > MAX_NAMESPACE_LEN {
                return bad("a namespace is 1 to 128 characters");
            }
            if !super::read::supports()?.mark_worker_dead {
                return Err(AppError::Unsupported { op: "mark_worker_dead".into() });
            }
            let why = reason.clone();
            let target = format!("worker:{namespace}/{instance}");
            super::actions::run::act(crate::auth::Role::Admin, &csrf, "mark_worker_dead", &target, &reason, &[], &idempotency_key, |c, _| async move {
                match ff_board_engine::repair::mark_worker_dead(&c, &instance, &namespace, &why).await {
                    Ok(ff_board_engine::actions::Effect::Done(m)) => Ok(m),
                    Ok(ff_board_engine::actions::Effect::Nothing(m)) => Err(AppError::NoEffect(m)),
                    Err(e) => Err(AppError::engine("mark_worker_dead", e)),
                }
            })
            .await
            .map(|r| r.message)
        }
        .await,
    )
}
