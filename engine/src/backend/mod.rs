//! The board's list reads, one implementation per backend, chosen once
//! when the board dials ([`crate::connect::dial`] puts it in
//! `Connected::reads`).
//!
//! Every list page of the board is one call of [`Reads`], and each call's
//! work is bounded by its page size, never by the size of the store:
//! - Postgres and SQLite ([`postgres`], [`sqlite`]): one query per page on
//!   the engine's own tables, keyset pagination, the row's columns read in
//!   the same query (no per-row describe), helped by the board's own
//!   `ff_board_*` indexes (created by `--migrate`, see [`sql::INDEXES`]).
//! - Valkey ([`valkey`]): no SCAN. The engine's own per-partition index
//!   structures (per-lane state zsets, flow index sets, lease-expiry zsets)
//!   are read in one pipeline with a limit of one page per key, merged
//!   (k-way) in the board, and the page's rows are read in one more
//!   pipeline (`HMGET` of the fields a row shows).
//!
//! Cursors are opaque strings each backend writes and parses itself
//! (the app wraps them in base64url); a cursor that does not parse is a
//! [`ReadError::BadCursor`] (a 400), never a panic.
use std::time::Duration;

use async_trait::async_trait;
use ff_core::engine_error::EngineError;
use ff_core::state::PublicState;
use ff_core::types::{BudgetId, ExecutionId, FlowId};

use crate::store_error::{Store, StoreError};

pub mod cache;
pub mod filled;
pub mod postgres;
pub mod quirks;
pub mod search;
pub mod sql;
mod sql_reads;
pub mod side;
pub mod sqlite;
pub mod state_fix;
pub mod valkey;

/// A backend's reads as the board uses them: deadline inside, single
/// flight and reuse outside.
pub(crate) fn shared(reads: impl Reads) -> std::sync::Arc<dyn Reads> {
    cache::Cached::wrap(Deadlined::wrap(reads), cache::read_cache_setting())
}

/// Milliseconds since the epoch now (what a query's ages count from).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// How many rows a list page may ask for, whatever the caller says.
pub const MAX_PAGE: usize = 200;
/// Rows a filtered scan may look at for one page when the store has no
/// index on the filter (Valkey flow filters, SQL terminal states whose
/// stored `public_state` is stale). Past it the page ends early with a
/// cursor, and the page says it was cut short.
pub const MAX_SCAN: usize = 2_000;
/// Default deadline of one backend call (`FF_BOARD_DEADLINE_MS`).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

/// One execution as a list row shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecLine {
    pub id: ExecutionId,
    pub flow_id: Option<String>,
    pub lane: String,
    pub namespace: String,
    pub state: PublicState,
    pub attempts: u32,
    pub created_at: i64,
    pub last_mutation_at: i64,
    pub blocking_reason: Option<String>,
    /// The execution's kind (`execution_kind`): the step an operator knows
    /// it by (empty when the store has none).
    pub kind: String,
    /// When it finished (`terminal_at_ms`, Valkey's `completed_at`).
    pub finished_at: Option<i64>,
    /// Its tags, by key (FlowFabric's namespaced keys, `shop.order_id`).
    pub tags: Vec<(String, String)>,
    /// Its flow's kind and its attempts' worker instances, read only where a
    /// query names `flowkind:` or `worker:` and the store's statement does
    /// not answer it itself (Valkey); `None`: not read.
    pub flow_kind: Option<String>,
    pub workers: Option<Vec<String>>,
}

pub use ff_board_domain::{ExecState, FlowState};
pub use quirks::{mint_execution_id, Quirks};

