//! The board's [`Authenticator`]: signed session cookies over the users
//! file (or the demo accounts), CSRF tokens bound to the session, login
//! rate limiting (`crate::limiter`), revocation (`crate::revoke`: a
//! sign-out ends the user's sessions on every replica), the users file
//! reloaded on change or SIGHUP (a removed user or a changed password ends
//! their sessions), and the anonymous-read setting.
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ff_board_app::auth::{Actor, Authenticator, LoginRefused, Role, SharedLimit};
use ff_board_engine::Engine;
use futures::future::BoxFuture;

use crate::auth::{self, ConfigError, DemoAccounts, SessionKey, Users, SESSION_TTL_MS};
use crate::limiter::LoginLimiter;
use crate::revoke::Revocations;

/// How often the users file's contents are checked.
pub const USERS_CHECK_EVERY: Duration = Duration::from_secs(5);

pub struct BoardAuth {
    users: RwLock<Arc<Users>>,
    /// The users file, when there is one (reloaded on change).
    users_path: Option<PathBuf>,
    key: SessionKey,
    limiter: LoginLimiter,
    revocations: Arc<Revocations>,
    /// Mark cookies `Secure` and name them `__Host-…` (TLS, or `--behind-tls-proxy`).
    secure: bool,
    anonymous_read: bool,
    /// Listed on /login (demo mode only).
    demo: DemoAccounts,
    /// Users named by an authenticating proxy (`crate::trusted`), when on.
    trusted: Option<crate::trusted::TrustedHeaders>,
    /// Sign-in by an OpenID provider (`crate::oidc`), when on.
    sso: Option<Arc<crate::oidc::Sso>>,
}

impl BoardAuth {
    pub fn new(users: Users, key: SessionKey, secure: bool, anonymous_read: bool, demo: DemoAccounts) -> BoardAuth {
        BoardAuth {
            users: RwLock::new(Arc::new(users)),
            users_path: None,
            key,
            limiter: LoginLimiter::new(Duration::from_secs(300)),
            revocations: Arc::default(),
            secure,
            anonymous_read,
            demo,
            trusted: None,
            sso: None,
        }
    }

    /// Sign in by an OpenID provider too (`crate::oidc`).
    pub fn with_sso(mut self, cfg: Option<crate::oidc::OidcConfig>) -> Result<BoardAuth, String> {
        if let Some(cfg) = cfg {
            self.sso = Some(Arc::new(crate::oidc::Sso::new(cfg, self.key.clone(), self.revocations.clone(), self.secure)?));
        }
        Ok(self)
    }

    /// Believe the user a trusted proxy names in headers (`crate::trusted`).
    pub fn with_trusted_headers(mut self, t: Option<crate::trusted::TrustedHeaders>) -> BoardAuth {
        self.trusted = t;
        self
    }

    /// Reload the users from `path` whenever it changes ([`BoardAuth::watch`]).
    pub fn with_users_file(mut self, path: impl Into<PathBuf>) -> BoardAuth {
        self.users_path = Some(path.into());
        self
    }

    /// The embedded demo: demo accounts, anonymous reads, a secret file.
    pub fn demo(secret_file: &str) -> Result<BoardAuth, ConfigError> {
        let (users, listed) = auth::demo_users()?;
        Ok(BoardAuth::new(users, SessionKey::from_env_or_file(secret_file)?, false, true, listed))
    }

    fn users(&self) -> Arc<Users> {
        self.users.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The signed session cookie's user, if valid (users file, revocation).
    fn cookie_actor(&self, headers: &http::HeaderMap) -> Option<Actor> {
        let name = auth::cookie_name(self.secure);
        let value = headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|h| h.to_str().ok())
            .find_map(|h| auth::session_cookie_named(h, name))?;
        let session = self.key.decode(value, auth::now_ms()).ok()?;
        if session.sso {
            // Signed in by the identity provider: its role was mapped then;
            // valid while single sign-on is on and nobody signed the user out.
            self.sso.as_ref().filter(|s| s.valid(&session))?;
            return Some(Actor { user: session.user.clone(), role: session.role, csrf: self.key.csrf_token(&session) });
        }
        // The role comes from the users file now, not from the cookie: a
        // demoted or removed user loses rights at once; a changed password
        // or a sign-out (any replica) ends the session.
        let users = self.users();
        let user = users.get(&session.user)?;
        let pw = users.hash_of(&session.user).map(|h| self.key.fingerprint(h)).unwrap_or_default();
        if session.pw != pw || !self.revocations.valid(&session.user, session.gen) {
            return None;
        }
        Some(Actor { user: user.name.clone(), role: user.role, csrf: self.key.csrf_token(&session) })
    }

