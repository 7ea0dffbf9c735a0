//! Sign-in, sign-out, who am I, and the audit log (admins).
use leptos::prelude::*;

use crate::auth::Me;
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "me", output = crate::api::codec::JsonAnswer)]
pub async fn get_me() -> Result<Me, AppError> {
    let auth = crate::state::auth()?;
    Ok(Me { actor: crate::state::actor(), anonymous_read: auth.anonymous_read() })
}

/// Longest user name accepted (checked before any hashing).
pub const MAX_USERNAME: usize = 64;
/// Longest password accepted (argon2 hashes whatever it is given).
pub const MAX_PASSWORD: usize = 1024;

/// `/login` form post: fields `username`, `password`, optional `next`.
/// The password check (argon2, 19 MiB, tens of ms) runs on the blocking
/// pool behind [`login_slots`], never on the async workers that serve
/// pages and the WebSocket.
#[server(prefix = "/api", endpoint = "login", output = crate::api::codec::JsonAnswer)]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let auth = crate::state::auth()?;
    let user = username.trim().to_owned();
    if user.is_empty() || user.len() > MAX_USERNAME || password.len() > MAX_PASSWORD {
        return Err(AppError::BadRequest(format!(
            "a user name is 1 to {MAX_USERNAME} bytes and a password at most {MAX_PASSWORD}"
        )));
    }
    let addr = client_addr();
    // Written to logs and the audit log: the typed name only when it is a user.
    let name = auth.shown_name(&user);
    let refused = |kind: Refusal, m: &str| {
        crate::security::record(kind, &name, "anonymous", &format!("{m} (from {addr})"));
    };
    // Counted before it waits for a slot: an attempt that hangs up has
    // still spent its budget.
    if let Err(LoginRefused::Limited(m) | LoginRefused::Wrong(m)) = auth.admit(&user, &addr) {
        refused(Refusal::SignInLimited, &m);
        return Err(AppError::TooMany(m));
    }
    // The same account across every replica (the store's count). A store
    // that does not answer leaves this process's own limits in force.
    if let Some(limit) = auth.shared_limit(&user, &addr) {
        use ff_board_engine::allowance::{take, Allowance};
        // Not `state::conn`: an anonymous request may not read, yet signs in.
        let took = match crate::state::engine()?.connected() {
            Ok(c) => {
                let now = ff_board_engine::backend::now_ms();
                tokio::time::timeout(SHARED_LIMIT_DEADLINE, take(&c.side, &limit.name, 1, limit.cap, limit.window_ms, now)).await
            }
            Err(down) => Ok(Err(ff_board_engine::store_error::StoreError::new(
                ff_board_engine::store_error::Store::Allowances,
                "take",
                down.error.unwrap_or_else(|| "not connected".into()),
            ))),
        };
        match took {
            Ok(Ok(Allowance::Taken { .. })) => {}
            Ok(Ok(Allowance::Refused { .. })) => {
                let m = format!("too many failed sign-ins for this account: try again in up to {} minutes", limit.window_ms / 60_000);
                refused(Refusal::SignInLimited, &m);
                return Err(AppError::TooMany(m));
            }
            Ok(Err(e)) => tracing::warn!(target: "ff_board::security", error = %e, "shared sign-in limit unreadable; this replica's own limits hold"),
            Err(_) => tracing::warn!(target: "ff_board::security", "shared sign-in limit did not answer in time; this replica's own limits hold"),
        }
    }
    let busy = || AppError::TooMany("sign-in is busy: try again in a few seconds".into());
    let permit = tokio::time::timeout(std::time::Duration::from_secs(5), login_slots().clone().acquire_owned())
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
    let from = addr.clone();
    // The hashing task holds the slot (and the count of running checks)
    // until it ends: a client that hangs up frees neither early.
    let checked = tokio::task::spawn_blocking(move || {
        let _slot = permit;
        let _running = ff_board_engine::metrics::global().sign_in_check();
        auth.login(&user, &password, &from)
    })
    .await;
    let (_, cookie) = match checked {
        Ok(Ok(ok)) => ok,
        Ok(Err(LoginRefused::Limited(m))) => {
            refused(Refusal::SignInLimited, &m);
            return Err(AppError::TooMany(m));
        }
        Ok(Err(LoginRefused::Wrong(m))) => {
            refused(Refusal::SignInFailed, &m);
            return Err(AppError::Unauthorized(m));
        }
        Err(e) => return Err(AppError::Transport(format!("sign-in check failed: {e}"))),
    };
    set_cookie(&cookie);
    let to = next.filter(|n| safe_next(n)).unwrap_or_else(|| "/flows".into());
    leptos_axum::redirect(&to);
    Ok(())
}

