//! "Stuck now" on Valkey: how many executions each blocked family holds,
//! counted from the engine's own per-lane sets (`ZCARD` of
//! `ff:idx:{p:N}:lane:<lane>:blocked:budget` / `:blocked:quota` /
//! `:blocked:dependencies` / `:blocked:route` / `:blocked:operator` and
//! `:delayed`) for every partition and known lane in one pipeline: a cost
//! fixed by partitions × lanes × families, never by how many executions
//! the sets hold (a capped `blocked:` query per family scans rows instead,
//! up to its scan bound each). Families without a set of their own (a
//! lane's pause shares the operator set) are not counted here.
use ferriskey::Client;
use ff_board_domain::BlockedFamily;
use ff_core::keys::IndexKeys;
use ff_core::partition::{Partition, PartitionConfig, PartitionFamily};
use ff_core::types::LaneId;

use crate::backend::ReadError;

/// The engine's set of `family`, if it has one of its own.
fn set(idx: &IndexKeys, lane: &LaneId, family: BlockedFamily) -> Option<String> {
    Some(match family {
        BlockedFamily::Budget => idx.lane_blocked_budget(lane),
        BlockedFamily::Quota => idx.lane_blocked_quota(lane),
        BlockedFamily::Children => idx.lane_blocked_dependencies(lane),
        BlockedFamily::Worker => idx.lane_blocked_route(lane),
        BlockedFamily::Delay => idx.lane_delayed(lane),
        BlockedFamily::Operator => idx.lane_blocked_operator(lane),
        BlockedFamily::Signal | BlockedFamily::Approval | BlockedFamily::Lane => return None,
    })
}

pub async fn counts(client: &Client, partitions: &PartitionConfig, lanes: &[String], families: &[BlockedFamily]) -> Result<Vec<(BlockedFamily, u64)>, ReadError> {
    let counted: Vec<BlockedFamily> =
        families.iter().copied().filter(|f| !matches!(f, BlockedFamily::Signal | BlockedFamily::Approval | BlockedFamily::Lane)).collect();
    let mut pipe = client.pipeline();
    let mut slots = Vec::new();
    for index in 0..partitions.num_flow_partitions {
        let idx = IndexKeys::new(&Partition { family: PartitionFamily::Flow, index });
        for lane in lanes {
            let lane = LaneId::new(lane);
            for (i, f) in counted.iter().enumerate() {
                if let Some(key) = set(&idx, &lane, *f) {
                    slots.push((i, pipe.cmd::<u64>("ZCARD").arg(key).finish()));
                }
            }
        }
    }
    if slots.is_empty() {
        return Ok(counted.into_iter().map(|f| (f, 0)).collect());
    }
    pipe.execute().await.map_err(|e| ReadError::store("stuck counts", e))?;
    let mut totals = vec![0u64; counted.len()];
    for (i, slot) in slots {
        totals[i] += slot.value().map_err(|e| ReadError::store("stuck counts", e))?;
    }
    Ok(counted.into_iter().zip(totals).collect())
}
