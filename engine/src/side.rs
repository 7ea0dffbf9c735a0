//! Reads the trait does not offer, served from the deployment's own store.
//!
//! FlowFabric 0.15's `EngineBackend` has no budget enumeration, no "members
//! of a flow" read and no "active leases" read. Each store keeps the index
//! the engine itself uses (`ff_budget_policy` / `budget_policies_index`,
//! `ff_exec_core.flow_id` / the flow `members` set, `ff_attempt` lease
//! expiry / the partition `lease_expiry` zset); the board reads those ids
//! here and then asks the trait for the details.
use ff_core::keys::{FlowKeyContext, IndexKeys};
use ff_core::partition::{flow_partition, Partition, PartitionFamily};
use ff_core::types::{BudgetId, ExecutionId, FlowId};
use futures::{StreamExt, TryStreamExt};

use crate::connect::{Connected, SideStore};

/// How many partitions (or rows) are read at once by board-wide scans.
pub const PARTITION_CONCURRENCY: usize = 16;
/// The same on Postgres, which also serves the engine's own workers from
/// the same connection budget (the board's pool has 8 connections).
pub const POSTGRES_CONCURRENCY: usize = 4;

/// The read concurrency for this backend.
pub fn concurrency(c: &Connected) -> usize {
    match c.kind {
        crate::connect::BackendKind::Postgres => POSTGRES_CONCURRENCY,
        _ => PARTITION_CONCURRENCY,
    }
}

/// Every budget id in the deployment.
pub async fn budget_ids(c: &Connected) -> Result<Vec<BudgetId>, String> {
    let raw: Vec<String> = match &c.side {
        SideStore::Sqlite(pool) => sqlx::query_scalar("SELECT budget_id FROM ff_budget_policy")
            .fetch_all(pool)
            .await
            .map_err(|e| format!("list budgets: {e}"))?,
        SideStore::Postgres(pool) => {
            sqlx::query_scalar("SELECT budget_id::text FROM ff_budget_policy")
                .fetch_all(pool)
                .await
                .map_err(|e| format!("list budgets: {e}"))?
        }
        SideStore::Valkey(client) => {
            let n = c.partitions.num_budget_partitions;
            futures::stream::iter(0..n)
                .map(|index| {
                    let client = client.clone();
                    async move {
                        let tag = Partition { family: PartitionFamily::Budget, index }.hash_tag();
                        client
                            .cmd("SMEMBERS")
                            .arg(ff_core::keys::budget_policies_index(&tag))
                            .execute::<Vec<String>>()
                            .await
                            .map_err(|e| format!("list budgets: {e}"))
                    }
                })
                .buffer_unordered(concurrency(c))
                .try_concat()
                .await?
        }
    };
    let mut ids: Vec<BudgetId> = raw
        .iter()
        .map(|r| BudgetId::parse(r).map_err(|e| format!("store holds a malformed budget id {r:?}: {e}")))
        .collect::<Result<_, _>>()?;
    ids.sort_by(|a, b| a.to_string().cmp(&b.to_string()));
    ids.dedup();
    Ok(ids)
}

/// The member executions of a flow.
pub async fn flow_members(c: &Connected, flow_id: &FlowId) -> Result<Vec<ExecutionId>, String> {
    let raw: Vec<String> = match &c.side {
        SideStore::Sqlite(pool) => sqlx::query_as::<_, (i64, Vec<u8>)>(
            "SELECT partition_key, execution_id FROM ff_exec_core WHERE flow_id = ? ORDER BY created_at_ms, execution_id",
        )
        .bind(flow_id.as_bytes().to_vec())
        .fetch_all(pool)
        .await
        .map_err(|e| format!("flow members: {e}"))?
        .into_iter()
        .map(|(p, b)| sqlite_id(p, &b))
        .collect(),
        SideStore::Postgres(pool) => sqlx::query_as::<_, (i16, String)>(
            "SELECT partition_key, execution_id::text FROM ff_exec_core WHERE flow_id = $1::uuid ORDER BY created_at_ms, execution_id",
        )
        .bind(flow_id.to_string())
        .fetch_all(pool)
        .await
        .map_err(|e| format!("flow members: {e}"))?
        .into_iter()
        .map(|(p, u)| format!("{{fp:{p}}}:{u}"))
        .collect(),
        SideStore::Valkey(client) => {
            let partition = flow_partition(flow_id, &c.partitions);
            let ctx = FlowKeyContext::new(&partition, flow_id);
            let mut ids: Vec<String> = client
                .cmd("SMEMBERS")
                .arg(ctx.members())
                .execute()
                .await
                .map_err(|e| format!("flow members: {e}"))?;
            ids.sort();
            ids
        }
    };
    raw.iter().map(|s| parse_execution_id(s)).collect()
}

