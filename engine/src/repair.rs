//! The engine's repair operations on one execution or worker, as the
//! diagnosis offers them (`crate::diagnose`): unblock, resume, expire a
//! suspension, mark a worker dead. Each re-reads what it changed, so an
//! engine answer that means "nothing happened" (a fenced unblock, a
//! suspension not yet due, an unknown worker) is [`Effect::Nothing`], never
//! reported as done.
use ff_core::contracts::{MarkWorkerDeadArgs, MarkWorkerDeadOutcome, ResumeExecutionArgs, ResumeExecutionResult};
use ff_core::engine_error::EngineError;
use ff_core::partition::execution_partition;
use ff_core::state::PublicState;
use ff_core::types::{ExecutionId, Namespace, TimestampMs, WorkerInstanceId};

use crate::actions::Effect;
use crate::connect::Connected;

fn not_found() -> EngineError {
    EngineError::NotFound { entity: "execution" }
}

/// Move a budget-, quota- or route-blocked execution back to eligible,
/// fenced on the reason it is blocked by now (the engine refuses a stale
/// unblock).
pub async fn unblock(c: &Connected, id: &ExecutionId) -> Result<Effect, EngineError> {
    let s = c.backend.describe_execution(id).await?.ok_or_else(not_found)?;
    let reason = s.blocking_reason.clone().unwrap_or_default();
    if !matches!(reason.as_str(), "waiting_for_budget" | "waiting_for_quota" | "waiting_for_capable_worker" | "waiting_for_locality_match") {
        return Ok(Effect::Nothing(format!("not blocked by a budget, quota or route (it is {})", if reason.is_empty() { "not blocked" } else { &reason })));
    }
    let partition = execution_partition(id, &c.partitions);
    c.backend.unblock_execution(partition, &s.lane_id, id, &reason, TimestampMs::now()).await?;
    let after = c.backend.describe_execution(id).await?.ok_or_else(not_found)?;
    Ok(if after.blocking_reason.as_deref() == Some(reason.as_str()) {
        Effect::Nothing(format!("the engine left it blocked ({reason})"))
    } else {
        Effect::Done(format!("unblocked: it was {reason}, it is now {}", after.public_state.as_str()))
    })
}

/// Resume a suspended execution without a signal (trigger `operator`).
pub async fn resume(c: &Connected, id: &ExecutionId) -> Result<Effect, EngineError> {
    let s = c.backend.describe_execution(id).await?.ok_or_else(not_found)?;
    if s.public_state != PublicState::Suspended {
        return Ok(Effect::Nothing(format!("not suspended (it is {})", s.public_state.as_str())));
    }
    let args = ResumeExecutionArgs { execution_id: id.clone(), trigger_type: "operator".into(), resume_delay_ms: 0 };
    let ResumeExecutionResult::Resumed { public_state } = c.backend.resume_execution(args).await?;
    Ok(Effect::Done(format!("resumed: it is now {}", public_state.as_str())))
}

/// Time out a suspension whose deadline has passed, as the engine's
/// scanner would (its timeout behaviour: fail, cancel, expire or resume).
/// The engine does nothing to a suspension not yet due.
pub async fn expire_suspension(c: &Connected, id: &ExecutionId) -> Result<Effect, EngineError> {
    let s = c.backend.describe_execution(id).await?.ok_or_else(not_found)?;
    if s.public_state != PublicState::Suspended {
        return Ok(Effect::Nothing(format!("not suspended (it is {})", s.public_state.as_str())));
    }
    c.backend.expire_suspension(execution_partition(id, &c.partitions), id, TimestampMs::now()).await?;
    let after = c.backend.describe_execution(id).await?.ok_or_else(not_found)?;
    Ok(if after.public_state == PublicState::Suspended {
        Effect::Nothing("its suspension is not yet due: the engine expires a suspension only past its deadline".into())
    } else {
        Effect::Done(format!("suspension expired: it is now {}", after.public_state.as_str()))
    })
}

/// Mark a worker instance dead in its namespace's registry.
pub async fn mark_worker_dead(c: &Connected, instance: &str, namespace: &str, reason: &str) -> Result<Effect, EngineError> {
    // The engine takes at most 256 bytes of reason (`MARK_WORKER_DEAD_REASON_MAX_BYTES`).
    let mut end = reason.len().min(ff_core::contracts::MARK_WORKER_DEAD_REASON_MAX_BYTES);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let args = MarkWorkerDeadArgs::new(WorkerInstanceId::new(instance), Namespace::new(namespace), reason[..end].to_owned(), TimestampMs::now());
    Ok(match c.backend.mark_worker_dead(args).await? {
        MarkWorkerDeadOutcome::Marked => Effect::Done(format!("worker {instance} marked dead")),
        MarkWorkerDeadOutcome::NotRegistered => Effect::Nothing(format!("worker {instance} is not registered in {namespace}")),
        other => Effect::Nothing(format!("worker {instance}: {other:?}")),
    })
}