/// The board's state of an engine state (exhaustive over what 0.15 has;
/// a newer engine's state is [`ExecState::Unknown`], never another one).
pub fn exec_state(s: PublicState) -> ExecState {
    match s {
        PublicState::Waiting => ExecState::Waiting,
        PublicState::Delayed => ExecState::Delayed,
        PublicState::RateLimited => ExecState::RateLimited,
        PublicState::WaitingChildren => ExecState::WaitingChildren,
        PublicState::Active => ExecState::Active,
        PublicState::Suspended => ExecState::Suspended,
        PublicState::Resumable => ExecState::Resumable,
        PublicState::Completed => ExecState::Completed,
        PublicState::Failed => ExecState::Failed,
        PublicState::Cancelled => ExecState::Cancelled,
        PublicState::Expired => ExecState::Expired,
        PublicState::Skipped => ExecState::Skipped,
        _ => ExecState::Unknown,
    }
}

/// The engine state a board state filters on (`None` for
/// [`ExecState::Unknown`], which is never a filter).
pub fn public_state(s: ExecState) -> Option<PublicState> {
    Some(match s {
        ExecState::Waiting => PublicState::Waiting,
        ExecState::Delayed => PublicState::Delayed,
        ExecState::RateLimited => PublicState::RateLimited,
        ExecState::WaitingChildren => PublicState::WaitingChildren,
        ExecState::Active => PublicState::Active,
        ExecState::Suspended => PublicState::Suspended,
        ExecState::Resumable => PublicState::Resumable,
        ExecState::Completed => PublicState::Completed,
        ExecState::Failed => PublicState::Failed,
        ExecState::Cancelled => PublicState::Cancelled,
        ExecState::Expired => PublicState::Expired,
        ExecState::Skipped => PublicState::Skipped,
        ExecState::Unknown => return None,
    })
}

/// One flow as a list row shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowLine {
    pub id: FlowId,
    pub kind: String,
    pub namespace: String,
    pub state: FlowState,
    /// The stored `public_flow_state` (`open`, `running`, `blocked`, …).
    pub status: String,
    pub node_count: u32,
    pub edge_count: u32,
    pub created_at: i64,
    pub last_mutation_at: i64,
}

/// A suspended execution: its row, when it suspended and why.
#[derive(Clone, Debug, PartialEq)]
pub struct SuspendedLine {
    pub exec: ExecLine,
    pub suspended_at: i64,
    pub reason: Option<String>,
}

/// An execution holding a lease.
#[derive(Clone, Debug, PartialEq)]
pub struct LeaseLine {
    pub exec: ExecLine,
    pub holder: String,
    pub epoch: u64,
    pub attempt_index: u32,
    pub expires_at: i64,
}

/// One attempt of an execution as the store keeps it (the timeline's bars).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptLine {
    /// 0-based.
    pub index: u32,
    /// The worker instance that ran it.
    pub worker: String,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// As stored: `success`, `failure`, `cancelled`, … (SQL `outcome`),
    /// or Valkey's `attempt_state` (`ended_success`, `ended_failure`, …);
    /// empty while it runs.
    pub outcome: String,
    /// Why it failed, where the store says.
    pub failure: Option<String>,
    /// When its lease expires, while it holds one (the SQL stores keep it
    /// on the attempt; Valkey's snapshot carries the lease itself).
    pub lease_expires_at: Option<i64>,
}

/// One lease event of an execution (`acquired`, `renewed`, `expired`,
/// `reclaimed`, `revoked`, `released`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseMark {
    pub at: i64,
    pub event: String,
}

/// One signal an execution received: when, its name (empty where the
/// store kept none: a SQL store names only the current suspension's
/// signals) and who sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalMark {
    pub at: i64,
    pub name: String,
    pub source: String,
}

/// What an execution's timeline is drawn from: its newest
/// [`HISTORY_ATTEMPTS`] attempts, [`HISTORY_LEASES`] lease events and
/// [`HISTORY_SIGNALS`] signals, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub attempts: Vec<AttemptLine>,
    pub leases: Vec<LeaseMark>,
    pub signals: Vec<SignalMark>,
}

/// One quota policy with its current use (`Reads::quotas`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuotaLine {
    pub id: String,
    /// Admissions a window allows (0: no rate limit).
    pub max_per_window: u64,
    pub window_seconds: u64,
    /// Executions admitted at once (0: no concurrency cap).
    pub concurrency_cap: u64,
    /// Admitted now (the engine's counter).
    pub active: u64,
    /// Admissions within the current window.
    pub in_window: u64,
}

