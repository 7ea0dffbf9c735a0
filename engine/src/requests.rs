//! Two-person requests: a repair tool (`crate::maintenance`) is run only
//! after one operator or admin asks for it and a different admin approves
//! it in the board. A request is kept in the deployment's store beside the
//! audit log (`ff_board_requests` on Postgres and SQLite, the hash
//! `ff_board:{requests}` on Valkey), so any replica can approve what
//! another took. Each change of state is a compare-and-set on the stored
//! request: two admins approving at once run it once.
//!
//! Limits: at most [`MAX_PENDING`] requests wait at a time and the store
//! keeps the newest [`MAX_KEPT`] (finished ones beyond are dropped), so the
//! page reads a bounded list however long the board runs.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::maintenance::{Progress, Tool};
use crate::store_error::StoreError;

/// Requests waiting for a second person at a time.
pub const MAX_PENDING: usize = 20;
/// Requests kept (waiting, running and finished).
pub const MAX_KEPT: usize = 100;

/// Where a request stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestState {
    /// Waiting for a second person.
    Pending,
    /// Approved by `by`, running.
    Running { by: String, at: i64 },
    /// Ran: what it did (it may have stopped at its deadline).
    Ran { by: String, at: i64, progress: Progress },
    /// The engine refused or failed.
    Failed { by: String, at: i64, error: String },
    /// Turned down by `by` (or withdrawn by its requester).
    Refused { by: String, at: i64 },
}

impl RequestState {
    pub fn is_open(&self) -> bool {
        matches!(self, RequestState::Pending | RequestState::Running { .. })
    }

    /// Its name (SQL keeps it in a column for pruning).
    pub fn key(&self) -> &'static str {
        match self {
            RequestState::Pending => "pending",
            RequestState::Running { .. } => "running",
            RequestState::Ran { .. } => "ran",
            RequestState::Failed { .. } => "failed",
            RequestState::Refused { .. } => "refused",
        }
    }
}

/// One request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: String,
    pub tool: Tool,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: i64,
    /// What the tool would do, counted when it was asked for (`None` where
    /// 0.15 gives no way to count first).
    pub estimate: Option<Progress>,
    pub state: RequestState,
}

impl Request {
    /// The stored form.
    pub fn encode(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(StoreError::at(crate::store_error::Store::Requests, "encode"))
    }

    pub fn decode(s: &str) -> Result<Request, StoreError> {
        serde_json::from_str(s).map_err(|e| StoreError::invalid(crate::store_error::Store::Requests, "read", format!("a stored request is not readable: {e}")))
    }
}

/// How long a run may hold `Running` before a second admin may continue
/// it: its deadline and 40 s more. Longer means its replica stopped
/// (killed, restarted) in the middle of the run.
pub const STALE_RUN_MS: i64 = crate::maintenance::RUN_DEADLINE.as_millis() as i64 + 40_000;

/// Whether `r` is an approved bulk run that stopped short at `now_ms`: it
/// ran to its deadline with executions left, or its replica stopped while
/// it ran ([`STALE_RUN_MS`]). A second admin may continue it: each
/// execution is re-read first and left alone once it moved on, so none is
/// acted on twice.
pub fn unfinished(r: &Request, now_ms: i64) -> bool {
    matches!(r.tool, Tool::Bulk(_))
        && match &r.state {
            RequestState::Ran { progress, .. } => progress.done < progress.of,
            RequestState::Running { at, .. } => now_ms - at > STALE_RUN_MS,
            _ => false,
        }
}

/// Why a second person may not decide `r` at `now_ms` (`None`: `who` may):
/// a waiting request, or an [`unfinished`] bulk run to continue.
pub fn second_person(r: &Request, who: &str, now_ms: i64) -> Option<String> {
    if r.requested_by == who {
        return Some(format!("{who} asked for this: a different admin must approve it (two-person rule)"));
    }
    if r.state != RequestState::Pending && !unfinished(r, now_ms) {
        return Some(format!("it is {} already", r.state.key()));
    }
    None
}

/// The requests' storage.
#[async_trait]
pub trait RequestStore: Send + Sync {
    /// Keep a new request; `false` when [`MAX_PENDING`] wait already.
    async fn add(&self, r: &Request) -> Result<bool, StoreError>;
    /// The newest [`MAX_KEPT`], newest first.
    async fn list(&self) -> Result<Vec<Request>, StoreError>;
    async fn get(&self, id: &str) -> Result<Option<Request>, StoreError>;
    /// Replace `old` by `new` only if the store still holds `old` (exactly).
    async fn swap(&self, old: &Request, new: &Request) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requester_cannot_approve_and_a_decided_request_stays_decided() {
        let mut r = Request {
            id: "r1".into(),
            tool: Tool::RotateHmac,
            reason: "quarterly".into(),
            requested_by: "ada".into(),
            requested_at: 1,
            estimate: None,
            state: RequestState::Pending,
        };
        assert!(second_person(&r, "ada", 1).unwrap().contains("two-person rule"));
        assert_eq!(second_person(&r, "grace", 1), None);
        r.state = RequestState::Refused { by: "grace".into(), at: 2 };
        assert!(second_person(&r, "linus", 3).unwrap().contains("refused"));
        // A running tool is never taken over; a bulk run whose replica stopped is.
        r.state = RequestState::Running { by: "grace".into(), at: 2 };
        assert!(second_person(&r, "linus", 2 + STALE_RUN_MS + 1).is_some());
        r.tool = Tool::Bulk(crate::maintenance::BulkRun { action: ff_board_domain::ExecAction::Cancel, state: ff_board_domain::ExecState::Waiting, query: String::new(), ids: vec![] });
        assert!(second_person(&r, "linus", 2 + STALE_RUN_MS).is_some(), "still within its deadline");
        assert_eq!(second_person(&r, "linus", 2 + STALE_RUN_MS + 1), None);
        assert!(second_person(&r, "ada", 2 + STALE_RUN_MS + 1).is_some(), "not by the asker");
        assert_eq!(Request::decode(&r.encode().unwrap()).unwrap(), r);
        assert!(Request::decode("{").is_err());
    }
}
