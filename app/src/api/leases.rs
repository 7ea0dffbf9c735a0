//! Leases (active leases with holder and expiry, expired leases) and
//! lanes (`list_lanes`). Workers are on /workers (`api::workers`).
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
pub struct LeasesView {
    /// Server time the page was read at (ms), for countdowns.
    pub now: i64,
    pub active: Vec<LeaseRow>,
    pub expired: Field<Vec<LeaseRow>>,
}

/// Active leases shown: the soonest to expire (a page).
pub const ACTIVE: usize = 50;

#[server(prefix = "/api", endpoint = "get_leases", output = crate::api::codec::PostcardAnswer)]
pub async fn get_leases() -> Result<LeasesView, AppError> {
    use crate::api::read::field;
    use ff_core::contracts::ListExpiredLeasesArgs;
    super::read::read(|c| async move {
        let b = &c.backend;
        let now = b.server_time_ms().await.map(|t| t as i64).unwrap_or_else(|_| wall_ms());
        let active = c.reads.leases(ACTIVE).await?.into_iter().map(active_row).collect();
        let mut expired = ListExpiredLeasesArgs::new(ff_core::types::TimestampMs(now));
        expired.limit = Some(100);
        let expired = field(b.list_expired_leases(expired).await, |r| r.entries.into_iter().map(expired_row).collect());
        Ok(LeasesView { now, active, expired })
    })
    .await
}

#[cfg(feature = "ssr")]
fn active_row(l: ff_board_engine::backend::LeaseLine) -> LeaseRow {
    LeaseRow {
        execution_id: l.exec.id.to_string(),
        flow_id: l.exec.flow_id,
        lane: l.exec.lane,
        holder: l.holder,
        epoch: l.epoch,
        attempt_index: l.attempt_index,
        expires_at: l.expires_at,
        last_heartbeat_at: None,
    }
}

#[cfg(feature = "ssr")]
fn expired_row(e: ff_core::contracts::ExpiredLeaseInfo) -> LeaseRow {
    LeaseRow {
        execution_id: e.execution_id.to_string(),
        flow_id: None,
        lane: String::new(),
        holder: e.worker_instance_id.to_string(),
        epoch: e.lease_epoch.0,
        attempt_index: e.attempt_index.0,
        expires_at: e.expires_at_ms.0,
        last_heartbeat_at: None,
    }
}

/// A lane, and whether the engine's registry names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LaneRow {
    pub name: String,
    /// Named by the engine's lane registry; otherwise the board found it
    /// on executions (Valkey: `ff_board_engine::backend::valkey::lanes`).
    pub registered: bool,
}

/// /lanes: every lane, and how far the board's lane discovery is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LanesView {
    pub lanes: Vec<LaneRow>,
    /// `(per cent of the current pass, passes done)` of the walk that
    /// finds lanes outside the registry; `None` where none is needed.
    pub discovery: Option<(u8, u64)>,
}

#[server(prefix = "/api", endpoint = "list_lanes", output = crate::api::codec::PostcardAnswer)]
pub async fn list_lanes() -> Result<LanesView, AppError> {
    use crate::api::read::Call;
    super::read::read(|c| async move {
        let mut lanes = Vec::new();
        let mut cursor = None;
        loop {
            let page = c.backend.list_lanes(cursor, 500).timed("list_lanes").await?;
            lanes.extend(page.lanes.into_iter().map(|l| LaneRow { name: l.to_string(), registered: true }));
            match page.next_cursor {
                Some(n) if lanes.len() < 10_000 => cursor = Some(n),
                _ => break,
            }
        }
        let found = c.side.lanes_found(&c.partitions).await?;
        if let Some(f) = &found {
            lanes.extend(f.outside.iter().map(|l| LaneRow { name: l.clone(), registered: false }));
            lanes.sort_by(|a, b| a.name.cmp(&b.name));
            lanes.dedup_by(|a, b| a.name == b.name);
        }
        Ok(LanesView { lanes, discovery: found.map(|f| (f.percent, f.passes)) })
    })
    .await
}

#[cfg(feature = "ssr")]
pub(crate) fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
