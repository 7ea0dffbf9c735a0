//! Executions: the board-wide list and one execution in full (state
//! vector, lane, priority, attempts, lease, tags, result, stream frames and
//! summary). Reads a backend does not offer are reported per field as
//! "not supported by this backend", never as a page error.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::states::ExecState;
use crate::error::AppError;

/// A field that may be unsupported by the backend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Field<T> {
    Value(T),
    Unsupported(String),
    Failed(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRow {
    pub execution_id: String,
    pub flow_id: Option<String>,
    pub lane: String,
    pub namespace: String,
    pub state: ExecState,
    pub attempts: u32,
    pub created_at: i64,
    pub last_mutation_at: i64,
    /// The step (`execution_kind`).
    pub kind: String,
    /// The first [`TAGS_SHOWN`] tags, by key.
    pub tags: Vec<(String, String)>,
    /// How many more tags it has.
    pub more_tags: usize,
    /// Why it is not moving (its blocking reason), while it waits: the
    /// list's "why" column, a link to its `blocked:` family.
    pub why: Option<crate::api::states::BlockingReason>,
}

/// Tags a list row shows (the rest as "+N").
pub const TAGS_SHOWN: usize = 3;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionsList {
    pub rows: Vec<ExecutionRow>,
    pub next_cursor: Option<String>,
    /// The page stopped early after looking at the scan limit of rows: more
    /// may match ("at least").
    pub cut_short: bool,
    /// What the list may miss: the board's search index it was read from
    /// is still being built ("tag index 63 % built: results may be missing").
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeaseView {
    pub holder: String,
    pub lease_id: String,
    pub epoch: u64,
    pub attempt_index: u32,
    pub expires_at: i64,
    pub last_heartbeat_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameView {
    pub id: String,
    pub fields: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecutionDetail {
    pub row: ExecutionRow,
    pub blocking_reason: Option<crate::api::states::BlockingReason>,
    pub blocking_detail: Option<String>,
    pub current_attempt: Option<u32>,
    pub lease: Option<LeaseView>,
    pub waitpoint: Option<String>,
    pub tags: Vec<(String, String)>,
    /// `(name, value)` of the state vector dimensions, plus kind/priority.
    pub info: Field<Vec<(String, String)>>,
    /// The result, decoded as text when it is UTF-8, capped at [`RESULT_CAP`].
    pub result: Field<Option<(String, usize)>>,
    pub frames: Field<Vec<FrameView>>,
    pub summary: Field<Option<String>>,
}

/// Bytes of the result shown.
pub const RESULT_CAP: usize = 4096;
/// Stream frames shown (the newest).
pub const FRAMES: u64 = 50;

/// Executions per page.
pub const PAGE: usize = 50;

#[server(prefix = "/api", endpoint = "list_executions", output = crate::api::codec::PostcardAnswer)]
pub async fn list_executions(
    cursor: Option<String>,
    state: Option<String>,
    #[server(default)] lane: Option<String>,
    #[server(default)] q: Option<String>,
) -> Result<ExecutionsList, AppError> {
    use ff_board_domain::query::{Query, Scope};
    use ff_board_engine::backend::{search::Search, ExecQuery};
    let search = Query::parse(q.as_deref().unwrap_or(""), Scope::Executions).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let lane = lane.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
    if lane.as_ref().is_some_and(|l| l.len() > 128) {
        return Err(AppError::BadRequest("lane filter longer than 128 characters".into()));
    }
    let state = ExecState::filter(state.as_deref()).map_err(AppError::BadRequest)?;
    let query = ExecQuery {
        state: state.and_then(ff_board_engine::backend::public_state),
        lane,
        namespace: None,
        search: (!search.is_empty()).then(|| Search::new(search)),
    };
    let after = super::cursor::decode(cursor.as_deref())?;
    super::read::read(|c| async move {
        let page = c.reads.executions(&query, after.as_deref(), PAGE).await?;
        let note = match &query.search {
            Some(s) => c.side.index_note(&c.partitions, s.query()).await?,
            None => None,
        };
        Ok(ExecutionsList {
            rows: page.rows.into_iter().map(line_row).collect(),
            next_cursor: page.next.as_deref().map(super::cursor::encode),
            cut_short: page.cut_short,
            note,
        })
    })
    .await
}

#[server(prefix = "/api", endpoint = "get_execution", output = crate::api::codec::PostcardAnswer)]
pub async fn get_execution(execution_id: String) -> Result<ExecutionDetail, AppError> {
    let id = super::parse::execution_id(&execution_id)?;
    super::read::read(|c| detail::read(c, id, execution_id)).await
}

#[cfg(feature = "ssr")]
mod detail {
    //! One execution in full: its snapshot, then the reads a backend may
    //! not offer (info, result, and the current attempt's stream and
    //! summary), each a [`Field`].
    use ff_board_engine::connect::Connected;
    use ff_core::contracts::{ExecutionInfo, ExecutionSnapshot, LeaseSummary, StreamCursor, StreamFrames};
    use ff_core::types::{AttemptIndex, ExecutionId};

    use super::{row, ExecutionDetail, Field, FrameView, LeaseView, FRAMES, RESULT_CAP};
    use crate::api::read::{field, Call};
    use crate::error::AppError;

    pub async fn read(c: Connected, id: ExecutionId, raw: String) -> Result<ExecutionDetail, AppError> {
        let b = &c.backend;
        let s = b.describe_execution(&id).timed("describe_execution").await?.ok_or_else(|| AppError::not_found("execution", raw))?;
        let info = field(b.read_execution_info(&id).await, info_pairs);
        let result = field(b.get_execution_result(&id).await, |r| r.map(|bytes| result_text(&bytes)));
        // The SQLite fill's snapshot carries no current attempt: ask for its
        // index once the execution has left the queue.
        let queued = matches!(
            s.public_state,
            ff_core::state::PublicState::Waiting | ff_core::state::PublicState::Delayed | ff_core::state::PublicState::RateLimited
        );
        let attempt = match s.current_attempt.as_ref() {
            Some(a) => Some(a.attempt_index),
            None if !queued => b.read_current_attempt_index(&id).await.ok(),
            None => None,
        };
        let (frames, summary) = match attempt {
            Some(ai) => {
                let frames = field(b.read_stream(&id, ai, StreamCursor::Start, StreamCursor::End, 10_000).await, newest_frames);
                let summary = field(b.read_summary(&id, ai).await, |d| d.map(|d| String::from_utf8_lossy(&d.document_json).into_owned()));
                (frames, summary)
            }
            None => (Field::Value(vec![]), Field::Value(None)),
        };
        Ok(ExecutionDetail { info, result, frames, summary, ..facts(s, attempt, queued) })
    }

    /// What the snapshot says (the reads of their own left empty).
    fn facts(s: ExecutionSnapshot, attempt: Option<AttemptIndex>, queued: bool) -> ExecutionDetail {
        ExecutionDetail {
            blocking_reason: s.blocking_reason.as_deref().and_then(crate::api::states::BlockingReason::parse),
            blocking_detail: s.blocking_detail.clone(),
            current_attempt: attempt.map(|a| a.0),
            lease: s.current_lease.as_ref().map(lease),
            waitpoint: s.current_waitpoint.as_ref().map(|w| w.to_string()),
            tags: s.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            info: Field::Value(vec![]),
            result: Field::Value(None),
            frames: Field::Value(vec![]),
            summary: Field::Value(None),
            row: {
                let mut r = row(s);
                // At least the current attempt (0-based) plus one, once one ran.
                if !queued {
                    r.attempts = r.attempts.max(attempt.map_or(0, |a| a.0 + 1));
                }
                r
            },
        }
    }

    fn lease(l: &LeaseSummary) -> LeaseView {
        LeaseView {
            holder: l.worker_instance_id.to_string(),
            lease_id: l.lease_id.to_string(),
            epoch: l.lease_epoch.0,
            attempt_index: l.attempt_index.0,
            expires_at: l.expires_at.0,
            last_heartbeat_at: l.last_heartbeat_at.map(|t| t.0),
        }
    }

    /// Kind, priority, the state vector's dimensions, and when it started
    /// and completed (epoch milliseconds: the page shows them relative, UTC
    /// on hover).
    fn info_pairs(i: Option<ExecutionInfo>) -> Vec<(String, String)> {
        let Some(i) = i else { return vec![] };
        let sv = serde_json::to_value(&i.state_vector).unwrap_or_default();
        let mut out = vec![("kind".to_owned(), i.execution_kind.clone()), ("priority".to_owned(), i.priority.to_string())];
        if let Some(map) = sv.as_object() {
            for (k, v) in map {
                out.push((k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())));
            }
        }
        out.extend(i.started_at.map(|t| ("started_at".to_owned(), t)));
        out.extend(i.completed_at.map(|t| ("completed_at".to_owned(), t)));
        out
    }

    /// The first [`RESULT_CAP`] bytes as text (hex when not UTF-8), and the full length.
    fn result_text(bytes: &[u8]) -> (String, usize) {
        let shown = &bytes[..bytes.len().min(RESULT_CAP)];
        let text = match std::str::from_utf8(shown) {
            Ok(t) => t.to_owned(),
            Err(_) => shown.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" "),
        };
        (text, bytes.len())
    }

    /// The newest [`FRAMES`] frames.
    fn newest_frames(f: StreamFrames) -> Vec<FrameView> {
        let n = f.frames.len();
        f.frames.into_iter().skip(n.saturating_sub(FRAMES as usize)).map(|fr| FrameView { id: fr.id, fields: fr.fields.into_iter().collect() }).collect()
    }
}

/// Attempts an execution has had. `total_attempt_count` is seeded `0` by
/// the SQL backends' `create_execution` and bumped only on their
/// claim-from-grant path, not by `claim`: a completed execution can say 0
/// there. Its current attempt's index (0-based) is a floor.
#[cfg(feature = "ssr")]
pub(crate) fn attempts_of(s: &ff_core::contracts::ExecutionSnapshot) -> u32 {
    let current = s.current_attempt.as_ref().map_or(0, |a| a.attempt_index.0 + 1);
    s.total_attempt_count.max(current)
}

#[cfg(feature = "ssr")]
pub(crate) fn row(s: ff_core::contracts::ExecutionSnapshot) -> ExecutionRow {
    let attempts = attempts_of(&s);
    let more_tags = s.tags.len().saturating_sub(TAGS_SHOWN);
    ExecutionRow {
        why: None,
        kind: String::new(),
        tags: s.tags.iter().take(TAGS_SHOWN).map(|(k, v)| (k.clone(), v.clone())).collect(),
        more_tags,
        execution_id: s.execution_id.to_string(),
        flow_id: s.flow_id.map(|f| f.to_string()),
        lane: s.lane_id.to_string(),
        namespace: s.namespace.to_string(),
        state: ff_board_engine::backend::exec_state(s.public_state),
        attempts,
        created_at: s.created_at.0,
        last_mutation_at: s.last_mutation_at.0,
    }
}

/// A board list row as the table shows it.
#[cfg(feature = "ssr")]
pub(crate) fn line_row(l: ff_board_engine::backend::ExecLine) -> ExecutionRow {
    let more_tags = l.tags.len().saturating_sub(TAGS_SHOWN);
    let state = ff_board_engine::backend::exec_state(l.state);
    ExecutionRow {
        why: l.blocking_reason.as_deref().and_then(crate::api::states::BlockingReason::parse).filter(|_| !state.is_terminal() && state != crate::api::states::ExecState::Active),
        kind: l.kind,
        tags: l.tags.into_iter().take(TAGS_SHOWN).collect(),
        more_tags,
        execution_id: l.id.to_string(),
        flow_id: l.flow_id,
        lane: l.lane,
        namespace: l.namespace,
        state,
        attempts: l.attempts,
        created_at: l.created_at,
        last_mutation_at: l.last_mutation_at,
    }
}
