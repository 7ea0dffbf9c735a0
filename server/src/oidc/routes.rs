//! Single sign-on's three routes and their small pages (plain server
//! HTML: no client code, so the hydrate bundle does not grow): `/auth/sso`
//! starts a sign-in, `/auth/callback` finishes it, `/auth/end-session`
//! sends a user on to the provider's own sign-out (where a single-sign-on
//! session's sign-out goes). A refusal is a page with its reason
//! (`data-testid="sso-error"`), its status (400 for a browser that holds
//! no matching sign-in, 403 for a token or a user refused, 429 busy, 502
//! for a provider that cannot be reached) and a log line.
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::{Callback, Sso, SsoError};

/// The routes, over one [`Sso`].
pub fn routes(sso: Arc<Sso>) -> Router {
    Router::new()
        .route("/auth/sso", get(start))
        .route("/auth/callback", get(callback))
        .route("/auth/end-session", get(end_session))
        .with_state(sso)
}

#[derive(Debug, Default, Deserialize)]
struct Start {
    next: Option<String>,
}

async fn start(State(sso): State<Arc<Sso>>, Query(q): Query<Start>) -> Response {
    match sso.start(q.next.as_deref().unwrap_or("/flows")).await {
        Ok((to, cookie)) => {
            let mut res = StatusCode::SEE_OTHER.into_response();
            if let (Ok(loc), Ok(c)) = (HeaderValue::from_str(&to), HeaderValue::from_str(&cookie)) {
                res.headers_mut().insert(header::LOCATION, loc);
                res.headers_mut().append(header::SET_COOKIE, c);
                return res;
            }
            refused(&sso, SsoError::Provider("its authorization URL is not a header value".into()))
        }
        Err(e) => refused(&sso, e),
    }
}

async fn callback(State(sso): State<Arc<Sso>>, headers: HeaderMap, q: Result<Query<Callback>, QueryRejection>) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let cookies: Vec<&str> = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
    match sso.finish(&cookies.join("; "), &q).await {
        Ok((who, session, next)) => {
            tracing::info!(target: "ff_board::security", user = %who.user, role = who.role.as_str(), groups = ?who.groups, "signed in by single sign-on");
            let body = format!(
                "<h1>Signed in</h1><p data-testid=\"sso-signed-in\">Signed in as <b>{user}</b> ({role}).</p>\
                 <p><a data-testid=\"sso-continue\" href=\"{next}\">Continue</a></p>",
                user = escape(&who.user),
                role = who.role.as_str(),
                next = escape(&next),
            );
            // Moved on by the page itself: a SameSite=Strict session cookie is
            // not sent on a redirect chain the provider's site started.
            let refresh = format!("<meta http-equiv=\"refresh\" content=\"0;url={}\">", escape(&next));
            let mut res = page(StatusCode::OK, "Signed in", &refresh, &body);
            append_cookie(&mut res, &session);
            append_cookie(&mut res, &sso.clear_pending());
            res
        }
        Err(e) => refused(&sso, e),
    }
}

/// On to the provider's end-session endpoint (RP-initiated logout), which
/// comes back to `/login`; a provider without one: a page that says so.
async fn end_session(State(sso): State<Arc<Sso>>) -> Response {
    match sso.end_session_url().await.and_then(|u| HeaderValue::from_str(&u).ok()) {
        Some(to) => (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response(),
        None => page(
            StatusCode::OK,
            "Signed out",
            "",
            "<h1>Signed out of ff-board</h1><p data-testid=\"signed-out\">The identity provider offers no sign-out to the board: \
             sign out on its own pages.</p><p><a href=\"/login\">Sign in again</a></p>",
        ),
    }
}

fn refused(sso: &Sso, e: SsoError) -> Response {
    let status = match &e {
        SsoError::NoPending | SsoError::State => StatusCode::BAD_REQUEST,
        SsoError::Refused(_) | SsoError::Token(_) | SsoError::NoRole { .. } => StatusCode::FORBIDDEN,
        SsoError::Busy => StatusCode::TOO_MANY_REQUESTS,
        SsoError::Provider(_) => StatusCode::BAD_GATEWAY,
    };
    tracing::warn!(target: "ff_board::security", reason = %e, status = status.as_u16(), "single sign-on refused");
    ff_board_engine::metrics::global().refusal("sign_in_sso");
    let body = format!(
        "<h1>Sign-in refused</h1><p data-testid=\"sso-error\" role=\"alert\">{}</p><p><a href=\"/login\">Back to sign-in</a></p>",
        escape(&e.to_string())
    );
    let mut res = page(status, "Sign-in refused", "", &body);
    append_cookie(&mut res, &sso.clear_pending());
    res
}

fn append_cookie(res: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A small page in the board's colours, with its own strict CSP.
fn page(status: StatusCode, title: &str, head: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title} · ff-board</title>{head}<style>body{{font:15px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#0f172a}}\
         h1{{font-size:1.25rem}}a{{color:#1d4ed8}}[role=alert]{{color:#b91c1c}}</style></head><body>{body}</body></html>"
    );
    let mut res = (status, html).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    );
    res
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}
