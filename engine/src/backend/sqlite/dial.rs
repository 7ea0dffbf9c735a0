//! Dial SQLite: the dev backend (refused unless `FF_DEV_MODE=1`), wrapped
//! with the reads it lacks ([`super::fill::SqliteFilled`]), and a side pool
//! on the same file for the board's own reads.
use std::sync::Arc;
use std::time::Duration;

use ff_core::engine_backend::EngineBackend;
use ff_core::partition::PartitionConfig;

use crate::backend::{self, shared};
use crate::connect::{BackendKind, Connected, SideStore};
use crate::store_error::{Store, StoreError};
use super::fill::SqliteFilled;

/// Open the SQLite file at `path`; `migrate` creates the board's indexes.
pub async fn dial(path: &str, migrate: bool) -> Result<Connected, StoreError> {
    if std::env::var("FF_DEV_MODE").as_deref() != Ok("1") {
        return Err(StoreError::invalid(Store::Connection, "open sqlite", "the SQLite backend is dev-only: set FF_DEV_MODE=1"));
    }
    let inner = ff_backend_sqlite::SqliteBackend::new(path)
        .await
        .map_err(|e| StoreError::unreachable(Store::Connection, "open sqlite", format!("{path}: {e}")))?;
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(opts)
        .await
        .map_err(|e| StoreError::unreachable(Store::Connection, "open sqlite read pool", format!("{path}: {e}")))?;
    let backend: Arc<dyn EngineBackend> = SqliteFilled::new(inner, pool.clone());
    if migrate {
        backend::sqlite::migrate(&pool).await?;
    }
    Ok(Connected {
        backend,
        reads: shared(backend::sqlite::SqliteReads { pool: pool.clone() }),
        side: SideStore::Sqlite(pool),
        // The SQLite backend is one logical partition.
        partitions: PartitionConfig { num_flow_partitions: 1, ..PartitionConfig::default() },
        kind: BackendKind::Sqlite,
        valkey_seed: None,
    })
}
