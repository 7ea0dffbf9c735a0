//! Operator actions over the trait, and the previews their confirmation
//! dialogs show (members a flow cancel hits, nodes a replay re-runs).
//!
//! Callers (the board's server functions) authenticate, check CSRF, write
//! the audit attempt, call one of these, then write the outcome. Each
//! function returns a short human outcome on success.
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use ff_core::backend::{CancelFlowPolicy, CancelFlowWait};
use ff_core::contracts::{
    CancelExecutionArgs, CancelFlowResult, ChangePriorityArgs, DeliverSignalArgs, DeliverSignalResult,
    EdgeDirection, ReplayExecutionArgs, ResetBudgetArgs, RevokeLeaseArgs, RevokeLeaseResult,
};
use ff_core::engine_error::EngineError;
use ff_core::partition::{Partition, PartitionFamily, PartitionKey};
use ff_core::types::{BudgetId, CancelSource, ExecutionId, FlowId, SignalId, TimestampMs, WaitpointId, WaitpointToken};

use crate::connect::Connected;

/// Parse a cancel-flow policy name.
pub fn cancel_policy(name: &str) -> Option<CancelFlowPolicy> {
    match name {
        "cancel_all" => Some(CancelFlowPolicy::CancelAll),
        "cancel_pending" => Some(CancelFlowPolicy::CancelPending),
        "flow_only" => Some(CancelFlowPolicy::FlowOnly),
        _ => None,
    }
}

/// Parse a wait choice: `none`, `indefinite`, or a timeout in ms.
pub fn cancel_wait(name: &str, timeout_ms: Option<u64>) -> Option<CancelFlowWait> {
    match (name, timeout_ms) {
        ("none", _) => Some(CancelFlowWait::NoWait),
        ("indefinite", _) => Some(CancelFlowWait::WaitIndefinite),
        ("timeout", Some(ms)) if ms > 0 && ms <= 300_000 => Some(CancelFlowWait::WaitTimeout(std::time::Duration::from_millis(ms))),
        _ => None,
    }
}

/// Members a blast radius counts at most.
pub const MAX_MEMBERS: usize = 10_000;

/// What a flow cancel will hit: member count by public state.
pub async fn flow_blast_radius(c: &Connected, flow: &FlowId) -> Result<BTreeMap<String, usize>, crate::backend::ReadError> {
    let members = c.reads.flow_members(flow, MAX_MEMBERS).await?;
    let mut by_state = BTreeMap::new();
    for s in members {
        *by_state.entry(s.state.as_str().to_owned()).or_insert(0) += 1;
    }
    Ok(by_state)
}

/// The executions downstream of `from` in its flow (what a replay re-runs).
pub async fn downstream(c: &Connected, flow: &FlowId, from: &ExecutionId) -> Result<Vec<ExecutionId>, EngineError> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([from.clone()]);
    while let Some(node) = queue.pop_front() {
        for e in c.backend.list_edges(flow, EdgeDirection::Outgoing { from_node: node }).await? {
            if seen.insert(e.downstream_execution_id.to_string()) {
                queue.push_back(e.downstream_execution_id);
            }
        }
    }
    Ok(seen.into_iter().filter_map(|s| ExecutionId::parse(&s).ok()).collect())
}

pub async fn cancel_flow(c: &Connected, flow: &FlowId, policy: CancelFlowPolicy, wait: CancelFlowWait) -> Result<String, EngineError> {
    Ok(match c.backend.cancel_flow(flow, policy, wait).await? {
        CancelFlowResult::Cancelled { member_execution_ids, .. } => {
            format!("flow cancelled, {} member(s) cancelled", member_execution_ids.len())
        }
        CancelFlowResult::CancellationScheduled { member_count, .. } => {
            format!("cancellation scheduled for {member_count} member(s)")
        }
        CancelFlowResult::PartiallyCancelled { member_execution_ids, failed_member_execution_ids, .. } => format!(
            "partially cancelled: {} cancelled, {} failed: {}",
            member_execution_ids.len(),
            failed_member_execution_ids.len(),
            failed_member_execution_ids.join(", ")
        ),
    })
}

