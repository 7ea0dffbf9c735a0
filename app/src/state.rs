//! The axum state (server only): Leptos options plus the one engine seam.
//! Server functions read it with [`conn`] (provided as context by
//! `leptos_routes_with_context`).
use std::sync::Arc;

use axum::extract::FromRef;
use ff_board_engine::connect::Connected;
use ff_board_engine::Engine;
use leptos::prelude::*;

use ff_board_engine::audit::AuditLog;

use crate::auth::{Actor, Authenticator, Role};
use crate::error::AppError;
use crate::security::Refusal;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub engine: Arc<Engine>,
    pub auth: Arc<dyn Authenticator>,
    /// The audit log, opened on the backend's store at first use.
    pub audit: Arc<tokio::sync::OnceCell<Arc<AuditLog>>>,
    /// The saved views' store, opened on the backend's store at first use.
    pub views: Arc<tokio::sync::OnceCell<Arc<dyn ff_board_engine::views::ViewStore>>>,
    /// The two-person requests' store, opened on the backend's store at first use.
    pub requests: Arc<tokio::sync::OnceCell<Arc<dyn ff_board_engine::requests::RequestStore>>>,
    /// How many refusals this board still writes to the audit log this minute.
    pub refusals: Arc<crate::security::Quota>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

impl FromRef<AppState> for Arc<Engine> {
    fn from_ref(s: &AppState) -> Self {
        s.engine.clone()
    }
}

fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| AppError::Transport("board state missing from request context".into()))
}

/// The request's headers (SSR and server functions).
fn headers() -> http::HeaderMap {
    use_context::<http::request::Parts>().map(|p| p.headers).unwrap_or_default()
}

/// Whether this request is a browser's own form post (it accepts HTML),
/// not a call of the app's client.
pub fn form_post() -> bool {
    headers().get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

/// The signed-in user of this request, if any.
pub fn actor() -> Option<Actor> {
    let s = state().ok()?;
    s.auth.actor(&headers())
}

/// Gate a read: anonymous reads only where the board allows them.
pub fn reader() -> Result<Option<Actor>, AppError> {
    let s = state()?;
    match s.auth.actor(&headers()) {
        Some(a) => Ok(Some(a)),
        None if s.auth.anonymous_read() => Ok(None),
        None => Err(AppError::Unauthorized("this board needs a signed-in user to read".into())),
    }
}

/// Gate a write: a session with at least `needed`, and its CSRF token.
pub fn writer(needed: Role, csrf: &str) -> Result<Actor, AppError> {
    let a = actor().ok_or_else(|| AppError::Unauthorized("sign in to act".into()))?;
    if a.csrf.is_empty() || !ct_eq(a.csrf.as_bytes(), csrf.as_bytes()) {
        tracing::warn!(target: "ff_board::security", user = %a.user, "write refused: missing or invalid CSRF token");
        crate::security::record(Refusal::Csrf, &a.user, a.role.as_str(), "missing or invalid CSRF token");
        return Err(AppError::Forbidden("missing or invalid CSRF token: reload the page".into()));
    }
    if !a.role.can(needed) {
        tracing::warn!(target: "ff_board::security", user = %a.user, role = a.role.as_str(), needed = needed.as_str(), "write refused: role");
        let why = format!("needs the {} role", needed.as_str());
        crate::security::record(Refusal::Role, &a.user, a.role.as_str(), &why);
        return Err(AppError::Forbidden(format!("{} may not do this: it needs the {} role", a.role.as_str(), needed.as_str())));
    }
    Ok(a)
}

/// Constant-time comparison of two tokens.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The audit log of the connected backend.
pub async fn audit(c: &Connected) -> Result<Arc<AuditLog>, AppError> {
    audit_in(&state()?, c).await
}

/// The audit log of `s` (outside a request's context, e.g. in a task).
pub async fn audit_in(s: &AppState, c: &Connected) -> Result<Arc<AuditLog>, AppError> {
    s.audit
        .get_or_try_init(|| async { AuditLog::open(&c.side).await.map(Arc::new) })
        .await
        .cloned()
        .map_err(AppError::from)
}

/// The saved views' store.
pub async fn views(c: &Connected) -> Result<Arc<dyn ff_board_engine::views::ViewStore>, AppError> {
    state()?
        .views
        .get_or_try_init(|| async { c.side.open_views().await.map(Arc::from) })
        .await
        .cloned()
        .map_err(AppError::from)
}

/// The two-person requests' store.
pub async fn requests(c: &Connected) -> Result<Arc<dyn ff_board_engine::requests::RequestStore>, AppError> {
    state()?
        .requests
        .get_or_try_init(|| async { c.side.open_requests().await.map(Arc::from) })
        .await
        .cloned()
        .map_err(AppError::from)
}

/// The authenticator.
pub fn auth() -> Result<Arc<dyn Authenticator>, AppError> {
    Ok(state()?.auth)
}

/// The engine of this request.
pub fn engine() -> Result<Arc<Engine>, AppError> {
    use_context::<AppState>()
        .map(|s| s.engine)
        .ok_or_else(|| AppError::Transport("board state missing from request context".into()))
}

/// The dialed backend for a request allowed to read, or a `BackendDown`
/// error naming it.
pub fn conn() -> Result<Connected, AppError> {
    reader()?;
    engine()?.connected().map_err(|d| AppError::BackendDown {
        backend: d.backend,
        error: d.error.unwrap_or_else(|| "not connected".into()),
    })
}
