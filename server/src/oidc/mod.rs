//! Single sign-on by OpenID Connect (issue 22): the board is a relying
//! party of the company's identity provider, authorization code flow with
//! PKCE (`openidconnect`).
//!
//! - `GET /auth/sso[?next=/path]` ([`routes`]): discovery (cached an hour),
//!   a fresh state, nonce and PKCE verifier sealed into a short-lived
//!   `ffb_oidc` cookie (HMAC by the session secret, `SameSite=Lax` so it
//!   comes back on the provider's redirect, 10 minutes), then 303 to the
//!   provider.
//! - `GET /auth/callback?code&state`: the state compared with the cookie's,
//!   the code exchanged at the token endpoint with the verifier (10 s
//!   deadline, redirects off), the ID token checked: signature against the
//!   provider's published keys (fetched again once when a key is unknown:
//!   rotation), issuer, audience, expiry and nonce. The user is the
//!   `FF_BOARD_OIDC_USER_CLAIM` claim (default `preferred_username`, then
//!   `email`, then `sub`); the roles come from the `FF_BOARD_OIDC_ROLES_CLAIM`
//!   claim (default `groups`, a dotted path such as `realm_access.roles`
//!   reaches inside objects) of the ID token, or of UserInfo when the ID
//!   token has none (a provider's default for the code flow), mapped by
//!   `FF_BOARD_OIDC_ROLES` (`crate::trusted::RoleMap`: the mapping is the
//!   allowlist; a user whose groups map to no role gets no session).
//! - The board's own session cookie follows (`Session::sso`: the role is
//!   the one mapped at sign-in, for the session's 12 hours; sign-out ends
//!   it on every replica like any other session), set on a page that moves
//!   on by itself, since a `SameSite=Strict` cookie is not sent on a
//!   redirect chain another site started.
//! - A single-sign-on session's sign-out ends the board's session (every
//!   replica), then goes on to the provider's own sign-out page
//!   (RP-initiated logout: the provider asks whether to end its session
//!   too, then comes back to `/login`); `GET /auth/end-session` is the same
//!   step as a link.
//!
//! Settings: `FF_BOARD_OIDC_ISSUER`, `FF_BOARD_OIDC_CLIENT_ID`,
//! `FF_BOARD_OIDC_CLIENT_SECRET` (unset: a public client, PKCE only),
//! `FF_BOARD_PUBLIC_URL` (the callback is `<public URL>/auth/callback`),
//! `FF_BOARD_OIDC_ROLES`, `FF_BOARD_OIDC_ROLES_CLAIM`, `FF_BOARD_OIDC_USER_CLAIM`,
//! `FF_BOARD_OIDC_SCOPES` (default `openid profile email`),
//! `FF_BOARD_OIDC_LABEL` (the sign-in button). Tested against the real
//! `oidc-provider` (end2end/oidc/provider.mjs, end2end/tests/sso.spec.ts).
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType,
    CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata,
    RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{self, SessionKey};
use crate::revoke::Revocations;
use crate::trusted::RoleMap;
use ff_board_app::auth::Role;

mod routes;
pub use routes::routes;

/// Every call to the provider (discovery, keys, token, UserInfo) ends within this.
pub const CALL_DEADLINE: Duration = Duration::from_secs(10);
/// How long the provider's metadata and keys are used before they are fetched again.
pub const METADATA_TTL: Duration = Duration::from_secs(3600);
/// A sign-in in progress (the `ffb_oidc` cookie) lasts this long.
pub const PENDING_TTL_MS: i64 = 10 * 60 * 1000;
/// Callbacks exchanging a code at once (each is one outbound call).
pub const MAX_CALLBACKS: usize = 8;
/// Groups of one user read at most; longer lists are cut.
pub const MAX_GROUPS: usize = 256;
/// The sealed-cookie label of a sign-in in progress.
const PENDING_LABEL: &str = "ffb-oidc-pending\0";

/// The provider metadata field the core type leaves out: the end-session
/// endpoint (OpenID Connect RP-Initiated Logout).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct EndSession {
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}
impl AdditionalProviderMetadata for EndSession {}

