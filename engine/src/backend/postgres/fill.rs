//! `PostgresFilled`: the Postgres backend with a working
//! `describe_execution`.
//!
//! The 0.15 Postgres backend (`ff-backend-postgres`) fails
//! `describe_execution` with `Validation Corruption: describe_execution:
//! exec_core: flow_id: is not a valid UUID` for every flow member (it
//! hands ff-core's decoder the flow id as `{fp:N}:<uuid>`), and passes
//! the stored `public_state` through unnormalised, so a claimed row's
//! `running` is `Corruption` too, and a finished one still reads as live
//! (the 0.15 terminal-state gap, see `crate::backend::state_fix`).
//!
//! [`PostgresFilled`] is the same delegating wrapper as `SqliteFilled`
//! ([`Filled`]), over a side `PgPool` on the same database. It answers
//! `describe_execution` from the `ff_exec_core` row through the shared
//! [`ExecRow`] decoding (bare flow uuid, fixed state), applies the state
//! fix to `read_execution_info`, and delegates every other method to the
//! Postgres backend (its `describe_flow`, `list_flows`, `list_edges`,
//! `list_suspended`, `read_execution_info` decode flow members fine).
use async_trait::async_trait;
use ff_backend_postgres::PostgresBackend;
use ff_core::engine_error::EngineError;
use ff_core::types::ExecutionId;
use sqlx::PgPool;

pub use crate::backend::filled::Filled;
use crate::backend::filled::exec_row::{exec_row_sql, split_eid, ExecRow};
use crate::backend::filled::FillReads;

/// The Postgres backend with `describe_execution` (and the state of
/// `read_execution_info`) corrected; build it with
/// `PostgresFilled::new(backend, pool)`.
pub type PostgresFilled = Filled<PgPool>;

/// The Postgres side pool reads the `ff_exec_core` row itself and leaves
/// every other read to the backend.
#[async_trait]
impl FillReads for PgPool {
    type Backend = PostgresBackend;

    async fn exec_row(&self, id: &ExecutionId) -> Result<Option<ExecRow>, EngineError> {
        let (part, exec_uuid) = split_eid(id, "describe_execution")?;
        sqlx::query_as(&exec_row_sql("ec.flow_id::text", "ec.raw_fields::text", "$2::uuid"))
            .bind(part as i16) // the backend's own `id.partition() as i16`
            .bind(exec_uuid.to_string())
            .fetch_optional(self)
            .await
            .map_err(|e| EngineError::Transport { backend: "postgres", source: Box::new(e) })
    }
}
