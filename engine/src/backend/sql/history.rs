//! One execution's history on the SQL stores, for its timeline: its
//! attempts (`ff_attempt`, on the table's primary key), its lease events
//! (`ff_lease_event`, on the board's index `ff_board_lease_event_exec`:
//! 0.15 indexes that table only by partition and event id) and the signals
//! it received (`ff_signal_event`, on the board's index
//! `ff_board_signal_event_exec`, for the same reason), each one bounded
//! query, newest first. The signal outbox keeps no signal name: names are
//! read from the current suspension's `member_map` (one primary-key
//! read), so a signal of an earlier suspension shows its sender only.
use ff_core::types::ExecutionId;

use super::{Bind, Dialect, Query};
use crate::backend::{AttemptLine, LeaseMark, SignalMark, HISTORY_ATTEMPTS, HISTORY_LEASES, HISTORY_SIGNALS};

/// The board's index for [`leases`] (created by `--migrate` with the others).
pub const INDEX: &str = "CREATE INDEX IF NOT EXISTS ff_board_lease_event_exec ON ff_lease_event (execution_id, event_id DESC)";
/// The board's index for [`signals`].
pub const SIGNAL_INDEX: &str = "CREATE INDEX IF NOT EXISTS ff_board_signal_event_exec ON ff_signal_event (execution_id, event_id DESC)";

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

/// Its newest [`HISTORY_SIGNALS`] signals.
pub fn signals(d: Dialect, id: &ExecutionId) -> Query {
    let mut q = Query::default();
    let e = q.bind(Bind::Text(uuid_of(id)));
    q.sql = d.finish(format!(
        "SELECT signal_id, source_identity, CAST(delivered_at_ms AS BIGINT) AS delivered_at_ms FROM ff_signal_event \
         WHERE execution_id = ${e} ORDER BY event_id DESC LIMIT {HISTORY_SIGNALS}"
    ));
    q
}

/// Its current suspension's member map (signal names by id).
pub fn member_map(d: Dialect, id: &ExecutionId) -> Query {
    let mut q = Query::default();
    let p = q.bind(Bind::Int(i64::from(id.partition())));
    let e = q.bind(Bind::Text(uuid_of(id)));
    q.sql = d.finish(format!(
        "SELECT CAST(member_map AS TEXT) AS member_map FROM ff_suspension_current WHERE partition_key = {} AND execution_id = {}",
        d.part(p),
        d.uuid(e),
    ));
    q
}

#[derive(Debug, sqlx::FromRow)]
pub struct RawSignal {
    pub signal_id: String,
    pub source_identity: Option<String>,
    pub delivered_at_ms: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct RawMemberMap {
    pub member_map: Option<String>,
}

/// The signals as marks, named from the member maps read (JSON objects of
/// waitpoint key → signals with `signal_id` and `signal_name`).
pub fn signal_marks(raw: Vec<RawSignal>, maps: &[RawMemberMap]) -> Vec<SignalMark> {
    let mut names = std::collections::HashMap::new();
    for m in maps.iter().filter_map(|m| serde_json::from_str::<serde_json::Value>(m.member_map.as_deref()?).ok()) {
        for list in m.as_object().into_iter().flat_map(|o| o.values()) {
            for s in list.as_array().into_iter().flatten() {
                let get = |k: &str| s.get(k).and_then(serde_json::Value::as_str).map(str::to_owned);
                if let (Some(id), Some(name)) = (get("signal_id"), get("signal_name")) {
                    names.insert(id, name);
                }
            }
        }
    }
    raw.into_iter()
        .map(|r| SignalMark { at: r.delivered_at_ms, name: names.get(&r.signal_id).cloned().unwrap_or_default(), source: r.source_identity.unwrap_or_default() })
        .collect()
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
