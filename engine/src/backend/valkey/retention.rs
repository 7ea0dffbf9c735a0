//! Terminal executions past a retention cutoff on Valkey, counted before a
//! trim (`crate::maintenance`): `ZCOUNT` of each partition's
//! `ff:idx:{p:N}:lane:<lane>:terminal` (scored by completion time, the
//! set `trim_retention` reads), all partitions in one pipeline.
use ferriskey::Client;
use ff_core::keys::IndexKeys;
use ff_core::partition::{Partition, PartitionConfig, PartitionFamily};
use ff_core::types::LaneId;

use crate::store_error::{Store, StoreError};

pub async fn terminal_before(client: &Client, partitions: &PartitionConfig, lane: &str, cutoff: i64) -> Result<Vec<(u16, u64)>, StoreError> {
    let lane = LaneId::new(lane);
    let mut pipe = client.pipeline();
    let slots: Vec<_> = (0..partitions.num_flow_partitions)
        .map(|index| {
            let key = IndexKeys::new(&Partition { family: PartitionFamily::Flow, index }).lane_terminal(&lane);
            (index, pipe.cmd::<u64>("ZCOUNT").arg(key).arg("-inf").arg(cutoff.to_string()).finish())
        })
        .collect();
    pipe.execute().await.map_err(StoreError::at(Store::Reads, "count terminal executions"))?;
    slots
        .into_iter()
        .map(|(index, slot)| Ok((index, slot.value().map_err(StoreError::at(Store::Reads, "count terminal executions"))?)))
        .collect()
}
