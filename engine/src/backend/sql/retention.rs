//! Terminal executions past a retention cutoff on the SQL stores, counted
//! before a trim (`crate::maintenance`): the rows Postgres's
//! `trim_retention` deletes (`lifecycle_phase = 'terminal'`, finished at
//! or before the cutoff), in one count.
use super::pool::Pool;
use super::{Bind, Query};
use crate::store_error::{Store, StoreError};

pub async fn terminal_before(pool: &Pool, lane: &str, cutoff: i64) -> Result<u64, StoreError> {
    let sql = pool.dialect().finish(
        "SELECT CAST(count(*) AS BIGINT) FROM ff_exec_core WHERE lane_id = $1 AND lifecycle_phase = 'terminal' \
         AND terminal_at_ms IS NOT NULL AND terminal_at_ms <= $2"
            .into(),
    );
    let n: Option<(i64,)> = pool
        .fetch_optional(Query::new(sql, vec![Bind::Text(lane.to_owned()), Bind::Int(cutoff)]))
        .await
        .map_err(StoreError::at(Store::Reads, "count terminal executions"))?;
    Ok(n.map_or(0, |(n,)| n.max(0) as u64))
}
