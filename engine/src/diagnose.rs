//! Why one execution is not moving (`ff_board_domain::diagnosis`): its
//! snapshot's state, blocking reason and lease, the blocker read where the
//! engine names it, and the fixes this backend can run.
//!
//! Cost, per execution page: the snapshot the page already reads, plus at
//! most [`MAX_CALLS`] engine calls for the blocker: `read_execution_info`
//! (a lapsed lease: is it marked reclaimable?), `Reads::history` (an
//! active execution's lease where the snapshot has none) or `Reads::gates`
//! (a suspension's waitpoint, likewise), `get_budget_status`,
//! `read_quota_policy_limits`, one `list_workers` page, or `list_edges`
//! and at most [`MAX_UPSTREAM`] `describe_execution`s of upstream members.
//! Never a list of the store.
use ff_board_domain::diagnosis::{Cause, Detail, Diagnosis, Fix, Offer, Upstream, WorkerSeen};
use ff_board_domain::BlockingReason as R;
use ff_core::contracts::{EdgeDirection, ExecutionSnapshot, ListWorkersArgs};
use ff_core::state::OwnershipState;
use ff_core::types::{BudgetId, QuotaPolicyId};

use crate::backend::{exec_state, quirks::Quirks};
use crate::connect::Connected;

/// Upstream members read for a "waiting for children" diagnosis.
pub const MAX_UPSTREAM: usize = 8;
/// Workers read for a worker diagnosis (one `list_workers` page).
pub const MAX_WORKERS: u32 = 100;
/// Engine calls one diagnosis makes beyond the snapshot, at most.
pub const MAX_CALLS: usize = 1 + MAX_UPSTREAM;

/// The diagnosis of `s`, read at `now` (epoch ms); `None` once it finished.
pub async fn diagnose(c: &Connected, s: &ExecutionSnapshot, now: i64) -> Option<Diagnosis> {
    let state = exec_state(s.public_state);
    if state.is_terminal() {
        return None;
    }
    let reason = s.blocking_reason.as_deref().and_then(R::parse);
    let detail = Detail::read(s.blocking_detail.as_deref().unwrap_or(""));
    let cause = match (&s.current_lease, reason) {
        (Some(l), _) => {
            let lapsed = l.expires_at.0 <= now;
            let reclaimable = lapsed
                && c.backend
                    .read_execution_info(&s.execution_id)
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|i| i.state_vector.ownership_state == OwnershipState::LeaseExpiredReclaimable);
            let holder = l.worker_instance_id.to_string();
            let last_heartbeat = l.last_heartbeat_at.map(|t| t.0);
            if lapsed {
                Cause::LeaseExpired { holder, expired_at: l.expires_at.0, last_heartbeat, reclaimable }
            } else {
                Cause::Running { holder, expires_at: l.expires_at.0, last_heartbeat }
            }
        }
        (None, Some(R::WaitingForBudget)) => budget(c, &detail).await,
        (None, Some(R::WaitingForQuota)) => quota(c, &detail, now).await,
        (None, Some(R::WaitingForChildren)) => children(c, s).await,
        (None, Some(r @ (R::WaitingForCapableWorker | R::WaitingForLocalityMatch))) => Cause::Worker {
            locality: r == R::WaitingForLocalityMatch,
            required: None,
            workers: workers(c, s, now).await.unwrap_or_default(),
        },
        (None, Some(r @ (R::WaitingForDelay | R::WaitingForRetryBackoff | R::WaitingForResumeDelay))) => Cause::Delayed { reason: r, until: detail.until },
        (None, Some(r @ (R::PausedByOperator | R::PausedByPolicy | R::PausedByFlowCancel))) => Cause::Paused { reason: r },
        (None, Some(r @ (R::WaitingForSignal | R::WaitingForApproval | R::WaitingForCallback | R::WaitingForToolResult))) => {
            Cause::Suspended { reason: r, waitpoint: waitpoint(c, s).await }
        }
        (None, Some(R::Unknown(raw))) => Cause::Other { reason: raw },
        (None, _) if state == ff_board_domain::ExecState::Active => held_by_attempt(c, s, now).await,
        (None, Some(R::WaitingForWorker) | None) => match state {
            ff_board_domain::ExecState::Suspended => Cause::Suspended { reason: R::WaitingForSignal, waitpoint: waitpoint(c, s).await },
            ff_board_domain::ExecState::Resumable => Cause::Resumable,
            _ => Cause::Queued {
                lane: s.lane_id.to_string(),
                workers_alive: workers(c, s, now).await.map(|w| w.iter().filter(|w| w.alive).count()),
            },
        },
    };
    let fixes = fixes(c, &cause);
    Some(Diagnosis { cause, detail: s.blocking_detail.clone().filter(|d| !d.is_empty()), fixes })
}

