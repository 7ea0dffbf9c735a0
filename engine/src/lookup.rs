//! What a bare id an operator pasted names (the board's jump box): a
//! flow, an execution, or a pending waitpoint (then: its execution).
//! Bounded work: one engine read per candidate kind; a waitpoint is found
//! with one SQL row on Postgres / SQLite and one pipeline of `HGET`s over
//! the partitions on Valkey (its key names the partition, the id does not).
use ff_core::engine_error::EngineError;
use ff_core::partition::{Partition, PartitionFamily};
use ff_core::types::{ExecutionId, FlowId, WaitpointId};

use crate::backend::sql::{exec_id, waitpoint_owner, Dialect};
use crate::connect::{Connected, SideStore};

/// Longest id the lookup takes (an execution id is 45 characters).
pub const MAX_ID: usize = 64;

/// What an id names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Flow(FlowId),
    Execution(ExecutionId),
    /// A pending waitpoint, and the execution it belongs to.
    Waitpoint(ExecutionId),
}

fn side(e: impl std::error::Error + Send + Sync + 'static) -> EngineError {
    EngineError::Transport { backend: "ff-board lookup", source: Box::new(e) }
}

/// Resolve `raw`; `None` when nothing in the store has that id.
pub async fn resolve(c: &Connected, raw: &str) -> Result<Option<Found>, EngineError> {
    let raw = raw.trim();
    if let Ok(id) = ExecutionId::parse(raw) {
        return Ok(c.backend.describe_execution(&id).await?.map(|_| Found::Execution(id)));
    }
    let Ok(uuid) = uuid::Uuid::parse_str(raw) else { return Ok(None) };
    let flow = FlowId::from_uuid(uuid);
    if c.backend.describe_flow(&flow).await?.is_some() {
        return Ok(Some(Found::Flow(flow)));
    }
    Ok(waitpoint_execution(c, &WaitpointId::from_uuid(uuid)).await?.map(Found::Waitpoint))
}

async fn waitpoint_execution(c: &Connected, wp: &WaitpointId) -> Result<Option<ExecutionId>, EngineError> {
    let text = wp.to_string();
    let row: Option<(i64, String)> = match &c.side {
        SideStore::Sqlite(pool) => {
            sqlx::query_as(&waitpoint_owner(Dialect::Sqlite)).bind(&text).fetch_optional(pool).await.map_err(side)?
        }
        SideStore::Postgres(pool) => {
            sqlx::query_as(&waitpoint_owner(Dialect::Postgres)).bind(&text).fetch_optional(pool).await.map_err(side)?
        }
        SideStore::Valkey(client) => {
            let mut p = client.pipeline();
            let slots: Vec<_> = (0..c.partitions.num_flow_partitions)
                .map(|index| {
                    let partition = Partition { family: PartitionFamily::Flow, index };
                    // The key builder needs an execution only for the tag.
                    let key = format!("ff:wp:{}:{text}", partition.hash_tag());
                    p.cmd::<Option<String>>("HGET").arg(key).arg("execution_id").finish()
                })
                .collect();
            p.execute().await.map_err(side)?;
            let found = slots.into_iter().find_map(|s| s.value().ok().flatten());
            return Ok(found.and_then(|e| ExecutionId::parse(&e).ok()));
        }
    };
    Ok(row.and_then(|(part, eid)| exec_id(part, &eid)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn waitpoint_key_matches_the_engine() {
        use super::*;
        use ff_core::keys::ExecKeyContext;
        let id = ExecutionId::parse("{fp:7}:0f8fad5b-d9cb-469f-a165-70867728950e").unwrap();
        let wp = WaitpointId::new();
        let engine = ExecKeyContext::new(&Partition { family: PartitionFamily::Flow, index: 7 }, &id).waitpoint(&wp);
        assert_eq!(engine, format!("ff:wp:{{fp:7}}:{wp}"));
    }
}
