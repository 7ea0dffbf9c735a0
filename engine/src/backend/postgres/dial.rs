//! Dial Postgres: one pool (custom plans, no JIT) shared by the engine
//! backend and the board's own reads, and a small one of kept plans for the
//! board's pages over every partition; `--migrate` applies FlowFabric's
//! schema and the board's indexes, otherwise a missing schema is a clear error.
use std::sync::Arc;
use std::time::Duration;

use ff_core::engine_backend::EngineBackend;
use ff_core::partition::PartitionConfig;

use crate::backend::{self, shared};
use crate::connect::{BackendKind, Connected, SideStore};
use crate::store_error::{Store, StoreError};

/// Connections of the pool of kept plans (pages over every partition).
const WIDE_CONNECTIONS: u32 = 2;
/// Plans each of those connections keeps (least recently used dropped).
const WIDE_STATEMENTS: usize = 16;

/// Connect to the database at `url`.
pub async fn dial(url: &str, migrate: bool) -> Result<Connected, StoreError> {
    // FlowFabric's tables are hash-partitioned 256 ways. With the
    // generic plans prepared statements switch to after 5 runs, every
    // query locks all 256 partitions and their indexes (~1500 locks),
    // and a few concurrent reads exhaust the server's shared lock
    // table ("out of shared memory"). Custom plans prune to the one
    // partition at plan time.
    // JIT off: a board page merges all 256 partitions, which costs
    // past `jit_above_cost`; compiling ~4000 functions took 2 s of a
    // 12 ms query (measured on the board's executions page).
    let base = url
        .parse::<sqlx::postgres::PgConnectOptions>()
        .map_err(|e| StoreError::invalid(Store::Connection, "parse the postgres URL", e.to_string()))?;
    let options = base.clone().options([("plan_cache_mode", "force_custom_plan"), ("jit", "off")]);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|e| StoreError::unreachable(Store::Connection, "connect postgres", e))?;
    // The board's pages over every partition (`sql::Plan::Generic`): such a
    // query locks every partition however it is planned, so a kept plan
    // costs no more locks, and saves the 40–70 ms of planning each run.
    // Each kept plan takes about 4 MB of the server's memory per
    // connection: WIDE_CONNECTIONS × WIDE_STATEMENTS bounds it (~128 MB).
    // No sequential scans on these pages: a partition of a few thousand rows
    // looks cheaper to read whole than through an index, and 256 of them are
    // the whole store (a rare tag's probe read 1M rows in 673 ms; on its GIN
    // index, 8 ms).
    let wide = sqlx::postgres::PgPoolOptions::new()
        .max_connections(WIDE_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(
            base.options([("plan_cache_mode", "force_generic_plan"), ("jit", "off"), ("enable_seqscan", "off")])
                .statement_cache_capacity(WIDE_STATEMENTS),
        );
    if migrate {
        ff_backend_postgres::migrate::apply_migrations(&pool)
            .await
            .map_err(StoreError::at(Store::Schema, "apply FlowFabric migrations"))?;
        backend::postgres::migrate(&pool).await?;
    } else {
        let present: Option<String> =
            sqlx::query_scalar("SELECT to_regclass('ff_exec_core')::text")
                .fetch_one(&pool)
                .await
                .map_err(StoreError::at(Store::Schema, "check schema"))?;
        if present.is_none() {
            return Err(StoreError::invalid(
                Store::Schema,
                "check schema",
                "FlowFabric schema missing in this database (no table ff_exec_core): \
                 start the board with --migrate to apply it",
            ));
        }
    }
    let partitions = PartitionConfig::default();
    let backend: Arc<dyn EngineBackend> = crate::backend::postgres::fill::PostgresFilled::new(
        ff_backend_postgres::PostgresBackend::from_pool(pool.clone(), partitions),
        pool.clone(),
    );
    Ok(Connected {
        backend,
        reads: shared(backend::postgres::PostgresReads { pool: pool.clone(), wide, partitions }),
        side: SideStore::Postgres(pool),
        partitions,
        kind: BackendKind::Postgres,
        valkey_seed: None,
    })
}
