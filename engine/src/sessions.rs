//! Session generations: one counter per user in the deployment's own
//! store, so a sign-out ends that user's sessions on every board replica
//! (a session cookie carries the generation it was issued at and is
//! refused once the user's counter has moved past it).
//!
//! Storage, created when missing: SQLite / Postgres table
//! `ff_board_session_gen (user_name PRIMARY KEY, gen)`; Valkey hash
//! `ff_board:{sessions}` (user → gen). Reading all of it is one query or
//! one `HGETALL`: the rows are the users of the users file, a few.
use std::collections::HashMap;

use crate::connect::SideStore;

const HASH: &str = "ff_board:{sessions}";
const CREATE: &str = "CREATE TABLE IF NOT EXISTS ff_board_session_gen (user_name TEXT PRIMARY KEY, gen BIGINT NOT NULL)";

/// The generations of one store.
pub struct Generations {
    side: SideStore,
}

impl Generations {
    /// Open, creating the table on the SQL stores.
    pub async fn open(side: &SideStore) -> Result<Generations, String> {
        let fail = |e: sqlx::Error| format!("session generations: create table: {e}");
        match side {
            SideStore::Sqlite(pool) => {
                sqlx::query(CREATE).execute(pool).await.map_err(fail)?;
            }
            SideStore::Postgres(pool) => {
                // Two boards creating at once: one of them may lose the race once.
                if sqlx::query(CREATE).execute(pool).await.is_err() {
                    sqlx::query(CREATE).execute(pool).await.map_err(fail)?;
                }
            }
            SideStore::Valkey(_) => {}
        }
        Ok(Generations { side: side.clone() })
    }

    /// Every user's generation (users never signed out are absent: 0).
    pub async fn all(&self) -> Result<HashMap<String, u64>, String> {
        let fail = |e: String| format!("session generations: read: {e}");
        let rows: Vec<(String, i64)> = match &self.side {
            SideStore::Sqlite(pool) => sqlx::query_as("SELECT user_name, gen FROM ff_board_session_gen")
                .fetch_all(pool)
                .await
                .map_err(|e| fail(e.to_string()))?,
            SideStore::Postgres(pool) => sqlx::query_as("SELECT user_name, gen FROM ff_board_session_gen")
                .fetch_all(pool)
                .await
                .map_err(|e| fail(e.to_string()))?,
            SideStore::Valkey(client) => {
                let map: HashMap<String, i64> =
                    client.cmd("HGETALL").arg(HASH).execute().await.map_err(|e| fail(e.to_string()))?;
                map.into_iter().collect()
            }
        };
        Ok(rows.into_iter().map(|(u, g)| (u, g.max(0) as u64)).collect())
    }

    /// Move `user` to the next generation; the new value.
    pub async fn bump(&self, user: &str) -> Result<u64, String> {
        let fail = |e: String| format!("session generations: revoke {user:?}: {e}");
        const UPSERT: &str = "INSERT INTO ff_board_session_gen (user_name, gen) VALUES ($1, 1) \
             ON CONFLICT (user_name) DO UPDATE SET gen = ff_board_session_gen.gen + 1 RETURNING gen";
        let gen: i64 = match &self.side {
            SideStore::Sqlite(pool) => sqlx::query_scalar(&UPSERT.replace("$1", "?"))
                .bind(user)
                .fetch_one(pool)
                .await
                .map_err(|e| fail(e.to_string()))?,
            SideStore::Postgres(pool) => {
                sqlx::query_scalar(UPSERT).bind(user).fetch_one(pool).await.map_err(|e| fail(e.to_string()))?
            }
            SideStore::Valkey(client) => {
                client.cmd("HINCRBY").arg(HASH).arg(user).arg("1").execute().await.map_err(|e| fail(e.to_string()))?
            }
        };
        Ok(gen.max(0) as u64)
    }
}
