//! The board's auth core (server only): who may sign in, what they may do,
//! and how a browser proves it on later requests. Pure logic, no routes.
//!
//! - **Users** come from the TOML file named by `FF_BOARD_USERS`
//!   ([`USERS_ENV`]), one `[[user]]` table each:
//!   ```toml
//!   [[user]]
//!   name = "alice"
//!   role = "operator"            # viewer | operator | admin
//!   password_hash = "$argon2id$v=19$m=19456,t=2,p=1$…"
//!   ```
//!   Hashes are argon2id PHC strings, made by `ff-board hash-password`
//!   ([`hash_password_cli`]). [`Users::verify`] runs one argon2 check even
//!   for unknown names, so timing does not reveal who exists.
//! - **Demo accounts** ([`demo_users`]): `alice` and `bob` (operators),
//!   `vera` (viewer) and `ada` (admin); each password is the name followed
//!   by `-demo` (`alice-demo`, …). Demo mode only: the login page lists them.
//! - **Sessions** are a signed cookie ([`COOKIE_NAME`]):
//!   `base64url(json) "." base64url(hmac-sha256)`, keyed by the secret in
//!   `FF_BOARD_SECRET` ([`SECRET_ENV`], at least 32 bytes) or, when unset,
//!   a random secret file created with mode 0600 ([`SessionKey::from_env_or_file`]).
//!   Nothing is stored server side, so sessions survive restarts and work
//!   across replicas sharing the secret; they end at [`SESSION_TTL_MS`].
//! - **CSRF**: every write carries [`SessionKey::csrf_token`], an HMAC over
//!   the session id; without a session there is no valid token, hence no
//!   writes.
//! - **Login rate limiting**: `crate::limiter`.
//!
//! Nothing here panics on bad input: errors are `Result`s or `None`.
use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

mod error;
pub use error::{ConfigError, HashError, PhcError};

/// viewer < operator < admin; shared with the app (serde: lowercase names).
pub use ff_board_app::auth::Role;

/// Environment variable naming the users file.
pub const USERS_ENV: &str = "FF_BOARD_USERS";
/// Environment variable holding the session secret (at least [`MIN_SECRET_LEN`] bytes).
pub const SECRET_ENV: &str = "FF_BOARD_SECRET";
/// Where [`SessionKey::from_env_or_file`] is usually pointed for the demo.
pub const DEFAULT_SECRET_FILE: &str = "./ff-board-secret";
/// Shortest accepted session secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;
/// How long a session lasts: 12 hours.
pub const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;
/// The session cookie's name over plain HTTP.
pub const COOKIE_NAME: &str = "ffb_session";
/// Its name when cookies are `Secure` (TLS): the `__Host-` prefix makes
/// browsers refuse it unless Secure, host-only and `Path=/`, so a sibling
/// subdomain cannot plant or overwrite it.
pub const SECURE_COOKIE_NAME: &str = "__Host-ffb_session";

/// The session cookie's name for a board with or without `Secure` cookies.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { SECURE_COOKIE_NAME } else { COOKIE_NAME }
}

/// Longest cookie value [`SessionKey::decode`] looks at (browsers cap cookies at 4 KiB).
const MAX_COOKIE_LEN: usize = 4096;
/// Domain separation of the two HMAC uses of the one secret.
const SESSION_LABEL: &[u8] = b"ffb-session\0";
const CSRF_LABEL: &[u8] = b"csrf\0";
const FINGERPRINT_LABEL: &[u8] = b"pw-fingerprint\0";
const NAME_TAG_LABEL: &[u8] = b"unknown-name\0";

type HmacSha256 = Hmac<Sha256>;

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

// ---------------------------------------------------------------- users

/// A user who may sign in (never carries the password hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: Role,
}

#[derive(Clone)]
struct Account {
    user: User,
    /// argon2 PHC string.
    hash: String,
}

