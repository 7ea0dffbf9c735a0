//! Sign-in by an authenticating proxy (`server/src/trusted.rs`, issue 22):
//! a request from a trusted proxy (`FF_BOARD_TRUSTED_PROXIES`, here
//! loopback 127.0.0.1) names its user and groups in headers and gets the
//! role the groups map to; a user whose groups map to no role has no
//! access; the same headers (and the board's own marker) sent by a client
//! that is no trusted proxy (127.0.0.2) are ignored; the header user acts
//! with its CSRF token, and without it is refused.
//!
//! Single sign-on by OpenID Connect (`server/src/oidc/`): on a board that
//! needs a sign-in, an anonymous visitor's /login carries the provider's
//! button; a provider that cannot be reached, a callback this browser did
//! not start and a provider's refusal each answer a page with the reason
//! and a 4xx/502 status. (The whole flow against a real provider:
//! end2end/tests/sso.spec.ts.)
use std::sync::Arc;

use ff_board::auth::{SessionKey, Users};
use ff_board::oidc::OidcConfig;
use ff_board::authn::BoardAuth;
use ff_board::trusted::TrustedHeaders;
use ff_board_tests::board::Board;
use ff_board_tests::{connect, sqlite_path};

fn trust_loopback() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // Read once per process by `proxy::trusted`; this binary's only setting.
    ONCE.call_once(|| std::env::set_var("FF_BOARD_TRUSTED_PROXIES", "127.0.0.1"));
}

async fn me(client: &reqwest::Client, b: &Board, user: &str, groups: &str, extra: Option<(&str, &str)>) -> serde_json::Value {
    let mut r = client.post(format!("{}/api/me", b.base)).header("x-forwarded-user", user).header("x-forwarded-groups", groups);
    if let Some((k, v)) = extra {
        r = r.header(k, v);
    }
    r.send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_names_the_user_and_no_client_can() {
    trust_loopback();
    let url = format!("sqlite:{}", sqlite_path());
    let c = connect(&url).await;
    let trusted = TrustedHeaders::new("X-Forwarded-User", "X-Forwarded-Groups", "ops-admins:admin,ops:operator").unwrap();
    let auth = Arc::new(BoardAuth::new(Users::none(), SessionKey::from_secret(&[9u8; 32]).unwrap(), false, false, vec![]).with_trusted_headers(Some(trusted)));
    let b = Board::start_with(&url, &c, auth, None).await;
    let proxy = reqwest::Client::new();
    let grace = me(&proxy, &b, "grace", "eng, ops", None).await;
    assert_eq!((grace["actor"]["user"].as_str(), grace["actor"]["role"].as_str()), (Some("grace"), Some("operator")), "{grace}");
    let root = me(&proxy, &b, "root", "ops,ops-admins", None).await;
    assert_eq!(root["actor"]["role"], "admin", "the highest role of any group");
    assert!(me(&proxy, &b, "sam", "sales", None).await["actor"].is_null(), "groups that map to no role: no access");
    assert!(me(&proxy, &b, &"x".repeat(65), "ops", None).await["actor"].is_null(), "an oversized name is refused");
    // The same headers from a client that is no trusted proxy, with the
    // board's own marker forged too: ignored.
    let client = reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    let forged = me(&client, &b, "root", "ops-admins", Some(("x-ff-board-trusted-peer", "1"))).await;
    assert!(forged["actor"].is_null(), "a client cannot name itself: {forged}");
    // The header user writes with its CSRF token; without it, 403.
    let csrf = grace["actor"]["csrf"].as_str().unwrap().to_owned();
    let cancel = |token: &str| {
        proxy
            .post(format!("{}/api/cancel_flow_action", b.base))
            .header("x-forwarded-user", "grace")
            .header("x-forwarded-groups", "ops")
            .form(&[
                ("flow_id", uuid::Uuid::new_v4().to_string()),
                ("policy", "cancel_all".into()),
                ("wait", "none".into()),
                ("reason", "sso test".into()),
                ("idempotency_key", uuid::Uuid::new_v4().to_string()),
                ("csrf", token.to_owned()),
            ])
            .send()
    };
    assert_eq!(cancel("forged").await.unwrap().status().as_u16(), 403);
    let s = cancel(&csrf).await.unwrap().status().as_u16();
    assert!(s != 401 && s != 403, "the operator's action passes role and CSRF checks: {s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_routes_answer_and_refuse_with_their_reason() {
    let url = format!("sqlite:{}", sqlite_path());
    let c = connect(&url).await;
    // A provider nobody listens on (port 9, discard).
    let cfg = OidcConfig::new("http://127.0.0.1:9", "ff-board", Some("s".into()), "http://127.0.0.1:1", "ops:operator").unwrap();
    let auth = BoardAuth::new(Users::none(), SessionKey::from_secret(&[9u8; 32]).unwrap(), false, false, vec![]).with_sso(Some(cfg)).unwrap();
    let b = Board::start_with(&url, &c, Arc::new(auth), None).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // Sign-in is needed here, yet /login's server-built part answers anyone.
    let login = http.post(format!("{}/api/rendered", b.base)).form(&[("page", "login?next=/executions?q=a&b")]).send().await.unwrap();
    assert_eq!(login.status().as_u16(), 200);
    let body = String::from_utf8_lossy(&login.bytes().await.unwrap()).into_owned();
    assert!(body.contains(r#"data-testid="sso""#) && body.contains("/auth/sso?next=%2Fexecutions%3Fq%3Da%26b"), "{body}");
    assert!(!body.contains("demo-accounts"), "no demo accounts outside the demo");
    let page = |path: &'static str| {
        let http = http.clone();
        let base = b.base.clone();
        async move {
            let r = http.get(format!("{base}{path}")).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, text) = page("/auth/sso?next=/flows").await;
    assert_eq!(status, 502, "{text}");
    assert!(text.contains(r#"data-testid="sso-error""#) && text.contains("cannot be reached"), "{text}");
    let (status, text) = page("/auth/callback?code=abc&state=forged").await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("no sign-in is in progress"), "{text}");
    let (status, text) = page("/auth/callback?error=access_denied&error_description=%3Cscript%3Ex").await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("access_denied: &lt;script&gt;x"), "the provider's words are escaped: {text}");
}
