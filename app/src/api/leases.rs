//! Leases and workers (active leases with holder and expiry, expired
//! leases, `list_workers`) and lanes (`list_lanes`).
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::executions::Field;
use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeaseRow {
    pub execution_id: String,
    pub flow_id: Option<String>,
    pub lane: String,
    pub holder: String,
    pub epoch: u64,
    pub attempt_index: u32,
    pub expires_at: i64,
    pub last_heartbeat_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerRow {
    pub worker_id: String,
    pub instance: String,
    pub namespace: String,
    pub lanes: Vec<String>,
    pub last_heartbeat_at: i64,
    pub ttl_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeasesView {
    /// Server time the page was read at (ms), for countdowns.
    pub now: i64,
    pub active: Vec<LeaseRow>,
    pub expired: Field<Vec<LeaseRow>>,
    pub workers: Field<Vec<WorkerRow>>,
}

/// Active leases shown: the soonest to expire (a page).
pub const ACTIVE: usize = 50;

#[server(prefix = "/api", endpoint = "get_leases", output = crate::api::codec::PostcardAnswer)]
pub async fn get_leases() -> Result<LeasesView, AppError> {
    use ff_core::contracts::{ListExpiredLeasesArgs, ListWorkersArgs};
    use ff_core::engine_error::EngineError;
    let c = crate::state::conn()?;
    let b = &c.backend;
    let now = b.server_time_ms().await.map(|t| t as i64).unwrap_or_else(|_| wall_ms());
    let active = c
        .reads
        .leases(ACTIVE)
        .await?
        .into_iter()
        .map(|l| LeaseRow {
            execution_id: l.exec.id.to_string(),
            flow_id: l.exec.flow_id,
            lane: l.exec.lane,
            holder: l.holder,
            epoch: l.epoch,
            attempt_index: l.attempt_index,
            expires_at: l.expires_at,
            last_heartbeat_at: None,
        })
        .collect();
    let expired = match b
        .list_expired_leases({
            let mut args = ListExpiredLeasesArgs::new(ff_core::types::TimestampMs(now));
            args.limit = Some(100);
            args
        })
        .await
    {
        Ok(r) => Field::Value(
            r.entries
                .into_iter()
                .map(|e| LeaseRow {
                    execution_id: e.execution_id.to_string(),
                    flow_id: None,
                    lane: String::new(),
                    holder: e.worker_instance_id.to_string(),
                    epoch: e.lease_epoch.0,
                    attempt_index: e.attempt_index.0,
                    expires_at: e.expires_at_ms.0,
                    last_heartbeat_at: None,
                })
                .collect(),
        ),
        Err(EngineError::Unavailable { op }) => Field::Unsupported(op.to_owned()),
        Err(e) => Field::Failed(e.to_string()),
    };
    let workers = match b.list_workers({
        let mut args = ListWorkersArgs::new();
        args.limit = Some(200);
        args
    }).await {
        Ok(r) => Field::Value(
            r.entries
                .into_iter()
                .map(|w| WorkerRow {
                    worker_id: w.worker_id.to_string(),
                    instance: w.worker_instance_id.to_string(),
                    namespace: w.namespace.to_string(),
                    lanes: w.lanes.iter().map(|l| l.to_string()).collect(),
                    last_heartbeat_at: w.last_heartbeat_ms.0,
                    ttl_ms: w.liveness_ttl_ms,
                })
                .collect(),
        ),
        Err(EngineError::Unavailable { op }) => Field::Unsupported(op.to_owned()),
        Err(e) => Field::Failed(e.to_string()),
    };
    Ok(LeasesView { now, active, expired, workers })
}

#[server(prefix = "/api", endpoint = "list_lanes", output = crate::api::codec::PostcardAnswer)]
pub async fn list_lanes() -> Result<Vec<String>, AppError> {
    let c = crate::state::conn()?;
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = crate::state::timed("list_lanes", c.backend.list_lanes(cursor, 500)).await?;
        out.extend(page.lanes.into_iter().map(|l| l.to_string()));
        match page.next_cursor {
            Some(n) if out.len() < 10_000 => cursor = Some(n),
            _ => return Ok(out),
        }
    }
}

#[cfg(feature = "ssr")]
fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
