//! Unit tests of the auth core: users files, hashes, sessions, CSRF, cookies.
use super::*;

fn cheap_hash(password: &str) -> String {
    hash_with(password.as_bytes(), cheap_params().unwrap()).unwrap()
}

fn users_toml(entries: &[(&str, &str, &str)]) -> String {
    entries
        .iter()
        .map(|(n, r, h)| format!("[[user]]\nname = \"{n}\"\nrole = \"{r}\"\npassword_hash = \"{h}\"\n\n"))
        .collect()
}

fn key(byte: u8) -> SessionKey {
    SessionKey::from_secret(&[byte; 32]).unwrap()
}

fn session(now: i64) -> Session {
    Session::new(&User { name: "alice".into(), role: Role::Operator }, now)
}

#[test]
fn hash_password_round_trip_with_default_params() {
    let hash = hash_password("correct horse").unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    check_phc(&hash).unwrap();
    assert!(password_matches(&hash, "correct horse"));
    assert!(!password_matches(&hash, "correct horse "));
    assert_ne!(hash, hash_password("correct horse").unwrap(), "salt is random");
}

#[test]
fn verify_right_wrong_and_unknown() {
    let h = cheap_hash("s3cret");
    let users =
        Users::from_toml(&users_toml(&[("alice", "operator", &h), ("vera", "viewer", &cheap_hash("v"))])).unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users.verify("alice", "s3cret"), Some(User { name: "alice".into(), role: Role::Operator }));
    assert_eq!(users.verify("alice", "wrong"), None);
    assert_eq!(users.verify("alice", ""), None);
    assert_eq!(users.verify("mallory", "s3cret"), None);
    assert_eq!(users.verify("vera", "v").map(|u| u.role), Some(Role::Viewer));
    assert_eq!(users.get("vera").map(|u| u.role), Some(Role::Viewer));
    assert!(users.get("mallory").is_none());
    // The dummy hash shares the users' parameters.
    assert!(users.dummy.as_deref().unwrap().starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
}

#[test]
fn toml_errors_name_the_line() {
    let h = cheap_hash("x");
    let err = Users::from_toml(&users_toml(&[("alice", "operator", &h), ("bob", "root", &h)])).unwrap_err().to_string();
    assert!(err.contains("line 8") && err.contains("unknown variant") && err.contains("root"), "{err}");

    let err = Users::from_toml(&users_toml(&[("alice", "operator", &h), ("alice", "admin", &h)])).unwrap_err().to_string();
    assert!(err.contains("line 7") && err.contains("duplicate user \"alice\"") && err.contains("line 2"), "{err}");

    let err = Users::from_toml(&users_toml(&[("alice", "admin", "plaintext")])).unwrap_err().to_string();
    assert!(err.contains("line 4") && err.contains("bad password_hash for \"alice\""), "{err}");

    let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, cheap_params().unwrap())
        .hash_password(b"x", &SaltString::encode_b64(&[7; 16]).unwrap())
        .unwrap()
        .to_string();
    let err = Users::from_toml(&users_toml(&[("alice", "admin", &argon2i)])).unwrap_err().to_string();
    assert!(err.contains("expected argon2id"), "{err}");

    let err = Users::from_toml(&users_toml(&[("", "admin", &h)])).unwrap_err().to_string();
    assert!(err.contains("line 2") && err.contains("invalid user name"), "{err}");

    let err = Users::from_toml("[[user]]\nname = \"a\"\nrole = \"admin\"\n").unwrap_err().to_string();
    assert!(err.contains("password_hash"), "{err}");
    let err = Users::from_toml("[[user]]\nname = \"a\"\nrole = \"admin\"\npasword_hash = \"x\"\n").unwrap_err().to_string();
    assert!(err.contains("pasword_hash"), "{err}");
    assert!(Users::from_toml("").unwrap_err().to_string().contains("no users"));
    assert!(Users::from_toml("[[user]\n").unwrap_err().to_string().contains("line 1"));
}