type Metadata = ProviderMetadata<
    EndSession,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The client discovery gives: its authorization endpoint is set, its
/// token and UserInfo endpoints "maybe" (the token endpoint is required
/// when a code is exchanged, UserInfo is optional).
type Client = CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// Single sign-on's settings.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    pub issuer: IssuerUrl,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The board's own address as browsers reach it, without a trailing `/`.
    pub public_url: String,
    pub roles: RoleMap,
    pub roles_claim: String,
    pub user_claim: Option<String>,
    pub scopes: Vec<String>,
    pub label: String,
}

impl OidcConfig {
    /// From the environment: `None` when `FF_BOARD_OIDC_ISSUER` is unset;
    /// an error naming the setting when one is missing or malformed.
    pub fn from_env() -> Result<Option<OidcConfig>, String> {
        let var = |k: &str| std::env::var(k).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let Some(issuer) = var("FF_BOARD_OIDC_ISSUER") else { return Ok(None) };
        let need = |k: &str| var(k).ok_or_else(|| format!("FF_BOARD_OIDC_ISSUER is set: {k} is needed too"));
        OidcConfig::new(
            &issuer,
            &need("FF_BOARD_OIDC_CLIENT_ID")?,
            var("FF_BOARD_OIDC_CLIENT_SECRET"),
            &need("FF_BOARD_PUBLIC_URL")?,
            &need("FF_BOARD_OIDC_ROLES")?,
        )
        .map(|mut c| {
            c.roles_claim = var("FF_BOARD_OIDC_ROLES_CLAIM").unwrap_or(c.roles_claim);
            c.user_claim = var("FF_BOARD_OIDC_USER_CLAIM");
            if let Some(s) = var("FF_BOARD_OIDC_SCOPES") {
                c.scopes = s.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_owned).collect();
            }
            c.label = var("FF_BOARD_OIDC_LABEL").unwrap_or(c.label);
            Some(c)
        })
    }

    pub fn new(issuer: &str, client_id: &str, secret: Option<String>, public_url: &str, roles: &str) -> Result<OidcConfig, String> {
        let issuer = IssuerUrl::new(issuer.to_owned()).map_err(|e| format!("FF_BOARD_OIDC_ISSUER {issuer:?}: {e}"))?;
        let public_url = public_url.trim_end_matches('/').to_owned();
        RedirectUrl::new(format!("{public_url}/auth/callback")).map_err(|e| format!("FF_BOARD_PUBLIC_URL {public_url:?}: {e}"))?;
        if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
            return Err(format!("FF_BOARD_PUBLIC_URL {public_url:?}: an http or https URL"));
        }
        Ok(OidcConfig {
            issuer,
            client_id: client_id.to_owned(),
            client_secret: secret,
            public_url,
            roles: RoleMap::parse(roles).map_err(|e| format!("FF_BOARD_OIDC_ROLES: {e}"))?,
            roles_claim: "groups".into(),
            user_claim: None,
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            label: "Sign in with single sign-on".into(),
        })
    }
}

/// A sign-in in progress, sealed into the `ffb_oidc` cookie.
#[derive(Debug, Deserialize, Serialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    expires_ms: i64,
}

/// Why a sign-in through the provider did not give a session. Shown on
/// the board's refusal page (`data-testid="sso-error"`) and logged.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("the identity provider cannot be reached: {0}")]
    Provider(String),
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    #[error("no sign-in is in progress in this browser (it lasts 10 minutes and needs cookies): start again")]
    NoPending,
    #[error("the answer does not belong to the sign-in this browser started (state differs): start again")]
    State,
    #[error("the ID token was refused: {0}")]
    Token(String),
    #[error("{user} is signed in at the identity provider but has no role on this board (groups: {groups})")]
    NoRole { user: String, groups: String },
    #[error("the sign-in is busy: try again in a few seconds")]
    Busy,
}

/// Who the provider says signed in, and their role here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn {
    pub user: String,
    pub role: Role,
    pub groups: Vec<String>,
}

