//! Two-person requests on Postgres and SQLite: the board's table
//! `ff_board_requests` (id, state, time, the request as JSON; see
//! `crate::requests`). Adding inserts only while fewer than the cap wait,
//! in the insert itself, then drops finished requests past the newest kept;
//! a change of state is an update guarded by the stored JSON.
use async_trait::async_trait;

use super::pool::Pool;
use super::{Bind, Dialect, Query};
use crate::requests::{Request, RequestStore, MAX_KEPT, MAX_PENDING};
use crate::store_error::{Store, StoreError};

fn table(d: Dialect) -> [String; 1] {
    let int = match d {
        Dialect::Postgres => "BIGINT",
        Dialect::Sqlite => "INTEGER",
    };
    [format!(
        "CREATE TABLE IF NOT EXISTS ff_board_requests (id TEXT PRIMARY KEY, state TEXT NOT NULL, requested_at {int} NOT NULL, body TEXT NOT NULL)"
    )]
}

pub struct SqlRequests {
    pool: Pool,
}

pub async fn open(pool: Pool) -> Result<SqlRequests, StoreError> {
    pool.create(&table(pool.dialect())).await.map_err(StoreError::at(Store::Requests, "create table ff_board_requests"))?;
    Ok(SqlRequests { pool })
}

fn text(s: &str) -> Bind {
    Bind::Text(s.to_owned())
}

#[derive(sqlx::FromRow)]
struct Row {
    body: String,
}

#[async_trait]
impl RequestStore for SqlRequests {
    async fn add(&self, r: &Request) -> Result<bool, StoreError> {
        let d = self.pool.dialect();
        let sql = d.finish(
            "INSERT INTO ff_board_requests (id, state, requested_at, body) SELECT $1, $2, $3, $4 \
             WHERE (SELECT count(*) FROM ff_board_requests WHERE state = 'pending') < $5"
                .into(),
        );
        let binds = vec![text(&r.id), text(r.state.key()), Bind::Int(r.requested_at), text(&r.encode()?), Bind::Int(MAX_PENDING as i64)];
        let added = self.pool.execute(Query::new(sql, binds)).await.map_err(StoreError::at(Store::Requests, "add"))? == 1;
        if added {
            let prune = d.finish(format!(
                "DELETE FROM ff_board_requests WHERE state IN ('ran', 'failed', 'refused') \
                 AND id NOT IN (SELECT id FROM ff_board_requests ORDER BY requested_at DESC LIMIT {MAX_KEPT})"
            ));
            self.pool.execute(Query::new(prune, vec![])).await.map_err(StoreError::at(Store::Requests, "prune"))?;
        }
        Ok(added)
    }

    async fn list(&self) -> Result<Vec<Request>, StoreError> {
        let sql = format!("SELECT body FROM ff_board_requests ORDER BY requested_at DESC, id LIMIT {MAX_KEPT}");
        let rows: Vec<Row> = self.pool.fetch_all(Query::new(sql, vec![])).await.map_err(StoreError::at(Store::Requests, "list"))?;
        rows.iter().map(|r| Request::decode(&r.body)).collect()
    }

    async fn get(&self, id: &str) -> Result<Option<Request>, StoreError> {
        let sql = self.pool.dialect().finish("SELECT body FROM ff_board_requests WHERE id = $1".into());
        let row: Option<Row> = self.pool.fetch_optional(Query::new(sql, vec![text(id)])).await.map_err(StoreError::at(Store::Requests, "get"))?;
        row.map(|r| Request::decode(&r.body)).transpose()
    }

    async fn swap(&self, old: &Request, new: &Request) -> Result<bool, StoreError> {
        let sql = self.pool.dialect().finish("UPDATE ff_board_requests SET body = $1, state = $2 WHERE id = $3 AND body = $4".into());
        let binds = vec![text(&new.encode()?), text(new.state.key()), text(&old.id), text(&old.encode()?)];
        Ok(self.pool.execute(Query::new(sql, binds)).await.map_err(StoreError::at(Store::Requests, "swap"))? == 1)
    }
}
