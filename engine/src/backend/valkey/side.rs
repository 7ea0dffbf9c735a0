//! Valkey bodies of [`crate::backend::side::SideStore`]: session
//! generations (one hash) and a waitpoint's owner (one pipeline of `HGET`s
//! over the flow partitions: its key names the partition, the id does not).
use std::collections::HashMap;

use ferriskey::Client;
use ff_core::engine_error::EngineError;
use ff_core::partition::{Partition, PartitionConfig, PartitionFamily};
use ff_core::types::{ExecutionId, WaitpointId};

use crate::backend::side::lookup_error;
use crate::store_error::{Store, StoreError};

/// Session generations (`crate::sessions`): user → generation.
const SESSION_HASH: &str = "ff_board:{sessions}";

pub(crate) async fn session_generations(client: &Client) -> Result<Vec<(String, i64)>, StoreError> {
    let map: HashMap<String, i64> =
        client.cmd("HGETALL").arg(SESSION_HASH).execute().await.map_err(StoreError::at(Store::Sessions, "read"))?;
    Ok(map.into_iter().collect())
}

pub(crate) async fn bump_session_generation(client: &Client, user: &str) -> Result<i64, StoreError> {
    client
        .cmd("HINCRBY")
        .arg(SESSION_HASH)
        .arg(user)
        .arg("1")
        .execute()
        .await
        .map_err(|e| StoreError::new(Store::Sessions, "revoke", format!("{user:?}: {e}")))
}

/// The waitpoint hash's key on `partition` (the engine's
/// `ExecKeyContext::waitpoint`, which needs an execution only for the tag).
pub(crate) fn waitpoint_key(partition: &Partition, wp: &WaitpointId) -> String {
    format!("ff:wp:{}:{wp}", partition.hash_tag())
}

pub(crate) async fn waitpoint_execution(
    client: &Client,
    wp: &WaitpointId,
    partitions: &PartitionConfig,
) -> Result<Option<ExecutionId>, EngineError> {
    let mut p = client.pipeline();
    let slots: Vec<_> = (0..partitions.num_flow_partitions)
        .map(|index| {
            let key = waitpoint_key(&Partition { family: PartitionFamily::Flow, index }, wp);
            p.cmd::<Option<String>>("HGET").arg(key).arg("execution_id").finish()
        })
        .collect();
    p.execute().await.map_err(lookup_error)?;
    let found = slots.into_iter().find_map(|s| s.value().ok().flatten());
    Ok(found.and_then(|e| ExecutionId::parse(&e).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff_core::keys::ExecKeyContext;

    #[test]
    fn waitpoint_key_matches_the_engine() {
        let id = ExecutionId::parse("{fp:7}:0f8fad5b-d9cb-469f-a165-70867728950e").unwrap();
        let wp = WaitpointId::new();
        let partition = Partition { family: PartitionFamily::Flow, index: 7 };
        let engine = ExecKeyContext::new(&partition, &id).waitpoint(&wp);
        assert_eq!(engine, waitpoint_key(&partition, &wp));
    }
}
