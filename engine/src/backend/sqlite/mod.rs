//! SQLite: the same page queries as Postgres (`backend::sql`, SQLite
//! dialect) on the SQLite backend's tables, one logical partition.
use async_trait::async_trait;
use ff_core::types::{BudgetId, ExecutionId, FlowId};
use sqlx::SqlitePool;

use super::sql::{self, Bind, Dialect, Query, RawExec, RawFlow, RawLease, RawPending, RawSuspended, RawSuspension};
use super::{clamp, ExecLine, ExecQuery, FlowLine, FlowQuery, LeaseLine, Page, ReadError, Reads, SuspendedLine};

/// The board's reads on a SQLite store.
pub struct SqliteReads {
    pub pool: SqlitePool,
}

/// Create the board's `ff_board_*` indexes (idempotent).
pub async fn migrate(pool: &SqlitePool) -> Result<(), String> {
    for ddl in sql::INDEXES {
        sqlx::query(ddl).execute(pool).await.map_err(|e| format!("create board index: {e}: {ddl}"))?;
    }
    Ok(())
}

async fn fetch<R>(pool: &SqlitePool, op: &'static str, q: Query) -> Result<Vec<R>, ReadError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
{
    let mut query = sqlx::query_as::<_, R>(&q.sql);
    for b in q.binds {
        query = match b {
            Bind::Int(i) => query.bind(i),
            Bind::Text(s) => query.bind(s),
        };
    }
    query.fetch_all(pool).await.map_err(|e| ReadError::store(op, e))
}

#[async_trait]
impl Reads for SqliteReads {
    async fn flows(&self, q: &FlowQuery, after: Option<&str>, limit: usize) -> Result<Page<FlowLine>, ReadError> {
        let limit = clamp(limit);
        let rows: Vec<RawFlow> = fetch(&self.pool, "list flows", sql::flows(Dialect::Sqlite, q, after, limit)?).await?;
        sql::page(rows, limit, RawFlow::cursor, RawFlow::line)
    }

    async fn executions(&self, q: &ExecQuery, after: Option<&str>, limit: usize) -> Result<Page<ExecLine>, ReadError> {
        let limit = clamp(limit);
        let query = sql::executions(Dialect::Sqlite, q, after, limit)?;
        let rows: Vec<RawExec> = fetch(&self.pool, "list executions", query).await?;
        sql::page(rows, limit, RawExec::cursor, RawExec::line)
    }

    async fn suspended(&self, after: Option<&str>, limit: usize) -> Result<Page<SuspendedLine>, ReadError> {
        let limit = clamp(limit);
        let rows: Vec<RawSuspended> =
            fetch(&self.pool, "list suspended", sql::suspended(Dialect::Sqlite, after, limit)?).await?;
        sql::page(rows, limit, RawSuspended::cursor, RawSuspended::line)
    }

    async fn flow_members(&self, flow: &FlowId, limit: usize) -> Result<Vec<ExecLine>, ReadError> {
        // The SQLite backend is one partition (key 0).
        let rows: Vec<RawExec> = fetch(&self.pool, "flow members", sql::members(Dialect::Sqlite, 0, flow, limit)).await?;
        rows.into_iter().map(RawExec::line).collect()
    }

    async fn leases(&self, limit: usize) -> Result<Vec<LeaseLine>, ReadError> {
        let rows: Vec<RawLease> = fetch(&self.pool, "active leases", sql::leases(Dialect::Sqlite, clamp(limit))).await?;
        rows.into_iter().map(RawLease::line).collect()
    }

    async fn budget_ids(&self) -> Result<Vec<BudgetId>, ReadError> {
        let raw: Vec<String> = sqlx::query_scalar("SELECT budget_id FROM ff_budget_policy ORDER BY 1 LIMIT 10000")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| ReadError::store("list budgets", e))?;
        super::budgets(raw)
    }

    async fn gates(&self, ids: &[ExecutionId]) -> Result<Vec<crate::gate::GateRows>, ReadError> {
        let ids = &ids[..ids.len().min(super::MAX_PAGE)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let (susp, pend) = futures::try_join!(
            fetch::<RawSuspension>(&self.pool, "read gates", sql::suspensions(Dialect::Sqlite, ids)?),
            fetch::<RawPending>(&self.pool, "read waitpoints", sql::pending(Dialect::Sqlite, ids)?),
        )?;
        Ok(sql::gate_rows(ids, susp, pend))
    }
}
