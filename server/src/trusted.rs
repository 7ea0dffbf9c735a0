//! Sign-in by an authenticating proxy (oauth2-proxy, Pomerium; issue 22):
//! the proxy authenticates the user with the company's identity provider
//! and passes who they are and their groups in headers. The board believes
//! those headers only from a peer listed in `FF_BOARD_TRUSTED_PROXIES`:
//! [`mark`] (a middleware on every request) removes any marker a client
//! sent and sets [`TRUSTED_PEER`] only when the connection's peer is a
//! trusted proxy; `BoardAuth` reads the user headers only on marked
//! requests. Roles come from the groups by [`RoleMap`] (the same mapping
//! single sign-on uses, `FF_BOARD_OIDC_ROLES`, e.g.
//! `ops-admins:admin,ops:operator,*:viewer`): the highest role of any
//! matching entry; a user whose groups map to no role has no access.
//!
//! Settings: `FF_BOARD_TRUSTED_USER_HEADER` (say `X-Forwarded-User`; unset:
//! the mode is off), `FF_BOARD_TRUSTED_GROUPS_HEADER` (default
//! `X-Forwarded-Groups`, comma-separated), `FF_BOARD_OIDC_ROLES`. Signing
//! out is the proxy's: the board's sign-out ends only its own cookie.
use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use ff_board_app::auth::Role;

/// Set by [`mark`] on requests whose peer is a trusted proxy (never believed from a client).
pub const TRUSTED_PEER: &str = "x-ff-board-trusted-peer";
/// Longest user name a proxy may pass.
pub const MAX_USER: usize = 64;
/// Groups of one user read at most (a header is at most a few KiB).
pub const MAX_GROUPS: usize = 64;

/// Middleware: drop a client's marker; mark requests from a trusted proxy.
pub async fn mark(mut req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    req.headers_mut().remove(TRUSTED_PEER);
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if peer.is_some_and(|ip| ff_board_app::proxy::trusted().iter().any(|c| c.contains(ip))) {
        req.headers_mut().insert(TRUSTED_PEER, HeaderValue::from_static("1"));
    }
    next.run(req).await
}

/// Groups to roles: `group:role` entries, `*` for anyone signed in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleMap(Vec<(String, Role)>);

impl RoleMap {
    /// `ops-admins:admin,ops:operator,*:viewer`.
    pub fn parse(raw: &str) -> Result<RoleMap, String> {
        let mut out = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (group, role) = entry.rsplit_once(':').ok_or_else(|| format!("{entry:?}: expected group:role"))?;
            let role = match role.trim() {
                "viewer" => Role::Viewer,
                "operator" => Role::Operator,
                "admin" => Role::Admin,
                other => return Err(format!("{entry:?}: unknown role {other:?} (viewer, operator or admin)")),
            };
            if group.trim().is_empty() {
                return Err(format!("{entry:?}: empty group"));
            }
            out.push((group.trim().to_owned(), role));
        }
        if out.is_empty() {
            return Err("no group:role entries".into());
        }
        Ok(RoleMap(out))
    }

    /// The highest role any of `groups` (or `*`) maps to; `None`: no access.
    pub fn role(&self, groups: &[&str]) -> Option<Role> {
        self.0.iter().filter(|(g, _)| g == "*" || groups.contains(&g.as_str())).map(|(_, r)| *r).max()
    }
}

/// The trusted-header mode's settings.
#[derive(Clone, Debug)]
pub struct TrustedHeaders {
    pub user: HeaderName,
    pub groups: HeaderName,
    pub roles: RoleMap,
}

impl TrustedHeaders {
    /// From the environment: `None` when `FF_BOARD_TRUSTED_USER_HEADER` is unset.
    pub fn from_env() -> Result<Option<TrustedHeaders>, String> {
        let Some(user) = std::env::var("FF_BOARD_TRUSTED_USER_HEADER").ok().filter(|v| !v.trim().is_empty()) else { return Ok(None) };
        let groups = std::env::var("FF_BOARD_TRUSTED_GROUPS_HEADER").unwrap_or_else(|_| "X-Forwarded-Groups".into());
        let roles = std::env::var("FF_BOARD_OIDC_ROLES").map_err(|_| "FF_BOARD_TRUSTED_USER_HEADER needs FF_BOARD_OIDC_ROLES (groups to roles)".to_owned())?;
        TrustedHeaders::new(&user, &groups, &roles).map(Some)
    }

    pub fn new(user: &str, groups: &str, roles: &str) -> Result<TrustedHeaders, String> {
        let name = |h: &str| HeaderName::try_from(h.trim()).map_err(|_| format!("{h:?} is not a header name"));
        Ok(TrustedHeaders { user: name(user)?, groups: name(groups)?, roles: RoleMap::parse(roles).map_err(|e| format!("FF_BOARD_OIDC_ROLES: {e}"))? })
    }

    /// The user and role a trusted proxy names on this request, if it is
    /// marked as coming from one and the user maps to a role.
    pub fn user(&self, headers: &HeaderMap) -> Option<(String, Role)> {
        headers.get(TRUSTED_PEER)?;
        let user = headers.get(&self.user)?.to_str().ok()?.trim();
        if user.is_empty() || user.len() > MAX_USER || user.chars().any(char::is_control) {
            return None;
        }
        let raw: Vec<&str> = headers.get_all(&self.groups).iter().filter_map(|v| v.to_str().ok()).collect();
        let groups: Vec<&str> = raw.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|g| !g.is_empty()).take(MAX_GROUPS).collect();
        let role = self.roles.role(&groups)?;
        Some((user.to_owned(), role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_map_to_the_highest_role_and_no_match_is_no_access() {
        let m = RoleMap::parse("ops-admins:admin, ops:operator").unwrap();
        assert_eq!(m.role(&["ops", "ops-admins"]), Some(Role::Admin));
        assert_eq!(m.role(&["ops"]), Some(Role::Operator));
        assert_eq!(m.role(&["sales"]), None, "no role: no access");
        assert_eq!(RoleMap::parse("ops:operator,*:viewer").unwrap().role(&[]), Some(Role::Viewer));
        for bad in ["", "ops", "ops:root", ":admin"] {
            assert!(RoleMap::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn headers_count_only_when_marked_by_a_trusted_peer() {
        let t = TrustedHeaders::new("X-Forwarded-User", "X-Forwarded-Groups", "ops:operator").unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-user", HeaderValue::from_static("grace"));
        h.insert("x-forwarded-groups", HeaderValue::from_static("eng, ops"));
        assert_eq!(t.user(&h), None, "not marked");
        h.insert(TRUSTED_PEER, HeaderValue::from_static("1"));
        assert_eq!(t.user(&h), Some(("grace".into(), Role::Operator)));
        h.insert("x-forwarded-groups", HeaderValue::from_static("eng"));
        assert_eq!(t.user(&h), None, "maps to no role");
    }
}