/// The relying party: settings, an HTTP client, the provider's metadata.
pub struct Sso {
    cfg: OidcConfig,
    http: reqwest::Client,
    meta: RwLock<Option<(Instant, Arc<Metadata>)>>,
    key: SessionKey,
    revocations: Arc<Revocations>,
    secure: bool,
    callbacks: Arc<tokio::sync::Semaphore>,
}

impl Sso {
    pub fn new(cfg: OidcConfig, key: SessionKey, revocations: Arc<Revocations>, secure: bool) -> Result<Sso, String> {
        let http = reqwest::Client::builder()
            // Following redirects would let a provider's answer aim the board elsewhere (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(CALL_DEADLINE)
            .build()
            .map_err(|e| format!("single sign-on's HTTP client: {e}"))?;
        let callbacks = Arc::new(tokio::sync::Semaphore::new(MAX_CALLBACKS));
        Ok(Sso { cfg, http, meta: RwLock::new(None), key, revocations, secure, callbacks })
    }

    /// The sign-in button's text.
    pub fn label(&self) -> &str {
        &self.cfg.label
    }

    /// The provider's metadata and keys: cached for [`METADATA_TTL`],
    /// fetched again when `stale_after` has passed (a key it does not
    /// know: the provider may have rotated its keys).
    async fn metadata(&self, stale_after: Duration) -> Result<Arc<Metadata>, SsoError> {
        if let Some((at, m)) = self.meta.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            if at.elapsed() < stale_after {
                return Ok(m.clone());
            }
        }
        let fetched = tokio::time::timeout(CALL_DEADLINE, Metadata::discover_async(self.cfg.issuer.clone(), &self.http))
            .await
            .map_err(|_| SsoError::Provider(format!("no discovery answer within {} s", CALL_DEADLINE.as_secs())))?
            .map_err(|e| SsoError::Provider(format!("discovery at {}: {}", self.cfg.issuer.as_str(), chain(&e))))?;
        let m = Arc::new(fetched);
        *self.meta.write().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), m.clone()));
        Ok(m)
    }

    fn client(&self, meta: &Metadata) -> Result<Client, SsoError> {
        let redirect = RedirectUrl::new(format!("{}/auth/callback", self.cfg.public_url)).map_err(|e| SsoError::Provider(e.to_string()))?;
        let client = CoreClient::from_provider_metadata(
            meta.clone(),
            ClientId::new(self.cfg.client_id.clone()),
            self.cfg.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect);
        Ok(client)
    }

    /// Begin a sign-in: the provider's authorization URL and the
    /// `Set-Cookie` of the sign-in in progress.
    pub async fn start(&self, next: &str) -> Result<(String, String), SsoError> {
        let meta = self.metadata(METADATA_TTL).await?;
        let client = self.client(&meta)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(AuthenticationFlow::<CoreResponseType>::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scopes(self.cfg.scopes.iter().filter(|s| *s != "openid").map(|s| Scope::new(s.clone())))
            .set_pkce_challenge(challenge)
            .url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next: if ff_board_app::api::session::safe_next(next) { next.to_owned() } else { "/flows".into() },
            expires_ms: auth::now_ms() + PENDING_TTL_MS,
        };
        let sealed = self.key.seal(PENDING_LABEL, &pending);
        Ok((url.to_string(), self.pending_cookie(&sealed, PENDING_TTL_MS / 1000)))
    }

    fn pending_cookie(&self, value: &str, max_age_s: i64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{PENDING_COOKIE}={value}; Path=/auth; Max-Age={max_age_s}; HttpOnly; SameSite=Lax{secure}")
    }

    /// The `Set-Cookie` that ends the sign-in in progress.
    pub fn clear_pending(&self) -> String {
        self.pending_cookie("", 0)
    }

    /// Finish a sign-in from the provider's redirect: who signed in, and
    /// the board's session cookie for them.
    pub async fn finish(&self, cookie_header: &str, q: &Callback) -> Result<(SignedIn, String, String), SsoError> {
        if let Some(e) = &q.error {
            let detail = q.error_description.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
            return Err(SsoError::Refused(clip(&format!("{e}{detail}"), 300)));
        }
        let pending: Pending = auth::session_cookie_named(cookie_header, PENDING_COOKIE)
            .and_then(|v| self.key.open(PENDING_LABEL, v))
            .filter(|p: &Pending| p.expires_ms > auth::now_ms())
            .ok_or(SsoError::NoPending)?;
        let state = q.state.as_deref().unwrap_or_default();
        if !bool::from(subtle::ConstantTimeEq::ct_eq(state.as_bytes(), pending.state.as_bytes())) {
            return Err(SsoError::State);
        }
        let code = q.code.as_deref().filter(|c| !c.is_empty() && c.len() <= 4096).ok_or_else(|| SsoError::Refused("no authorization code".into()))?;
        let _slot = tokio::time::timeout(Duration::from_secs(5), self.callbacks.clone().acquire_owned())
            .await
            .map_err(|_| SsoError::Busy)?
            .map_err(|_| SsoError::Busy)?;
        let meta = self.metadata(METADATA_TTL).await?;
        let client = self.client(&meta)?;
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| SsoError::Provider(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()));
        let tokens = tokio::time::timeout(CALL_DEADLINE, request.request_async(&self.http))
            .await
            .map_err(|_| SsoError::Provider(format!("no token answer within {} s", CALL_DEADLINE.as_secs())))?
            .map_err(|e| SsoError::Refused(format!("code exchange: {}", chain(&e))))?;
        let id_token = tokens.id_token().ok_or_else(|| SsoError::Token("the token answer holds no ID token".into()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let checked = id_token.claims(&client.id_token_verifier(), &nonce).map(|c| c.subject().to_string());
        let subject = match checked {
            Ok(s) => s,
            // A key it does not know: the provider may have rotated; fetch its keys once more.
            Err(ClaimsVerificationError::SignatureVerification(_)) if self.fetched_before(Duration::from_secs(60)) => {
                let meta = self.metadata(Duration::ZERO).await?;
                let client = self.client(&meta)?;
                let subject = id_token.claims(&client.id_token_verifier(), &nonce).map(|c| c.subject().to_string()).map_err(token_error)?;
                subject
            }
            Err(e) => return Err(token_error(e)),
        };
        // Verified above: its payload can be read as it is.
        let claims = payload(&id_token.to_string()).unwrap_or(Value::Null);
        let mut user = self.user_of(&claims);
        let mut groups = claim_at(&claims, &self.cfg.roles_claim).map(strings);
        if groups.is_none() || user.is_none() {
            if let Some(info) = self.user_info(&meta, tokens.access_token().secret(), &subject).await? {
                groups = groups.or_else(|| claim_at(&info, &self.cfg.roles_claim).map(strings));
                user = user.or_else(|| self.user_of(&info));
            }
        }
        let user = user.unwrap_or(subject);
        if user.len() > crate::trusted::MAX_USER || user.chars().any(char::is_control) {
            return Err(SsoError::Token(format!("the user name is over {} bytes or holds control characters", crate::trusted::MAX_USER)));
        }
        let groups = groups.unwrap_or_default();
        let refs: Vec<&str> = groups.iter().map(String::as_str).collect();
        let Some(role) = self.cfg.roles.role(&refs) else {
            return Err(SsoError::NoRole { user, groups: if groups.is_empty() { "none".into() } else { clip(&groups.join(", "), 200) } });
        };
        let now = auth::now_ms();
        let mut session = auth::Session::new(&auth::User { name: user.clone(), role }, now);
        session.gen = self.revocations.current(&user);
        session.sso = true;
        let cookie = auth::cookie(&self.key.encode(&session), self.secure, (auth::SESSION_TTL_MS / 1000) as u64);
        Ok((SignedIn { user, role, groups }, cookie, pending.next))
    }

    fn fetched_before(&self, age: Duration) -> bool {
        self.meta.read().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|(at, _)| at.elapsed() >= age)
    }

    /// The configured user claim, else `preferred_username`, then `email`.
    fn user_of(&self, claims: &Value) -> Option<String> {
        let names: Vec<&str> = match &self.cfg.user_claim {
            Some(c) => vec![c.as_str()],
            None => vec!["preferred_username", "email"],
        };
        names.into_iter().find_map(|n| claim_at(claims, n)?.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned))
    }

    /// UserInfo's claims (JSON answers only), when the provider has the
    /// endpoint; its `sub` must be the ID token's.
    async fn user_info(&self, meta: &Metadata, access_token: &str, subject: &str) -> Result<Option<Value>, SsoError> {
        let Some(url) = meta.userinfo_endpoint() else { return Ok(None) };
        let answer = self
            .http
            .get(url.url().clone())
            .bearer_auth(access_token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| SsoError::Provider(format!("UserInfo: {}", chain(&e))))?;
        let bytes = answer.bytes().await.map_err(|e| SsoError::Provider(format!("UserInfo: {e}")))?;
        let info: Value = serde_json::from_slice(&bytes[..bytes.len().min(256 * 1024)])
            .map_err(|_| SsoError::Provider("UserInfo did not answer JSON (signed UserInfo is not read)".into()))?;
        if info.get("sub").and_then(Value::as_str) != Some(subject) {
            return Err(SsoError::Token("UserInfo names another subject than the ID token".into()));
        }
        Ok(Some(info))
    }

    /// Where a signed-out single-sign-on user may also end the provider's
    /// session (RP-initiated logout), if the provider says.
    pub async fn end_session_url(&self) -> Option<String> {
        let meta = self.metadata(METADATA_TTL).await.ok()?;
        self.end_session_of(&meta)
    }

    /// [`Sso::end_session_url`] from the metadata already fetched (a
    /// signed-in user's sign-in fetched it), without waiting on the provider.
    pub fn end_session_cached(&self) -> Option<String> {
        let meta = self.meta.read().unwrap_or_else(|p| p.into_inner()).as_ref().map(|(_, m)| m.clone())?;
        self.end_session_of(&meta)
    }

    fn end_session_of(&self, meta: &Metadata) -> Option<String> {
        let end = meta.additional_metadata().end_session_endpoint.clone()?;
        let mut url = reqwest::Url::parse(&end).ok()?;
        url.query_pairs_mut()
            .append_pair("client_id", &self.cfg.client_id)
            .append_pair("post_logout_redirect_uri", &format!("{}/login", self.cfg.public_url));
        Some(url.to_string())
    }

    /// Whether `session` (a decoded cookie) is still a valid single-sign-on session here.
    pub fn valid(&self, session: &auth::Session) -> bool {
        session.sso && self.revocations.valid(&session.user, session.gen)
    }
}