/// Quota policies one read returns at most (policies, not runs: few).
pub const MAX_QUOTAS: usize = 200;

/// Attempts one history read returns at most.
pub const HISTORY_ATTEMPTS: usize = 50;
/// Lease events one history read returns at most.
pub const HISTORY_LEASES: usize = 200;
/// Signals a timeline draws at most (the newest).
pub const HISTORY_SIGNALS: usize = 50;

/// Filter of an execution list (every part optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ExecQuery {
    pub state: Option<PublicState>,
    pub lane: Option<String>,
    pub namespace: Option<String>,
    /// A query of the board's language (`docs/SEARCH.md`), beside the
    /// filters above.
    pub search: Option<search::Search>,
}

/// Filter of the flow list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowQuery {
    pub state: Option<FlowState>,
    pub namespace: Option<String>,
    /// A query of the board's language on flows (`docs/SEARCH.md`).
    pub search: Option<search::Search>,
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<String>,
    /// The page ended before it was full because [`MAX_SCAN`] rows were
    /// looked at: "at least" rather than "exactly".
    pub cut_short: bool,
}

impl<T> Page<T> {
    pub fn new(rows: Vec<T>, next: Option<String>) -> Self {
        Page { rows, next, cut_short: false }
    }
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The engine answered with an error.
    #[error("{op}: {source}")]
    Engine { op: &'static str, source: EngineError },
    /// The store beside the trait failed (query, connection, decoding).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The cursor is not one this backend wrote.
    #[error("malformed cursor {0:?}: start again from the first page")]
    BadCursor(String),
    /// A query term this backend does not answer (yet): shown as "not
    /// supported by this backend", never answered with fewer rows.
    #[error("search by {field}: is not supported by this backend")]
    Unanswered { field: &'static str },
    /// No answer within the deadline.
    #[error("{op}: no answer within {} ms", .after.as_millis())]
    Timeout { op: &'static str, after: Duration },
    /// The answer of a read shared with other callers ([`cache`]).
    #[error(transparent)]
    Shared(std::sync::Arc<ReadError>),
}

impl ReadError {
    /// The error itself, out of the read cache's sharing wrapper.
    pub fn root(&self) -> &ReadError {
        match self {
            ReadError::Shared(inner) => inner.root(),
            other => other,
        }
    }

    /// A list read of the store that failed in `op` with `e`.
    pub fn store(op: &'static str, e: impl std::fmt::Display) -> Self {
        ReadError::Store(StoreError::new(Store::Reads, op, e))
    }
}

/// Run `fut` with a deadline; past it the read is a [`ReadError::Timeout`].
pub async fn deadline<T>(
    op: &'static str,
    after: Duration,
    fut: impl std::future::Future<Output = Result<T, ReadError>>,
) -> Result<T, ReadError> {
    match tokio::time::timeout(after, fut).await {
        Ok(r) => r,
        Err(_) => Err(ReadError::Timeout { op, after }),
    }
}

/// The board's list reads (see the module doc). Every method is one page
/// and takes at most [`MAX_PAGE`] rows.
#[async_trait]
pub trait Reads: Send + Sync + 'static {
    /// Flows, newest first where the store orders by time (SQL), by id
    /// otherwise (Valkey keeps flows in unordered sets).
    async fn flows(&self, q: &FlowQuery, after: Option<&str>, limit: usize) -> Result<Page<FlowLine>, ReadError>;
    /// Executions matching `q` (see each backend for the order).
    async fn executions(&self, q: &ExecQuery, after: Option<&str>, limit: usize)
        -> Result<Page<ExecLine>, ReadError>;
    /// Suspended executions, oldest suspension first.
    async fn suspended(&self, search: Option<&search::Search>, after: Option<&str>, limit: usize) -> Result<Page<SuspendedLine>, ReadError>;
    /// The members of one flow (at most `limit`), oldest first.
    async fn flow_members(&self, flow: &FlowId, limit: usize) -> Result<Vec<ExecLine>, ReadError>;
    /// Executions holding a lease, soonest expiry first.
    async fn leases(&self, limit: usize) -> Result<Vec<LeaseLine>, ReadError>;
    /// Every budget id (budgets are few: policies, not runs).
    async fn budget_ids(&self) -> Result<Vec<BudgetId>, ReadError>;
    /// The gates (stored suspension and pending waitpoints) of a page of
    /// suspended executions, at most [`MAX_PAGE`], in one or two store reads.
    async fn gates(&self, ids: &[ExecutionId]) -> Result<Vec<crate::gate::GateRows>, ReadError>;
    /// One execution's attempts and lease events (a bounded read: at most
    /// [`HISTORY_ATTEMPTS`] and [`HISTORY_LEASES`], newest first).
    async fn history(&self, id: &ExecutionId) -> Result<History, ReadError>;
    /// Quota policies by id with their limits and current use (at most
    /// [`MAX_QUOTAS`]; `now` bounds the window); `Ok(None)`'s place is an
    /// empty list: 0.15 lists no policies through the trait.
    async fn quotas(&self, now: i64) -> Result<Vec<QuotaLine>, ReadError>;
    /// Executions per blocked family counted from the store's own blocked
    /// indexes where it keeps them (Valkey: one pipeline of `ZCARD`s, a
    /// cost fixed by partitions and lanes), for the families it can count;
    /// `None` where a capped query per family is as cheap (SQL: indexed).
    async fn stuck_counts(&self, _families: &[ff_board_domain::BlockedFamily]) -> Result<Option<Vec<(ff_board_domain::BlockedFamily, u64)>>, ReadError> {
        Ok(None)
    }
    /// Forget kept answers (after the board changed the store).
    fn invalidate(&self) {}
}

/// A public state from its snake_case literal.
pub fn parse_state(raw: &str) -> Option<PublicState> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
}

/// The snake_case literal of a public state.
pub fn state_name(s: PublicState) -> &'static str {
    s.as_str()
}

