//! Saved views on Postgres and SQLite: the board's own table
//! `ff_board_views`, keyed by (scope, name) where the scope is the owner
//! for a private view and the empty string for a shared one (see
//! `crate::views`). A save writes only while its scope holds fewer than
//! its cap, in the insert itself, so two replicas cannot pass it together.
use async_trait::async_trait;

use super::pool::Pool;
use super::{Bind, Dialect, Query};
use crate::store_error::{Store, StoreError};
use crate::views::{cap, Saved, SavedView, Scope, ViewStore, MAX_PRIVATE, MAX_SHARED};

const COLUMNS: &str = "name, owner, scope, list, query, columns, created_ms";

impl Dialect {
    fn views_table(self) -> [String; 1] {
        let int = match self {
            Dialect::Postgres => "BIGINT",
            Dialect::Sqlite => "INTEGER",
        };
        [format!(
            "CREATE TABLE IF NOT EXISTS ff_board_views (
        scope TEXT NOT NULL,
        name TEXT NOT NULL,
        owner TEXT NOT NULL,
        list TEXT NOT NULL,
        query TEXT NOT NULL,
        columns TEXT NOT NULL,
        created_ms {int} NOT NULL,
        PRIMARY KEY (scope, name)
    )"
        )]
    }

    /// Insert `$1..$7` unless the name is taken or the scope holds `$8` views.
    fn insert_view(self) -> String {
        let (insert, conflict) = match self {
            Dialect::Postgres => ("INSERT INTO", "ON CONFLICT (scope, name) DO NOTHING"),
            Dialect::Sqlite => ("INSERT OR IGNORE INTO", ""),
        };
        self.finish(format!(
            "{insert} ff_board_views (scope, name, owner, list, query, columns, created_ms) \
             SELECT $1, $2, $3, $4, $5, $6, $7 \
             WHERE (SELECT count(*) FROM ff_board_views WHERE scope = $1) < $8 {conflict}"
        ))
    }
}

/// A stored row.
#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    owner: String,
    scope: String,
    list: String,
    query: String,
    columns: String,
    created_ms: i64,
}

impl From<Row> for SavedView {
    fn from(r: Row) -> SavedView {
        SavedView {
            name: r.name,
            owner: r.owner,
            shared: r.scope.is_empty(),
            list: r.list,
            query: r.query,
            columns: r.columns.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect(),
            created_ms: r.created_ms,
        }
    }
}

/// The views table on a SQL store.
pub struct SqlViews {
    pool: Pool,
}

/// Open, creating the table when missing.
pub async fn open(pool: Pool) -> Result<SqlViews, StoreError> {
    let ddl = pool.dialect().views_table();
    pool.create(&ddl).await.map_err(StoreError::at(Store::Views, "create table ff_board_views"))?;
    Ok(SqlViews { pool })
}

fn text(s: &str) -> Bind {
    Bind::Text(s.to_owned())
}

#[async_trait]
impl ViewStore for SqlViews {
    async fn list(&self, user: &str) -> Result<Vec<SavedView>, StoreError> {
        let sql = self.pool.dialect().finish(format!(
            "SELECT {COLUMNS} FROM ff_board_views WHERE scope = '' OR scope = $1 ORDER BY name, scope LIMIT $2"
        ));
        let rows: Vec<Row> = self
            .pool
            .fetch_all(Query::new(sql, vec![text(user), Bind::Int((MAX_PRIVATE + MAX_SHARED) as i64)]))
            .await
            .map_err(StoreError::at(Store::Views, "list"))?;
        Ok(rows.into_iter().map(SavedView::from).collect())
    }

    async fn save(&self, v: &SavedView) -> Result<Saved, StoreError> {
        let scope = v.scope();
        let binds = vec![
            text(scope.key()),
            text(&v.name),
            text(&v.owner),
            text(&v.list),
            text(&v.query),
            text(&v.columns.join(",")),
            Bind::Int(v.created_ms),
            Bind::Int(cap(&scope) as i64),
        ];
        let written = self
            .pool
            .execute(Query::new(self.pool.dialect().insert_view(), binds))
            .await
            .map_err(StoreError::at(Store::Views, "save"))?;
        if written == 1 {
            return Ok(Saved::Saved);
        }
        Ok(match self.get(&scope, &v.name).await? {
            Some(_) => Saved::NameTaken,
            None => Saved::Full { cap: cap(&scope) },
        })
    }

    async fn get(&self, scope: &Scope, name: &str) -> Result<Option<SavedView>, StoreError> {
        let sql = self.pool.dialect().finish(format!("SELECT {COLUMNS} FROM ff_board_views WHERE scope = $1 AND name = $2"));
        let row: Option<Row> = self
            .pool
            .fetch_optional(Query::new(sql, vec![text(scope.key()), text(name)]))
            .await
            .map_err(StoreError::at(Store::Views, "get"))?;
        Ok(row.map(SavedView::from))
    }

    async fn delete(&self, scope: &Scope, name: &str) -> Result<bool, StoreError> {
        let sql = self.pool.dialect().finish("DELETE FROM ff_board_views WHERE scope = $1 AND name = $2".into());
        let gone = self
            .pool
            .execute(Query::new(sql, vec![text(scope.key()), text(name)]))
            .await
            .map_err(StoreError::at(Store::Views, "delete"))?;
        Ok(gone == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_in_the_insert() {
        let pg = Dialect::Postgres.insert_view();
        assert!(pg.contains("WHERE (SELECT count(*) FROM ff_board_views WHERE scope = $1) < $8 ON CONFLICT"), "{pg}");
        let lite = Dialect::Sqlite.insert_view();
        assert!(lite.starts_with("INSERT OR IGNORE INTO") && lite.contains("< ?8"), "{lite}");
    }
}
