//! One execution's history on the SQL stores, for its timeline: its
//! attempts (`ff_attempt`, on the table's primary key) and its lease events
//! (`ff_lease_event`, on the board's index `ff_board_lease_event_exec`:
//! 0.15 indexes that table only by partition and event id), each one
//! bounded query, newest first.
use ff_core::types::ExecutionId;

use super::{Bind, Dialect, Query};
use crate::backend::{AttemptLine, LeaseMark, HISTORY_ATTEMPTS, HISTORY_LEASES};

/// The board's index for [`leases`] (created by `--migrate` with the others).
pub const INDEX: &str = "CREATE INDEX IF NOT EXISTS ff_board_lease_event_exec ON ff_lease_event (execution_id, event_id DESC)";

/// The execution's uuid text as the lease outbox stores it (bare, hyphenated).
fn uuid_of(id: &ExecutionId) -> String {
    id.as_str().rsplit_once("}:").map_or(id.as_str(), |(_, u)| u).to_owned()
}

/// Its newest [`HISTORY_ATTEMPTS`] attempts.
pub fn attempts(d: Dialect, id: &ExecutionId) -> Query {
    let mut q = Query::default();
    let p = q.bind(Bind::Int(i64::from(id.partition())));
    let e = q.bind(Bind::Text(uuid_of(id)));
    q.sql = d.finish(format!(
        "SELECT CAST(attempt_index AS BIGINT) AS attempt_index, CAST(worker_instance_id AS TEXT) AS worker, started_at_ms, terminal_at_ms, \
                CAST(outcome AS TEXT) AS outcome, lease_expires_at_ms \
         FROM ff_attempt WHERE partition_key = {} AND execution_id = {} ORDER BY attempt_index DESC LIMIT {HISTORY_ATTEMPTS}",
        d.part(p),
        d.uuid(e),
    ));
    q
}

/// Its newest [`HISTORY_LEASES`] lease events.
pub fn leases(d: Dialect, id: &ExecutionId) -> Query {
    let mut q = Query::default();
    let e = q.bind(Bind::Text(uuid_of(id)));
    q.sql = d.finish(format!(
        "SELECT event_type, CAST(occurred_at_ms AS BIGINT) AS occurred_at_ms FROM ff_lease_event \
         WHERE execution_id = ${e} ORDER BY event_id DESC LIMIT {HISTORY_LEASES}"
    ));
    q
}

#[derive(Debug, sqlx::FromRow)]
pub struct RawAttempt {
    pub attempt_index: i64,
    pub worker: Option<String>,
    pub started_at_ms: Option<i64>,
    pub terminal_at_ms: Option<i64>,
    pub outcome: Option<String>,
    pub lease_expires_at_ms: Option<i64>,
}

impl RawAttempt {
    pub fn line(self) -> AttemptLine {
        AttemptLine {
            index: u32::try_from(self.attempt_index).unwrap_or(0),
            worker: self.worker.unwrap_or_default(),
            started_at: self.started_at_ms,
            ended_at: self.terminal_at_ms,
            outcome: self.outcome.unwrap_or_default(),
            failure: None,
            lease_expires_at: self.lease_expires_at_ms,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct RawLeaseEvent {
    pub event_type: String,
    pub occurred_at_ms: i64,
}

impl RawLeaseEvent {
    pub fn mark(self) -> LeaseMark {
        LeaseMark { at: self.occurred_at_ms, event: self.event_type }
    }
}