/// The users who may sign in, by name.
#[derive(Clone)]
pub struct Users {
    by_name: HashMap<String, Account>,
    /// A hash of a random password with the same parameters as the users'
    /// hashes: checked for unknown names so they cost the same time.
    dummy: Option<String>,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.by_name.values().map(|a| (&a.user.name, a.user.role)).collect();
        names.sort();
        f.debug_struct("Users").field("users", &names).finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(default)]
    user: Vec<UserEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: toml::Spanned<String>,
    role: Role,
    password_hash: toml::Spanned<String>,
}

impl Users {
    /// Read the users file at `path`; errors name the file and the line.
    pub fn load(path: impl AsRef<Path>) -> Result<Users, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::ReadUsers { path: path.to_owned(), source })?;
        Users::from_toml(&text).map_err(|e| ConfigError::UsersFile { path: path.to_owned(), source: Box::new(e) })
    }

    /// Parse a users file's text. Rejects unknown roles or fields, hashes
    /// that are not argon2id PHC strings, duplicate or empty names, and a
    /// file without any `[[user]]`.
    /// Nobody: a read-only board without a users file.
    pub fn none() -> Users {
        Users { by_name: HashMap::new(), dummy: None }
    }

    pub fn from_toml(text: &str) -> Result<Users, ConfigError> {
        let file: UsersFile = toml::from_str(text).map_err(ConfigError::Toml)?;
        if file.user.is_empty() {
            return Err(ConfigError::NoUsers);
        }
        let mut accounts = Vec::with_capacity(file.user.len());
        let mut first_line: HashMap<String, usize> = HashMap::new();
        for entry in file.user {
            let name_line = line_of(text, entry.name.span().start);
            let name = entry.name.into_inner();
            if name.trim().is_empty() || name.chars().any(char::is_control) {
                return Err(ConfigError::InvalidName { line: name_line, name });
            }
            if let Some(&first) = first_line.get(&name) {
                return Err(ConfigError::DuplicateUser { line: name_line, name, first });
            }
            first_line.insert(name.clone(), name_line);
            let hash_line = line_of(text, entry.password_hash.span().start);
            let hash = entry.password_hash.into_inner();
            if let Err(source) = check_phc(&hash) {
                return Err(ConfigError::BadHash { line: hash_line, name, source });
            }
            accounts.push(Account { user: User { name, role: entry.role }, hash });
        }
        Ok(Users::from_accounts(accounts)?)
    }

    fn from_accounts(accounts: Vec<Account>) -> Result<Users, HashError> {
        let dummy = match accounts.first() {
            Some(a) => Some(dummy_hash_like(&a.hash)?),
            None => None,
        };
        let by_name = accounts.into_iter().map(|a| (a.user.name.clone(), a)).collect();
        Ok(Users { by_name, dummy })
    }

    /// The user if `name` exists and `password` is theirs. Unknown names
    /// cost one argon2 check too (against a dummy hash).
    pub fn verify(&self, name: &str, password: &str) -> Option<User> {
        match self.by_name.get(name) {
            Some(account) => password_matches(&account.hash, password).then(|| account.user.clone()),
            None => {
                if let Some(dummy) = &self.dummy {
                    let _ = password_matches(dummy, password);
                }
                None
            }
        }
    }

    /// The user named `name`, e.g. to confirm a session's user still
    /// exists (and take their current role).
    pub fn get(&self, name: &str) -> Option<User> {
        self.by_name.get(name).map(|a| a.user.clone())
    }

    /// The stored password hash of `name` (sessions carry a keyed
    /// fingerprint of it: [`SessionKey::fingerprint`]).
    pub fn hash_of(&self, name: &str) -> Option<&str> {
        self.by_name.get(name).map(|a| a.hash.as_str())
    }

    /// The names whose password hash differs in `newer` (or who are gone).
    pub fn changed_in(&self, newer: &Users) -> Vec<String> {
        self.by_name
            .iter()
            .filter(|(name, a)| newer.by_name.get(*name).is_none_or(|b| b.hash != a.hash))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether there are no users (never true for a loaded file).
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// `Ok` when `hash` is a usable argon2id PHC string.
fn check_phc(hash: &str) -> Result<(), PhcError> {
    let parsed = PasswordHash::new(hash).map_err(PhcError::NotPhc)?;
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return Err(PhcError::Algorithm(parsed.algorithm.to_string()));
    }
    Params::try_from(&parsed).map_err(PhcError::Params)?;
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(PhcError::MissingSaltOrHash);
    }
    Ok(())
}

