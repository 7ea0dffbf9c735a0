//! [`SideStore`]: the board's own connection to a deployment's store,
//! beside the engine trait, for what the trait does not give: the audit
//! log, session generations, a stored suspension's condition and tally, a
//! waitpoint's owner. This is the one place that chooses a backend for
//! those reads; the bodies are written once for both SQL backends
//! (`sql::side`, `sql::audit`) and once for Valkey (`valkey::side`,
//! `valkey::audit`, `valkey::gate`), and nothing outside `backend/` matches
//! on the variants.
use ff_core::engine_error::EngineError;
use ff_core::partition::PartitionConfig;
use ff_core::types::{ExecutionId, WaitpointId};

use super::sql::pool::Pool;
use super::{postgres, sql, sqlite, valkey};
use crate::audit::AuditStore;
use crate::connect::Connected;
use crate::gate::Gate;
use crate::live::{supervise, Feed, StatusTx};
use crate::store_error::StoreError;

/// Connection to a store beside the trait (chosen once, when the board dials).
#[derive(Clone)]
pub enum SideStore {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
    Valkey(ferriskey::Client),
}

/// Lanes found outside the engine's registry, and the walk that finds them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanesFound {
    pub outside: Vec<String>,
    /// Per cent of the walk's current pass.
    pub percent: u8,
    /// Whole passes done: with none, lanes may still be missing.
    pub passes: u64,
}

/// A store as its bodies are written: SQL (either backend) or Valkey.
enum Side<'a> {
    Sql(Pool),
    Valkey(&'a ferriskey::Client),
}