pub async fn cancel_execution(c: &Connected, id: &ExecutionId, reason: &str) -> Result<String, EngineError> {
    let r = c
        .backend
        .cancel_execution(CancelExecutionArgs {
            execution_id: id.clone(),
            reason: reason.to_owned(),
            source: CancelSource::OperatorOverride,
            lease_id: None,
            lease_epoch: None,
            attempt_id: None,
            now: TimestampMs::now(),
        })
        .await?;
    Ok(format!("{r:?}").split_whitespace().next().unwrap_or("done").to_lowercase())
}

/// Deliver `signal` to a waitpoint as `who`, the way a signal bridge does:
/// the waitpoint token is read here and never leaves the server, and `who`
/// is the signal's source identity (so a DistinctSources gate counts
/// people). `None` when the waitpoint has no token (it closed).
pub async fn deliver_as(
    c: &Connected,
    id: &ExecutionId,
    waitpoint: &WaitpointId,
    signal: &str,
    who: &str,
    payload: serde_json::Value,
    idempotency_key: String,
) -> Result<Option<DeliverSignalResult>, EngineError> {
    let partition = PartitionKey::from(Partition { family: PartitionFamily::Flow, index: id.partition() });
    let Some(token) = c.backend.read_waitpoint_token(partition, waitpoint).await? else {
        return Ok(None);
    };
    let now = TimestampMs::now();
    c.backend
        .deliver_signal(DeliverSignalArgs {
            execution_id: id.clone(),
            waitpoint_id: waitpoint.clone(),
            signal_id: SignalId::new(),
            signal_name: signal.to_owned(),
            signal_category: "approval".to_owned(),
            source_type: "user".to_owned(),
            source_identity: who.to_owned(),
            payload: Some(payload.to_string().into_bytes()),
            payload_encoding: Some("json".to_owned()),
            correlation_id: None,
            idempotency_key: Some(idempotency_key),
            target_scope: "execution".to_owned(),
            created_at: Some(now),
            dedup_ttl_ms: Some(86_400_000),
            resume_delay_ms: None,
            max_signals_per_execution: None,
            signal_maxlen: None,
            waitpoint_token: WaitpointToken::new(token),
            now,
        })
        .await
        .map(Some)
}

/// Why an approve / reject did not take effect.
#[derive(Debug)]
pub enum DecideError {
    /// An engine call failed.
    Engine(&'static str, EngineError),
    /// The board could not read the stored suspension.
    Store(crate::StoreError),
    /// The engine took the call but nothing happened; the reason in words.
    NoEffect(String),
}

/// Deliver `signal` to waitpoint `wp` (key `wp_key`) of `id` as `who`, the
/// gate read just `before`, and succeed only when it counted: the signal must be one the gate's stored
/// condition accepts there, and the engine's answer must be a resume or a
/// step of progress. Every "nothing happened" answer (`signal_ignored_*`,
/// `no_op`, a satisfier that had already counted, a buffered signal, an
/// idempotent duplicate) is a [`DecideError::NoEffect`] naming the reason.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    c: &Connected,
    id: &ExecutionId,
    before: crate::gate::Gate,
    wp: &WaitpointId,
    wp_key: &str,
    signal: &str,
    who: &str,
    reason: &str,
    idempotency_key: &str,
) -> Result<String, DecideError> {
    use crate::gate::{self, SignalEffect};
    let acc = gate::accepts(&before.condition, wp_key);
    let waits = || if acc.any { "any signal".to_owned() } else { acc.names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" or ") };
    if acc.nothing() {
        return Err(DecideError::NoEffect(format!("waitpoint {wp_key} takes no signal: its gate opens only by an operator resume or its timeout")));
    }
    if !acc.takes(signal) {
        return Err(DecideError::NoEffect(format!("the gate waits for {}; `{signal}` does not match", waits())));
    }
    let p0 = gate::progress(&before);
    let payload = serde_json::json!({ "reason": reason, "decided_by": who });
    let result = deliver_as(c, id, wp, signal, who, payload, format!("ff-board:{idempotency_key}"))
        .await
        .map_err(|e| DecideError::Engine("deliver_signal", e))?
        .ok_or_else(|| DecideError::NoEffect("the waitpoint closed before the signal arrived".into()))?;
    let effect = match result {
        DeliverSignalResult::Accepted { effect, .. } => SignalEffect::parse(&effect),
        DeliverSignalResult::Duplicate { existing_signal_id } => {
            return Err(DecideError::NoEffect(format!("this decision was delivered before (signal {existing_signal_id}): nothing new happened")))
        }
    };
    let ignored = |why: String| Err(DecideError::NoEffect(format!("the engine ignored `{signal}`: {why}")));
    match effect {
        SignalEffect::Satisfied => Ok(format!("`{signal}` delivered as {who}: the gate is open and the execution resumes")),
        SignalEffect::Appended => match gate::read(c, id).await.map_err(DecideError::Store)? {
            None => Ok(format!("`{signal}` delivered as {who}: the gate is open and the execution resumes")),
            Some(after) => {
                let p1 = gate::progress(&after);
                if p1.have > p0.have {
                    Ok(format!("`{signal}` delivered as {who}: {} of {} now", p1.have, p1.needed))
                } else {
                    Err(DecideError::NoEffect(format!(
                        "`{signal}` from {who} did not count: still {} of {}{}",
                        p1.have,
                        p1.needed,
                        if p1.who.iter().any(|w| w == who) { format!(" ({who} had already counted)") } else { String::new() }
                    )))
                }
            }
        },
        SignalEffect::DuplicateSatisfier => ignored(format!("{who} has already counted for this gate (still {} of {})", p0.have, p0.needed)),
        SignalEffect::MatcherFailed => ignored(format!("the gate waits for {}; `{signal}` does not match", waits())),
        SignalEffect::NotInCondition => ignored(format!("waitpoint {wp_key} is not part of the gate's resume condition")),
        SignalEffect::NoOp => ignored(format!("no matcher of waitpoint {wp_key} took it")),
        SignalEffect::Buffered => ignored("the waitpoint is not active yet; the signal is buffered and has not counted".into()),
        SignalEffect::Other(s) => ignored(format!("the engine answered `{s}`, which is not a known effect")),
    }
}