#[cfg(feature = "ssr")]
use crate::auth::LoginRefused;
#[cfg(feature = "ssr")]
use crate::security::Refusal;

/// Password checks at once: two (argon2 uses 19 MiB and a core each), so
/// a flood of sign-ins waits here, at most 5 s, then gets 429. A slot is
/// held by the hashing task, not by the request.
#[cfg(feature = "ssr")]
fn login_slots() -> &'static std::sync::Arc<tokio::sync::Semaphore> {
    static SLOTS: std::sync::OnceLock<std::sync::Arc<tokio::sync::Semaphore>> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_SIGN_IN_CHECKS)))
}

/// How long a sign-in waits for the store's shared count (`Authenticator::shared_limit`).
#[cfg(feature = "ssr")]
const SHARED_LIMIT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// Password checks (argon2) running at once, process-wide.
pub const MAX_SIGN_IN_CHECKS: usize = 2;

/// Where a sign-in may send the browser: a path on this board only. Not
/// `//host` or `/\host` (browsers read both as another origin), no
/// backslash or control character anywhere, at most 512 bytes.
pub fn safe_next(next: &str) -> bool {
    next.len() <= 512
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next.chars().any(|c| c == '\\' || c.is_control())
}

/// Sign out: the cookie is cleared here, and the user's sessions end on
/// every replica (a copied cookie stops working too). When the store
/// cannot record that, the cookie is still cleared and the error says so.
#[server(prefix = "/api", endpoint = "logout", output = crate::api::codec::JsonAnswer)]
pub async fn logout() -> Result<(), AppError> {
    let auth = crate::state::auth()?;
    let engine = crate::state::engine()?;
    let headers = use_context::<http::request::Parts>().map(|p| p.headers).unwrap_or_default();
    let after = auth.after_sign_out(&headers);
    let (cookie, revoked) = auth.logout(engine, &headers).await;
    set_cookie(&cookie);
    revoked.map_err(|e| AppError::BackendDown { backend: "session store".into(), error: format!("signed out here, but other copies of the session may still work: {e}") })?;
    leptos_axum::redirect(after.as_deref().unwrap_or("/login"));
    Ok(())
}

#[cfg(feature = "ssr")]
fn set_cookie(value: &str) {
    if let (Some(r), Ok(v)) = (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(value)) {
        r.append_header(http::header::SET_COOKIE, v);
    }
}

/// The client address for rate limiting: the peer, or, when the peer is
/// a trusted proxy (`FF_BOARD_TRUSTED_PROXIES`), the right-most
/// `X-Forwarded-For` hop that is not itself trusted. A client writes what
/// it likes at the left of that header, so the left is never believed.
#[cfg(feature = "ssr")]
fn client_addr() -> String {
    let Some(parts) = use_context::<http::request::Parts>() else { return "unknown".into() };
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let forwarded: Vec<&str> = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
    crate::proxy::client_ip(peer, &forwarded.join(","), crate::proxy::trusted()).map_or_else(|| "unknown".into(), |ip| ip.to_string())
}

/// One audit entry as the browser sees it.
pub use crate::api::audit_types::AuditRow;