impl SideStore {
    fn side(&self) -> Side<'_> {
        match self {
            SideStore::Sqlite(pool) => Side::Sql(Pool::Sqlite(pool.clone())),
            SideStore::Postgres(pool) => Side::Sql(Pool::Postgres(pool.clone())),
            SideStore::Valkey(client) => Side::Valkey(client),
        }
    }

    /// Open the audit log's storage, creating it when missing.
    pub async fn open_audit(&self) -> Result<Box<dyn AuditStore>, StoreError> {
        Ok(match self.side() {
            Side::Sql(pool) => Box::new(sql::audit::open(pool).await?),
            Side::Valkey(client) => Box::new(valkey::audit::open(client).await?),
        })
    }

    /// Open the saved views' storage, creating it when missing.
    pub async fn open_views(&self) -> Result<Box<dyn crate::views::ViewStore>, StoreError> {
        let store: Box<dyn crate::views::ViewStore> = match self.side() {
            Side::Sql(pool) => Box::new(sql::views::open(pool).await?),
            Side::Valkey(client) => Box::new(valkey::views::open(client)),
        };
        Ok(Box::new(crate::views::Recent::new(store)))
    }

    /// Open the two-person requests' storage, creating it when missing.
    pub async fn open_requests(&self) -> Result<Box<dyn crate::requests::RequestStore>, StoreError> {
        Ok(match self.side() {
            Side::Sql(pool) => Box::new(sql::requests::open(pool).await?),
            Side::Valkey(client) => Box::new(valkey::requests::open(client)),
        })
    }

    /// Start finding lanes outside the engine's registry (Valkey: the walk
    /// of `valkey::lanes`; the SQL backends list every execution without
    /// knowing its lane, so they need none).
    pub fn discover_lanes(&self, partitions: PartitionConfig) {
        if let Side::Valkey(client) = self.side() {
            valkey::lanes::spawn(client.clone(), partitions);
        }
    }

    /// The lanes found outside the registry and how far the walk is;
    /// `None` on the SQL backends.
    pub async fn lanes_found(&self, partitions: &PartitionConfig) -> Result<Option<LanesFound>, StoreError> {
        let Side::Valkey(client) = self.side() else { return Ok(None) };
        let (seen, registry) = valkey::lanes::seen(client).await?;
        let walk = valkey::lanes::walk(client, partitions).await?;
        let outside = seen.into_iter().filter(|l| registry.binary_search(l).is_err()).collect();
        Ok(Some(LanesFound { outside, percent: walk.percent(), passes: walk.passes }))
    }

    /// One step of the lane walk as `holder` (`valkey::lanes::step`):
    /// `None` on the SQL backends or while another replica holds the walk.
    pub async fn lane_walk_step(&self, partitions: &PartitionConfig, holder: &str) -> Result<Option<valkey::lanes::Walk>, StoreError> {
        match self.side() {
            Side::Valkey(client) => valkey::lanes::step(client, partitions, holder).await,
            Side::Sql(_) => Ok(None),
        }
    }

    /// The note a list read from the board's search index carries while
    /// that index is still being built (Valkey; `None` elsewhere).
    pub async fn index_note(&self, partitions: &PartitionConfig, q: &ff_board_domain::query::Query) -> Result<Option<String>, StoreError> {
        match self.side() {
            Side::Valkey(client) => valkey::lanes::index_note(client, partitions, q).await,
            Side::Sql(_) => Ok(None),
        }
    }

    /// Keep the lanes a read came across (a flow's members) as seen.
    pub async fn note_lanes(&self, lanes: &[String]) -> Result<(), StoreError> {
        if let Side::Valkey(client) = self.side() {
            valkey::lanes::note(client, lanes).await?;
        }
        Ok(())
    }

    /// Per partition, the terminal executions of `lane` finished before
    /// `cutoff` (epoch ms): a repair tool's count before it trims
    /// (`crate::maintenance`). Valkey: one `ZCOUNT` per partition in one
    /// pipeline; SQL: one count (partition 0).
    pub async fn terminal_before(&self, partitions: &PartitionConfig, lane: &str, cutoff: i64) -> Result<Vec<(u16, u64)>, StoreError> {
        match self.side() {
            Side::Valkey(client) => valkey::retention::terminal_before(client, partitions, lane, cutoff).await,
            Side::Sql(pool) => Ok(vec![(0, sql::retention::terminal_before(&pool, lane, cutoff).await?)]),
        }
    }

    /// Create the session-generation storage when missing.
    pub async fn open_sessions(&self) -> Result<(), StoreError> {
        match self.side() {
            Side::Sql(pool) => sql::side::open_sessions(&pool).await,
            Side::Valkey(_) => Ok(()),
        }
    }

    /// Every user's session generation (users never signed out are absent).
    pub async fn session_generations(&self) -> Result<Vec<(String, i64)>, StoreError> {
        match self.side() {
            Side::Sql(pool) => sql::side::session_generations(&pool).await,
            Side::Valkey(client) => valkey::side::session_generations(client).await,
        }
    }

    /// Take `n` from allowance `name` in `slice` (`crate::allowance`).
    pub(crate) async fn take_allowance(&self, name: &str, n: u64, cap: u64, window_ms: i64, slice: i64) -> Result<crate::allowance::Allowance, StoreError> {
        match self.side() {
            Side::Sql(pool) => sql::side::take_allowance(&pool, name, n, cap, slice).await,
            Side::Valkey(client) => valkey::side::take_allowance(client, name, n, cap, window_ms, slice).await,
        }
    }

    /// Keep minute `minute`'s budget usage samples (budget, usage as JSON)
    /// for every replica (`crate::usage`); samples older than an hour go.
    pub(crate) async fn put_usage(&self, minute: i64, rows: &[(String, String)]) -> Result<(), StoreError> {
        match self.side() {
            Side::Sql(pool) => sql::side::put_usage(&pool, minute, rows).await,
            Side::Valkey(client) => valkey::side::put_usage(client, minute, rows).await,
        }
    }

    /// Minute `minute`'s budget usage samples, as [`SideStore::put_usage`] kept them.
    pub(crate) async fn usage_at(&self, minute: i64) -> Result<Vec<(String, String)>, StoreError> {
        match self.side() {
            Side::Sql(pool) => sql::side::usage_at(&pool, minute).await,
            Side::Valkey(client) => valkey::side::usage_at(client, minute).await,
        }
    }

    /// Move `user` to their next session generation; the new value.
    pub async fn bump_session_generation(&self, user: &str) -> Result<i64, StoreError> {
        match self.side() {
            Side::Sql(pool) => sql::side::bump_session_generation(&pool, user).await,
            Side::Valkey(client) => valkey::side::bump_session_generation(client, user).await,
        }
    }

    /// The stored suspension of `id` as a gate; `None` when it is not suspended.
    pub async fn suspension(&self, id: &ExecutionId) -> Result<Option<Gate>, StoreError> {
        match self.side() {
            Side::Sql(pool) => sql::side::suspension(&pool, id).await,
            Side::Valkey(client) => valkey::gate::read(client, id).await,
        }
    }

    /// The execution a pending waitpoint belongs to (one SQL row, or one
    /// pipeline of `HGET`s over the flow partitions on Valkey).
    pub async fn waitpoint_execution(
        &self,
        wp: &WaitpointId,
        partitions: &PartitionConfig,
    ) -> Result<Option<ExecutionId>, EngineError> {
        match self.side() {
            Side::Sql(pool) => sql::side::waitpoint_execution(&pool, wp).await,
            Side::Valkey(client) => valkey::side::waitpoint_execution(client, wp, partitions).await,
        }
    }

    /// Start the live readers of this backend (one per stream family,
    /// each supervised), feeding `crate::live::spawn`'s channel.
    pub(crate) fn spawn_readers(
        self,
        c: Connected,
        feed: impl Fn(&'static str) -> Feed + Clone + Send + 'static,
        status_tx: &StatusTx,
    ) {
        match self {
            SideStore::Sqlite(pool) => sqlite::live::spawn(c, pool, feed, status_tx),
            SideStore::Postgres(pool) => {
                for (stream, table) in [
                    ("completion", &postgres::live::COMPLETIONS),
                    ("lease", &postgres::live::LEASES),
                    ("signal", &postgres::live::SIGNALS),
                ] {
                    let (pool, feed) = (pool.clone(), feed.clone());
                    supervise(stream, status_tx, move |_| postgres::live::run(pool.clone(), table, feed(stream)));
                }
            }
            SideStore::Valkey(client) => valkey::live::spawn(c, client, feed, status_tx),
        }
    }
}

/// A side-store failure as an engine transport error.
pub(crate) fn lookup_error(e: impl std::error::Error + Send + Sync + 'static) -> EngineError {
    EngineError::Transport { backend: "ff-board lookup", source: Box::new(e) }
}
