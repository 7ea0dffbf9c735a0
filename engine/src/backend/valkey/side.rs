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

/// Reads the window's slices (KEYS, the current one first) and adds
/// ARGV[1] to the current one only when the sum stays at most ARGV[2];
/// the slice expires after ARGV[3] ms. Returns {taken 1/0, used}.
const ALLOWANCE_LUA: &str = r#"
local used = 0
for i = 1, #KEYS do used = used + tonumber(redis.call('GET', KEYS[i]) or '0') end
local n, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
if used + n > cap then return {0, used} end
redis.call('INCRBY', KEYS[1], n)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, used + n}
"#;

/// Take `n` from allowance `name` in `slice` (`crate::allowance`): one
/// script over the window's slices, all under one hash tag.
pub(crate) async fn take_allowance(client: &Client, name: &str, n: u64, cap: u64, window_ms: i64, slice: i64) -> Result<crate::allowance::Allowance, StoreError> {
    use crate::allowance::{Allowance, SLICES};
    let mut cmd = client.cmd("EVAL").arg(ALLOWANCE_LUA).arg(SLICES.to_string());
    for s in 0..SLICES {
        cmd = cmd.arg(format!("ff_board:{{allowance}}:{name}:{}", slice - s));
    }
    let (taken, used): (i64, i64) = cmd
        .arg(n.to_string())
        .arg(cap.to_string())
        .arg((window_ms + window_ms / SLICES).to_string())
        .execute()
        .await
        .map_err(StoreError::at(Store::Allowances, "take"))?;
    let used = used.max(0) as u64;
    Ok(if taken == 1 { Allowance::Taken { used } } else { Allowance::Refused { used } })
}

/// Minute `minute`'s usage samples: one hash under one hash tag (at most
/// `crate::usage::MAX_BUDGETS` fields), expiring after an hour.
fn usage_key(minute: i64) -> String {
    format!("ff_board:{{usage}}:{minute}")
}

/// Keep a minute's usage samples (`crate::usage`): one `HSET` and one `PEXPIRE`.
pub(crate) async fn put_usage(client: &Client, minute: i64, rows: &[(String, String)]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let key = usage_key(minute);
    let mut p = client.pipeline();
    let mut hset = p.cmd::<i64>("HSET").arg(key.as_str());
    for (budget, usage) in rows {
        hset = hset.arg(budget.as_str()).arg(usage.as_str());
    }
    let _ = hset.finish();
    let _ = p.cmd::<i64>("PEXPIRE").arg(key.as_str()).arg(crate::usage::KEPT_MS.to_string()).finish();
    p.execute().await.map_err(StoreError::at(Store::Usage, "write"))?;
    Ok(())
}

/// A minute's usage samples (one `HGETALL`).
pub(crate) async fn usage_at(client: &Client, minute: i64) -> Result<Vec<(String, String)>, StoreError> {
    let all: std::collections::HashMap<String, String> =
        client.cmd("HGETALL").arg(usage_key(minute)).execute().await.map_err(StoreError::at(Store::Usage, "read"))?;
    Ok(all.into_iter().collect())
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
