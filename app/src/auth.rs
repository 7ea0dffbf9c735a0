//! Who is acting: the signed-in operator as the browser sees it, and (on
//! the server) the seam to the board's authenticator. Roles are enforced in
//! the server functions; the UI only mirrors them.
use serde::{Deserialize, Serialize};

/// viewer < operator < admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub fn can(self, needed: Role) -> bool {
        self >= needed
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

/// The signed-in user, with the CSRF token their forms carry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    pub role: Role,
    pub csrf: String,
}

/// What every page knows about the visitor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub actor: Option<Actor>,
    /// Whether pages may be read without signing in.
    pub anonymous_read: bool,
}

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(feature = "ssr")]
mod server {
    use super::*;

    /// Why a sign-in was refused.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum LoginRefused {
        /// Too many failures from this address (or for this name from it).
        Limited(String),
        /// Wrong user name or password.
        Wrong(String),
    }

    /// A sign-in limit kept in the deployment's store, which every replica
    /// counts against: the allowance `name`, `cap` attempts per `window_ms`.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct SharedLimit {
        pub name: String,
        pub cap: u64,
        pub window_ms: i64,
    }

    /// The board's authenticator, implemented by the server crate.
    pub trait Authenticator: Send + Sync + 'static {
        /// The session of this request, if any and valid.
        fn actor(&self, headers: &http::HeaderMap) -> Option<Actor>;
        /// Admit one sign-in attempt of `user` from `addr` (fast): counts
        /// it before its password is checked, or refuses it when a limit
        /// holds. Call it before waiting for a hashing slot, so attempts
        /// that hang up still spend their budget.
        fn admit(&self, user: &str, addr: &str) -> Result<(), LoginRefused>;
        /// The store-kept limit an admitted attempt of `user` from `addr`
        /// also counts against (every replica shares it); `None` when it
        /// is exempt (an address this user signed in from).
        fn shared_limit(&self, _user: &str, _addr: &str) -> Option<SharedLimit> {
            None
        }
        /// Verify the credentials of an admitted attempt (slow: call it
        /// off the async workers); on success the `Set-Cookie` value.
        fn login(&self, user: &str, password: &str, addr: &str) -> Result<(Actor, String), LoginRefused>;
        /// End this request's session everywhere (all replicas): the
        /// `Set-Cookie` value that clears it here, and whether revoking it
        /// in the store worked.
        fn logout<'a>(
            &'a self,
            engine: std::sync::Arc<ff_board_engine::Engine>,
            headers: &'a http::HeaderMap,
        ) -> futures::future::BoxFuture<'a, (String, Result<(), String>)>;
        /// Start background work once the board runs (re-reading session
        /// revocations).
        fn start(&self, engine: std::sync::Arc<ff_board_engine::Engine>);
        /// How a typed user name is written to logs and the audit log:
        /// itself for a user who exists, else a keyed hash (a password
        /// typed into the name field is never stored).
        fn shown_name(&self, user: &str) -> String;
        fn anonymous_read(&self) -> bool;
        fn demo_accounts(&self) -> Vec<(String, String, Role)>;
        /// Routes of the authenticator's own (single sign-on), merged into the board's.
        fn routes(&self) -> axum::Router {
            axum::Router::new()
        }
        /// The single-sign-on button's text, when sign-in by an identity provider is on.
        fn sso_label(&self) -> Option<String> {
            None
        }
        /// Where a sign-out of this request's session goes instead of
        /// `/login` (a single-sign-on session: the provider's own sign-out
        /// page, which comes back to `/login`).
        fn after_sign_out(&self, _headers: &http::HeaderMap) -> Option<String> {
            None
        }
    }
}
