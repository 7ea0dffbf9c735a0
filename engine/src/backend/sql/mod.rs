//! The SQL both relational backends share: FlowFabric's SQLite schema is a
//! port of its Postgres one (same tables and columns), so each page query
//! is written once here, with a [`Dialect`] for the few spellings that
//! differ (uuid columns, placeholders), and decoded into the board's rows.
//!
//! Every query is one statement per page: keyset pagination on
//! `(time, partition_key, id)`, the row's columns and its current
//! attempt's outcome read in the same statement. State filters follow
//! [`crate::backend::state_fix`]: live states use the stored `public_state` of live
//! rows (`lifecycle_phase` neither `terminal` nor `cancelled`); terminal
//! states are recomputed from the attempt outcome, because the 0.15 SQL
//! backends leave finished rows with their last live state.
//!
//! The board's own SQL stores beside the page queries are written once
//! here too, over a [`pool::Pool`] of either backend: the audit log
//! ([`audit`]) and the side-store bodies ([`side`]: session generations,
//! a stored suspension, a waitpoint's owner).
//!
//! Only constants of this module and typed enum literals are spliced into
//! SQL text; every value from a request is a bound parameter.
use ff_core::state::PublicState;
use ff_core::types::{ExecutionId, FlowId};

use super::{ExecLine, ExecQuery, FlowLine, FlowQuery, FlowState, LeaseLine, ReadError, SuspendedLine};

pub mod audit;
mod gates;
mod shape;
pub use shape::{done_only, done_window, tag_probe, Order, RARE};
pub mod history;
pub mod pool;
pub mod quotas;
pub mod requests;
pub mod retention;
mod search;
pub(crate) mod side;
pub mod views;

pub use gates::{exec_id, gate_rows, pending, suspensions, waitpoint_owner, RawPending, RawSuspension};
use gates::{any_of, row_id};

/// Where the SQL of the two backends differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    /// A uuid column as lower-case text (SQLite keeps 16 bytes: hex,
    /// which `Uuid::parse_str` reads as the simple form).
    fn id(self, col: &str) -> String {
        match self {
            Dialect::Postgres => format!("{col}::text"),
            Dialect::Sqlite => format!("lower(hex({col}))"),
        }
    }

    /// A uuid parameter bound as text.
    fn uuid(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}::uuid"),
            Dialect::Sqlite => format!("unhex(replace(${n}, '-', ''))"),
        }
    }

    /// A partition-key parameter.
    fn part(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}::smallint"),
            Dialect::Sqlite => format!("${n}"),
        }
    }

    /// Final text: SQLite numbers its parameters `?N`.
    pub fn finish(self, sql: String) -> String {
        match self {
            Dialect::Postgres => sql,
            Dialect::Sqlite => sql.replace('$', "?"),
        }
    }
}

/// A bound parameter.
#[derive(Clone, Debug)]
pub enum Bind {
    Int(i64),
    Text(String),
    /// Text or NULL.
    MaybeText(Option<String>),
}

/// A query and its parameters, in order (`$1`, `$2`, …), and how
/// Postgres should plan it.
#[derive(Debug, Default)]
pub struct Query {
    pub sql: String,
    pub binds: Vec<Bind>,
    pub plan: Plan,
    /// A term whose plan depends on its value (a `LIKE` prefix, a
    /// partition key): never [`Plan::Generic`].
    pinned: bool,
}

/// How Postgres plans a query (`plan_cache_mode` of the pool it runs on;
/// SQLite plans every query the same way).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Plan {
    /// For its values, each time it runs: the default. A query naming a
    /// partition key is planned for that one partition.
    #[default]
    Custom,
    /// Once per connection, then kept: for a page over every partition.
    /// Planning such a query over FlowFabric's 256 partitions costs 40–70 ms
    /// warm each time (custom plans), running it 5–10 ms; a kept plan runs
    /// in the 5–10 ms (measured at 10k executions, `docs/BENCHMARKS.md`).
    /// A kept plan cannot use a `LIKE` prefix's index range, and prunes
    /// partitions named by a parameter only as it starts, after locking
    /// every one: such queries stay [`Plan::Custom`] (a page of ids spread
    /// over many partitions is kept: `gates::any_of`).
    Generic,
}