#[test]
fn load_names_the_file() {
    let dir = std::env::temp_dir().join(format!("ffb-auth-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("users.toml");
    let err = Users::load(&path).unwrap_err().to_string();
    assert!(err.contains("cannot read users file") && err.contains("users.toml"), "{err}");
    std::fs::write(&path, users_toml(&[("ada", "superuser", &cheap_hash("x"))])).unwrap();
    let err = Users::load(&path).unwrap_err().to_string();
    assert!(err.contains(&path.display().to_string()) && err.contains("line 3"), "{err}");
    std::fs::write(&path, users_toml(&[("ada", "admin", &cheap_hash("pw"))])).unwrap();
    assert_eq!(Users::load(&path).unwrap().verify("ada", "pw").map(|u| u.role), Some(Role::Admin));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_accounts_sign_in() {
    let (users, listed) = demo_users().unwrap();
    assert_eq!(listed.len(), 4);
    assert_eq!(listed.iter().filter(|(_, _, r)| *r == Role::Operator).count(), 2);
    for (name, password, role) in &listed {
        assert_eq!(password, &format!("{name}-demo"));
        assert_eq!(users.verify(name, password).map(|u| u.role), Some(*role));
        assert_eq!(users.verify(name, "nope"), None);
    }
    assert_eq!(users.verify("ada", "ada-demo").map(|u| u.role), Some(Role::Admin));
}

#[test]
fn role_ordering() {
    assert!(Role::Admin > Role::Operator && Role::Operator > Role::Viewer);
    assert!(Role::Admin.can(Role::Operator) && Role::Operator.can(Role::Operator));
    assert!(!Role::Viewer.can(Role::Operator) && !Role::Operator.can(Role::Admin));
    assert_eq!(serde_json::to_string(&Role::Operator).unwrap(), "\"operator\"");
}

#[test]
fn session_round_trip_and_expiry() {
    let k = key(1);
    let s = session(1_000);
    assert_eq!(s.expires_ms, 1_000 + SESSION_TTL_MS);
    let value = k.encode(&s);
    assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "cookie-safe: {value}");
    assert_eq!(k.decode(&value, 2_000), Ok(s.clone()));
    assert_eq!(k.decode(&value, s.expires_ms - 1), Ok(s.clone()));
    assert_eq!(k.decode(&value, s.expires_ms), Err(SessionError::Expired));
    assert_ne!(session(1_000).id, s.id, "ids are random");
}

#[test]
fn tampered_malformed_and_foreign_sessions_rejected() {
    let k = key(1);
    let s = session(0);
    let value = k.encode(&s);
    let (payload, sig) = value.split_once('.').unwrap();

    // Promote oneself to admin: the signature no longer matches.
    let mut forged = s.clone();
    forged.role = Role::Admin;
    let forged_payload = B64.encode(serde_json::to_vec(&forged).unwrap());
    assert_eq!(k.decode(&format!("{forged_payload}.{sig}"), 1), Err(SessionError::BadSignature));
    // Flip one signature character.
    let mut bad_sig = sig.to_owned();
    // Always a different first character (it was the same one time in 64).
    let other = if bad_sig.starts_with('A') { "B" } else { "A" };
    bad_sig.replace_range(0..1, other);
    assert_ne!(bad_sig, sig);
    assert_eq!(k.decode(&format!("{payload}.{bad_sig}"), 1), Err(SessionError::BadSignature));
    // Another secret (another board) signed it.
    assert_eq!(key(2).decode(&value, 1), Err(SessionError::BadSignature));

    for junk in ["", ".", "abc", "abc.", "!!!.!!!", payload, &"a".repeat(5000)] {
        assert!(k.decode(junk, 1).is_err(), "{junk:?}");
    }
    // Validly signed but not a session.
    let not_json = B64.encode(b"{}");
    let sig = B64.encode(k.mac(SESSION_LABEL, not_json.as_bytes()).finalize().into_bytes());
    assert_eq!(k.decode(&format!("{not_json}.{sig}"), 1), Err(SessionError::Malformed));
}

#[test]
fn csrf_token_valid_for_its_session_only() {
    let k = key(1);
    let (a, b) = (session(0), session(0));
    let token = k.csrf_token(&a);
    assert!(k.check_csrf(&a, &token));
    assert!(!k.check_csrf(&b, &token));
    assert!(!k.check_csrf(&a, ""));
    assert!(!k.check_csrf(&a, &token[1..]));
    assert!(!key(2).check_csrf(&a, &token));
    assert_ne!(token, k.encode(&a).split_once('.').unwrap().1, "csrf and session MACs are separated");
}

#[test]
fn secret_length_and_file() {
    assert!(SessionKey::from_secret(&[0; 31]).unwrap_err().to_string().contains("too short"));
    let dir = std::env::temp_dir().join(format!("ffb-auth-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ff-board-secret");
    let _ = std::fs::remove_file(&path);
    let k1 = SessionKey::from_file(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Read back on restart: sessions survive.
    let k2 = SessionKey::from_file(&path).unwrap();
    let s = session(0);
    assert_eq!(k2.decode(&k1.encode(&s), 1), Ok(s));
    std::fs::write(&path, "short\n").unwrap();
    assert!(SessionKey::from_file(&path).unwrap_err().to_string().contains("too short"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_names_are_never_written_as_typed() {
    let k = key(1);
    let shown = k.unknown_name("hunter2-my-password");
    assert!(shown.starts_with("unknown user #") && !shown.contains("hunter2"), "{shown}");
    assert_eq!(shown, k.unknown_name("hunter2-my-password"), "stable: the same typo is recognisable");
    assert_ne!(shown, k.unknown_name("hunter3"));
    assert_ne!(shown, key(2).unknown_name("hunter2-my-password"), "keyed by the board's secret");
}

#[test]
fn cookies() {
    // Secure cookies take the __Host- prefix (host-only, Path=/, Secure).
    assert_eq!(cookie("v.s", true, 60), "__Host-ffb_session=v.s; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure");
    assert_eq!(session_cookie_named("a=1; __Host-ffb_session=v.s", SECURE_COOKIE_NAME), Some("v.s"));
    assert_eq!(session_cookie_named("ffb_session=v.s", SECURE_COOKIE_NAME), None, "the plain name does not stand in");
    assert_eq!(cookie("v.s", false, 60), "ffb_session=v.s; Path=/; Max-Age=60; HttpOnly; SameSite=Strict");
    assert_eq!(clear_cookie(false), "ffb_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    assert_eq!(session_from_cookie_header("a=1; ffb_session=v.s; b=2"), Some("v.s"));
    assert_eq!(session_from_cookie_header("ffb_session=v.s"), Some("v.s"));
    assert_eq!(session_from_cookie_header("xffb_session=v.s; ffb_session_old=1"), None);
    assert_eq!(session_from_cookie_header("ffb_session="), None);
    assert_eq!(session_from_cookie_header(""), None);
}
