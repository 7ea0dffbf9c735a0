//! Stand-ins for the engine duties FlowFabric 0.15 leaves to a scheduler,
//! scanner supervisor or completion listener that the board does not run.
//! Nothing outside this file writes to a store behind the trait's back.
use ff_core::backend::CompletionPayload;
use ff_core::contracts::SeedWaitpointHmacSecretArgs;
use ff_core::engine_error::EngineError;
use ff_core::partition::execution_partition;
use ff_core::types::{ExecutionId, FlowId, TimestampMs};

use super::work::DelayedRetry;
use crate::connect::{BackendKind, Connected, SideStore};

/// Kid of the waitpoint HMAC secret the demo installs when none is active.
const DEMO_KID: &str = "ff-board-demo-1";

/// A flow member that reached a terminal outcome.
pub(super) struct Finished {
    pub execution_id: ExecutionId,
    pub flow_id: FlowId,
    /// `success` or `failed`, as the engine's completion events say.
    pub outcome: &'static str,
}

fn side_error(e: sqlx::Error) -> EngineError {
    EngineError::Transport { backend: "ff-board demo side store", source: Box::new(e) }
}

/// Install a waitpoint HMAC signing secret if the deployment has none:
/// suspending on a waitpoint mints a token with it (ff-server seeds one at
/// boot). A deployment that already has an active kid keeps it.
pub async fn ensure_waitpoint_secret(c: &Connected) -> Result<(), EngineError> {
    let secret: [u8; 32] = rand::random();
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    match c.backend.seed_waitpoint_hmac_secret(SeedWaitpointHmacSecretArgs::new(DEMO_KID, hex)).await {
        Ok(_) => Ok(()),
        // "a different kid is already active": the deployment has its own.
        Err(EngineError::Validation { detail, .. }) if detail.contains("already active") => Ok(()),
        Err(e) => Err(e),
    }
}

/// Stand-in for the submit → runnable promoter.
///
/// SQLite's and Postgres's `create_execution` insert rows in
/// `lifecycle_phase = 'submitted'`, their `claim` only picks `'runnable'`
/// rows, and no code in either backend promotes one to the other (FlowFabric
/// says so: its Postgres smoke test calls the promoter "deliberately
/// out-of-scope" and flips rows with an UPDATE, as `examples/ff-dev` does on
/// SQLite). Without this the demo's executions would never be claimed. It
/// is the only place the demo writes `ff_exec_core` directly, and it never
/// runs against a real deployment's data unless the demo is started there.
///
/// Only `lifecycle_phase` moves (plus the dependency gate below): the other
/// state columns keep the values `create_execution` wrote, which every
/// reader of the backend understands (`ff-dev`'s extra `public_state =
/// 'pending'` / `attempt_state = 'initial'` are refused as corrupt by the
/// Postgres readers).
///
/// DAG gating follows each backend's own engine:
/// - Postgres: a member with incoming edges becomes runnable but
///   `blocked_by_dependencies` (the shape Valkey's Lua gives it); the
///   completion cascade ([`cascade_completions`]) makes it eligible once its
///   edge group (AllOf / AnyOf / Quorum) is satisfied, or skips it.
/// - SQLite (no cascade, no edge-group policies): a member is promoted once
///   every upstream's attempt succeeded (AllOf).
/// - Valkey needs none: its Lua creates executions eligible and gates
///   children itself.
pub async fn promote_submitted(c: &Connected) -> Result<u64, EngineError> {
    let done = match &c.side {
        SideStore::Sqlite(pool) => sqlx::query(
            "UPDATE ff_exec_core \
                SET lifecycle_phase = 'runnable' \
              WHERE lifecycle_phase = 'submitted' \
                AND NOT EXISTS ( \
                    SELECT 1 FROM ff_edge e \
                     WHERE e.partition_key = ff_exec_core.partition_key \
                       AND e.downstream_eid = ff_exec_core.execution_id \
                       AND NOT EXISTS ( \
                           SELECT 1 FROM ff_attempt a \
                            WHERE a.partition_key = e.partition_key \
                              AND a.execution_id = e.upstream_eid \
                              AND a.outcome = 'success'))",
        )
        .execute(pool)
        .await
        .map_err(side_error)?
        .rows_affected(),
        SideStore::Postgres(pool) => sqlx::query(
            "UPDATE ff_exec_core c \
                SET lifecycle_phase = 'runnable', \
                    eligibility_state = CASE WHEN s.gated THEN 'blocked_by_dependencies' ELSE 'eligible_now' END, \
                    public_state = CASE WHEN s.gated THEN 'waiting_children' ELSE c.public_state END, \
                    blocking_reason = CASE WHEN s.gated THEN 'waiting_for_children' ELSE c.blocking_reason END \
               FROM (SELECT x.partition_key, x.execution_id, \
                            EXISTS (SELECT 1 FROM ff_edge e \
                                     WHERE e.partition_key = x.partition_key \
                                       AND e.downstream_eid = x.execution_id) AS gated \
                       FROM ff_exec_core x WHERE x.lifecycle_phase = 'submitted') s \
              WHERE c.partition_key = s.partition_key AND c.execution_id = s.execution_id \
                AND c.lifecycle_phase = 'submitted'",
        )
        .execute(pool)
        .await
        .map_err(side_error)?
        .rows_affected(),
        SideStore::Valkey(_) => 0,
    };
    Ok(done)
}