/// Executions holding a lease right now (any expiry), across partitions.
pub async fn leased_executions(c: &Connected, limit: usize) -> Result<Vec<ExecutionId>, String> {
    let raw: Vec<String> = match &c.side {
        SideStore::Sqlite(pool) => sqlx::query_as::<_, (i64, Vec<u8>)>(
            "SELECT e.partition_key, e.execution_id FROM ff_exec_core e \
             WHERE e.lifecycle_phase = 'active' AND EXISTS (SELECT 1 FROM ff_attempt a \
             WHERE a.partition_key = e.partition_key AND a.execution_id = e.execution_id \
             AND a.lease_expires_at_ms IS NOT NULL) ORDER BY e.created_at_ms LIMIT ?",
        )
        .bind(limit as i64)
        .fetch_all(pool)
        .await
        .map_err(|e| format!("active leases: {e}"))?
        .into_iter()
        .map(|(p, b)| sqlite_id(p, &b))
        .collect(),
        SideStore::Postgres(pool) => sqlx::query_as::<_, (i16, String)>(
            "SELECT e.partition_key, e.execution_id::text FROM ff_exec_core e \
             WHERE e.lifecycle_phase = 'active' AND EXISTS (SELECT 1 FROM ff_attempt a \
             WHERE a.partition_key = e.partition_key AND a.execution_id = e.execution_id \
             AND a.lease_expires_at_ms IS NOT NULL) ORDER BY e.created_at_ms LIMIT $1",
        )
        .bind(limit as i64)
        .fetch_all(pool)
        .await
        .map_err(|e| format!("active leases: {e}"))?
        .into_iter()
        .map(|(p, u)| format!("{{fp:{p}}}:{u}"))
        .collect(),
        SideStore::Valkey(client) => {
            let n = c.partitions.num_flow_partitions;
            let mut all: Vec<(String, f64)> = futures::stream::iter(0..n)
                .map(|index| {
                    let client = client.clone();
                    async move {
                        let p = Partition { family: PartitionFamily::Flow, index };
                        client
                            .cmd("ZRANGE")
                            .arg(IndexKeys::new(&p).lease_expiry())
                            .arg("0")
                            .arg(limit.saturating_sub(1).to_string())
                            .arg("WITHSCORES")
                            .execute::<Vec<(String, f64)>>()
                            .await
                            .map_err(|e| format!("active leases: {e}"))
                    }
                })
                .buffer_unordered(concurrency(c))
                .try_concat()
                .await?;
            all.sort_by(|a, b| a.1.total_cmp(&b.1));
            all.into_iter().take(limit).map(|(id, _)| id).collect()
        }
    };
    raw.iter().map(|s| parse_execution_id(s)).collect()
}

/// SQLite keeps the uuid as 16 bytes beside its partition key.
fn sqlite_id(partition: i64, bytes: &[u8]) -> String {
    match uuid::Uuid::from_slice(bytes) {
        Ok(u) => format!("{{fp:{partition}}}:{u}"),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Parse an id read from the store, with a message naming it when corrupt.
fn parse_execution_id(raw: &str) -> Result<ExecutionId, String> {
    ExecutionId::parse(raw).map_err(|e| format!("store holds an execution id the engine cannot parse: {raw:?}: {e}"))
}
