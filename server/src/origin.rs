//! Cross-origin posts refused (issue 22, attack 7). Sign-in and sign-out
//! carry no session CSRF token (there is no session yet, or it is ending),
//! so a page on a sibling origin could post the board's sign-in form with
//! its own account (the victim then acts as the attacker) or sign a user
//! out. Every `POST` a browser marks as coming from another origin is
//! refused with 403 before any server function runs: its `Origin` must be
//! the board's own (the request's `Host`, as the live socket checks it) or
//! listed in `FF_BOARD_ALLOWED_ORIGINS`; `Origin: null` is refused; without
//! an `Origin`, a `Sec-Fetch-Site` other than `same-origin` or `none` is
//! refused. Clients that are no browser send neither header and are let
//! through (they cannot be driven by another site); every other write
//! checks its session's CSRF token as well.
use std::sync::Arc;

use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};

/// Origins allowed besides the board's own (`FF_BOARD_ALLOWED_ORIGINS`).
#[derive(Clone, Debug, Default)]
pub struct Origins(pub Arc<Vec<String>>);

impl Origins {
    pub fn from_env() -> Origins {
        Origins(Arc::new(crate::live::ws::allowed_origins_from_env()))
    }
}

/// Whether a post with these headers comes from the board's own pages (or a non-browser client).
pub fn same_origin(origin: Option<&str>, fetch_site: Option<&str>, host: Option<&str>, allowed: &[String]) -> bool {
    match origin.map(str::trim) {
        Some("null") => false,
        Some(o) => crate::live::ws::origin_allowed(Some(o), host, allowed),
        None => fetch_site.is_none_or(|s| s == "same-origin" || s == "none"),
    }
}

/// Middleware: refuse a cross-origin `POST`.
pub async fn check(axum::extract::State(origins): axum::extract::State<Origins>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if req.method() == Method::POST {
        let h = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let origin = h(header::ORIGIN.as_str());
        if !same_origin(origin, h("sec-fetch-site"), h(header::HOST.as_str()), &origins.0) {
            tracing::warn!(target: "ff_board::security", origin = ?origin.map(|o| o.chars().take(64).collect::<String>()), path = %req.uri().path(), "post refused: another origin");
            return (
                StatusCode::FORBIDDEN,
                "refused: this post comes from another site. Sign in, sign out and act from the board's own pages (or list that origin in FF_BOARD_ALLOWED_ORIGINS)",
            )
                .into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::same_origin;

    #[test]
    fn only_the_boards_own_origin_posts() {
        let host = Some("board.example.com");
        assert!(same_origin(Some("https://board.example.com"), Some("same-origin"), host, &[]));
        assert!(!same_origin(Some("https://evil.example.com"), Some("same-site"), host, &[]), "a sibling origin");
        assert!(!same_origin(Some("null"), None, host, &[]));
        assert!(same_origin(Some("https://ops.example.com"), None, host, &["https://ops.example.com".into()]));
        assert!(same_origin(None, None, host, &[]), "a client that is no browser");
        assert!(same_origin(None, Some("none"), host, &[]), "typed in the address bar");
        assert!(!same_origin(None, Some("cross-site"), host, &[]));
        assert!(!same_origin(None, Some("same-site"), host, &[]));
    }
}