/// An active execution whose snapshot carries no lease (the SQL stores'
/// snapshots do not): its current attempt's worker and lease expiry, from
/// the attempt row (`Reads::history`).
async fn held_by_attempt(c: &Connected, s: &ExecutionSnapshot, now: i64) -> Cause {
    let current = c.reads.history(&s.execution_id).await.ok().and_then(|h| h.attempts.into_iter().filter(|a| a.ended_at.is_none()).max_by_key(|a| a.index));
    match current {
        Some(a) if a.lease_expires_at.is_some_and(|t| t <= now) => {
            Cause::LeaseExpired { holder: a.worker, expired_at: a.lease_expires_at.unwrap_or(now), last_heartbeat: None, reclaimable: false }
        }
        Some(a) => Cause::Running { holder: a.worker, expires_at: a.lease_expires_at.unwrap_or(now), last_heartbeat: None },
        None => Cause::Running { holder: "(a worker the store does not name)".into(), expires_at: now, last_heartbeat: None },
    }
}

/// The waitpoint it is suspended on: the snapshot's, else its pending
/// waitpoint (the SQL snapshots name none).
async fn waitpoint(c: &Connected, s: &ExecutionSnapshot) -> Option<String> {
    if let Some(w) = &s.current_waitpoint {
        return Some(w.to_string());
    }
    let rows = c.reads.gates(std::slice::from_ref(&s.execution_id)).await.ok()?;
    rows.into_iter().next()?.pending.into_iter().next().map(|p| p.waitpoint_id)
}

async fn budget(c: &Connected, d: &Detail) -> Cause {
    let mut cause = Cause::Budget { budget: d.budget.clone(), dimension: d.dimension.clone(), used: d.used, limit: d.limit, resets_at: None };
    let Some(id) = d.budget.as_deref().and_then(|b| BudgetId::parse(b).ok()) else { return cause };
    if let (Ok(st), Cause::Budget { dimension, used, limit, resets_at, .. }) = (c.backend.get_budget_status(&id).await, &mut cause) {
        let dim = dimension.clone().or_else(|| st.last_breach_dim.clone());
        if let Some(dim) = &dim {
            *used = st.usage.get(dim).copied().or(*used);
            *limit = st.hard_limits.get(dim).copied().or(*limit);
        }
        *dimension = dim;
        *resets_at = st.next_reset_at.clone().filter(|r| !r.is_empty() && r != "0");
    }
    cause
}

async fn quota(c: &Connected, d: &Detail, now: i64) -> Cause {
    let limits = match d.quota.as_deref().and_then(|q| QuotaPolicyId::parse(q).ok()) {
        Some(id) => c.backend.read_quota_policy_limits(&id).await.ok().flatten(),
        None => None,
    };
    // Its current use: the board's bounded read of the policies (few).
    let used = match &d.quota {
        Some(q) => c.reads.quotas(now).await.ok().and_then(|all| all.into_iter().find(|l| &l.id == q)),
        None => None,
    };
    Cause::Quota {
        policy: d.quota.clone(),
        window_secs: limits.as_ref().map(|l| l.requests_per_window_seconds),
        rate: limits.as_ref().map(|l| l.max_requests_per_window).filter(|r| *r > 0),
        concurrency: limits.as_ref().map(|l| l.active_concurrency_cap),
        active: used.as_ref().map(|u| u.active),
        in_window: used.as_ref().map(|u| u.in_window),
    }
}