fn password_matches(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        // Argon2 takes algorithm, version and parameters from the hash itself.
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password with the same parameters as `like`.
fn dummy_hash_like(like: &str) -> Result<String, HashError> {
    let parsed = PasswordHash::new(like).map_err(HashError::Parse)?;
    let params = Params::try_from(&parsed).map_err(HashError::Parse)?;
    let mut password = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut password);
    hash_with(&password, params)
}

fn hash_with(password: &[u8], params: Params) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(HashError::Salt)?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(HashError::Hash)
}

/// An argon2id PHC string for `password` (default parameters, random salt).
/// Fails only for absurd input (a password over 4 GiB).
pub fn hash_password(password: &str) -> Result<String, HashError> {
    hash_with(password.as_bytes(), Params::DEFAULT)
}

/// `ff-board hash-password`: read one password line from stdin (without its
/// line ending), refuse an empty one, print its hash. Returns the exit code.
pub fn hash_password_cli() -> i32 {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password (echoed): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    if let Err(e) = stdin.lock().read_line(&mut line) {
        eprintln!("hash-password: cannot read stdin: {e}");
        return 1;
    }
    let password = line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line);
    if password.is_empty() {
        eprintln!("hash-password: empty password refused (usage: echo 'secret' | ff-board hash-password)");
        return 2;
    }
    match hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            0
        }
        Err(e) => {
            eprintln!("hash-password: {e}");
            1
        }
    }
}

/// Demo accounts as the login page lists them: `(name, password, role)`.
pub type DemoAccounts = Vec<(String, String, Role)>;

/// The demo accounts and what the login page lists: `alice`, `bob`
/// (operators), `vera` (viewer), `ada` (admin); password = name + `-demo`.
/// The passwords are public, so they are hashed with cheap argon2
/// parameters (fast start, even in debug builds).
pub fn demo_users() -> Result<(Users, DemoAccounts), HashError> {
    let listed: DemoAccounts =
        [("alice", Role::Operator), ("bob", Role::Operator), ("vera", Role::Viewer), ("ada", Role::Admin)]
            .into_iter()
            .map(|(name, role)| (name.to_owned(), format!("{name}-demo"), role))
            .collect();
    let params = cheap_params()?;
    let mut accounts = Vec::with_capacity(listed.len());
    for (name, password, role) in &listed {
        let hash = hash_with(password.as_bytes(), params.clone())?;
        accounts.push(Account { user: User { name: name.clone(), role: *role }, hash });
    }
    Ok((Users::from_accounts(accounts)?, listed))
}

fn cheap_params() -> Result<Params, HashError> {
    Params::new(1024, 1, 1, None).map_err(HashError::Params)
}

// ---------------------------------------------------------------- sessions

/// A signed-in browser: the payload of the session cookie.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user: String,
    pub role: Role,
    pub issued_ms: i64,
    pub expires_ms: i64,
    /// Random (128 bits, base64url); the CSRF token is bound to it.
    pub id: String,
    /// The user's session generation when issued: a sign-out moves it on
    /// and every older session is refused (`crate::revoke`).
    #[serde(default)]
    pub gen: u64,
    /// A fingerprint of the user's password hash when issued: a changed
    /// password in the users file ends the older sessions.
    #[serde(default)]
    pub pw: String,
    /// Signed in through the identity provider (`crate::oidc`): the role
    /// was mapped from its groups at sign-in, no users-file entry holds it.
    #[serde(default)]
    pub sso: bool,
}

impl Session {
    /// A fresh session for `user`, valid for [`SESSION_TTL_MS`] from `now_ms`.
    pub fn new(user: &User, now_ms: i64) -> Session {
        let mut id = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut id);
        Session {
            user: user.name.clone(),
            role: user.role,
            issued_ms: now_ms,
            expires_ms: now_ms.saturating_add(SESSION_TTL_MS),
            id: B64.encode(id),
            gen: 0,
            pw: String::new(),
            sso: false,
        }
    }
}

