//! Stand-ins for the engine duties FlowFabric 0.15 leaves to a scheduler,
//! scanner supervisor or completion listener that the board does not run.
//! Nothing outside this file writes to a store behind the trait's back.
use ff_core::backend::CompletionPayload;
use ff_core::contracts::{ExpiredLeaseInfo, ListExpiredLeasesArgs, RevokeLeaseArgs, SeedWaitpointHmacSecretArgs};
use ff_core::engine_error::EngineError;
use ff_core::partition::execution_partition;
use ff_core::types::{ExecutionId, FlowId, TimestampMs};

use super::work::DelayedRetry;
use crate::backend::Quirks;
use crate::connect::{is_unavailable, Connected, SideStore};

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

fn valkey_error(e: ferriskey::Error) -> EngineError {
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

/// Stand-in for the lease-expiry scanner a deployment runs (ff-server's;
/// SQLite's scanner supervisor has none): the leases that expired by now
/// (at most `limit`), each marked expired where the backend has that hook
/// (Valkey, Postgres) and revoked where it has not (SQLite, whose reclaim
/// grant takes only an expired-and-marked or a revoked lease). The demo's "crashed" workers leave such
/// leases; a live worker then reclaims them (`work::reclaim_expired`).
pub(super) async fn expired_leases(c: &Connected, limit: u32) -> Result<Vec<ExpiredLeaseInfo>, EngineError> {
    let mut args = ListExpiredLeasesArgs::new(TimestampMs::now());
    args.limit = Some(limit);
    // Every partition (Valkey reads 32 per call by default).
    args.max_partitions_per_call = Some(u32::from(c.partitions.num_flow_partitions));
    let listed = match &c.side {
        SideStore::Valkey(client) => valkey_expired_leases(c, client, limit).await?,
        _ => match c.backend.list_expired_leases(args).await {
            Ok(r) => r.entries,
            Err(e) if is_unavailable(&e) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        },
    };
    for e in &listed {
        let partition = execution_partition(&e.execution_id, &c.partitions);
        match c.backend.mark_lease_expired_if_due(partition, &e.execution_id).await {
            Ok(()) => {}
            // SQLite has no expiry hook and no scanner: the lease stays
            // `active` there, and only a revoked one is reclaimable.
            Err(err) if is_unavailable(&err) => {
                let revoke = RevokeLeaseArgs {
                    execution_id: e.execution_id.clone(),
                    // The holder fence only: SQLite compares lease ids in its own synthetic form.
                    expected_lease_id: None,
                    worker_instance_id: e.worker_instance_id.clone(),
                    reason: "lease expired (demo stand-in for the lease-expiry scanner)".to_owned(),
                };
                if let Err(err) = c.backend.revoke_lease(revoke).await {
                    tracing::warn!(execution = %e.execution_id, error = %err, "demo: revoke expired lease");
                }
            }
            Err(err) => tracing::warn!(execution = %e.execution_id, error = %err, "demo: mark lease expired"),
        }
    }
    Ok(listed)
}

/// Valkey's expired leases, read as ff-backend-valkey's
/// `list_expired_leases` does (`ZRANGEBYSCORE ff:idx:{fp:N}:lease_expiry
/// -inf now` per partition, then the holder fields of the exec core): its
/// own call fails in 0.15 on the RESP3 connection it opens, decoding the
/// `[member, score]` pairs as strings ("Response type not string
/// compatible").
async fn valkey_expired_leases(c: &Connected, client: &ferriskey::Client, limit: u32) -> Result<Vec<ExpiredLeaseInfo>, EngineError> {
    use ferriskey::Value;
    use ff_core::keys::{ExecKeyContext, IndexKeys};
    use ff_core::partition::{Partition, PartitionFamily};
    use ff_core::types::{AttemptIndex, LeaseEpoch, LeaseId, WorkerInstanceId};
    let text = |v: &Value| match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Double(d) => Some(d.to_string()),
        _ => None,
    };
    let now = TimestampMs::now().0.to_string();
    let mut p = client.pipeline();
    let slots: Vec<_> = (0..c.partitions.num_flow_partitions)
        .map(|index| {
            let key = IndexKeys::new(&Partition { family: PartitionFamily::Flow, index }).lease_expiry();
            p.cmd::<Value>("ZRANGEBYSCORE").arg(key).arg("-inf").arg(now.as_str()).arg("WITHSCORES").arg("LIMIT").arg(0).arg(limit).finish()
        })
        .collect();
    p.execute().await.map_err(valkey_error)?;
    let mut due: Vec<(ExecutionId, i64)> = Vec::new();
    for slot in slots {
        let Ok(Value::Array(items)) = slot.value() else { continue };
        let items: Vec<Value> = items.into_iter().flatten().collect();
        // RESP3: [[member, score], …]; RESP2: [member, score, …].
        let pairs: Vec<(Value, Value)> = if items.iter().all(|i| matches!(i, Value::Array(a) if a.len() == 2)) {
            items
                .into_iter()
                .filter_map(|i| match i {
                    Value::Array(mut a) => Some((a.remove(0).ok()?, a.remove(0).ok()?)),
                    _ => None,
                })
                .collect()
        } else {
            items.chunks(2).filter(|c| c.len() == 2).map(|c| (c[0].clone(), c[1].clone())).collect()
        };
        for (m, score) in pairs {
            let (Some(m), Some(score)) = (text(&m), text(&score).and_then(|s| s.parse::<f64>().ok())) else { continue };
            if let Ok(id) = ExecutionId::parse(&m) {
                due.push((id, score as i64));
            }
        }
    }
    due.sort_by_key(|(_, at)| *at);
    due.truncate(limit as usize);
    if due.is_empty() {
        // ferriskey refuses an empty pipeline.
        return Ok(Vec::new());
    }
    let mut p = client.pipeline();
    let slots: Vec<_> = due
        .iter()
        .map(|(id, _)| {
            let core = ExecKeyContext::new(&execution_partition(id, &c.partitions), id).core();
            p.cmd::<Vec<Option<String>>>("HMGET")
                .arg(core)
                .arg("current_lease_id")
                .arg("current_lease_epoch")
                .arg("current_attempt_index")
                .arg("current_worker_instance_id")
                .finish()
        })
        .collect();
    p.execute().await.map_err(valkey_error)?;
    Ok(due
        .into_iter()
        .zip(slots)
        .filter_map(|((id, at), slot)| {
            let f = slot.value().ok()?;
            let lease = LeaseId::parse(f.first()?.as_deref()?).ok()?;
            let epoch = f.get(1)?.as_deref()?.parse().ok()?;
            let attempt = f.get(2)?.as_deref()?.parse().ok()?;
            let holder = WorkerInstanceId::new(f.get(3)?.clone()?);
            Some(ExpiredLeaseInfo::new(id, lease, LeaseEpoch(epoch), holder, TimestampMs::from_millis(at), AttemptIndex(attempt)))
        })
        .collect())
}

/// Stand-in for Valkey's delayed promoter: a retryable failure parks the
/// execution in the lane's delayed set until its backoff passes, and only
/// the engine's scanner (`promote_delayed`) moves it back to eligible.
/// Postgres and SQLite re-enqueue retries as runnable right away.
pub(super) async fn promote_due_retries(c: &Connected, retries: &mut Vec<DelayedRetry>) -> Result<(), EngineError> {
    if !Quirks::of(c.kind).retries_wait_for_scanner {
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
