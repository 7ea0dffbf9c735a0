//! Session revocation that works across board replicas. Each user has a
//! generation in the deployment's store (`ff_board_engine::sessions`); a
//! session cookie carries the generation it was issued at. Signing out
//! moves the user's generation on, so every older session of that user is
//! refused, here at once and on the other replicas within
//! [`REFRESH_EVERY`] (each replica re-reads the generations, one small
//! query or `HGETALL`, that often). When those reads fail for longer than
//! [`MAX_STALE`], this replica can no longer know who signed out elsewhere,
//! so it refuses every session until a read succeeds again (fail closed:
//! issue 22, attack 8). A password changed or a user removed in
//! the users file ends their sessions when the file is reloaded
//! (`crate::authn`).
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use ff_board_engine::sessions::Generations;
use ff_board_engine::Engine;

/// Why the session generations could not be read or moved on.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// The engine is not dialed (its status, as the engine reports it).
    #[error("session generations: backend unavailable: {0}")]
    Unavailable(String),
    /// A sign-out's bump got no answer in time.
    #[error("session generations: the store did not answer within 5 s")]
    BumpTimeout,
    /// A refresh got no answer in time.
    #[error("session generations: read timed out")]
    ReadTimeout,
    /// The store answered with an error (the engine's own error, as it says it).
    #[error(transparent)]
    Store(Box<dyn std::error::Error + Send + Sync>),
}

impl RevokeError {
    /// The session store's error, whichever type the engine gives it.
    fn store(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> RevokeError {
        RevokeError::Store(e.into())
    }
}

/// How often the generations are re-read from the store.
pub const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// How long sessions are believed without a successful refresh (while
/// refreshing runs); past it every session is refused until one succeeds.
pub const MAX_STALE: Duration = Duration::from_secs(60);

/// The generations this process knows, and the store they come from.
#[derive(Default)]
pub struct Revocations {
    gens: RwLock<HashMap<String, u64>>,
    store: tokio::sync::OnceCell<Generations>,
    /// When the generations were last read whole (or the refresh began:
    /// its grace); `None` while no refresh runs (a board without a store).
    fresh_at: RwLock<Option<Instant>>,
}

impl Revocations {
    /// The generation a new session of `user` is issued at.
    pub fn current(&self, user: &str) -> u64 {
        self.gens.read().unwrap_or_else(|p| p.into_inner()).get(user).copied().unwrap_or(0)
    }

    /// Whether a session of `user` issued at `gen` is still valid. A
    /// generation above the one known here was issued by a replica that
    /// saw a sign-out first: valid.
    pub fn valid(&self, user: &str, gen: u64) -> bool {
        self.valid_at(user, gen, Instant::now())
    }

    /// [`Self::valid`] at `now`: refused whatever the generation once the
    /// last successful refresh is older than [`MAX_STALE`].
    pub fn valid_at(&self, user: &str, gen: u64, now: Instant) -> bool {
        let stale = self.fresh_at.read().unwrap_or_else(|p| p.into_inner()).is_some_and(|t| now.saturating_duration_since(t) > MAX_STALE);
        if stale {
            tracing::debug!(target: "ff_board::security", user, "session refused: sign-outs of other replicas unknown for too long");
        }
        !stale && gen >= self.current(user)
    }

    /// The generations were read whole at `at` (or refreshing began).
    fn fresh(&self, at: Instant) {
        *self.fresh_at.write().unwrap_or_else(|p| p.into_inner()) = Some(at);
    }

    fn raise(&self, user: &str, gen: u64) {
        let mut gens = self.gens.write().unwrap_or_else(|p| p.into_inner());
        let e = gens.entry(user.to_owned()).or_insert(0);
        *e = (*e).max(gen);
    }

    /// End every session of `user`: move the generation on in the store
    /// (all replicas) and here.
    pub async fn revoke(&self, engine: &Engine, user: &str) -> Result<u64, RevokeError> {
        let store = self.store(engine).await?;
        let gen = tokio::time::timeout(Duration::from_secs(5), store.bump(user))
            .await
            .map_err(|_| RevokeError::BumpTimeout)?
            .map_err(RevokeError::store)?;
        self.raise(user, gen);
        tracing::info!(target: "ff_board::security", user, gen, "sessions revoked");
        Ok(gen)
    }

    async fn store(&self, engine: &Engine) -> Result<&Generations, RevokeError> {
        self.store
            .get_or_try_init(|| async {
                let c = engine.connected().map_err(|e| RevokeError::Unavailable(format!("{e:?}")))?;
                Generations::open(&c.side).await.map_err(RevokeError::store)
            })
            .await
    }

    /// Re-read the generations every [`REFRESH_EVERY`], forever.
    pub fn spawn_refresh(self: Arc<Self>, engine: Arc<Engine>) {
        self.fresh(Instant::now());
        tokio::spawn(async move {
            let mut warned = false;
            loop {
                let read = async {
                    let store = self.store(&engine).await?;
                    tokio::time::timeout(Duration::from_secs(5), store.all())
                        .await
                        .map_err(|_| RevokeError::ReadTimeout)?
                        .map_err(RevokeError::store)
                };
                match read.await {
                    Ok(all) => {
                        warned = false;
                        for (user, gen) in all {
                            self.raise(&user, gen);
                        }
                        self.fresh(Instant::now());
                    }
                    Err(e) if !warned => {
                        warned = true;
                        tracing::warn!(error = %e, "session generations not refreshed (sign-outs on other replicas wait; sessions are refused after {} s)", MAX_STALE.as_secs());
                    }
                    Err(_) => {}
                }
                tokio::time::sleep(REFRESH_EVERY).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_generations_are_refused() {
        let r = Revocations::default();
        assert!(r.valid("alice", 0));
        r.raise("alice", 2);
        assert!(!r.valid("alice", 1));
        assert!(r.valid("alice", 2));
        assert!(r.valid("alice", 3), "issued by a replica that knew more");
        r.raise("alice", 1);
        assert_eq!(r.current("alice"), 2, "never goes back");
        assert!(r.valid("bob", 0));
    }

    #[test]
    fn sessions_are_refused_once_the_generations_are_too_old() {
        let r = Revocations::default();
        let t0 = Instant::now();
        assert!(r.valid_at("alice", 0, t0 + MAX_STALE * 10), "no refresh runs: nothing to be stale");
        r.fresh(t0);
        assert!(r.valid_at("alice", 0, t0 + MAX_STALE - Duration::from_secs(1)));
        assert!(!r.valid_at("alice", 0, t0 + MAX_STALE + Duration::from_secs(1)), "unknown for too long: refused");
        assert!(!r.valid_at("bob", 7, t0 + MAX_STALE + Duration::from_secs(1)), "whatever the generation");
        r.fresh(t0 + MAX_STALE + Duration::from_secs(2));
        assert!(r.valid_at("alice", 0, t0 + MAX_STALE + Duration::from_secs(3)), "a read succeeded again");
    }
}
