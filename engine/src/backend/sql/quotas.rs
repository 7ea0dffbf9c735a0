//! Quota policies on the SQL stores, for the quotas page: one query over
//! `ff_quota_policy` (limits and the engine's `active_concurrency`
//! counter), each policy's admissions within its window counted on
//! `ff_quota_window`'s primary key (partition, policy, dimension, time),
//! at most [`MAX_QUOTAS`] policies by id.
use super::Dialect;
use crate::backend::{QuotaLine, MAX_QUOTAS};

/// The query (`now` is the board's clock, an integer it formats itself).
pub fn query(d: Dialect, now: i64) -> String {
    let id = match d {
        Dialect::Postgres => "p.quota_policy_id::text",
        Dialect::Sqlite => "p.quota_policy_id",
    };
    format!(
        "SELECT {id} AS id, CAST(p.max_requests_per_window AS BIGINT) AS max_per_window, \
                CAST(p.requests_per_window_seconds AS BIGINT) AS window_seconds, \
                CAST(p.active_concurrency_cap AS BIGINT) AS concurrency_cap, CAST(p.active_concurrency AS BIGINT) AS active, \
                CAST((SELECT COUNT(*) FROM ff_quota_window w WHERE w.partition_key = p.partition_key AND w.quota_policy_id = p.quota_policy_id \
                      AND w.admitted_at_ms >= {now} - p.requests_per_window_seconds * 1000) AS BIGINT) AS in_window \
         FROM ff_quota_policy p ORDER BY p.quota_policy_id LIMIT {MAX_QUOTAS}"
    )
}

#[derive(Debug, sqlx::FromRow)]
pub struct RawQuota {
    pub id: String,
    pub max_per_window: i64,
    pub window_seconds: i64,
    pub concurrency_cap: i64,
    pub active: i64,
    pub in_window: i64,
}

impl From<RawQuota> for QuotaLine {
    fn from(r: RawQuota) -> Self {
        let n = |v: i64| v.max(0) as u64;
        QuotaLine {
            id: r.id,
            max_per_window: n(r.max_per_window),
            window_seconds: n(r.window_seconds),
            concurrency_cap: n(r.concurrency_cap),
            active: n(r.active),
            in_window: n(r.in_window),
        }
    }
}