/// The terminal public states (the ones the SQL backends may have stale).
pub fn is_terminal(s: PublicState) -> bool {
    matches!(
        s,
        PublicState::Completed | PublicState::Failed | PublicState::Cancelled | PublicState::Expired | PublicState::Skipped
    )
}

/// Clamp a caller's page size to `1..=MAX_PAGE`.
pub fn clamp(limit: usize) -> usize {
    limit.clamp(1, MAX_PAGE)
}

/// Split a cursor written as `a.b.c` parts.
pub(crate) fn parts<const N: usize>(raw: &str) -> Result<[&str; N], ReadError> {
    let v: Vec<&str> = raw.splitn(N, '.').collect();
    v.try_into().map_err(|_| ReadError::BadCursor(raw.to_owned()))
}

/// Budget ids read from the store: parsed, sorted, without duplicates.
pub(crate) fn budgets(raw: Vec<String>) -> Result<Vec<BudgetId>, ReadError> {
    let mut ids: Vec<BudgetId> = raw
        .iter()
        .map(|r| BudgetId::parse(r).map_err(|e| ReadError::store("list budgets", format!("malformed budget id {r:?}: {e}"))))
        .collect::<Result<_, _>>()?;
    ids.sort_by_key(|b| b.to_string());
    ids.dedup();
    Ok(ids)
}

