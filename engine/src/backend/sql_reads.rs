//! The `Reads` impl both SQL backends share, written once as a macro over
//! the pool type (sqlx's row and argument types differ per database, and
//! generic sqlx code over both costs more than it saves). Each backend
//! module supplies its struct (with `pool`, a `pool_for` method naming the
//! pool a query's [`Plan`](crate::backend::sql::Plan) runs on, and a
//! `flow_partition` method), its dialect and its budget query.

/// `sql_reads!(Struct, Pool, Row, Dialect, "budget query")` writes
/// `migrate`, `fetch` and `impl Reads for Struct`.
macro_rules! sql_reads {
    ($ty:ident, $pool:ty, $row:ty, $dialect:expr, $budgets:expr) => {
        use $crate::backend::sql::{RawExec, RawFlow, RawSuspended};

        /// Create the board's `ff_board_*` indexes (idempotent).
        pub async fn migrate(pool: &$pool) -> Result<(), $crate::StoreError> {
            for ddl in $crate::backend::sql::indexes($dialect) {
                sqlx::query(ddl)
                    .execute(pool)
                    .await
                    .map_err(|e| $crate::StoreError::new($crate::Store::Schema, "create board index", format!("{e}: {ddl}")))?;
            }
            Ok(())
        }

        /// Run `q` on the pool its plan asks for (`pool_for`).
        async fn fetch<R>(reads: &$ty, op: &'static str, q: $crate::backend::sql::Query) -> Result<Vec<R>, $crate::backend::ReadError>
        where
            R: for<'r> sqlx::FromRow<'r, $row> + Send + Unpin,
        {
            $crate::backend::sql::pool::bind_all!(sqlx::query_as::<_, R>(&q.sql), q.binds)
                .fetch_all(reads.pool_for(q.plan))
                .await
                .map_err(|e| $crate::backend::ReadError::store(op, e))
        }

        /// One page of rows `R` read by `q` (the row past `limit` says there is more).
        async fn page<R, T>(
            reads: &$ty,
            op: &'static str,
            q: $crate::backend::sql::Query,
            limit: usize,
            cursor: fn(&R) -> String,
            line: fn(R) -> Result<T, $crate::backend::ReadError>,
        ) -> Result<$crate::backend::Page<T>, $crate::backend::ReadError>
        where
            R: for<'r> sqlx::FromRow<'r, $row> + Send + Unpin,
        {
            $crate::backend::sql::page(fetch(reads, op, q).await?, limit, cursor, line)
        }

        #[async_trait::async_trait]
        impl $crate::backend::Reads for $ty {
            async fn flows(&self, q: &$crate::backend::FlowQuery, after: Option<&str>, limit: usize)
                -> Result<$crate::backend::Page<$crate::backend::FlowLine>, $crate::backend::ReadError> {
                let limit = $crate::backend::clamp(limit);
                let q = $crate::backend::sql::flows($dialect, q, after, limit)?;
                page(self, "list flows", q, limit, RawFlow::cursor, RawFlow::line).await
            }

            async fn executions(&self, q: &$crate::backend::ExecQuery, after: Option<&str>, limit: usize)
                -> Result<$crate::backend::Page<$crate::backend::ExecLine>, $crate::backend::ReadError> {
                use $crate::backend::sql::{done_only, done_window, tag_probe, Order, RARE};
                let limit = $crate::backend::clamp(limit);
                let order = match tag_probe($dialect, q) {
                    Some(probe) => {
                        let hits: Vec<(i64,)> = fetch(self, "probe tags", probe).await?;
                        if hits.first().is_some_and(|h| h.0 <= RARE) { Order::Sorted } else { Order::Index }
                    }
                    None => Order::Index,
                };
                // A recomputed terminal state reads a window of finished rows at most.
                let floor = if done_only(q) {
                    let end: Vec<(i64, i64, String)> = fetch(self, "window finished rows", done_window($dialect, after)?).await?;
                    end.into_iter().next().map(|(t, p, e)| format!("{t}.{p}.{e}"))
                } else {
                    None
                };
                let sql = $crate::backend::sql::executions($dialect, q, after, limit, order, floor.as_deref())?;
                let mut found = page(self, "list executions", sql, limit, RawExec::cursor, RawExec::line).await?;
                if let (Some(end), None) = (floor, &found.next) {
                    // Rows older than the window may match: go on after it, and
                    // say "at least" when the page did not fill.
                    found.cut_short = found.rows.len() < limit;
                    found.next = Some(end);
                }
                Ok(found)
            }

            async fn suspended(&self, search: Option<&$crate::backend::search::Search>, after: Option<&str>, limit: usize)
                -> Result<$crate::backend::Page<$crate::backend::SuspendedLine>, $crate::backend::ReadError> {
                let limit = $crate::backend::clamp(limit);
                let q = $crate::backend::sql::suspended($dialect, search, after, limit)?;
                page(self, "list suspended", q, limit, RawSuspended::cursor, RawSuspended::line).await
            }

            async fn flow_members(
                &self,
                flow: &ff_core::types::FlowId,
                limit: usize,
            ) -> Result<Vec<$crate::backend::ExecLine>, $crate::backend::ReadError> {
                use $crate::backend::sql::{self, RawExec};
                let q = sql::members($dialect, self.flow_partition(flow), flow, limit);
                let rows: Vec<RawExec> = fetch(self, "flow members", q).await?;
                rows.into_iter().map(RawExec::line).collect()
            }

            async fn leases(&self, limit: usize) -> Result<Vec<$crate::backend::LeaseLine>, $crate::backend::ReadError> {
                use $crate::backend::sql::{self, RawExecAt, RawLeaseHead};
                let limit = $crate::backend::clamp(limit);
                // Twice the page: an attempt of a finished execution may keep its expiry.
                let heads: Vec<RawLeaseHead> =
                    fetch(self, "active leases", sql::lease_heads($dialect, 2 * limit)).await?;
                let ids: Vec<_> = heads.iter().filter_map(RawLeaseHead::id).collect();
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let rows: Vec<RawExecAt> = fetch(self, "active leases", sql::exec_rows($dialect, &ids)?).await?;
                sql::lease_lines(heads, rows, limit)
            }

            async fn budget_ids(&self) -> Result<Vec<ff_core::types::BudgetId>, $crate::backend::ReadError> {
                let raw: Vec<String> = sqlx::query_scalar($budgets)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| $crate::backend::ReadError::store("list budgets", e))?;
                $crate::backend::budgets(raw)
            }

            async fn gates(
                &self,
                ids: &[ff_core::types::ExecutionId],
            ) -> Result<Vec<$crate::gate::GateRows>, $crate::backend::ReadError> {
                use $crate::backend::sql::{self, RawPending, RawSuspension};
                let ids = &ids[..ids.len().min($crate::backend::MAX_PAGE)];
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let (susp, pend) = futures::try_join!(
                    fetch::<RawSuspension>(self, "read gates", sql::suspensions($dialect, ids)?),
                    fetch::<RawPending>(self, "read waitpoints", sql::pending($dialect, ids)?),
                )?;
                Ok(sql::gate_rows(ids, susp, pend))
            }

            async fn history(&self, id: &ff_core::types::ExecutionId) -> Result<$crate::backend::History, $crate::backend::ReadError> {
                use $crate::backend::sql::history::{self, RawAttempt, RawLeaseEvent, RawMemberMap, RawSignal};
                let (attempts, leases, signals, maps) = futures::try_join!(
                    fetch::<RawAttempt>(self, "execution attempts", history::attempts($dialect, id)),
                    fetch::<RawLeaseEvent>(self, "execution lease events", history::leases($dialect, id)),
                    fetch::<RawSignal>(self, "execution signals", history::signals($dialect, id)),
                    fetch::<RawMemberMap>(self, "execution signal names", history::member_map($dialect, id)),
                )?;
                Ok($crate::backend::History {
                    attempts: attempts.into_iter().map(RawAttempt::line).collect(),
                    leases: leases.into_iter().map(RawLeaseEvent::mark).collect(),
                    signals: history::signal_marks(signals, &maps),
                })
            }

            async fn quotas(&self, now: i64) -> Result<Vec<$crate::backend::QuotaLine>, $crate::backend::ReadError> {
                use $crate::backend::sql::quotas::{query, RawQuota};
                let q = $crate::backend::sql::Query::new(query($dialect, now), Vec::new());
                Ok(fetch::<RawQuota>(self, "quota policies", q).await?.into_iter().map(Into::into).collect())
            }
        }
    };
}

pub(crate) use sql_reads;
