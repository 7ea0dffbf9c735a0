//! The board's audit log of operator actions, kept in the deployment's own
//! store beside the engine's data.
//!
//! Every action is written twice: the attempt ([`AuditLog::record_attempt`])
//! BEFORE the engine call, and its outcome ([`AuditLog::record_outcome`])
//! after it, so a crash or an engine failure still leaves a trace (an entry
//! with `outcome: None`, or `error: …`). The attempt also makes actions
//! idempotent: a second attempt with the same idempotency key, action and
//! target writes nothing and returns the first entry
//! ([`Recorded::Existing`]), race-free across tasks, tabs and board
//! instances.
//!
//! Entries older than the retention (`FF_BOARD_AUDIT_RETENTION_DAYS`,
//! default [`DEFAULT_RETENTION_DAYS`]) are deleted hourly ([`retain`]).
//!
//! Storage, created by [`AuditLog::open`] when missing (behind
//! [`AuditStore`]: `crate::backend::sql::audit` for both SQL backends,
//! `crate::backend::valkey::audit`):
//! - SQLite / Postgres: the board's own table `ff_board_audit` (one row per
//!   attempt, the outcome filled in later), with a unique index on
//!   `(idempotency_key, action, target)` and indexes on `at_ms` and
//!   `target`;
//! - Valkey: the stream `ff_board:{audit}` (one entry per attempt; its
//!   stream id is the entry id), the hash `ff_board:{audit}:idem`
//!   (idempotency scope → entry id) and the hash `ff_board:{audit}:outcomes`
//!   (entry id → `"<outcome_at_ms> <outcome>"`). The keys share one hash tag
//!   so the Lua scripts that write them atomically also run on a cluster.
//!   Listing is one `XREVRANGE` plus one `HMGET` (more `XREVRANGE` pages
//!   only when filters skip entries).
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use async_trait::async_trait;

use crate::backend::side::SideStore;
use crate::store_error::{Store, StoreError};

/// One audited operator action (a row of the SQL audit table as well).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: String,
    pub at_ms: i64,
    #[sqlx(rename = "user_name")]
    pub user: String,
    pub role: String,
    pub action: String,
    /// Flow / execution / budget / lease ids, space-separated if several.
    pub target: String,
    pub reason: String,
    pub idempotency_key: String,
    /// `None`: the attempt has not finished (yet); `"ok"` or `"ok: detail"`;
    /// `"error: <engine error text>"`.
    pub outcome: Option<String>,
    pub outcome_at_ms: Option<i64>,
}

/// One attempt of an operator action, as [`AuditLog::record_attempt`]
/// writes it (before the engine call).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt<'a> {
    pub user: &'a str,
    pub role: &'a str,
    pub action: &'a str,
    /// Flow / execution / budget / lease ids, space-separated if several.
    pub target: &'a str,
    pub reason: &'a str,
    /// With `action` and `target`, what makes a second attempt the same one.
    pub idempotency_key: &'a str,
}

impl Attempt<'_> {
    /// The entry of this attempt written as `id` at `at_ms`, without an outcome.
    pub fn entry(&self, id: String, at_ms: i64) -> AuditEntry {
        AuditEntry {
            id,
            at_ms,
            user: self.user.to_owned(),
            role: self.role.to_owned(),
            action: self.action.to_owned(),
            target: self.target.to_owned(),
            reason: self.reason.to_owned(),
            idempotency_key: self.idempotency_key.to_owned(),
            outcome: None,
            outcome_at_ms: None,
        }
    }
}

/// What [`AuditLog::record_attempt`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Recorded {
    /// A new attempt was written: go ahead with the engine call.
    New(AuditEntry),
    /// The idempotency key was already used for this action and target:
    /// nothing was written; this is the earlier attempt (and its outcome).
    Existing(AuditEntry),
}

impl Recorded {
    pub fn entry(&self) -> &AuditEntry {
        match self {
            Recorded::New(e) | Recorded::Existing(e) => e,
        }
    }
}

/// Which entries [`AuditLog::list`] returns. `None` or an empty string
/// means "any".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Exact user name.
    pub user: Option<String>,
    /// Exact action name.
    pub action: Option<String>,
    /// A substring of the target (a flow / execution / budget id): the
    /// admins' search, read page by page (at most [`MAX_SCANNED`] entries).
    pub target_contains: Option<String>,
    /// Exactly the entries about this id ([`subject_of`] their target):
    /// what a flow's or an execution's page reads, from an index by subject.
    pub subject: Option<String>,
    /// At most this many entries (newest first).
    pub limit: usize,
}

/// Entries a substring search looks at, at most (newest first).
pub const MAX_SCANNED: usize = 20_000;
/// How long one read of the audit log may take.
pub const LIST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// What an entry is about: its target's first word (an approval's target
/// is `"<execution id> <waitpoint id>"`: it is about the execution).
pub fn subject_of(target: &str) -> &str {
    target.split(' ').next().unwrap_or_default()
}

/// An [`AuditFilter`] as a store applies it: `None` matches anything.
#[derive(Clone, Copy, Debug)]
pub struct Wanted<'a> {
    pub user: Option<&'a str>,
    pub action: Option<&'a str>,
    /// A substring of the target.
    pub target: Option<&'a str>,
    /// Exactly this subject ([`subject_of`]).
    pub subject: Option<&'a str>,
    /// At most this many entries (at least one), newest first.
    pub limit: usize,
}

