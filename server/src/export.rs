//! Exports of a query's rows (`docs/SEARCH.md`):
//! `/executions/export.csv?q=…`, `/executions/export.ndjson?q=…` and the
//! same under `/flows`, streamed page by page from the same bounded reads
//! as the lists, so an export never holds more than one page in memory.
//!
//! Limits, all explicit: at most [`MAX_ROWS`] rows (a cut export says so in
//! its last line), at most [`MAX_PAGES`] reads (a query the store answers
//! only by scanning stops there too, and says so), [`PER_MINUTE`] exports a
//! minute per user and one at a time. Readers may export; a visitor who
//! may not read gets 401. CSV cells that a spreadsheet would run as a
//! formula (`=`, `+`, `-`, `@`) are prefixed with `'`.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Query as Params, State};
use std::net::SocketAddr;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ff_board_app::state::AppState;
use ff_board_domain::query::{Query, Scope};
use ff_board_engine::backend::search::Search;
use ff_board_engine::backend::{exec_state, ExecLine, ExecQuery, FlowLine, FlowQuery, ReadError, Reads};
use serde_json::{json, Value};

/// Rows an export holds at most.
pub const MAX_ROWS: usize = 100_000;
/// Reads (pages) an export makes at most.
pub const MAX_PAGES: usize = 1_000;
/// Exports a user may start a minute.
pub const PER_MINUTE: u32 = 10;
/// Exports of one user running at once (a browser may ask twice for one
/// download: once to navigate, once to save).
pub const MAX_RUNNING: u32 = 2;
const PAGE: usize = 200;

/// The two file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

/// Which list an export reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    Executions,
    Flows,
}

impl List {
    fn name(self) -> &'static str {
        match self {
            List::Executions => "executions",
            List::Flows => "flows",
        }
    }

    /// The file's columns (CSV header, NDJSON keys), in order.
    fn columns(self) -> &'static [&'static str] {
        match self {
            List::Executions => &[
                "id", "flow_id", "state", "kind", "lane", "namespace", "attempts", "created_at_ms", "finished_at_ms", "blocking_reason", "tags",
            ],
            List::Flows => &["id", "kind", "namespace", "state", "status", "members", "edges", "created_at_ms", "changed_at_ms"],
        }
    }
}

pub async fn csv(state: State<AppState>, request: axum::extract::Request) -> Response {
    answer(state, request, List::Executions, Format::Csv).await
}

pub async fn ndjson(state: State<AppState>, request: axum::extract::Request) -> Response {
    answer(state, request, List::Executions, Format::Ndjson).await
}

pub async fn flows_csv(state: State<AppState>, request: axum::extract::Request) -> Response {
    answer(state, request, List::Flows, Format::Csv).await
}

pub async fn flows_ndjson(state: State<AppState>, request: axum::extract::Request) -> Response {
    answer(state, request, List::Flows, Format::Ndjson).await
}

/// The caller's address (when the server was given it), headers and query.
async fn answer(state: State<AppState>, request: axum::extract::Request, list: List, format: Format) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().cloned();
    let (parts, _) = request.into_parts();
    let params = match Params::<HashMap<String, String>>::try_from_uri(&parts.uri) {
        Ok(p) => p,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.to_string()),
    };
    export(state, peer, parts.headers, params, list, format).await
}

fn refuse(status: StatusCode, why: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], why.into()).into_response()
}

/// Per user: when the current minute started, exports started in it, and
/// exports running.
#[derive(Default)]
struct Quota {
    users: Mutex<HashMap<String, (Instant, u32, u32)>>,
}

impl Quota {
    fn global() -> &'static Quota {
        static Q: std::sync::OnceLock<Quota> = std::sync::OnceLock::new();
        Q.get_or_init(Quota::default)
    }

    /// Take a slot for `user`, or say why not.
    fn take(&'static self, user: &str) -> Result<Slot, Busy> {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        users.retain(|_, (start, _, running)| *running > 0 || now.duration_since(*start) < Duration::from_secs(60));
        let e = users.entry(user.to_owned()).or_insert((now, 0, 0));
        if e.2 >= MAX_RUNNING {
            return Err(Busy::Running);
        }
        if now.duration_since(e.0) >= Duration::from_secs(60) {
            *e = (now, 0, e.2);
        }
        if e.1 >= PER_MINUTE {
            return Err(Busy::Quota);
        }
        e.1 += 1;
        e.2 += 1;
        Ok(Slot { quota: self, user: user.to_owned() })
    }
}