/// What an action did: something, or nothing (the engine's no-op answer,
/// never shown or audited as a success).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Done(String),
    Nothing(String),
}

/// Revoke the current lease; the engine's `AlreadySatisfied` (the lease
/// was already gone) is [`Effect::Nothing`].
pub async fn revoke_lease(c: &Connected, id: &ExecutionId, reason: &str) -> Result<Effect, EngineError> {
    let snap = c.backend.describe_execution(id).await?.ok_or(EngineError::NotFound { entity: "execution" })?;
    let lease = snap.current_lease.ok_or(EngineError::NotFound { entity: "lease" })?;
    Ok(match c
        .backend
        .revoke_lease(RevokeLeaseArgs {
            execution_id: id.clone(),
            expected_lease_id: Some(lease.lease_id.to_string()),
            worker_instance_id: lease.worker_instance_id,
            reason: reason.to_owned(),
        })
        .await?
    {
        RevokeLeaseResult::Revoked { lease_id, .. } => Effect::Done(format!("lease {lease_id} revoked")),
        RevokeLeaseResult::AlreadySatisfied { reason } => Effect::Nothing(format!("nothing to revoke: {reason}")),
    })
}

pub async fn change_priority(c: &Connected, id: &ExecutionId, priority: i32) -> Result<String, EngineError> {
    let snap = c.backend.describe_execution(id).await?.ok_or(EngineError::NotFound { entity: "execution" })?;
    c.backend
        .change_priority(ChangePriorityArgs { execution_id: id.clone(), new_priority: priority, lane_id: snap.lane_id, now: TimestampMs::now() })
        .await?;
    Ok(format!("priority set to {priority}"))
}

pub async fn replay_execution(c: &Connected, id: &ExecutionId) -> Result<String, EngineError> {
    let r = c.backend.replay_execution(ReplayExecutionArgs { execution_id: id.clone(), now: TimestampMs::now() }).await?;
    Ok(format!("replayed: {r:?}"))
}

pub async fn reset_budget(c: &Connected, id: &BudgetId) -> Result<String, EngineError> {
    let r = c.backend.reset_budget(ResetBudgetArgs { budget_id: id.clone(), now: TimestampMs::now() }).await?;
    Ok(format!("budget reset: {r:?}"))
}