impl Query {
    /// `sql` with its parameters, planned for its values ([`Plan::Custom`]).
    pub fn new(sql: String, binds: Vec<Bind>) -> Query {
        Query { sql, binds, ..Default::default() }
    }

    /// Bind `b` and return its placeholder number.
    fn bind(&mut self, b: Bind) -> usize {
        self.binds.push(b);
        self.binds.len()
    }

    /// This query's plan depends on a value (see [`Plan::Generic`]).
    fn pin(&mut self) {
        self.pinned = true;
    }

    /// A page over every partition: a kept plan, unless pinned.
    pub(super) fn spanning(mut self) -> Query {
        if !self.pinned {
            self.plan = Plan::Generic;
        }
        self
    }
}

/// Rows that are not finished.
const LIVE: &str = "ec.lifecycle_phase NOT IN ('terminal', 'cancelled')";
/// Rows that are finished.
const DONE: &str = "ec.lifecycle_phase IN ('terminal', 'cancelled')";
/// The current attempt's outcome.
const OUTCOME: &str = "(SELECT a.outcome FROM ff_attempt a WHERE a.partition_key = ec.partition_key \
                       AND a.execution_id = ec.execution_id AND a.attempt_index = ec.attempt_index)";

/// The terminal state of a finished row, as `state_fix::public_state` computes it.
fn done_state() -> String {
    format!(
        "CASE WHEN ec.public_state IN ('completed', 'failed', 'cancelled', 'expired', 'skipped') THEN ec.public_state \
              WHEN ec.lifecycle_phase = 'cancelled' THEN 'cancelled' \
              WHEN {OUTCOME} = 'success' THEN 'completed' \
              WHEN {OUTCOME} IN ('failed', 'failure') THEN 'failed' \
              WHEN {OUTCOME} IN ('cancelled', 'expired', 'skipped') THEN {OUTCOME} \
              WHEN ec.cancellation_reason = 'suspension_timeout_fail' THEN 'failed' \
              WHEN ec.cancellation_reason IN ('suspension_timeout_expire', 'suspension_timeout_escalate') THEN 'expired' \
              WHEN ec.cancellation_reason IS NOT NULL THEN 'cancelled' ELSE 'expired' END"
    )
}

/// The columns of an [`ExecLine`] (decoded by [`RawExec`]).
fn exec_cols(d: Dialect) -> String {
    format!(
        "{eid} AS eid, CAST(ec.partition_key AS BIGINT) AS part, {fid} AS flow_id, ec.lane_id, ec.public_state, \
         ec.lifecycle_phase, ec.cancellation_reason, ec.blocking_reason, ec.created_at_ms, \
         CAST(ec.raw_fields->>'namespace' AS TEXT) AS namespace, \
         CAST(ec.raw_fields->>'last_mutation_at' AS TEXT) AS last_mutation_at, \
         CAST(ec.raw_fields->>'execution_kind' AS TEXT) AS kind, \
         CAST(ec.raw_fields->'tags' AS TEXT) AS tags, ec.terminal_at_ms, \
         {OUTCOME} AS attempt_outcome, \
         (SELECT COUNT(*) FROM ff_attempt a WHERE a.partition_key = ec.partition_key \
            AND a.execution_id = ec.execution_id) AS attempts",
        eid = d.id("ec.execution_id"),
        fid = d.id("ec.flow_id"),
    )
}

/// The WHERE terms of an execution filter.
fn exec_filter(d: Dialect, q: &ExecQuery, query: &mut Query) -> Vec<String> {
    let mut terms = Vec::new();
    match q.state {
        None => {}
        Some(s) if super::is_terminal(s) => {
            terms.push(DONE.to_owned());
            terms.push(format!("({}) = '{}'", done_state(), s.as_str()));
        }
        Some(PublicState::Active) => {
            terms.push(LIVE.to_owned());
            terms.push("ec.public_state IN ('active', 'running')".to_owned());
        }
        Some(s) => {
            terms.push(LIVE.to_owned());
            terms.push(format!("ec.public_state = '{}'", s.as_str()));
        }
    }
    if let Some(lane) = &q.lane {
        let n = query.bind(Bind::Text(lane.clone()));
        terms.push(format!("ec.lane_id = ${n}"));
    }
    if let Some(ns) = &q.namespace {
        let n = query.bind(Bind::Text(ns.clone()));
        terms.push(format!("ec.raw_fields->>'namespace' = ${n}"));
    }
    if let Some(s) = &q.search {
        terms.extend(search::terms(d, s.query(), crate::backend::now_ms(), query));
    }
    terms
}

