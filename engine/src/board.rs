//! Board-wide listings merged over every partition.
//!
//! The trait's list methods read one `PartitionKey` each. A board page is a
//! merge over all of them (256 by default): partitions are read
//! concurrently, at most [`crate::side::concurrency`] at a time, and merged in
//! the order the trait defines (flow id / execution id, byte-lexicographic),
//! which is what makes the opaque cursor stable: the next page starts after
//! the last id of this one in every partition.
use std::future::Future;

use ff_core::contracts::{ExecutionSnapshot, FlowSnapshot, FlowStatus, SuspendedExecutionEntry};
use ff_core::engine_error::EngineError;
use ff_core::partition::{Partition, PartitionFamily, PartitionKey};
use ff_core::types::{ExecutionId, FlowId};
use futures::{StreamExt, TryStreamExt};

use crate::connect::Connected;
use crate::side::concurrency;

/// Every flow partition key of this deployment.
pub fn partition_keys(c: &Connected) -> Vec<PartitionKey> {
    (0..c.partitions.num_flow_partitions)
        .map(|index| PartitionKey::from(Partition { family: PartitionFamily::Flow, index }))
        .collect()
}

/// Run `f` on every partition, bounded, and concatenate the results.
pub async fn each_partition<T, F, Fut>(c: &Connected, f: F) -> Result<Vec<T>, EngineError>
where
    F: Fn(PartitionKey) -> Fut,
    Fut: Future<Output = Result<Vec<T>, EngineError>>,
{
    futures::stream::iter(partition_keys(c))
        .map(f)
        .buffer_unordered(concurrency(c))
        .try_concat()
        .await
}

/// Filter of the flows list.
#[derive(Clone, Debug, Default)]
pub struct FlowFilter {
    /// `active`, `completed`, `failed`, `cancelled` (the `FlowStatus` names).
    pub state: Option<String>,
    pub namespace: Option<String>,
}

/// One page of flows, described.
#[derive(Clone, Debug)]
pub struct FlowsPage {
    pub flows: Vec<FlowSnapshot>,
    pub next_cursor: Option<FlowId>,
    pub scanned: usize,
}