/// Why an export may not start now (429).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
enum Busy {
    #[error("{MAX_RUNNING} exports of yours are still running: wait for one to end")]
    Running,
    #[error("at most {PER_MINUTE} exports a minute: try again in a minute")]
    Quota,
}

/// A running export; ends its user's slot when dropped (the stream ended
/// or the client went away).
struct Slot {
    quota: &'static Quota,
    user: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(e) = self.quota.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&self.user) {
            e.2 = e.2.saturating_sub(1);
        }
    }
}

fn read_status(e: &ReadError) -> StatusCode {
    match e {
        ReadError::BadCursor(_) => StatusCode::BAD_REQUEST,
        ReadError::Unanswered { .. } => StatusCode::NOT_IMPLEMENTED,
        ReadError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        ReadError::Shared(inner) => read_status(inner),
        _ => StatusCode::BAD_GATEWAY,
    }
}

async fn export(
    State(state): State<AppState>,
    peer: Option<ConnectInfo<SocketAddr>>,
    headers: HeaderMap,
    Params(params): Params<HashMap<String, String>>,
    list: List,
    format: Format,
) -> Response {
    let user = match state.auth.actor(&headers) {
        Some(a) => a.user,
        // Anonymous readers count per address, not as one shared user.
        None if state.auth.anonymous_read() => format!("anonymous@{}", peer.map_or_else(|| "?".to_owned(), |c| c.0.ip().to_string())),
        None => return refuse(StatusCode::UNAUTHORIZED, "sign in to export"),
    };
    let text = params.get("q").map(String::as_str).unwrap_or("");
    let scope = if list == List::Flows { Scope::Flows } else { Scope::Executions };
    let query = match Query::parse(text, scope) {
        Ok(q) => q,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let reads = match state.engine.connected() {
        Ok(c) => c.reads,
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, format!("backend {} is unavailable: {}", e.backend, e.error.unwrap_or_default())),
    };
    let slot = match Quota::global().take(&user) {
        Ok(s) => s,
        Err(why) => return refuse(StatusCode::TOO_MANY_REQUESTS, why.to_string()),
    };
    let search = (!query.is_empty()).then(|| Search::new(query));
    let source = match list {
        List::Executions => Source::Executions(ExecQuery { search, ..Default::default() }),
        List::Flows => Source::Flows(FlowQuery { search, state: None, namespace: None }),
    };
    // The first page before the answer, so a failing read gets its status.
    let first = match source.page(reads.as_ref(), None).await {
        Ok(p) => p,
        Err(e) => return refuse(read_status(&e), e.to_string()),
    };
    let (kind, ext) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Ndjson => ("application/x-ndjson", "ndjson"),
    };
    let (rows, next) = first;
    let run = Run { reads, source, list, format, sent: 0, pages: 1, next, pending: Some(rows), started: false, done: false, _slot: slot };
    // Fused: a layer that polls once more after the end (the compression
    // layer does) gets the end again, not a panic.
    let body = futures::StreamExt::fuse(futures::stream::unfold(run, |mut run| async move {
        let chunk = run.advance().await?;
        Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), run))
    }));
    (
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}.{ext}\"", list.name())),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// Why an export ends early: its text, written as the file's last line.
struct Note(String);

/// One export in flight: where it is and what it has sent.
struct Run {
    reads: Arc<dyn Reads>,
    source: Source,
    list: List,
    format: Format,
    sent: usize,
    pages: usize,
    next: Option<String>,
    /// Rows read but not yet written (the first page).
    pending: Option<Vec<Vec<Value>>>,
    started: bool,
    done: bool,
    _slot: Slot,
}

impl Run {
    /// The next chunk of the file, `None` at its end.
    async fn advance(&mut self) -> Option<String> {
        if self.done {
            return None;
        }
        let mut out = String::new();
        if !self.started {
            self.started = true;
            if self.format == Format::Csv {
                out.push_str(&self.list.columns().join(","));
                out.push('\n');
            }
        }
        let rows = match self.pending.take() {
            Some(rows) => rows,
            None => match self.read().await {
                Ok(Some(rows)) => rows,
                Ok(None) => return None,
                Err(Note(note)) => {
                    self.done = true;
                    return Some(self.note(&note));
                }
            },
        };
        for row in rows {
            if self.sent == MAX_ROWS {
                self.done = true;
                out.push_str(&self.note(&format!("cut at {MAX_ROWS} rows: narrow the query to export the rest")));
                return Some(out);
            }
            out.push_str(&self.line(&row));
            self.sent += 1;
        }
        Some(out)
    }

