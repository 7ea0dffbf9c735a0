//! The Host allowlist (DNS rebinding): a page on `evil.example`, whose
//! name an attacker points at 127.0.0.1, reaches a board bound to
//! loopback with the browser's `Host: evil.example`. The board answers
//! only Host names it knows: IP literals (a rebinding needs a name),
//! `localhost` and `*.localhost`, the names in `FF_BOARD_ALLOWED_HOSTS`
//! (comma-separated, a leading `*.` for subdomains) and the host of
//! `FF_BOARD_PUBLIC_URL`. Others get 421 Misdirected Request with what to
//! set. A request without a Host (HTTP/1.0 probes) is let through: no
//! browser sends one.
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The names configured beside the built-in ones (lowercase).
#[derive(Clone, Debug, Default)]
pub struct Hosts(Arc<Vec<String>>);

impl Hosts {
    /// From `FF_BOARD_ALLOWED_HOSTS` and `FF_BOARD_PUBLIC_URL`.
    pub fn from_env() -> Hosts {
        let mut names: Vec<String> = std::env::var("FF_BOARD_ALLOWED_HOSTS")
            .unwrap_or_default()
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        if let Some(h) = std::env::var("FF_BOARD_PUBLIC_URL").ok().and_then(|u| public_host(&u)) {
            names.push(h);
        }
        Hosts(Arc::new(names))
    }

    pub fn new(names: &[&str]) -> Hosts {
        Hosts(Arc::new(names.iter().map(|n| n.to_ascii_lowercase()).collect()))
    }

    /// Whether a request with `Host: host` is answered.
    pub fn allows(&self, host: &str) -> bool {
        let name = hostname(host);
        if name.is_empty() {
            return false;
        }
        if name.parse::<std::net::IpAddr>().is_ok() || name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        self.0.iter().any(|a| match a.strip_prefix("*.") {
            Some(suffix) => name.ends_with(&format!(".{suffix}")),
            None => *a == name,
        })
    }
}

/// The name of a Host header: lowercase, without its port (and without the
/// brackets of an IPv6 literal).
fn hostname(host: &str) -> String {
    let h = host.trim().to_ascii_lowercase();
    if let Some(rest) = h.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_owned();
    }
    h.rsplit_once(':').filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit())).map_or(h.clone(), |(name, _)| name.to_owned())
}

/// The host of a public URL (`https://board.example.com/x` → `board.example.com`).
fn public_host(url: &str) -> Option<String> {
    let rest = url.trim().split_once("://")?.1;
    let authority = rest.split('/').next()?;
    Some(hostname(authority)).filter(|h| !h.is_empty())
}

/// Middleware: refuse a Host the board does not know.
pub async fn check(axum::extract::State(hosts): axum::extract::State<Hosts>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let host = req.headers().get(axum::http::header::HOST).map(|h| h.to_str().unwrap_or("\u{0}"));
    match host {
        Some(h) if !hosts.allows(h) => {
            tracing::warn!(target: "ff_board::security", host = %h.chars().take(64).collect::<String>(), "request refused: unknown Host");
            (
                StatusCode::MISDIRECTED_REQUEST,
                "unknown Host: the board answers IP addresses, localhost and the names in FF_BOARD_ALLOWED_HOSTS (or FF_BOARD_PUBLIC_URL)",
            )
                .into_response()
        }
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_ips_and_configured_names_only() {
        let h = Hosts::new(&["board.example.com", "*.ops.example.com"]);
        for ok in ["127.0.0.1:3000", "localhost", "LOCALHOST:3000", "[::1]:3000", "10.2.3.4", "app.localhost:80", "board.example.com", "Board.Example.com:443", "a.ops.example.com"] {
            assert!(h.allows(ok), "{ok}");
        }
        for bad in ["evil.example", "evil.example:3000", "board.example.com.evil.example", "ops.example.com", "", "localhost.evil.example", "127.0.0.1.nip.io"] {
            assert!(!h.allows(bad), "{bad}");
        }
        assert_eq!(public_host("https://Board.example.com:8443/path"), Some("board.example.com".into()));
        assert_eq!(public_host("nonsense"), None);
    }
}