/// The lower-case name of a flow status, as filters and badges use it.
pub fn flow_status_name(s: &FlowStatus) -> String {
    match s {
        FlowStatus::Active => "active".into(),
        FlowStatus::Completed => "completed".into(),
        FlowStatus::Failed => "failed".into(),
        FlowStatus::Cancelled => "cancelled".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// A page of flows over every partition, after `cursor`, filtered.
///
/// Filtering on namespace needs `describe_flow`; the scan keeps reading
/// merged pages until `limit` rows match or `max_scan` flows were looked at,
/// and returns a cursor to continue from.
pub async fn flows_page(
    c: &Connected,
    filter: &FlowFilter,
    mut cursor: Option<FlowId>,
    limit: usize,
    max_scan: usize,
) -> Result<FlowsPage, EngineError> {
    let mut out = Vec::new();
    let mut scanned = 0;
    loop {
        let backend = c.backend.clone();
        let after = cursor.clone();
        let mut merged = each_partition(c, |p| {
            let backend = backend.clone();
            let after = after.clone();
            async move { Ok(backend.list_flows(p, after, limit + 1).await?.flows) }
        })
        .await?;
        merged.sort_by(|a, b| a.flow_id.to_string().cmp(&b.flow_id.to_string()));
        let more = merged.len() > limit;
        merged.truncate(limit);
        let last = merged.last().map(|f| f.flow_id.clone());
        let wanted: Vec<_> = merged
            .into_iter()
            .filter(|f| filter.state.as_deref().is_none_or(|s| flow_status_name(&f.status) == s))
            .collect();
        scanned += limit;
        let described = futures::stream::iter(wanted)
            .map(|f| {
                let backend = c.backend.clone();
                async move { backend.describe_flow(&f.flow_id).await }
            })
            .buffered(concurrency(c))
            .try_collect::<Vec<_>>()
            .await?;
        for snap in described.into_iter().flatten() {
            if filter.namespace.as_deref().is_none_or(|ns| snap.namespace.as_str() == ns) && out.len() < limit {
                out.push(snap);
            }
        }
        cursor = if more { last } else { None };
        if out.len() >= limit || cursor.is_none() || scanned >= max_scan {
            return Ok(FlowsPage { flows: out, next_cursor: cursor, scanned });
        }
    }
}

/// A page of execution ids over every partition, after `cursor`.
///
/// Backends order a partition's executions by id within that partition, so
/// the board-wide order is by the uuid part, and each partition is asked
/// for the ids after the cursor's uuid re-tagged with its own partition.
pub async fn executions_page(
    c: &Connected,
    cursor: Option<ExecutionId>,
    limit: usize,
) -> Result<(Vec<ExecutionId>, Option<ExecutionId>), EngineError> {
    let backend = c.backend.clone();
    let after_uuid = cursor.as_ref().map(|id| uuid_part(id).to_owned());
    let mut merged = each_partition(c, |p| {
        let backend = backend.clone();
        let after = after_uuid.as_ref().and_then(|u| {
            let index = p.parse().ok()?.index;
            ExecutionId::parse(&format!("{{fp:{index}}}:{u}")).ok()
        });
        async move { Ok(backend.list_executions(p, after, limit + 1).await?.executions) }
    })
    .await?;
    merged.sort_by(|a, b| (uuid_part(a), a.partition()).cmp(&(uuid_part(b), b.partition())));
    let more = merged.len() > limit;
    merged.truncate(limit);
    let next = if more { merged.last().cloned() } else { None };
    Ok((merged, next))
}

/// The uuid of `{fp:N}:<uuid>`.
fn uuid_part(id: &ExecutionId) -> &str {
    id.as_str().rsplit_once("}:").map(|(_, u)| u).unwrap_or(id.as_str())
}

/// Every suspended execution (up to `per_partition` per partition), oldest first.
pub async fn suspended_all(
    c: &Connected,
    per_partition: usize,
) -> Result<Vec<SuspendedExecutionEntry>, EngineError> {
    let backend = c.backend.clone();
    let mut all = each_partition(c, |p| {
        let backend = backend.clone();
        async move { Ok(backend.list_suspended(p, None, per_partition).await?.entries) }
    })
    .await?;
    all.sort_by(|a, b| {
        (a.suspended_at_ms, a.execution_id.as_str()).cmp(&(b.suspended_at_ms, b.execution_id.as_str()))
    });
    Ok(all)
}

/// Describe many executions concurrently (missing ones are skipped).
pub async fn describe_many(
    c: &Connected,
    ids: Vec<ExecutionId>,
) -> Result<Vec<ExecutionSnapshot>, EngineError> {
    let snaps = futures::stream::iter(ids)
        .map(|id| {
            let backend = c.backend.clone();
            async move { backend.describe_execution(&id).await }
        })
        .buffered(concurrency(c))
        .try_collect::<Vec<_>>()
        .await?;
    Ok(snaps.into_iter().flatten().collect())
}

/// A page of described executions after `cursor`, keeping those whose
/// public state is `state` (all when `None`); reads merged pages until
/// `limit` match or `max_scan` ids were looked at.
pub async fn executions_filtered(
    c: &Connected,
    state: Option<&str>,
    mut cursor: Option<ExecutionId>,
    limit: usize,
    max_scan: usize,
) -> Result<(Vec<ExecutionSnapshot>, Option<ExecutionId>), EngineError> {
    let mut out = Vec::new();
    let mut scanned = 0;
    loop {
        let (ids, next) = executions_page(c, cursor.clone(), limit).await?;
        scanned += ids.len();
        for s in describe_many(c, ids).await? {
            if state.is_none_or(|st| s.public_state.as_str() == st) && out.len() < limit {
                cursor = Some(s.execution_id.clone());
                out.push(s);
            }
        }
        if out.len() >= limit {
            return Ok((out, cursor));
        }
        match next {
            Some(n) if scanned < max_scan => cursor = Some(n),
            // Out of ids, or scanned enough: continue from where the scan stopped.
            Some(n) => return Ok((out, Some(n))),
            None => return Ok((out, None)),
        }
    }
}