/// The cookie of a sign-in in progress (path `/auth`).
pub const PENDING_COOKIE: &str = "ffb_oidc";

/// The provider's redirect back to the board.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

fn token_error(e: ClaimsVerificationError) -> SsoError {
    SsoError::Token(match e {
        ClaimsVerificationError::InvalidAudience(m) => format!("wrong audience ({m})"),
        ClaimsVerificationError::Expired(m) => format!("expired ({m})"),
        ClaimsVerificationError::InvalidNonce(m) => format!("wrong nonce ({m})"),
        ClaimsVerificationError::InvalidIssuer(m) => format!("wrong issuer ({m})"),
        ClaimsVerificationError::SignatureVerification(s) => format!("bad signature ({s})"),
        other => other.to_string(),
    })
}

/// An error and its sources on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        out.push_str(": ");
        out.push_str(&s.to_string());
        next = s.source();
    }
    clip(&out, 400)
}

fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// A JWT's payload as JSON (no check: call on a verified token only).
fn payload(jwt: &str) -> Option<Value> {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1)?;
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?).ok()
}

/// A claim by name, or by a dotted path into objects (`realm_access.roles`).
fn claim_at<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    claims.get(path).or_else(|| path.split('.').try_fold(claims, |v, k| v.get(k)))
}

/// A claim's strings: an array of strings, or one string of names
/// separated by commas or spaces; at most [`MAX_GROUPS`].
fn strings(v: &Value) -> Vec<String> {
    let out: Vec<String> = match v {
        Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Value::String(s) => s.split([',', ' ']).filter(|g| !g.is_empty()).map(str::to_owned).collect(),
        _ => vec![],
    };
    out.into_iter().filter(|g| g.len() <= 256).take(MAX_GROUPS).collect()
}

#[cfg(test)]
mod tests;