/// The upstream members not finished: the first [`MAX_UPSTREAM`] edges'
/// upstream ends read, the rest counted.
async fn children(c: &Connected, s: &ExecutionSnapshot) -> Cause {
    let Some(flow) = &s.flow_id else { return Cause::Children { pending: vec![], more: 0 } };
    let edges = c.backend.list_edges(flow, EdgeDirection::Incoming { to_node: s.execution_id.clone() }).await.unwrap_or_default();
    let mut pending = Vec::new();
    for e in edges.iter().take(MAX_UPSTREAM) {
        let Ok(Some(up)) = c.backend.describe_execution(&e.upstream_execution_id).await else { continue };
        let state = exec_state(up.public_state);
        if !state.is_terminal() {
            pending.push(Upstream { id: e.upstream_execution_id.to_string(), state });
        }
    }
    Cause::Children { pending, more: edges.len().saturating_sub(MAX_UPSTREAM) }
}

/// The registered workers of the execution's namespace that serve its
/// lane (one page), alive when their last heartbeat is within their TTL.
async fn workers(c: &Connected, s: &ExecutionSnapshot, now: i64) -> Option<Vec<WorkerSeen>> {
    let mut args = ListWorkersArgs::new();
    args.namespace = Some(s.namespace.clone());
    args.limit = Some(MAX_WORKERS);
    let page = c.backend.list_workers(args).await.ok()?;
    Some(
        page.entries
            .into_iter()
            .filter(|w| w.lanes.is_empty() || w.lanes.contains(&s.lane_id))
            .map(|w| WorkerSeen {
                alive: now - w.last_heartbeat_ms.0 <= w.liveness_ttl_ms as i64,
                instance: w.worker_instance_id.to_string(),
            })
            .collect(),
    )
}

/// The fixes of `cause`, each disabled with its reason where this backend
/// cannot run it (`capabilities()`, or the board's table for the methods
/// it has no flag for: `Quirks`, `docs/ENGINE.md`).
fn fixes(c: &Connected, cause: &Cause) -> Vec<Offer> {
    let sup = c.backend.capabilities().supports;
    let q = Quirks::of(c.kind);
    let gate = |fix: Fix, ok: bool, op: &str| Offer { fix, disabled: (!ok).then(|| format!("not supported by this backend: {op}")) };
    let cancel = gate(Fix::Cancel, sup.cancel_execution, "cancel_execution");
    let unblock = gate(Fix::Unblock, q.unblock, "unblock_execution");
    let mut out = match cause {
        Cause::Budget { budget, .. } => {
            let mut v: Vec<Offer> = budget.iter().map(|b| gate(Fix::ResetBudget { budget: b.clone() }, sup.budget_admin, "reset_budget")).collect();
            v.push(unblock);
            v
        }
        Cause::Quota { .. } | Cause::Worker { .. } => vec![unblock],
        Cause::Children { pending, .. } => pending.iter().take(3).map(|u| Offer { fix: Fix::OpenUpstream { id: u.id.clone() }, disabled: None }).collect(),
        Cause::Queued { .. } => vec![gate(Fix::ChangePriority, sup.change_priority, "change_priority")],
        Cause::LeaseExpired { holder, .. } => vec![
            gate(Fix::RevokeLease, sup.revoke_lease, "revoke_lease"),
            gate(Fix::MarkWorkerDead { worker: holder.clone() }, sup.mark_worker_dead, "mark_worker_dead"),
        ],
        Cause::Running { .. } => vec![gate(Fix::RevokeLease, sup.revoke_lease, "revoke_lease")],
        Cause::Suspended { .. } => vec![
            Offer { fix: Fix::Decide, disabled: None },
            Offer { fix: Fix::Resume, disabled: None },
            gate(Fix::ExpireSuspension, q.expire_suspension, "expire_suspension"),
        ],
        Cause::Paused { .. } => vec![Offer { fix: Fix::Resume, disabled: None }, gate(Fix::ExpireSuspension, q.expire_suspension, "expire_suspension")],
        Cause::Delayed { .. } | Cause::Resumable | Cause::Other { .. } => vec![],
    };
    out.push(cancel);
    out
}
