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

use crate::backend::side::SideStore;
use crate::store_error::StoreError;

/// The generations of one store.
pub struct Generations {
    side: SideStore,
}

impl Generations {
    /// Open, creating the table on the SQL stores.
    pub async fn open(side: &SideStore) -> Result<Generations, StoreError> {
        side.open_sessions().await?;
        Ok(Generations { side: side.clone() })
    }

    /// Every user's generation (users never signed out are absent: 0).
    pub async fn all(&self) -> Result<HashMap<String, u64>, StoreError> {
        let rows = self.side.session_generations().await?;
        Ok(rows.into_iter().map(|(u, g)| (u, g.max(0) as u64)).collect())
    }

    /// Move `user` to the next generation; the new value.
    pub async fn bump(&self, user: &str) -> Result<u64, StoreError> {
        Ok(self.side.bump_session_generation(user).await?.max(0) as u64)
    }
}