/// A keyset cursor `time.partition.uuid`.
fn key_cursor(raw: &str) -> Result<(i64, i64, uuid::Uuid), ReadError> {
    let bad = || ReadError::BadCursor(raw.to_owned());
    let [t, p, u] = super::parts::<3>(raw)?;
    Ok((t.parse().map_err(|_| bad())?, p.parse().map_err(|_| bad())?, uuid::Uuid::parse_str(u).map_err(|_| bad())?))
}

/// Add `(t, p, id) <op> cursor` to `terms`.
fn keyset(d: Dialect, cols: [&str; 3], op: &str, raw: &str, query: &mut Query, terms: &mut Vec<String>) -> Result<(), ReadError> {
    let (t, p, u) = key_cursor(raw)?;
    let (nt, np, nu) =
        (query.bind(Bind::Int(t)), query.bind(Bind::Int(p)), query.bind(Bind::Text(u.to_string())));
    terms.push(format!("({}, {}, {}) {op} (${nt}, {}, {})", cols[0], cols[1], cols[2], d.part(np), d.uuid(nu)));
    Ok(())
}

fn where_clause(terms: &[String]) -> String {
    if terms.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", terms.join(" AND "))
    }
}

/// One page of executions, newest first; with `floor` (a [`done_window`]
/// end) no row older than it.
pub fn executions(d: Dialect, q: &ExecQuery, after: Option<&str>, limit: usize, order: Order, floor: Option<&str>) -> Result<Query, ReadError> {
    let mut query = Query::default();
    let mut terms = exec_filter(d, q, &mut query);
    let cols = ["ec.created_at_ms", "ec.partition_key", "ec.execution_id"];
    if let Some(raw) = after {
        keyset(d, cols, "<", raw, &mut query, &mut terms)?;
    }
    if let Some(raw) = floor {
        keyset(d, cols, ">=", raw, &mut query, &mut terms)?;
    }
    let n = query.bind(Bind::Int(limit as i64 + 1));
    query.sql = d.finish(format!(
        "SELECT {} FROM ff_exec_core ec {} \
         ORDER BY ec.created_at_ms{} DESC, ec.partition_key DESC, ec.execution_id DESC LIMIT ${n}",
        exec_cols(d),
        where_clause(&terms),
        // `+ 0`: the same order, which no index provides.
        if order == Order::Sorted { " + 0" } else { "" },
    ));
    Ok(query.spanning())
}

/// One page of live suspended executions, oldest suspension first.
pub fn suspended(d: Dialect, search: Option<&super::search::Search>, after: Option<&str>, limit: usize) -> Result<Query, ReadError> {
    let mut query = Query::default();
    let mut terms = vec![LIVE.to_owned(), "ec.public_state = 'suspended'".to_owned()];
    if let Some(s) = search {
        terms.extend(search::terms(d, s.query(), crate::backend::now_ms(), &mut query));
    }
    if let Some(raw) = after {
        keyset(d, ["s.suspended_at_ms", "s.partition_key", "s.execution_id"], ">", raw, &mut query, &mut terms)?;
    }
    let n = query.bind(Bind::Int(limit as i64 + 1));
    query.sql = d.finish(format!(
        "SELECT {}, s.suspended_at_ms, s.reason_code FROM ff_suspension_current s \
         JOIN ff_exec_core ec ON ec.partition_key = s.partition_key AND ec.execution_id = s.execution_id {} \
         ORDER BY s.suspended_at_ms, s.partition_key, s.execution_id LIMIT ${n}",
        exec_cols(d),
        where_clause(&terms)
    ));
    Ok(query.spanning())
}

/// The members of one flow (which live on the flow's partition).
pub fn members(d: Dialect, partition: i64, flow: &FlowId, limit: usize) -> Query {
    let mut query = Query::default();
    let p = query.bind(Bind::Int(partition));
    let f = query.bind(Bind::Text(flow.to_string()));
    let n = query.bind(Bind::Int(limit as i64));
    query.sql = d.finish(format!(
        "SELECT {} FROM ff_exec_core ec WHERE ec.partition_key = {} AND ec.flow_id = {} \
         ORDER BY ec.created_at_ms, ec.execution_id LIMIT ${n}",
        exec_cols(d),
        d.part(p),
        d.uuid(f)
    ));
    query
}