#[server(prefix = "/api", endpoint = "list_audit", output = crate::api::codec::PostcardAnswer)]
pub async fn list_audit(user: Option<String>, action: Option<String>, target: Option<String>) -> Result<Vec<AuditRow>, AppError> {
    use ff_board_engine::audit::AuditFilter;
    let me = crate::state::actor().ok_or_else(|| AppError::Unauthorized("sign in to read the audit log".into()))?;
    // Every signed-in user sees the entries of one flow, execution or
    // budget (their pages); searching the whole log is for admins.
    let admin = me.role.can(crate::auth::Role::Admin);
    let exact = if admin {
        None
    } else {
        Some(crate::api::session::audit_scope(target.as_deref()).inspect_err(|_| {
            let asked = target.as_deref().unwrap_or_default().chars().take(128).collect::<String>();
            crate::security::record(Refusal::AuditRead, &me.user, me.role.as_str(), &format!("asked for target {asked:?}"));
        })?)
    };
    let nonempty = |s: Option<String>| s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    // One flow's or execution's entries (its page; everyone): read by
    // subject from the store's index. Anything else (an admin's search):
    // a substring, read page by page within the store's bound.
    let subject = crate::api::session::audit_scope(target.as_deref()).ok();
    let target_contains = if subject.is_some() { None } else { nonempty(target) };
    let filter = AuditFilter { user: nonempty(user), action: nonempty(action), target_contains, subject, limit: 500 };
    let rows = super::read::read(|c| async move {
        let audit = crate::state::audit(&c).await?;
        Ok(audit.list(&filter).await?)
    })
    .await?;
    Ok(rows
        .into_iter()
        .filter(|e| exact.as_deref().is_none_or(|id| crate::api::session::in_scope(&e.target, id)))
        .map(|e| AuditRow {
            outcome: crate::api::states::AuditOutcome::decode(&e.action, e.outcome.as_deref()),
            id: e.id,
            at_ms: e.at_ms,
            user: e.user,
            role: e.role,
            action: e.action,
            target: e.target,
            reason: e.reason,
            idempotency_key: e.idempotency_key,
            outcome_at_ms: e.outcome_at_ms,
        })
        .collect())
}

/// The one id a non-admin may ask the audit log about: an exact flow,
/// budget (a UUID) or execution id (`{fp:N}:<uuid>`); anything else is 403.
#[cfg(feature = "ssr")]
pub fn audit_scope(target: Option<&str>) -> Result<String, AppError> {
    let t = target.map(str::trim).unwrap_or_default();
    let is_id = ff_core::types::FlowId::parse(t).is_ok() || ff_core::types::ExecutionId::parse(t).is_ok();
    if is_id {
        Ok(t.to_owned())
    } else {
        Err(AppError::Forbidden("the audit log is for admins: others see the entries of one flow, execution or budget".into()))
    }
}

/// Whether a stored audit target is about `id`: the id itself, or an
/// approval's `"<execution id> <waitpoint id>"`.
#[cfg(feature = "ssr")]
pub fn in_scope(stored: &str, id: &str) -> bool {
    stored == id || stored.strip_prefix(id).is_some_and(|rest| rest.starts_with(' '))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[cfg(feature = "ssr")]
    #[test]
    fn non_admins_read_the_audit_of_one_exact_id() {
        use super::{audit_scope, in_scope};
        let eid = "{fp:3}:0f8fad5b-d9cb-469f-a165-70867728950e";
        let fid = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
        assert_eq!(audit_scope(Some(eid)).unwrap(), eid);
        assert_eq!(audit_scope(Some(fid)).unwrap(), fid);
        for bad in [None, Some(""), Some("-"), Some("0f8fad5b"), Some("{fp:x}:0f8fad5b-d9cb-469f-a165-70867728950e"), Some("%")] {
            assert!(audit_scope(bad).is_err(), "{bad:?}");
        }
        assert!(in_scope(eid, eid));
        assert!(in_scope(&format!("{eid} {fid}"), eid), "an approval on that execution");
        assert!(!in_scope(&format!("x{eid}"), eid));
        assert!(!in_scope(&format!("{eid}0"), eid));
    }

    #[test]
    fn next_stays_on_the_board() {
        for ok in ["/flows", "/executions/%7Bfp%3A1%7D%3Aabc?x=1", "/"] {
            assert!(safe_next(ok), "{ok}");
        }
        for bad in ["//evil.example", "/\\evil.example", "/\\/evil.example", "https://evil.example", "evil", "/\tx", ""] {
            assert!(!safe_next(bad), "{bad:?}");
        }
        assert!(!safe_next(&format!("/{}", "a".repeat(600))));
    }
}