/// Stand-in for the engine's completion listener: cascade terminal
/// outcomes of flow members into their DAG children through the trait's
/// `cascade_completion`, as `ff-engine` does.
///
/// - Valkey: synchronous cascade per finished member (the Lua only
///   publishes completions; unblocking children is the listener's job).
/// - Postgres: the cascade resolves the completion event by
///   `(execution, occurred_at_ms)`, so the undispatched events are read
///   from the `ff_completion_event` outbox (read-only) and each is passed
///   on; skipped children emit their own events, drained the same way.
/// - SQLite has no cascade; [`promote_submitted`] gates there.
pub(super) async fn cascade_completions(c: &Connected, finished: &mut Vec<Finished>) -> Result<(), EngineError> {
    let done = std::mem::take(finished);
    match &c.side {
        SideStore::Valkey(_) => {
            for f in done {
                let payload = CompletionPayload::new(f.execution_id, f.outcome, None, TimestampMs::now())
                    .with_flow_id(f.flow_id);
                c.backend.cascade_completion(&payload).await?;
            }
        }
        SideStore::Postgres(pool) => {
            for _ in 0..16 {
                let pending: Vec<(i16, String, String, String, i64)> = sqlx::query_as(
                    "SELECT partition_key, execution_id::text, flow_id::text, outcome, occurred_at_ms \
                       FROM ff_completion_event \
                      WHERE dispatched_at_ms IS NULL AND flow_id IS NOT NULL \
                      ORDER BY event_id LIMIT 256",
                )
                .fetch_all(pool)
                .await
                .map_err(side_error)?;
                if pending.is_empty() {
                    break;
                }
                for (part, exec, flow, outcome, at) in pending {
                    let (Ok(eid), Ok(fid)) = (ExecutionId::parse(&format!("{{fp:{part}}}:{exec}")), FlowId::parse(&flow))
                    else {
                        continue;
                    };
                    let payload = CompletionPayload::new(eid, outcome, None, TimestampMs::from_millis(at))
                        .with_flow_id(fid);
                    c.backend.cascade_completion(&payload).await?;
                }
            }
        }
        SideStore::Sqlite(_) => {}
    }
    Ok(())
}

/// Stand-in for Valkey's delayed promoter: a retryable failure parks the
/// execution in the lane's delayed set until its backoff passes, and only
/// the engine's scanner (`promote_delayed`) moves it back to eligible.
/// Postgres and SQLite re-enqueue retries as runnable right away.
pub(super) async fn promote_due_retries(c: &Connected, retries: &mut Vec<DelayedRetry>) -> Result<(), EngineError> {
    if c.kind != BackendKind::Valkey {
        retries.clear();
        return Ok(());
    }
    let now = TimestampMs::now();
    let (due, later): (Vec<_>, Vec<_>) = std::mem::take(retries).into_iter().partition(|r| r.until.0 <= now.0);
    *retries = later;
    for r in due {
        let partition = execution_partition(&r.execution_id, &c.partitions);
        c.backend.promote_delayed(partition, &r.lane, &r.execution_id, now).await?;
    }
    Ok(())
}