/// Attempts holding a lease, soonest expiry first: the first of the two
/// reads of the leases page. Reading the attempts alone (one table, on
/// `ff_board_attempt_lease`) and then their executions by id (planned for
/// just their partitions, [`exec_rows`]) keeps Postgres from planning a
/// join of two 256-way partitioned tables (190 ms of planning measured).
pub fn lease_heads(d: Dialect, limit: usize) -> Query {
    let mut query = Query::default();
    let n = query.bind(Bind::Int(limit as i64));
    query.sql = d.finish(format!(
        "SELECT CAST(la.partition_key AS BIGINT) AS part, {eid} AS eid, CAST(la.attempt_index AS BIGINT) AS lease_attempt, \
                CAST(la.worker_instance_id AS TEXT) AS holder, CAST(la.lease_epoch AS BIGINT) AS lease_epoch, la.lease_expires_at_ms \
         FROM ff_attempt la WHERE la.lease_expires_at_ms IS NOT NULL ORDER BY la.lease_expires_at_ms LIMIT ${n}",
        eid = d.id("la.execution_id"),
    ));
    query.spanning()
}

/// The live rows of `ids`, with their current attempt index.
pub fn exec_rows(d: Dialect, ids: &[ExecutionId]) -> Result<Query, ReadError> {
    let mut query = Query::default();
    let gates::Ids { join, filter } = any_of(d, "ec", ids, &mut query)?;
    query.sql = d.finish(format!(
        "SELECT {}, CAST(ec.attempt_index AS BIGINT) AS cur_attempt FROM ff_exec_core ec {join} \
         WHERE {filter} AND ec.lifecycle_phase = 'active'",
        exec_cols(d)
    ));
    Ok(query.spanning())
}

/// One page of flows, newest first.
pub fn flows(d: Dialect, q: &FlowQuery, after: Option<&str>, limit: usize) -> Result<Query, ReadError> {
    let mut query = Query::default();
    let mut terms = Vec::new();
    if let Some(s) = q.state {
        let list: Vec<String> = s.stored().iter().map(|v| format!("'{v}'")).collect();
        // `Unknown` matches no stored literal: an empty page, not a syntax error.
        terms.push(if list.is_empty() { "1 = 0".to_owned() } else { format!("fc.public_flow_state IN ({})", list.join(", ")) });
    }
    if let Some(ns) = &q.namespace {
        let n = query.bind(Bind::Text(ns.clone()));
        terms.push(format!("fc.raw_fields->>'namespace' = ${n}"));
    }
    if let Some(s) = &q.search {
        terms.extend(search::flow_terms(d, s.query(), crate::backend::now_ms(), &mut query));
    }
    if let Some(raw) = after {
        keyset(d, ["fc.created_at_ms", "fc.partition_key", "fc.flow_id"], "<", raw, &mut query, &mut terms)?;
    }
    let n = query.bind(Bind::Int(limit as i64 + 1));
    query.sql = d.finish(format!(
        "SELECT {fid} AS fid, CAST(fc.partition_key AS BIGINT) AS part, fc.public_flow_state, fc.created_at_ms, \
                CAST(fc.raw_fields->>'flow_kind' AS TEXT) AS kind, CAST(fc.raw_fields->>'namespace' AS TEXT) AS namespace, \
                CAST(fc.raw_fields->>'node_count' AS TEXT) AS node_count, \
                CAST(fc.raw_fields->>'edge_count' AS TEXT) AS edge_count, \
                CAST(fc.raw_fields->>'last_mutation_at_ms' AS TEXT) AS last_mutation_at \
         FROM ff_flow_core fc {} ORDER BY fc.created_at_ms DESC, fc.partition_key DESC, fc.flow_id DESC LIMIT ${n}",
        where_clause(&terms),
        fid = d.id("fc.flow_id"),
    ));
    Ok(query.spanning())
}

