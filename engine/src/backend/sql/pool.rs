//! [`Pool`]: the connection pool of either SQL backend, running a
//! [`Query`] (its text and bound parameters) on it, so the board's own SQL
//! stores are written once over [`Dialect`].
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, PgPool, SqlitePool};

use super::{Dialect, Query};

/// A pool of one of the two SQL backends.
#[derive(Clone)]
pub enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// A row type both backends decode.
pub trait AnyRow: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin {}

impl<T> AnyRow for T where T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin {}

/// `$query` (an sqlx query) with the [`Bind`]s of `$binds`, in order.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for b in $binds {
            query = match b {
                $crate::backend::sql::Bind::Int(i) => query.bind(i),
                $crate::backend::sql::Bind::Text(s) => query.bind(s),
                $crate::backend::sql::Bind::MaybeText(s) => query.bind(s),
            };
        }
        query
    }};
}

pub(crate) use bind_all;

/// Advisory lock serialising the board's schema changes on one Postgres
/// database (concurrent `CREATE TABLE IF NOT EXISTS` can otherwise fail).
const PG_SCHEMA_LOCK: i64 = 0x6666_5f62_6f61_7264; // "ff_board"

impl Pool {
    /// Run `ddl` (idempotent statements creating the board's own tables),
    /// on Postgres in one transaction holding the schema lock.
    pub async fn create(&self, ddl: &[String]) -> Result<(), sqlx::Error> {
        match self {
            Pool::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PG_SCHEMA_LOCK).execute(&mut *tx).await?;
                for stmt in ddl {
                    sqlx::query(stmt).execute(&mut *tx).await?;
                }
                tx.commit().await
            }
            Pool::Sqlite(p) => {
                for stmt in ddl {
                    sqlx::query(stmt).execute(p).await?;
                }
                Ok(())
            }
        }
    }

    /// The SQL spellings of this pool's backend.
    pub fn dialect(&self) -> Dialect {
        match self {
            Pool::Postgres(_) => Dialect::Postgres,
            Pool::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Every row `q` answers.
    pub async fn fetch_all<R: AnyRow>(&self, q: Query) -> Result<Vec<R>, sqlx::Error> {
        match self {
            Pool::Postgres(p) => bind_all!(sqlx::query_as::<_, R>(&q.sql), q.binds).fetch_all(p).await,
            Pool::Sqlite(p) => bind_all!(sqlx::query_as::<_, R>(&q.sql), q.binds).fetch_all(p).await,
        }
    }

    /// The first row `q` answers, if any.
    pub async fn fetch_optional<R: AnyRow>(&self, q: Query) -> Result<Option<R>, sqlx::Error> {
        match self {
            Pool::Postgres(p) => bind_all!(sqlx::query_as::<_, R>(&q.sql), q.binds).fetch_optional(p).await,
            Pool::Sqlite(p) => bind_all!(sqlx::query_as::<_, R>(&q.sql), q.binds).fetch_optional(p).await,
        }
    }

    /// The first row `q` answers, run alone among the callers naming the
    /// same `lock`: on Postgres in a transaction holding an advisory lock
    /// on the name's hash (each statement of a transaction sees what the
    /// last holder committed); SQLite runs one write at a time anyway.
    pub async fn fetch_optional_locked<R: AnyRow>(&self, lock: &str, q: Query) -> Result<Option<R>, sqlx::Error> {
        match self {
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(lock).execute(&mut *tx).await?;
                let row = bind_all!(sqlx::query_as::<_, R>(&q.sql), q.binds).fetch_optional(&mut *tx).await?;
                tx.commit().await?;
                Ok(row)
            }
            Pool::Sqlite(_) => self.fetch_optional(q).await,
        }
    }

    /// Run `q`; how many rows it changed.
    pub async fn execute(&self, q: Query) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Pool::Postgres(p) => bind_all!(sqlx::query(&q.sql), q.binds).execute(p).await?.rows_affected(),
            Pool::Sqlite(p) => bind_all!(sqlx::query(&q.sql), q.binds).execute(p).await?.rows_affected(),
        })
    }
}