/// Why a session cookie was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionError {
    /// Not `payload.signature`, bad base64 or JSON, or too long.
    Malformed,
    /// Signed with another secret, or tampered with.
    BadSignature,
    Expired,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SessionError::Malformed => "malformed session cookie",
            SessionError::BadSignature => "bad session signature",
            SessionError::Expired => "session expired",
        })
    }
}

impl std::error::Error for SessionError {}

/// The secret that signs sessions and CSRF tokens.
#[derive(Clone)]
pub struct SessionKey {
    secret: Vec<u8>,
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(<redacted>)")
    }
}

impl SessionKey {
    /// A key from a secret of at least [`MIN_SECRET_LEN`] bytes.
    pub fn from_secret(secret: &[u8]) -> Result<SessionKey, ConfigError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::SecretTooShort(secret.len()));
        }
        Ok(SessionKey { secret: secret.to_vec() })
    }

    /// `FF_BOARD_SECRET` when set; otherwise the secret in the file at
    /// `path`, created (random, mode 0600) if missing — for the demo and
    /// single-replica setups.
    pub fn from_env_or_file(path: impl AsRef<Path>) -> Result<SessionKey, ConfigError> {
        match std::env::var(SECRET_ENV) {
            Ok(secret) if !secret.is_empty() => {
                SessionKey::from_secret(secret.as_bytes()).map_err(|e| ConfigError::SecretEnv(Box::new(e)))
            }
            Ok(_) | Err(std::env::VarError::NotPresent) => SessionKey::from_file(path.as_ref()),
            Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::SecretNotUtf8),
        }
    }

    fn from_file(path: &Path) -> Result<SessionKey, ConfigError> {
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let fresh = B64.encode(secret);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(format!("{fresh}\n").as_bytes())
                    .and_then(|_| file.sync_all())
                    .map_err(|source| ConfigError::WriteSecret { path: path.to_owned(), source })?;
                SessionKey::from_secret(fresh.as_bytes())
            }
            // Exists already (maybe just created by another process): use it.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::ReadSecret { path: path.to_owned(), source })?;
                SessionKey::from_secret(text.trim().as_bytes())
                    .map_err(|e| ConfigError::SecretFile { path: path.to_owned(), source: Box::new(e) })
            }
            Err(source) => Err(ConfigError::CreateSecret { path: path.to_owned(), source }),
        }
    }

    fn mac(&self, label: &[u8], data: &[u8]) -> HmacSha256 {
        // HMAC takes keys of any length: this cannot fail.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| <HmacSha256 as Mac>::new(&Default::default()));
        mac.update(label);
        mac.update(data);
        mac
    }

    /// The cookie value: `base64url(json) "." base64url(hmac-sha256)`.
    pub fn encode(&self, session: &Session) -> String {
        // A struct of strings, integers and a unit enum always serializes.
        let json = serde_json::to_vec(session).unwrap_or_default();
        let payload = B64.encode(json);
        let sig = self.mac(SESSION_LABEL, payload.as_bytes()).finalize().into_bytes();
        format!("{payload}.{}", B64.encode(sig))
    }

    /// The session in a cookie value, if signed by this key and unexpired at `now_ms`.
    pub fn decode(&self, value: &str, now_ms: i64) -> Result<Session, SessionError> {
        if value.len() > MAX_COOKIE_LEN {
            return Err(SessionError::Malformed);
        }
        let (payload, sig) = value.split_once('.').ok_or(SessionError::Malformed)?;
        let sig = B64.decode(sig).map_err(|_| SessionError::Malformed)?;
        self.mac(SESSION_LABEL, payload.as_bytes()).verify_slice(&sig).map_err(|_| SessionError::BadSignature)?;
        let json = B64.decode(payload).map_err(|_| SessionError::Malformed)?;
        let session: Session = serde_json::from_slice(&json).map_err(|_| SessionError::Malformed)?;
        if now_ms >= session.expires_ms {
            return Err(SessionError::Expired);
        }
        Ok(session)
    }

    /// Any small value signed for the browser to hold (a sign-in in
    /// progress, `crate::oidc`): `base64url(json) "." base64url(hmac)`,
    /// the MAC keyed under `label` so no other signed value passes for it.
    pub fn seal(&self, label: &str, value: &impl Serialize) -> String {
        let payload = B64.encode(serde_json::to_vec(value).unwrap_or_default());
        let sig = self.mac(label.as_bytes(), payload.as_bytes()).finalize().into_bytes();
        format!("{payload}.{}", B64.encode(sig))
    }

    /// A value [`SessionKey::seal`]ed under `label` by this key, if intact.
    pub fn open<T: serde::de::DeserializeOwned>(&self, label: &str, value: &str) -> Option<T> {
        if value.len() > MAX_COOKIE_LEN {
            return None;
        }
        let (payload, sig) = value.split_once('.')?;
        let sig = B64.decode(sig).ok()?;
        self.mac(label.as_bytes(), payload.as_bytes()).verify_slice(&sig).ok()?;
        serde_json::from_slice(&B64.decode(payload).ok()?).ok()
    }

    /// A short keyed fingerprint of a password hash (the hash itself never
    /// goes into a cookie).
    pub fn fingerprint(&self, hash: &str) -> String {
        B64.encode(&self.mac(FINGERPRINT_LABEL, hash.as_bytes()).finalize().into_bytes()[..12])
    }

    /// How a typed name that is no user is written to logs and the audit
    /// log: `unknown user #` and a keyed hash, so the same typo is
    /// recognisable but a password typed into the name field is never
    /// stored (nor guessable offline without the secret).
    /// The shared sign-in bucket a typed user name counts in (of
    /// `buckets`): a keyed hash, so which names share a bucket is secret,
    /// and known and unknown names are treated alike.
    pub fn name_bucket(&self, name: &str, buckets: u32) -> u32 {
        let tag = self.mac(NAME_TAG_LABEL, name.as_bytes()).finalize().into_bytes();
        u32::from_be_bytes([tag[6], tag[7], tag[8], tag[9]]) % buckets.max(1)
    }

    pub fn unknown_name(&self, name: &str) -> String {
        let tag = self.mac(NAME_TAG_LABEL, name.as_bytes()).finalize().into_bytes();
        format!("unknown user #{}", B64.encode(&tag[..6]))
    }

    /// The CSRF token of `session`: HMAC over ("csrf", session id), base64url.
    pub fn csrf_token(&self, session: &Session) -> String {
        B64.encode(self.mac(CSRF_LABEL, session.id.as_bytes()).finalize().into_bytes())
    }

    /// The CSRF token of a user named by a trusted proxy (no session of
    /// the board's own): HMAC over ("header csrf", user), base64url.
    pub fn header_csrf(&self, user: &str) -> String {
        B64.encode(self.mac(b"ff-board header csrf", user.as_bytes()).finalize().into_bytes())
    }

    /// Whether `token` is `session`'s CSRF token (constant-time comparison).
    pub fn check_csrf(&self, session: &Session, token: &str) -> bool {
        self.csrf_token(session).as_bytes().ct_eq(token.as_bytes()).into()
    }
}

/// `Set-Cookie` value carrying a session cookie `value` for `max_age_s` seconds.
pub fn cookie(value: &str, secure: bool, max_age_s: u64) -> String {
    let name = cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={max_age_s}; HttpOnly; SameSite=Strict{secure}")
}

/// `Set-Cookie` value deleting the session cookie (sign out).
pub fn clear_cookie(secure: bool) -> String {
    cookie("", secure, 0)
}

/// The session cookie's value in a `Cookie` request header, if present and non-empty.
pub fn session_from_cookie_header(header: &str) -> Option<&str> {
    session_cookie_named(header, COOKIE_NAME)
}

/// The value of the cookie `name` in a `Cookie` request header, if present and non-empty.
pub fn session_cookie_named<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| n.trim() == name)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|value| !value.is_empty())
}

// ---------------------------------------------------------------- tests

#[cfg(test)]
mod tests;