    /// A fresh session of `user`, at their current generation and password.
    fn session(&self, user: &auth::User, issued_ms: i64) -> auth::Session {
        let mut s = auth::Session::new(user, issued_ms);
        s.gen = self.revocations.current(&user.name);
        s.pw = self.users().hash_of(&user.name).map(|h| self.key.fingerprint(h)).unwrap_or_default();
        s
    }

    /// A session cookie for `user` (tests and benchmarks sign in with it).
    pub fn session_cookie(&self, user: &str) -> Option<String> {
        self.session_cookie_issued(user, auth::now_ms())
    }

    /// A session cookie issued at `issued_ms` (an old one is expired).
    pub fn session_cookie_issued(&self, user: &str, issued_ms: i64) -> Option<String> {
        let u = self.users().get(user)?;
        let s = self.session(&u, issued_ms);
        Some(format!("{}={}", auth::cookie_name(self.secure), self.key.encode(&s)))
    }

    /// Read the users file again. Users whose password changed, or who are
    /// gone, lose their sessions at once (here; on other replicas when they
    /// reload the same file). A bad file keeps the current users.
    pub fn reload(&self) -> Result<usize, ConfigError> {
        let Some(path) = &self.users_path else { return Ok(self.users().len()) };
        let fresh = Users::load(path)?;
        let n = fresh.len();
        let changed = self.users().changed_in(&fresh);
        *self.users.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
        tracing::info!(target: "ff_board::security", users = n, changed = ?changed, "users file reloaded");
        Ok(n)
    }

    /// Reload the users file when its contents change (read every
    /// [`USERS_CHECK_EVERY`]) or on SIGHUP.
    pub fn watch(self: Arc<Self>) {
        if self.users_path.is_none() {
            return;
        }
        tokio::spawn(async move {
            let mut seen = UsersFileState::now(&self).await;
            #[cfg(unix)]
            let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            loop {
                #[cfg(unix)]
                let hangup = async {
                    match hup.as_mut() {
                        Some(h) => h.recv().await.is_some(),
                        None => std::future::pending().await,
                    }
                };
                #[cfg(not(unix))]
                let hangup = std::future::pending::<bool>();
                let forced = tokio::select! {
                    _ = tokio::time::sleep(USERS_CHECK_EVERY) => false,
                    got = hangup => got,
                };
                if let Err(e) = self.clone().check_users_file(&mut seen, forced).await {
                    tracing::error!(target: "ff_board::security", error = %e, "users file not reloaded: the previous users stay");
                }
            }
        });
    }

    /// One check of the users file: reload it when its contents differ
    /// from the last loaded (and from the last that failed to load), or
    /// when `forced`. Contents, not modification times: a half-written
    /// file rewritten within the same second is still reloaded, and the
    /// contents count as loaded only once they parsed. The parse (and the
    /// argon2 dummy hash it builds) runs on the blocking pool.
    pub async fn check_users_file(self: Arc<Self>, seen: &mut UsersFileState, forced: bool) -> Result<Option<usize>, ConfigError> {
        let Some(path) = self.users_path.clone() else { return Ok(None) };
        let now = digest(&path).await;
        if !forced && (now == seen.loaded || now == seen.failed) {
            return Ok(None);
        }
        let me = self.clone();
        match tokio::task::spawn_blocking(move || me.reload()).await {
            Ok(Ok(n)) => {
                *seen = UsersFileState { loaded: now, failed: None };
                Ok(Some(n))
            }
            Ok(Err(e)) => {
                seen.failed = now;
                Err(e)
            }
            Err(e) => Err(ConfigError::ReadUsers { path, source: std::io::Error::other(format!("the reload stopped: {e}")) }),
        }
    }
}

/// What the users-file watcher has seen: the digest of the contents last
/// loaded and of the last contents that did not load.
#[derive(Clone, Debug, Default)]
pub struct UsersFileState {
    loaded: Option<[u8; 32]>,
    failed: Option<[u8; 32]>,
}

