//! The board's [`Authenticator`]: signed session cookies over the users
//! file (or the demo accounts), CSRF tokens bound to the session, login
//! rate limiting, and the anonymous-read setting.
use std::time::Duration;

use ff_board_app::auth::{Actor, Authenticator, LoginRefused, Role};

use crate::auth::{self, DemoAccounts, SessionKey, Users, SESSION_TTL_MS};
use crate::limiter::LoginLimiter;

pub struct BoardAuth {
    users: Users,
    key: SessionKey,
    limiter: LoginLimiter,
    /// Mark cookies `Secure` (TLS, or `--behind-tls-proxy`).
    secure: bool,
    anonymous_read: bool,
    /// Listed on /login (demo mode only).
    demo: DemoAccounts,
}

impl BoardAuth {
    pub fn new(users: Users, key: SessionKey, secure: bool, anonymous_read: bool, demo: DemoAccounts) -> BoardAuth {
        BoardAuth { users, key, limiter: LoginLimiter::new(Duration::from_secs(300)), secure, anonymous_read, demo }
    }

    /// The embedded demo: demo accounts, anonymous reads, a secret file.
    pub fn demo(secret_file: &str) -> Result<BoardAuth, String> {
        let (users, listed) = auth::demo_users()?;
        Ok(BoardAuth::new(users, SessionKey::from_env_or_file(secret_file)?, false, true, listed))
    }

    /// A session cookie for `user` (tests and benchmarks sign in with it).
    pub fn session_cookie(&self, user: &str) -> Option<String> {
        self.session_cookie_issued(user, auth::now_ms())
    }

    /// A session cookie issued at `issued_ms` (an old one is expired).
    pub fn session_cookie_issued(&self, user: &str, issued_ms: i64) -> Option<String> {
        let u = self.users.get(user)?;
        let s = auth::Session::new(&u, issued_ms);
        Some(format!("{}={}", auth::COOKIE_NAME, self.key.encode(&s)))
    }
}

impl Authenticator for BoardAuth {
    fn actor(&self, headers: &http::HeaderMap) -> Option<Actor> {
        let value = headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|h| h.to_str().ok())
            .find_map(auth::session_from_cookie_header)?;
        let session = self.key.decode(value, auth::now_ms()).ok()?;
        // The role comes from the users file now, not from the cookie: a
        // demoted or removed user loses rights at once.
        let user = self.users.get(&session.user)?;
        Some(Actor { user: user.name.clone(), role: user.role, csrf: self.key.csrf_token(&session) })
    }

    fn login(&self, user: &str, password: &str, addr: &str) -> Result<(Actor, String), LoginRefused> {
        let now = auth::now_ms();
        if let Err(wait) = self.limiter.check(user, addr, now) {
            tracing::warn!(target: "ff_board::security", user, addr, wait_s = wait.as_secs(), "sign-in refused: too many failures");
            return Err(LoginRefused::Limited(format!("too many failed sign-ins: try again in {} s", wait.as_secs().max(1))));
        }
        let Some(u) = self.users.verify(user, password) else {
            self.limiter.fail(user, addr, now);
            tracing::warn!(target: "ff_board::security", user, addr, "sign-in failed: wrong user name or password");
            return Err(LoginRefused::Wrong("wrong username or password".into()));
        };
        tracing::info!(target: "ff_board::security", user, addr, "signed in");
        self.limiter.succeed(user, addr);
        let session = auth::Session::new(&u, now);
        let cookie = auth::cookie(&self.key.encode(&session), self.secure, (SESSION_TTL_MS / 1000) as u64);
        Ok((Actor { user: u.name.clone(), role: u.role, csrf: self.key.csrf_token(&session) }, cookie))
    }

    fn logout_cookie(&self) -> String {
        auth::clear_cookie(self.secure)
    }

    fn anonymous_read(&self) -> bool {
        self.anonymous_read
    }

    fn demo_accounts(&self) -> Vec<(String, String, Role)> {
        self.demo.clone()
    }
}
