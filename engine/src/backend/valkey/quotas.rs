//! Quota policies on Valkey, for the quotas page: the ids from each quota
//! partition's index (`ff:idx:{q:M}:quota_policies`, one pipeline over the
//! configured quota partitions, as budgets are listed), then one pipeline
//! for at most [`MAX_QUOTAS`] policies: the definition's limits (`HMGET`),
//! the concurrency counter (`GET`) and the admissions in the current
//! window (`ZCOUNT` of `…:window:default`, scored by admission time in
//! ms: the scheduler admits on dimension `default`, while 0.15's quota
//! reconciler trims `…:window:requests_per_window`, a key nothing writes).
//! At most three round trips whatever the store holds.
use ferriskey::Client;
use ff_core::keys::{quota_policies_index, QuotaKeyContext};
use ff_core::partition::{quota_partition, Partition, PartitionConfig, PartitionFamily};
use ff_core::types::QuotaPolicyId;

use crate::backend::{QuotaLine, ReadError, MAX_QUOTAS};

/// The dimension ff-scheduler admits on (`check_admission(.., "default", ..)`).
const ADMISSION_DIMENSION: &str = "default";

fn store(op: &'static str) -> impl Fn(ferriskey::Error) -> ReadError {
    move |e| ReadError::store(op, e)
}

pub async fn quotas(client: &Client, partitions: &PartitionConfig, now: i64) -> Result<Vec<QuotaLine>, ReadError> {
    let mut p = client.pipeline();
    let slots: Vec<_> = (0..partitions.num_quota_partitions)
        .map(|index| {
            let tag = Partition { family: PartitionFamily::Quota, index }.hash_tag();
            p.cmd::<Vec<String>>("SMEMBERS").arg(quota_policies_index(&tag)).finish()
        })
        .collect();
    p.execute().await.map_err(store("list quota policies"))?;
    let mut ids = Vec::new();
    for slot in slots {
        ids.extend(slot.value().map_err(store("list quota policies"))?);
    }
    ids.sort();
    ids.dedup();
    let ids: Vec<QuotaPolicyId> = ids.iter().filter_map(|i| QuotaPolicyId::parse(i).ok()).take(MAX_QUOTAS).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = client.pipeline();
    let reads: Vec<_> = ids
        .iter()
        .map(|id| {
            let ctx = QuotaKeyContext::new(&quota_partition(id, partitions), id);
            let def = p
                .cmd::<Vec<Option<String>>>("HMGET")
                .arg(ctx.definition())
                .arg("max_requests_per_window")
                .arg("requests_per_window_seconds")
                .arg("active_concurrency_cap")
                .finish();
            let active = p.cmd::<Option<String>>("GET").arg(ctx.concurrency()).finish();
            (def, active, ctx)
        })
        .collect();
    p.execute().await.map_err(store("quota policies"))?;
    let mut out = Vec::new();
    let mut windows = Vec::new();
    for (id, (def, active, ctx)) in ids.iter().zip(reads) {
        let def = def.value().map_err(store("quota policies"))?;
        let num = |i: usize| def.get(i).cloned().flatten().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let active = active.value().map_err(store("quota policies"))?.and_then(|v| v.parse().ok()).unwrap_or(0);
        let line = QuotaLine { id: id.to_string(), max_per_window: num(0), window_seconds: num(1), concurrency_cap: num(2), active, in_window: 0 };
        windows.push((ctx.window(ADMISSION_DIMENSION), line.window_seconds));
        out.push(line);
    }
    // The admissions within each policy's window (a third round trip only
    // when some policy has a rate limit).
    if windows.iter().any(|(_, w)| *w > 0) {
        let mut p = client.pipeline();
        let counts: Vec<_> = windows
            .iter()
            .map(|(key, w)| (*w > 0).then(|| p.cmd::<u64>("ZCOUNT").arg(key.as_str()).arg((now - *w as i64 * 1000).to_string()).arg("+inf").finish()))
            .collect();
        p.execute().await.map_err(store("quota windows"))?;
        for (line, count) in out.iter_mut().zip(counts) {
            if let Some(c) = count {
                line.in_window = c.value().map_err(store("quota windows"))?;
            }
        }
    }
    Ok(out)
}