impl Wanted<'_> {
    /// Whether any filter is set.
    pub fn filtered(&self) -> bool {
        self.user.is_some() || self.action.is_some() || self.target.is_some() || self.subject.is_some()
    }

    /// Whether `e` passes the filters.
    pub fn matches(&self, e: &AuditEntry) -> bool {
        self.user.is_none_or(|u| e.user == u)
            && self.action.is_none_or(|a| e.action == a)
            && self.target.is_none_or(|t| e.target.contains(t))
            && self.subject.is_none_or(|s| subject_of(&e.target) == s)
    }
}

/// One store's audit storage.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Write an attempt, or return the earlier one of the same scope.
    async fn record_attempt(&self, at_ms: i64, attempt: Attempt<'_>) -> Result<Recorded, StoreError>;
    /// Write an outcome; `false` when there is no entry `id`.
    async fn record_outcome(&self, id: &str, at_ms: i64, outcome: &str) -> Result<bool, StoreError>;
    /// Entries matching the (non-empty) filters, newest first.
    async fn list(&self, wanted: Wanted<'_>) -> Result<Vec<AuditEntry>, StoreError>;
    /// Delete at most `max` entries written before `before_ms` (oldest
    /// first); how many went.
    async fn trim(&self, before_ms: i64, max: usize) -> Result<usize, StoreError>;
}

/// Entries deleted per store call when trimming.
pub const TRIM_BATCH: usize = 1_000;
/// Days of audit kept unless `FF_BOARD_AUDIT_RETENTION_DAYS` says otherwise
/// (0 keeps everything).
pub const DEFAULT_RETENTION_DAYS: u64 = 90;

/// Trim the audit log of `side` every hour, keeping `days` (0: forever);
/// once an hour across all replicas (`crate::allowance`).
pub fn retain(side: SideStore, days: u64) {
    if days == 0 {
        return;
    }
    tokio::spawn(async move {
        let log = loop {
            match AuditLog::open(&side).await {
                Ok(l) => break l,
                Err(e) => {
                    tracing::warn!(error = %e, "audit retention: cannot open the audit log; retrying in 60 s");
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                }
            }
        };
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            // One trim an hour across every replica (a shared allowance):
            // the others skip theirs.
            match crate::allowance::take(&side, "audit-retention", 1, 1, 3_600_000, now_ms()).await {
                Ok(crate::allowance::Allowance::Taken { .. }) => {}
                Ok(crate::allowance::Allowance::Refused { .. }) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "audit retention: cannot reach the shared allowance; skipped this hour");
                    continue;
                }
            }
            let before = now_ms() - (days as i64) * 86_400_000;
            match log.trim(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, days, "audit retention: old entries deleted"),
                Err(e) => tracing::warn!(error = %e, "audit retention: trim failed"),
            }
        }
    });
}

/// The audit log on one store.
pub struct AuditLog {
    store: Box<dyn AuditStore>,
}

impl AuditLog {
    /// Open the audit log on `side`, creating its storage if missing.
    pub async fn open(side: &SideStore) -> Result<AuditLog, StoreError> {
        Ok(AuditLog { store: side.open_audit().await? })
    }

    /// Write an attempt before the engine call. If this idempotency key was
    /// already used for the same action and target, nothing is written and
    /// the earlier entry is returned as [`Recorded::Existing`].
    pub async fn record_attempt(&self, attempt: Attempt<'_>) -> Result<Recorded, StoreError> {
        if attempt.idempotency_key.is_empty() {
            return Err(StoreError::invalid(Store::Audit, "record attempt", "an idempotency key is required"));
        }
        self.store.record_attempt(now_ms(), attempt).await
    }

    /// Write the outcome of an attempt after the engine call: `"ok"`,
    /// `"ok: detail"` or `"error: <engine error text>"`.
    pub async fn record_outcome(&self, id: &str, outcome: &str) -> Result<(), StoreError> {
        if self.store.record_outcome(id, now_ms(), outcome).await? {
            Ok(())
        } else {
            Err(StoreError::invalid(Store::Audit, "record outcome", format!("no audit entry {id:?} to record an outcome on")))
        }
    }

    /// Delete the entries written before `before_ms`, in batches of
    /// [`TRIM_BATCH`]; how many went.
    pub async fn trim(&self, before_ms: i64) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let n = self.store.trim(before_ms, TRIM_BATCH).await?;
            total += n;
            if n < TRIM_BATCH {
                return Ok(total);
            }
        }
    }

    /// Entries matching `filter`, newest first.
    pub async fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        if filter.limit == 0 {
            return Ok(Vec::new());
        }
        let wanted = Wanted {
            user: non_empty(&filter.user),
            action: non_empty(&filter.action),
            target: non_empty(&filter.target_contains),
            subject: non_empty(&filter.subject),
            limit: filter.limit,
        };
        tokio::time::timeout(LIST_DEADLINE, self.store.list(wanted)).await.map_err(|_| StoreError::timeout(Store::Audit, "list", LIST_DEADLINE))?
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}