/// The board's own indexes (`ff_board_*`), created by `--migrate`. Each
/// serves one page shape above; none alters an engine object.
pub const INDEXES: [&str; 9] = [
    // /executions (no filter): newest first.
    "CREATE INDEX IF NOT EXISTS ff_board_exec_created ON ff_exec_core (created_at_ms DESC, partition_key DESC, execution_id DESC)",
    // /executions?state=<live state>, /approvals: live rows only.
    "CREATE INDEX IF NOT EXISTS ff_board_exec_live ON ff_exec_core (public_state, created_at_ms DESC, partition_key DESC, execution_id DESC) \
     WHERE lifecycle_phase NOT IN ('terminal', 'cancelled')",
    // /executions?state=<terminal state>: finished rows only.
    "CREATE INDEX IF NOT EXISTS ff_board_exec_done ON ff_exec_core (created_at_ms DESC, partition_key DESC, execution_id DESC) \
     WHERE lifecycle_phase IN ('terminal', 'cancelled')",
    // /flows and /flows?state=…: newest first.
    "CREATE INDEX IF NOT EXISTS ff_board_flow_state ON ff_flow_core (public_flow_state, created_at_ms DESC, partition_key DESC, flow_id DESC)",
    "CREATE INDEX IF NOT EXISTS ff_board_flow_created ON ff_flow_core (created_at_ms DESC, partition_key DESC, flow_id DESC)",
    // /leases: soonest expiry first over every partition.
    "CREATE INDEX IF NOT EXISTS ff_board_attempt_lease ON ff_attempt (lease_expires_at_ms) WHERE lease_expires_at_ms IS NOT NULL",
    // kind:… (docs/SEARCH.md): one step, newest first.
    "CREATE INDEX IF NOT EXISTS ff_board_exec_kind ON ff_exec_core ((raw_fields->>'execution_kind'), created_at_ms DESC, partition_key DESC, execution_id DESC)",
    // blocked:… and the overview's "Stuck now" (one page per family): the
    // rows of those blocking reasons only, not every row until a page
    // matches (measured on SQLite at 100k executions: 141 ms a family).
    "CREATE INDEX IF NOT EXISTS ff_board_exec_blocked ON ff_exec_core (blocking_reason, created_at_ms DESC, partition_key DESC, execution_id DESC)",
    // ?state=active and the overview's active count: `public_state IN
    // ('active', 'running')`, which `ff_board_exec_live` cannot return in
    // order (two values of its first column): 75 → 4 ms a page, 209 → 19 ms
    // the overview's count page, at 1M executions on Postgres.
    "CREATE INDEX IF NOT EXISTS ff_board_exec_active ON ff_exec_core (created_at_ms DESC, partition_key DESC, execution_id DESC) \
     WHERE lifecycle_phase NOT IN ('terminal', 'cancelled') AND public_state IN ('active', 'running')",
];

/// Postgres only: tag:key=value and tag:key by containment (`@>`, `?`).
const PG_INDEXES: [&str; 1] = ["CREATE INDEX IF NOT EXISTS ff_board_exec_tags ON ff_exec_core USING GIN ((raw_fields->'tags'))"];

/// The board's indexes on `d`.
pub fn indexes(d: Dialect) -> impl Iterator<Item = &'static str> {
    let only: &[&'static str] = if d == Dialect::Postgres { &PG_INDEXES } else { &[] };
    INDEXES.iter().chain(only).copied().chain([history::INDEX, history::SIGNAL_INDEX])
}

/// An execution row as the queries above return it.
#[derive(Debug, sqlx::FromRow)]
pub struct RawExec {
    pub eid: String,
    pub part: i64,
    pub flow_id: Option<String>,
    pub lane_id: String,
    pub public_state: String,
    pub lifecycle_phase: String,
    pub cancellation_reason: Option<String>,
    pub blocking_reason: Option<String>,
    pub created_at_ms: i64,
    pub namespace: Option<String>,
    pub last_mutation_at: Option<String>,
    pub kind: Option<String>,
    pub tags: Option<String>,
    pub terminal_at_ms: Option<i64>,
    pub attempt_outcome: Option<String>,
    pub attempts: i64,
}

/// A uuid read as text (Postgres hyphenated, SQLite bare hex); empty is none.
pub(super) fn uuid_text(raw: &str) -> Result<Option<uuid::Uuid>, ReadError> {
    if raw.is_empty() {
        return Ok(None);
    }
    uuid::Uuid::parse_str(raw).map(Some).map_err(|e| ReadError::store("decode row", format!("{raw:?} is not a uuid: {e}")))
}