    /// The next page: `Ok(None)` at the end, `Err` with the note that ends
    /// the file (a failed read, the read limit).
    async fn read(&mut self) -> Result<Option<Vec<Vec<Value>>>, Note> {
        let Some(cursor) = self.next.take() else { return Ok(None) };
        if self.pages >= MAX_PAGES {
            return Err(Note(format!("cut after {MAX_PAGES} reads ({} rows): narrow the query to export the rest", self.sent)));
        }
        self.pages += 1;
        match self.source.page(self.reads.as_ref(), Some(&cursor)).await {
            Ok((rows, next)) => {
                self.next = next;
                Ok(Some(rows))
            }
            Err(e) => Err(Note(format!("export ended early after {} rows: {e}", self.sent))),
        }
    }

    fn note(&self, text: &str) -> String {
        match self.format {
            Format::Csv => format!("# {}\n", text.replace(['\n', '\r'], " ")),
            Format::Ndjson => format!("{}\n", serde_json::json!({ "note": text })),
        }
    }

    /// One row as a line of the file.
    fn line(&self, values: &[Value]) -> String {
        match self.format {
            Format::Csv => {
                let cells: Vec<String> = values.iter().map(|v| cell(&text(v))).collect();
                format!("{}\n", cells.join(","))
            }
            Format::Ndjson => {
                let row: serde_json::Map<String, Value> = self.list.columns().iter().map(|c| (*c).to_owned()).zip(values.iter().cloned()).collect();
                format!("{}\n", Value::Object(row))
            }
        }
    }
}

/// A CSV cell's text of a value: tags as `key=value` joined by `;`.
fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Object(m) => m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    }
}

/// What an export reads, page by page.
enum Source {
    Executions(ExecQuery),
    Flows(FlowQuery),
}

impl Source {
    /// One page of rows (each its values in the list's column order) and the next cursor.
    async fn page(&self, reads: &dyn Reads, after: Option<&str>) -> Result<(Vec<Vec<Value>>, Option<String>), ReadError> {
        Ok(match self {
            Source::Executions(q) => {
                let p = reads.executions(q, after, PAGE).await?;
                (p.rows.iter().map(exec_values).collect(), p.next)
            }
            Source::Flows(q) => {
                let p = reads.flows(q, after, PAGE).await?;
                (p.rows.iter().map(flow_values).collect(), p.next)
            }
        })
    }
}

fn exec_values(l: &ExecLine) -> Vec<Value> {
    let tags: serde_json::Map<String, Value> = l.tags.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
    vec![
        json!(l.id.to_string()),
        json!(l.flow_id),
        json!(exec_state(l.state).as_str()),
        json!(l.kind),
        json!(l.lane),
        json!(l.namespace),
        json!(l.attempts),
        json!(l.created_at),
        json!(l.finished_at),
        json!(l.blocking_reason),
        Value::Object(tags),
    ]
}

fn flow_values(l: &FlowLine) -> Vec<Value> {
    vec![
        json!(l.id.to_string()),
        json!(l.kind),
        json!(l.namespace),
        json!(l.state.as_str()),
        json!(l.status),
        json!(l.node_count),
        json!(l.edge_count),
        json!(l.created_at),
        json!(l.last_mutation_at),
    ]
}

/// One CSV cell: quoted when it holds a comma, a quote or a line break;
/// a leading `=`, `+`, `-`, `@` (a spreadsheet formula) behind a `'`.
pub fn cell(raw: &str) -> String {
    let guarded = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{raw}") } else { raw.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "'-1");
    }

    #[test]
    fn a_user_gets_one_export_at_a_time_and_a_few_a_minute() {
        let q: &'static Quota = Box::leak(Box::default());
        let first = q.take("ada").expect("first");
        let second = q.take("ada").expect("second, at once");
        assert_eq!(q.take("ada").err(), Some(Busy::Running));
        assert!(q.take("bob").is_ok());
        drop((first, second));
        for _ in 2..PER_MINUTE {
            drop(q.take("ada").expect("within the minute's quota"));
        }
        assert_eq!(q.take("ada").err(), Some(Busy::Quota));
    }
}