impl UsersFileState {
    /// The file as it is now, taken as loaded (the board started with it).
    pub async fn now(auth: &BoardAuth) -> UsersFileState {
        let loaded = match &auth.users_path {
            Some(p) => digest(p).await,
            None => None,
        };
        UsersFileState { loaded, failed: None }
    }
}

/// SHA-256 of a file's contents (`None`: unreadable).
async fn digest(path: &std::path::Path) -> Option<[u8; 32]> {
    use sha2::Digest;
    tokio::fs::read(path).await.ok().map(|b| sha2::Sha256::digest(&b).into())
}

impl Authenticator for BoardAuth {
    fn actor(&self, headers: &http::HeaderMap) -> Option<Actor> {
        self.cookie_actor(headers).or_else(|| {
            let (user, role) = self.trusted.as_ref()?.user(headers)?;
            let csrf = self.key.header_csrf(&user);
            Some(Actor { user, role, csrf })
        })
    }

    fn admit(&self, user: &str, addr: &str) -> Result<(), LoginRefused> {
        self.limiter.attempt(user, addr, auth::now_ms()).map_err(|wait| {
            tracing::warn!(target: "ff_board::security", user = %self.shown_name(user), addr, wait_s = wait.as_secs(), "sign-in refused: too many failures");
            LoginRefused::Limited(format!("too many failed sign-ins: try again in {} s", wait.as_secs().max(1)))
        })
    }

    fn shared_limit(&self, user: &str, addr: &str) -> Option<SharedLimit> {
        use crate::limiter::{SHARED_BUCKETS, SHARED_PER_ACCOUNT, SHARED_WINDOW};
        if self.limiter.known(user, addr, auth::now_ms()) {
            return None;
        }
        Some(SharedLimit {
            name: format!("sign-in:{:04x}", self.key.name_bucket(user, SHARED_BUCKETS)),
            cap: SHARED_PER_ACCOUNT,
            window_ms: SHARED_WINDOW.as_millis() as i64,
        })
    }

    fn login(&self, user: &str, password: &str, addr: &str) -> Result<(Actor, String), LoginRefused> {
        let Some(u) = self.users().verify(user, password) else {
            tracing::warn!(target: "ff_board::security", user = %self.shown_name(user), addr, "sign-in failed: wrong user name or password");
            return Err(LoginRefused::Wrong("wrong username or password".into()));
        };
        let now = auth::now_ms();
        tracing::info!(target: "ff_board::security", user, addr, "signed in");
        self.limiter.succeed(user, addr, now);
        let session = self.session(&u, now);
        let cookie = auth::cookie(&self.key.encode(&session), self.secure, (SESSION_TTL_MS / 1000) as u64);
        Ok((Actor { user: u.name.clone(), role: u.role, csrf: self.key.csrf_token(&session) }, cookie))
    }

    fn logout<'a>(&'a self, engine: Arc<Engine>, headers: &'a http::HeaderMap) -> BoxFuture<'a, (String, Result<(), String>)> {
        Box::pin(async move {
            let clear = auth::clear_cookie(self.secure);
            let Some(actor) = self.actor(headers) else { return (clear, Ok(())) };
            // The app's trait carries the reason as text (its edge).
            let revoked = self.revocations.revoke(&engine, &actor.user).await.map(|_| ()).map_err(|e| e.to_string());
            (clear, revoked)
        })
    }

    fn start(&self, engine: Arc<Engine>) {
        self.revocations.clone().spawn_refresh(engine);
    }

    fn shown_name(&self, user: &str) -> String {
        match self.users().get(user) {
            Some(u) => u.name,
            None => self.key.unknown_name(user),
        }
    }

    fn anonymous_read(&self) -> bool {
        self.anonymous_read
    }

    fn demo_accounts(&self) -> Vec<(String, String, Role)> {
        self.demo.clone()
    }

    fn routes(&self) -> axum::Router {
        self.sso.clone().map(crate::oidc::routes).unwrap_or_default()
    }

    fn sso_label(&self) -> Option<String> {
        self.sso.as_ref().map(|s| s.label().to_owned())
    }

    fn after_sign_out(&self, headers: &http::HeaderMap) -> Option<String> {
        let value = headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|h| h.to_str().ok())
            .find_map(|h| auth::session_cookie_named(h, auth::cookie_name(self.secure)))?;
        let session = self.key.decode(value, auth::now_ms()).ok()?;
        if !session.sso {
            return None;
        }
        self.sso.as_ref()?.end_session_cached()
    }
}