/// The stored tags object (`{"shop.order_id": "A-1234"}`), by key; a
/// value that is no string is shown as its JSON text.
fn tags(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(map) = raw.and_then(|r| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(r).ok()) else {
        return Vec::new();
    };
    map.into_iter().map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect()
}

impl RawExec {
    /// The board row, with the terminal-state fix applied.
    pub fn line(self) -> Result<ExecLine, ReadError> {
        let u = uuid_text(&self.eid)?.ok_or_else(|| ReadError::store("decode row", "empty execution id"))?;
        let id = ExecutionId::parse(&format!("{{fp:{}}}:{u}", self.part))
            .map_err(|e| ReadError::store("decode row", e))?;
        let literal = crate::backend::state_fix::public_state(
            &self.public_state,
            &self.lifecycle_phase,
            self.attempt_outcome.as_deref(),
            self.cancellation_reason.as_deref(),
        );
        let state = super::parse_state(literal)
            .ok_or_else(|| ReadError::store("decode row", format!("unknown public_state {literal:?} of {id}")))?;
        let flow_id = match self.flow_id.as_deref() {
            Some(f) => uuid_text(f)?.map(|u| u.to_string()),
            None => None,
        };
        Ok(ExecLine {
            id,
            flow_id,
            lane: self.lane_id,
            namespace: self.namespace.unwrap_or_default(),
            state,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            created_at: self.created_at_ms,
            last_mutation_at: self.last_mutation_at.and_then(|t| t.parse().ok()).unwrap_or(self.created_at_ms),
            blocking_reason: self.blocking_reason.filter(|r| !r.is_empty()),
            kind: self.kind.unwrap_or_default(),
            finished_at: self.terminal_at_ms,
            tags: tags(self.tags.as_deref()),
            flow_kind: None,
            workers: None,
        })
    }

    /// The keyset cursor of this row for the newest-first lists.
    pub fn cursor(&self) -> String {
        format!("{}.{}.{}", self.created_at_ms, self.part, self.eid)
    }
}

/// A suspended row: [`RawExec`] plus the suspension.
#[derive(Debug, sqlx::FromRow)]
pub struct RawSuspended {
    #[sqlx(flatten)]
    pub exec: RawExec,
    pub suspended_at_ms: i64,
    pub reason_code: Option<String>,
}

impl RawSuspended {
    pub fn cursor(&self) -> String {
        format!("{}.{}.{}", self.suspended_at_ms, self.exec.part, self.exec.eid)
    }

    pub fn line(self) -> Result<SuspendedLine, ReadError> {
        Ok(SuspendedLine { suspended_at: self.suspended_at_ms, reason: self.reason_code, exec: self.exec.line()? })
    }
}

/// An attempt holding a lease.
#[derive(Debug, sqlx::FromRow)]
pub struct RawLeaseHead {
    pub part: i64,
    pub eid: String,
    pub lease_attempt: i64,
    pub holder: Option<String>,
    pub lease_epoch: i64,
    pub lease_expires_at_ms: i64,
}

impl RawLeaseHead {
    /// The execution id of the attempt.
    pub fn id(&self) -> Option<ExecutionId> {
        ExecutionId::parse(&row_id(self.part, &self.eid)?).ok()
    }
}

/// A live execution row with its current attempt index.
#[derive(Debug, sqlx::FromRow)]
pub struct RawExecAt {
    #[sqlx(flatten)]
    pub exec: RawExec,
    pub cur_attempt: i64,
}

