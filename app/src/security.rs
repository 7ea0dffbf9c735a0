//! Refusals written to the audit log (server only): failed and limited
//! sign-ins, writes refused for a bad CSRF token or too low a role, and
//! audit reads refused to non-admins. They go to the `ff_board::security`
//! log too; the audit log is where an admin looks (`/audit?action=refused_sign_in`).
//!
//! Bounded: an attacker decides how many refusals there are, so at most
//! [`PER_MINUTE`] are written a minute, counted apart for anonymous
//! refusals (sign-ins) and signed-in ones (CSRF, role, audit reads):
//! failed sign-ins from anyone cannot spend the quota that keeps a
//! signed-in user's refused writes audited. The quota is shared by every
//! replica (an allowance in the deployment's store,
//! `ff_board_engine::allowance`); each process first holds its own copy of
//! it ([`Quota`]), so a flood costs the store at most [`PER_MINUTE`] takes a
//! minute and class per replica. Every refusal
//! is counted in `/metrics` (`ffboard_security_refusals_total{kind}`), the
//! ones not written in `ffboard_security_refusals_unaudited_total`, and the
//! next written entry says how many were left out before it. Each write
//! has a deadline ([`WRITE_DEADLINE`]) and runs beside the answer: a slow
//! store never slows a refusal down.
use std::sync::Mutex;
use std::time::Duration;

use crate::state::AppState;

/// What was refused. The audit action is [`Refusal::action`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Wrong user name or password.
    SignInFailed,
    /// Too many failures from this user and address (the limiter).
    SignInLimited,
    /// A write without a valid CSRF token.
    Csrf,
    /// A write by a user whose role is too low.
    Role,
    /// A non-admin asking the whole audit log.
    AuditRead,
}

impl Refusal {
    /// Refused before anyone signed in (its own quota).
    pub fn anonymous(self) -> bool {
        matches!(self, Refusal::SignInFailed | Refusal::SignInLimited)
    }

    /// The audit log's action name (also the metrics label).
    pub fn action(self) -> &'static str {
        match self {
            Refusal::SignInFailed => "refused_sign_in",
            Refusal::SignInLimited => "refused_sign_in_limited",
            Refusal::Csrf => "refused_csrf",
            Refusal::Role => "refused_role",
            Refusal::AuditRead => "refused_audit_read",
        }
    }
}

/// Refusals written to the audit log per board process, minute and class
/// (anonymous, signed in).
pub const PER_MINUTE: u32 = 30;
/// Deadline of one audit write.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(5);

/// The current minute's writes and the refusals left out.
#[derive(Default)]
struct Window {
    minute: i64,
    written: u32,
    left_out: u64,
}

/// A board's refusal quotas ([`PER_MINUTE`] each for anonymous and
/// signed-in refusals), kept in its `AppState`.
#[derive(Default)]
pub struct Quota {
    anonymous: Mutex<Window>,
    signed_in: Mutex<Window>,
}

impl Quota {
    /// `Some(n)`: write this refusal, `n` of its class were left out before
    /// it; `None`: the minute's quota of its class is spent.
    /// `n` more of `kind`'s class left out (the shared quota was spent).
    fn left_out(&self, kind: Refusal, n: u64) {
        let window = if kind.anonymous() { &self.anonymous } else { &self.signed_in };
        window.lock().unwrap_or_else(|p| p.into_inner()).left_out += n;
    }

    fn admit(&self, kind: Refusal, now_ms: i64) -> Option<u64> {
        let window = if kind.anonymous() { &self.anonymous } else { &self.signed_in };
        let mut w = window.lock().unwrap_or_else(|p| p.into_inner());
        let minute = now_ms / 60_000;
        if minute != w.minute {
            w.minute = minute;
            w.written = 0;
        }
        if w.written >= PER_MINUTE {
            w.left_out += 1;
            return None;
        }
        w.written += 1;
        Some(std::mem::take(&mut w.left_out))
    }
}

/// Record a refusal of `user` (`role` as known; a sign-in's is
/// `anonymous`) with `detail` (why, and from which address); its target
/// is the request's path. Call from a request (it reads the board's
/// state and the path); returns at once.
pub fn record(kind: Refusal, user: &str, role: &str, detail: &str) {
    ff_board_engine::metrics::global().refusal(kind.action());
    let Some(state) = leptos::prelude::use_context::<AppState>() else {
        return;
    };
    let Ok(c) = state.engine.connected() else {
        return;
    };
    let now = ff_core::types::TimestampMs::now().0;
    let Some(left_out) = state.refusals.admit(kind, now) else {
        ff_board_engine::metrics::global().refusal_unaudited();
        return;
    };
    let reason = match left_out {
        0 => detail.to_owned(),
        n => format!("{detail} ({n} earlier refusals not written: at most {PER_MINUTE} a minute)"),
    };
    let (action, user, role, target) = (kind.action(), user.to_owned(), role.to_owned(), path());
    tokio::spawn(async move {
        let write = async {
            // The quota every replica shares.
            let class = if kind.anonymous() { "refusals:anonymous" } else { "refusals:signed_in" };
            let shared = ff_board_engine::allowance::take(&c.side, class, 1, u64::from(PER_MINUTE), 60_000, now).await.map_err(|e| e.to_string())?;
            if let ff_board_engine::allowance::Allowance::Refused { .. } = shared {
                state.refusals.left_out(kind, left_out + 1);
                ff_board_engine::metrics::global().refusal_unaudited();
                return Ok(());
            }
            let audit = crate::state::audit_in(&state, &c)
                .await
                .map_err(|e| e.to_string())?;
            let key = format!("refused/{}", unique());
            let entry = audit
                .record_attempt(ff_board_engine::audit::Attempt { user: &user, role: &role, action, target: &target, reason: &reason, idempotency_key: &key })
                .await
                .map_err(|e| e.to_string())?;
            audit
                .record_outcome(&entry.entry().id, &ff_board_domain::AuditOutcome::Refused.encode().unwrap_or_default())
                .await
                .map_err(|e| e.to_string())
        };
        match tokio::time::timeout(WRITE_DEADLINE, write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(target: "ff_board::security", action, error = %e, "refusal not audited")
            }
            Err(_) => {
                tracing::warn!(target: "ff_board::security", action, "refusal not audited: the store did not answer in 5 s")
            }
        }
    });
}

/// An idempotency key no other write (of this process or a replica) uses.
fn unique() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    static SALT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let salt = *SALT.get_or_init(|| {
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    });
    format!("{salt:016x}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// The request's path (the refused target).
fn path() -> String {
    leptos::prelude::use_context::<http::request::Parts>()
        .map(|p| p.uri.path().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_admits_its_quota_then_counts_what_it_left_out() {
        let q = Quota::default();
        let t0 = 1_000 * 60_000;
        let failed = Refusal::SignInFailed;
        for _ in 0..PER_MINUTE {
            assert_eq!(q.admit(failed, t0), Some(0));
        }
        assert_eq!(q.admit(failed, t0 + 1), None);
        assert_eq!(q.admit(Refusal::SignInLimited, t0 + 2), None);
        // Anonymous refusals spent theirs; a signed-in user's are still written.
        assert_eq!(q.admit(Refusal::Csrf, t0 + 3), Some(0));
        assert_eq!(q.admit(Refusal::Role, t0 + 4), Some(0));
        // The next minute: written again, and told two were left out.
        assert_eq!(q.admit(failed, t0 + 60_000), Some(2));
        assert_eq!(q.admit(failed, t0 + 60_001), Some(0));
    }
}
