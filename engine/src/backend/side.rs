//! [`SideStore`]: the board's own connection to a deployment's store,
//! beside the engine trait, for what the trait does not give: the audit
//! log, session generations, a stored suspension's condition and tally, a
//! waitpoint's owner. This is the one place that chooses a backend for
//! those reads; each backend's bodies live in its folder
//! (`sqlite::side`, `postgres::side`, `valkey::side`), and nothing outside
//! `backend/` matches on the variants.
use ff_core::engine_error::EngineError;
use ff_core::partition::PartitionConfig;
use ff_core::types::{ExecutionId, WaitpointId};

use super::{postgres, sql, sqlite, valkey};
use crate::audit::AuditStore;
use crate::connect::Connected;
use crate::live::{supervise, Feed, StatusTx};
use crate::gate::Gate;
use crate::store_error::{Store, StoreError};

/// Connection to a store beside the trait (chosen once, when the board dials).
#[derive(Clone)]
pub enum SideStore {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
    Valkey(ferriskey::Client),
}

/// Storage of session generations (`crate::sessions`): a SQL table, or a
/// Valkey hash.
pub(crate) const SESSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS ff_board_session_gen (user_name TEXT PRIMARY KEY, gen BIGINT NOT NULL)";
pub(crate) const SESSION_HASH: &str = "ff_board:{sessions}";
pub(crate) const SESSION_SELECT: &str = "SELECT user_name, gen FROM ff_board_session_gen";
pub(crate) const SESSION_UPSERT: &str = "INSERT INTO ff_board_session_gen (user_name, gen) VALUES ($1, 1) \
     ON CONFLICT (user_name) DO UPDATE SET gen = ff_board_session_gen.gen + 1 RETURNING gen";

impl SideStore {
    /// Open the audit log's storage, creating it when missing.
    pub async fn open_audit(&self) -> Result<Box<dyn AuditStore>, StoreError> {
        Ok(match self {
            SideStore::Sqlite(pool) => Box::new(sql::audit::open(sql::pool::Pool::Sqlite(pool.clone())).await?),
            SideStore::Postgres(pool) => Box::new(sql::audit::open(sql::pool::Pool::Postgres(pool.clone())).await?),
            SideStore::Valkey(client) => Box::new(valkey::audit::open(client).await?),
        })
    }

    /// Create the session-generation storage when missing.
    pub async fn open_sessions(&self) -> Result<(), StoreError> {
        match self {
            SideStore::Sqlite(pool) => sqlite::side::open_sessions(pool).await,
            SideStore::Postgres(pool) => postgres::side::open_sessions(pool).await,
            SideStore::Valkey(_) => Ok(()),
        }
        .map_err(StoreError::at(Store::Sessions, "create table"))
    }

    /// Every user's session generation (users never signed out are absent).
    pub async fn session_generations(&self) -> Result<Vec<(String, i64)>, StoreError> {
        match self {
            SideStore::Sqlite(pool) => sqlite::side::session_generations(pool).await,
            SideStore::Postgres(pool) => postgres::side::session_generations(pool).await,
            SideStore::Valkey(client) => valkey::side::session_generations(client).await,
        }
    }

    /// Move `user` to their next session generation; the new value.
    pub async fn bump_session_generation(&self, user: &str) -> Result<i64, StoreError> {
        match self {
            SideStore::Sqlite(pool) => sqlite::side::bump_session_generation(pool, user).await,
            SideStore::Postgres(pool) => postgres::side::bump_session_generation(pool, user).await,
            SideStore::Valkey(client) => valkey::side::bump_session_generation(client, user).await,
        }
    }

    /// The stored suspension of `id` as a gate; `None` when it is not suspended.
    pub async fn suspension(&self, id: &ExecutionId) -> Result<Option<Gate>, StoreError> {
        match self {
            SideStore::Sqlite(pool) => sqlite::side::suspension(pool, id).await,
            SideStore::Postgres(pool) => postgres::side::suspension(pool, id).await,
            SideStore::Valkey(client) => valkey::gate::read(client, id).await,
        }
    }

    /// The execution a pending waitpoint belongs to (one SQL row, or one
    /// pipeline of `HGET`s over the flow partitions on Valkey).
    pub async fn waitpoint_execution(
        &self,
        wp: &WaitpointId,
        partitions: &PartitionConfig,
    ) -> Result<Option<ExecutionId>, EngineError> {
        match self {
            SideStore::Sqlite(pool) => sqlite::side::waitpoint_execution(pool, wp).await,
            SideStore::Postgres(pool) => postgres::side::waitpoint_execution(pool, wp).await,
            SideStore::Valkey(client) => valkey::side::waitpoint_execution(client, wp, partitions).await,
        }
    }
}

impl SideStore {
    /// Start the live readers of this backend (one per stream family,
    /// each supervised), feeding `crate::live::spawn`'s channel.
    pub(crate) fn spawn_readers(
        self,
        c: Connected,
        feed: impl Fn(&'static str) -> Feed + Clone + Send + 'static,
        status_tx: &StatusTx,
    ) {
        match self {
            SideStore::Sqlite(pool) => {
                let (c1, c2, p1, p2, f) = (c.clone(), c.clone(), pool.clone(), pool.clone(), feed.clone());
                supervise("completion", &status_tx, move |_| sqlite::live::completions(c1.clone(), p1.clone(), f("completion")));
                let f = feed.clone();
                supervise("lease", &status_tx, move |_| sqlite::live::leases(c2.clone(), p2.clone(), f("lease")));
                supervise("signal", &status_tx, move |_| sqlite::live::signals(c.clone(), pool.clone(), feed("signal")));
            }
            SideStore::Postgres(pool) => {
                for (stream, table) in [
                    ("completion", &postgres::live::COMPLETIONS),
                    ("lease", &postgres::live::LEASES),
                    ("signal", &postgres::live::SIGNALS),
                ] {
                    let (pool, feed) = (pool.clone(), feed.clone());
                    supervise(stream, &status_tx, move |_| postgres::live::run(pool.clone(), table, feed(stream)));
                }
            }
            SideStore::Valkey(client) => valkey::live::spawn(c, client, feed, &status_tx),
        }
    }
}

/// A side-store failure as an engine transport error.
pub(crate) fn lookup_error(e: impl std::error::Error + Send + Sync + 'static) -> EngineError {
    EngineError::Transport { backend: "ff-board lookup", source: Box::new(e) }
}
