//! Single sign-on's checks that need no provider: settings, claims, and a
//! callback refused before any call (the provider's own flow is tested
//! against `oidc-provider` in end2end/tests/sso.spec.ts).
use super::*;

fn sso() -> Sso {
    let cfg = OidcConfig::new("http://127.0.0.1:9/", "ff-board", None, "http://127.0.0.1:3000/", "ops:operator,ops-admins:admin").unwrap();
    Sso::new(cfg, SessionKey::from_secret(&[7u8; 32]).unwrap(), Arc::default(), false).unwrap()
}

#[test]
fn settings_are_checked_and_the_public_url_loses_its_slash() {
    let s = sso();
    assert_eq!(s.cfg.public_url, "http://127.0.0.1:3000");
    assert!(OidcConfig::new("not a url", "c", None, "http://b", "ops:viewer").unwrap_err().contains("FF_BOARD_OIDC_ISSUER"));
    assert!(OidcConfig::new("http://i", "c", None, "ftp://b", "ops:viewer").unwrap_err().contains("FF_BOARD_PUBLIC_URL"));
    assert!(OidcConfig::new("http://i", "c", None, "http://b", "ops:root").unwrap_err().contains("FF_BOARD_OIDC_ROLES"));
}

#[test]
fn groups_are_read_from_arrays_strings_and_dotted_paths() {
    let c = serde_json::json!({"groups": ["ops", 7, "x".repeat(300)], "realm_access": {"roles": ["ops-admins"]}, "g": "a, b c"});
    assert_eq!(claim_at(&c, "groups").map(strings), Some(vec!["ops".to_owned()]), "non-strings and oversize names dropped");
    assert_eq!(claim_at(&c, "realm_access.roles").map(strings), Some(vec!["ops-admins".to_owned()]));
    assert_eq!(claim_at(&c, "g").map(strings), Some(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]));
    assert_eq!(claim_at(&c, "missing.path"), None);
    let many = serde_json::json!({"groups": (0..1000).map(|i| format!("g{i}")).collect::<Vec<_>>()});
    assert_eq!(claim_at(&many, "groups").map(strings).unwrap().len(), MAX_GROUPS);
}

#[test]
fn the_user_is_the_configured_claim_else_preferred_username_else_email() {
    let mut s = sso();
    let c = serde_json::json!({"preferred_username": " olga ", "email": "o@x", "upn": "olga@corp"});
    assert_eq!(s.user_of(&c).as_deref(), Some("olga"));
    assert_eq!(s.user_of(&serde_json::json!({"email": "o@x"})).as_deref(), Some("o@x"));
    s.cfg.user_claim = Some("upn".into());
    assert_eq!(s.user_of(&c).as_deref(), Some("olga@corp"));
    assert_eq!(s.user_of(&serde_json::json!({"preferred_username": "olga"})), None, "only the configured claim");
}

#[tokio::test]
async fn a_callback_without_its_own_sign_in_is_refused_before_any_call() {
    let s = sso();
    let q = Callback { code: Some("c".into()), state: Some("s".into()), ..Default::default() };
    assert!(matches!(s.finish("", &q).await, Err(SsoError::NoPending)));
    // A sign-in sealed by this key, but for another state.
    let pending = Pending { state: "other".into(), nonce: "n".into(), verifier: "v".into(), next: "/".into(), expires_ms: auth::now_ms() + 60_000 };
    let cookie = format!("{PENDING_COOKIE}={}", s.key.seal(PENDING_LABEL, &pending));
    assert!(matches!(s.finish(&cookie, &q).await, Err(SsoError::State)));
    // Sealed by another key (or tampered with): no sign-in at all.
    let forged = SessionKey::from_secret(&[8u8; 32]).unwrap().seal(PENDING_LABEL, &pending);
    assert!(matches!(s.finish(&format!("{PENDING_COOKIE}={forged}"), &q).await, Err(SsoError::NoPending)));
    // A session cookie is no sign-in in progress (labels differ).
    let session = auth::Session::new(&auth::User { name: "ada".into(), role: Role::Admin }, auth::now_ms());
    assert!(matches!(s.finish(&format!("{PENDING_COOKIE}={}", s.key.encode(&session)), &q).await, Err(SsoError::NoPending)));
    // Expired.
    let old = Pending { state: "s".into(), expires_ms: auth::now_ms() - 1, ..pending };
    assert!(matches!(s.finish(&format!("{PENDING_COOKIE}={}", s.key.seal(PENDING_LABEL, &old)), &q).await, Err(SsoError::NoPending)));
    // The provider's own refusal is passed on, clipped.
    let denied = Callback { error: Some("access_denied".into()), error_description: Some("x".repeat(1000)), ..Default::default() };
    match s.finish("", &denied).await {
        Err(SsoError::Refused(m)) => assert!(m.starts_with("access_denied: x") && m.chars().count() <= 301, "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_provider_is_a_clear_error_not_a_hang() {
    let s = sso();
    let started = Instant::now();
    match s.start("/flows").await {
        Err(SsoError::Provider(m)) => assert!(m.contains("discovery"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < CALL_DEADLINE + Duration::from_secs(1));
}

#[tokio::test]
async fn an_oversize_code_is_refused_and_a_ninth_exchange_waits_then_is_busy() {
    let s = sso();
    let pending = Pending { state: "s".into(), nonce: "n".into(), verifier: "v".into(), next: "/".into(), expires_ms: auth::now_ms() + 600_000 };
    let cookie = format!("{PENDING_COOKIE}={}", s.key.seal(PENDING_LABEL, &pending));
    let long = Callback { code: Some("c".repeat(4097)), state: Some("s".into()), ..Default::default() };
    match s.finish(&cookie, &long).await {
        Err(SsoError::Refused(m)) => assert!(m.contains("no authorization code"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Every exchange slot taken: the next callback waits 5 s, then is told the board is busy.
    let held: Vec<_> = (0..MAX_CALLBACKS).map(|_| s.callbacks.clone().try_acquire_owned().expect("a free slot")).collect();
    assert!(s.callbacks.clone().try_acquire_owned().is_err(), "exactly {MAX_CALLBACKS} slots");
    let ok = Callback { code: Some("c".into()), state: Some("s".into()), ..Default::default() };
    let started = Instant::now();
    assert!(matches!(s.finish(&cookie, &ok).await, Err(SsoError::Busy)));
    assert!(started.elapsed() >= Duration::from_secs(5));
    drop(held);
}