/// The deadline of every backend call: `FF_BOARD_DEADLINE_MS`, else
/// [`DEFAULT_DEADLINE`]; read once.
pub fn deadline_setting() -> Duration {
    static D: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *D.get_or_init(|| {
        std::env::var("FF_BOARD_DEADLINE_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_DEADLINE)
    })
}

/// Board-wide reads running at once, per board process: past it a read
/// waits its turn (within its deadline), so a burst of distinct queries
/// cannot take every store connection from the engine's own workers.
pub const READ_CONCURRENCY: usize = 4;

/// A [`Reads`] whose every call has the deadline ([`deadline_setting`])
/// and takes one of [`READ_CONCURRENCY`] permits.
pub struct Deadlined<R> {
    inner: R,
    after: Duration,
    permits: tokio::sync::Semaphore,
}

impl<R: Reads> Deadlined<R> {
    pub fn wrap(inner: R) -> std::sync::Arc<dyn Reads> {
        std::sync::Arc::new(Deadlined { inner, after: deadline_setting(), permits: tokio::sync::Semaphore::new(READ_CONCURRENCY) })
    }

    /// `fut` under a permit and the deadline (waiting for the permit counts).
    async fn run<T>(&self, op: &'static str, fut: impl std::future::Future<Output = Result<T, ReadError>>) -> Result<T, ReadError> {
        let started = std::time::Instant::now();
        let r = deadline(op, self.after, async {
            let _permit = self.permits.acquire().await.map_err(|e| ReadError::store(op, e))?;
            fut.await
        })
        .await;
        crate::metrics::global().backend(op, r.is_ok(), started.elapsed());
        r
    }
}

#[async_trait]
impl<R: Reads> Reads for Deadlined<R> {
    async fn flows(&self, q: &FlowQuery, after: Option<&str>, limit: usize) -> Result<Page<FlowLine>, ReadError> {
        self.run("list flows", self.inner.flows(q, after, limit)).await
    }
    async fn executions(&self, q: &ExecQuery, after: Option<&str>, limit: usize) -> Result<Page<ExecLine>, ReadError> {
        self.run("list executions", self.inner.executions(q, after, limit)).await
    }
    async fn suspended(&self, search: Option<&search::Search>, after: Option<&str>, limit: usize) -> Result<Page<SuspendedLine>, ReadError> {
        self.run("list suspended", self.inner.suspended(search, after, limit)).await
    }
    async fn flow_members(&self, flow: &FlowId, limit: usize) -> Result<Vec<ExecLine>, ReadError> {
        self.run("flow members", self.inner.flow_members(flow, limit)).await
    }
    async fn leases(&self, limit: usize) -> Result<Vec<LeaseLine>, ReadError> {
        self.run("active leases", self.inner.leases(limit)).await
    }
    async fn budget_ids(&self) -> Result<Vec<BudgetId>, ReadError> {
        self.run("list budgets", self.inner.budget_ids()).await
    }
    async fn gates(&self, ids: &[ExecutionId]) -> Result<Vec<crate::gate::GateRows>, ReadError> {
        self.run("read gates", self.inner.gates(ids)).await
    }
    async fn history(&self, id: &ExecutionId) -> Result<History, ReadError> {
        self.run("execution history", self.inner.history(id)).await
    }
    async fn quotas(&self, now: i64) -> Result<Vec<QuotaLine>, ReadError> {
        self.run("quota policies", self.inner.quotas(now)).await
    }
    async fn stuck_counts(&self, families: &[ff_board_domain::BlockedFamily]) -> Result<Option<Vec<(ff_board_domain::BlockedFamily, u64)>>, ReadError> {
        self.run("stuck counts", self.inner.stuck_counts(families)).await
    }
}

/// Declare lanes the way a FlowFabric deployment does at boot: on Valkey,
/// ff-server's `initialize_deployment` adds its configured lanes to
/// `ff:idx:lanes`, the registry the board reads lanes from (the engine does
/// not add lanes first seen at runtime). The SQL backends need nothing.
/// Used by the embedded demo and by tests, which stand in for ff-server.
pub async fn declare_lanes(c: &crate::connect::Connected, lanes: &[&str]) -> Result<(), StoreError> {
    if let crate::connect::SideStore::Valkey(client) = &c.side {
        if lanes.is_empty() {
            return Ok(());
        }
        let mut cmd = client.cmd("SADD").arg(ff_core::keys::lanes_index_key());
        for l in lanes {
            cmd = cmd.arg(*l);
        }
        cmd.execute::<i64>().await.map_err(StoreError::at(Store::Lanes, "declare lanes"))?;
    }
    Ok(())
}