/// Leases whose attempt is its execution's current one, in the heads' order.
pub fn lease_lines(heads: Vec<RawLeaseHead>, rows: Vec<RawExecAt>, limit: usize) -> Result<Vec<LeaseLine>, ReadError> {
    let mut rows: Vec<Option<RawExecAt>> = rows.into_iter().map(Some).collect();
    let mut out = Vec::new();
    for h in heads {
        let key = row_id(h.part, &h.eid);
        let found = rows.iter_mut().find(|r| {
            r.as_ref().is_some_and(|r| row_id(r.exec.part, &r.exec.eid) == key && r.cur_attempt == h.lease_attempt)
        });
        let Some(row) = found.and_then(Option::take) else { continue };
        out.push(LeaseLine {
            holder: h.holder.unwrap_or_default(),
            epoch: u64::try_from(h.lease_epoch).unwrap_or(0),
            attempt_index: u32::try_from(h.lease_attempt).unwrap_or(0),
            expires_at: h.lease_expires_at_ms,
            exec: row.exec.line()?,
        });
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}

/// A flow row.
#[derive(Debug, sqlx::FromRow)]
pub struct RawFlow {
    pub fid: String,
    pub part: i64,
    pub public_flow_state: String,
    pub created_at_ms: i64,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub node_count: Option<String>,
    pub edge_count: Option<String>,
    pub last_mutation_at: Option<String>,
}

impl RawFlow {
    pub fn cursor(&self) -> String {
        format!("{}.{}.{}", self.created_at_ms, self.part, self.fid)
    }

    pub fn line(self) -> Result<FlowLine, ReadError> {
        let u = uuid_text(&self.fid)?.ok_or_else(|| ReadError::store("decode row", "empty flow id"))?;
        let num = |v: &Option<String>| v.as_deref().and_then(|s| s.parse().ok()).unwrap_or(0);
        Ok(FlowLine {
            id: FlowId::from_uuid(u),
            kind: self.kind.clone().unwrap_or_default(),
            namespace: self.namespace.clone().unwrap_or_else(|| "default".into()),
            state: FlowState::from_stored(&self.public_flow_state),
            status: self.public_flow_state.clone(),
            node_count: num(&self.node_count),
            edge_count: num(&self.edge_count),
            created_at: self.created_at_ms,
            last_mutation_at: self.last_mutation_at.as_deref().and_then(|s| s.parse().ok()).unwrap_or(self.created_at_ms),
        })
    }
}

/// Rows to a page: the extra row fetched past `limit` says there is more.
pub fn page<R, T>(
    mut rows: Vec<R>,
    limit: usize,
    cursor: impl Fn(&R) -> String,
    line: impl Fn(R) -> Result<T, ReadError>,
) -> Result<super::Page<T>, ReadError> {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(&cursor) } else { None };
    let rows = rows.into_iter().map(line).collect::<Result<Vec<_>, _>>()?;
    Ok(super::Page::new(rows, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_numbers_its_parameters() {
        let q = executions(Dialect::Sqlite, &ExecQuery { lane: Some("x".into()), ..Default::default() }, None, 5, Order::Index, None).unwrap();
        assert!(q.sql.contains("ec.lane_id = ?1") && q.sql.ends_with("LIMIT ?2"), "{}", q.sql);
        assert!(!q.sql.contains('$'));
    }

    #[test]
    fn cursors_are_checked() {
        let bad = executions(Dialect::Postgres, &ExecQuery::default(), Some("1.2.not-a-uuid"), 5, Order::Index, None);
        assert!(matches!(bad, Err(ReadError::BadCursor(_))));
        let ok = executions(Dialect::Postgres, &ExecQuery::default(), Some(&format!("5.3.{}", uuid::Uuid::nil())), 5, Order::Index, None).unwrap();
        assert!(ok.sql.contains("< ($1, $2::smallint, $3::uuid)"), "{}", ok.sql);
    }

    fn searching(q: &str) -> ExecQuery {
        use ff_board_domain::query::{Query as Parsed, Scope};
        let parsed = Parsed::parse(q, Scope::Executions).expect("query");
        ExecQuery { search: Some(super::super::search::Search::new(parsed)), ..Default::default() }
    }

    #[test]
    fn pages_over_every_partition_keep_their_plan_unless_a_value_shapes_it() {
        let plan = |q: &str| executions(Dialect::Postgres, &searching(q), None, 5, Order::Index, None).unwrap().plan;
        assert_eq!(plan("state:waiting tag:shop.order_id=A-1"), Plan::Generic);
        assert_eq!(plan("kind:deploy*"), Plan::Custom, "a LIKE prefix needs its value");
        assert_eq!(plan("kind:deploy"), Plan::Generic);
        assert_eq!(plan("3f2a"), Plan::Custom, "an id prefix is a LIKE");
        assert_eq!(members(Dialect::Postgres, 3, &FlowId::new(), 5).plan, Plan::Custom, "one partition");
    }

    #[test]
    fn terminal_states_are_recomputed() {
        let q = ExecQuery { state: Some(PublicState::Completed), ..Default::default() };
        let sql = executions(Dialect::Postgres, &q, None, 5, Order::Index, None).unwrap().sql;
        assert!(sql.contains(DONE) && sql.contains("= 'completed'"));
    }
}
