//! Several replicas on one store (issue 22), on every backend: two board
//! processes' worth of state (two connections, two routers, one secret)
//! over one store.
//! - The shared allowance (`ff_board_engine::allowance`) is one limit for
//!   both: what one replica took, the other cannot take again; it is per
//!   name and slides out of its window; concurrent takes from both never
//!   pass the cap.
//! - Signed in on one replica, a user reads and writes on the other; one
//!   person's bulk budget is spent on one and refused on the other; the
//!   audited-refusal quota is spent across both; signed out on one, the
//!   other refuses the cookie within the refresh period.
//! - One account guessed from many addresses, alternately on both
//!   replicas, is refused by the store-kept sign-in count before either
//!   replica's own limit would hold; its owner's address is not held.
//! - Budget usage is sampled once a minute between both (a shared
//!   allowance), its samples kept in the store for the other.
//! - Behind a round-robin balancer (a TCP proxy here: each connection to
//!   the next replica), a session reaches both and live sockets on either
//!   replica get the store's events (two epochs: two buses).
use std::sync::Arc;
use std::time::Duration;

use ff_board::auth::{SessionKey, Users};
use ff_board::authn::BoardAuth;
use ff_board_engine::allowance::{take, Allowance};
use ff_board_tests::board::{form, Board};
use ff_board_tests::matrix;
use ff_board_tests::matrix::Store;
use ff_board_tests::seed::{execution_args, new_execution_id};
use ff_core::types::{LaneId, Namespace, TimestampMs};

/// One allowance, two replicas.
async fn one_allowance_across_replicas(s: Store) {
    let (a, b) = (s.connect().await, s.connect().await);
    let (w, now) = (300_000, 1_000_000_000_000i64);
    assert_eq!(take(&a.side, "t:x", 6, 10, w, now).await.unwrap(), Allowance::Taken { used: 6 });
    assert_eq!(take(&b.side, "t:x", 5, 10, w, now + 1).await.unwrap(), Allowance::Refused { used: 6 }, "the other replica sees it");
    assert_eq!(take(&b.side, "t:x", 4, 10, w, now + 2).await.unwrap(), Allowance::Taken { used: 10 });
    assert_eq!(take(&a.side, "t:y", 10, 10, w, now).await.unwrap(), Allowance::Taken { used: 10 }, "per name");
    assert_eq!(take(&a.side, "t:z", 11, 10, w, now).await.unwrap(), Allowance::Refused { used: 0 }, "more than the cap at once");
    // Three fifths of a window later it still counts; a window and a fifth later it has slid out.
    assert!(matches!(take(&a.side, "t:x", 1, 10, w, now + 3 * w / 5).await.unwrap(), Allowance::Refused { .. }));
    assert_eq!(take(&b.side, "t:x", 1, 10, w, now + w + w / 5).await.unwrap(), Allowance::Taken { used: 1 });
    // 24 takes at once, half from each replica, against a cap of 10.
    let takes = (0..24).map(|i| {
        let side = if i % 2 == 0 { a.side.clone() } else { b.side.clone() };
        tokio::spawn(async move { take(&side, "t:race", 1, 10, w, now).await.unwrap() })
    });
    let mut taken = 0;
    for t in takes {
        if let Allowance::Taken { .. } = t.await.unwrap() {
            taken += 1;
        }
    }
    assert_eq!(taken, 10, "atomic on {}", s.url);
}
matrix!(one_allowance_across_replicas);

/// A board over its own connection to `s`: the same users (one users
/// file: the same hashes) and one shared secret, as replicas have.
async fn replica(s: &Store, users: &Users) -> Board {
    let c = s.connect().await;
    let auth = BoardAuth::new(users.clone(), SessionKey::from_secret(&[5u8; 32]).unwrap(), false, true, vec![]);
    Board::start_with(&s.url, &c, Arc::new(auth), None).await
}

async fn me(b: &Board, cookie: &str) -> serde_json::Value {
    let (_, body) = b.post("me", Some(cookie), &[]).await;
    serde_json::from_str(&body).unwrap()
}

async fn sessions_bulk_and_refusals_hold_across_replicas(s: Store) {
    static THRESHOLD: std::sync::Once = std::sync::Once::new();
    // Read per call by `approval_over`; this binary's only bulk test.
    THRESHOLD.call_once(|| std::env::set_var("FF_BOARD_BULK_APPROVAL", "3"));
    let (users, _) = ff_board::auth::demo_users().unwrap();
    let (a, b) = (replica(&s, &users).await, replica(&s, &users).await);
    // Signed in on A, known on B; its CSRF token works there.
    let (alice, csrf) = a.sign_in("alice").await;
    // A replica knows sessions once it has read the sign-out generations
    // (fail closed before: `server/src/revoke.rs`), within its first refresh.
    let mut known = serde_json::Value::Null;
    for _ in 0..50 {
        known = me(&b, &alice).await;
        if !known["actor"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(known["actor"]["user"], "alice", "{known}");
    let cancel = |csrf: &str| {
        form(&[
            ("flow_id", &uuid::Uuid::new_v4().to_string()),
            ("policy", "cancel_all"),
            ("wait", "none"),
            ("reason", "replicas"),
            ("idempotency_key", &uuid::Uuid::new_v4().to_string()),
            ("csrf", csrf),
        ])
    };
    let (st, body) = b.post("cancel_flow_action", Some(&alice), &cancel(&csrf)).await;
    assert!(st != 401 && st != 403, "a write on the other replica passes sign-in and CSRF: {st} {body}");
    // One bulk budget (3) for both: 2 on A, then 2 on B is over it.
    let c = s.connect().await;
    let lane = LaneId::new("replica-l");
    ff_board_engine::backend::declare_lanes(&c, &["replica-l"]).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..4 {
        let id = new_execution_id(&c, None, &lane);
        c.backend.create_execution(execution_args(&id, &Namespace::new("replicas"), &lane, "step", "replicas", TimestampMs::now())).await.unwrap();
        ids.push(id.to_string());
    }
    ff_board_engine::demo::promote_submitted(&c).await.unwrap();
    let step = |ids: &[String], key: &str| {
        let mut f = form(&[("state", "waiting"), ("reason", "drain"), ("idempotency_key", key), ("csrf", &csrf)]);
        for (i, id) in ids.iter().enumerate() {
            f.push((Box::leak(format!("ids[{i}]").into_boxed_str()), id.clone()));
        }
        f
    };
    let (st, body) = a.post("bulk_step", Some(&alice), &step(&ids[..2], "r1")).await;
    assert_eq!(st, 200, "{body}");
    let (st, body) = b.post("bulk_step", Some(&alice), &step(&ids[2..], "r2")).await;
    assert_eq!(st, 429, "the other replica knows the budget is spent: {body}");
    assert!(body.contains("(2 used)"), "{body}");
    // Refusals: CSRF refusals on both replicas, more than one minute's
    // quota in all, fewer on each: at most the quota is written.
    let quota = ff_board_app::security::PER_MINUTE as usize;
    let (bob, _) = a.sign_in("bob").await;
    let minute = || TimestampMs::now().0 / 60_000;
    let first_minute = minute();
    for i in 0..quota {
        let board = if i % 2 == 0 { &a } else { &b };
        assert_eq!(board.post("cancel_flow_action", Some(&bob), &cancel("forged")).await.0, 403);
    }
    for i in 0..10 {
        let board = if i % 2 == 0 { &a } else { &b };
        assert_eq!(board.post("cancel_flow_action", Some(&bob), &cancel("forged")).await.0, 403);
    }
    let one_minute = minute() == first_minute;
    let (ada, _) = a.sign_in("ada").await;
    // The writes run beside the answers: let them land.
    let mut written = 0;
    for _ in 0..50 {
        written = csrf_rows(&a, &ada).await;
        if written >= quota {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    written = written.max(csrf_rows(&b, &ada).await);
    if one_minute {
        assert_eq!(written, quota, "{written} of {} refusals written, quota {quota} for both replicas", quota + 10);
    } else {
        // Across a minute's turn: two quotas' worth may be written.
        assert!(written >= quota, "{written}");
    }
    // Signed out on A: B refuses the cookie within the refresh period.
    let (st, _) = a.post("logout", Some(&alice), &[]).await;
    assert!(st == 200 || st == 302, "{st}");
    let mut refused = false;
    for _ in 0..50 {
        if me(&b, &alice).await["actor"].is_null() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "the other replica ends the session within 5 s");
}
matrix!(sessions_bulk_and_refusals_hold_across_replicas);

async fn csrf_rows(board: &Board, admin: &str) -> usize {
    let (st, body) = board.post("list_audit", Some(admin), &[("action", "refused_csrf".to_owned())]).await;
    assert_eq!(st, 200, "{body}");
    serde_json::from_str::<Vec<serde_json::Value>>(&body).unwrap().len()
}

/// A round-robin TCP balancer in front of `backends` (`http://host:port`):
/// each new connection goes to the next one. Its own base URL.
async fn balancer(backends: Vec<String>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let targets: Vec<String> = backends.iter().map(|b| b.trim_start_matches("http://").to_owned()).collect();
    tokio::spawn(async move {
        let mut n = 0usize;
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = targets[n % targets.len()].clone();
            n += 1;
            tokio::spawn(async move {
                if let Ok(mut out) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                }
            });
        }
    });
    format!("http://{addr}")
}

async fn behind_a_balancer_sessions_and_live_updates_reach_every_replica(s: Store) {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (users, _) = ff_board::auth::demo_users().unwrap();
    let (a, b) = (replica(&s, &users).await, replica(&s, &users).await);
    let lb = balancer(vec![a.base.clone(), b.base.clone()]).await;
    // Live sockets: the first connection to A, the second to B.
    let ws_url = format!("{}/ws", lb.replacen("http", "ws", 1));
    let mut sockets = Vec::new();
    for _ in 0..2 {
        let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.expect("ws through the balancer");
        ws.send(Message::Text(r#"{"type":"subscribe","topics":["all"]}"#.into())).await.unwrap();
        sockets.push(ws);
    }
    // A session signed on A, read through the balancer (a new connection each: both replicas).
    let (alice, _) = a.sign_in("alice").await;
    for _ in 0..2 {
        let mut known = serde_json::Value::Null;
        for _ in 0..50 {
            let r = reqwest::Client::new().post(format!("{lb}/api/me")).header("cookie", &alice).send().await.unwrap();
            known = r.json().await.unwrap();
            if !known["actor"].is_null() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(known["actor"]["user"], "alice", "{known}");
    }
    // Work in the store: both sockets see its events, each from its own replica's bus.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let c = s.connect().await;
    ff_board_engine::demo::seed(&c).await.expect("seed");
    let mut epochs = Vec::new();
    for ws in &mut sockets {
        let mut got = None;
        let until = std::time::Instant::now() + Duration::from_secs(15);
        while got.is_none() && std::time::Instant::now() < until {
            let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(Duration::from_secs(1), ws.next()).await else { continue };
            let f: ff_board_app::live::Frame = serde_json::from_str(&t).unwrap();
            if matches!(f.event, ff_board_app::live::LiveEvent::Completion { .. }) {
                got = Some(f.epoch);
            }
        }
        epochs.push(got.expect("a completion frame on each replica's socket"));
    }
    assert_ne!(epochs[0], epochs[1], "two replicas answered the two sockets");
}
matrix!(behind_a_balancer_sessions_and_live_updates_reach_every_replica);

/// A sign-in from address `from` (a loopback address of its own).
async fn login_from(b: &Board, from: [u8; 4], user: &str, password: &str) -> (u16, String) {
    let client = reqwest::Client::builder().local_address(std::net::IpAddr::from(from)).timeout(Duration::from_secs(30)).build().unwrap();
    let r = client.post(format!("{}/api/login", b.base)).form(&[("username", user), ("password", password)]).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// One account guessed from many addresses on two replicas: the store's
/// shared count stops it where each replica alone would let more through,
/// on both replicas; the owner's own address is not held.
async fn one_account_guessed_on_two_replicas_is_limited_by_the_store(s: Store) {
    use ff_board::limiter::{FREE_PER_ACCOUNT, SHARED_PER_ACCOUNT};
    let (users, _) = ff_board::auth::demo_users().unwrap();
    let (a, b) = (replica(&s, &users).await, replica(&s, &users).await);
    let (status, _) = login_from(&a, [127, 0, 4, 1], "ada", "ada-demo").await;
    assert!(matches!(status, 200 | 302), "ada signs in on A before the attack: {status}");
    let mut statuses = Vec::new();
    for i in 0..(2 * SHARED_PER_ACCOUNT as u8) {
        let board = if i % 2 == 0 { &a } else { &b };
        let (st, body) = login_from(board, [127, 0, 5, 10 + i], "ada", &format!("guess-{i}")).await;
        // The first refusal is the store's (each replica's own limit would
        // not hold yet); after it either may answer.
        if st == 429 && !statuses.contains(&429) {
            assert!(body.contains("for this account"), "guess {i}: {body} after {statuses:?}");
        }
        statuses.push(st);
    }
    let wrong = statuses.iter().filter(|&&s| s == 401).count();
    let limited = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(wrong + limited, statuses.len(), "{statuses:?}");
    // Each replica alone would have let 2 × 10 through; the store lets
    // the cap through in all (ada's own first sign-in on A counted too).
    assert!(2 * FREE_PER_ACCOUNT as usize > SHARED_PER_ACCOUNT as usize);
    assert_eq!(wrong, SHARED_PER_ACCOUNT as usize - 1, "{statuses:?}");
    let first = statuses.iter().position(|&s| s == 429).expect("refused");
    assert!(statuses[first..].iter().all(|&s| s == 429), "refused from then on, on both replicas: {statuses:?}");
    // ada from where she signed in is not held by strangers.
    let (status, _) = login_from(&a, [127, 0, 4, 1], "ada", "ada-demo").await;
    assert!(matches!(status, 200 | 302), "ada from her own address on A: {status}");
}
matrix!(one_account_guessed_on_two_replicas_is_limited_by_the_store);

/// Budget usage is sampled once a minute between both replicas: one takes
/// the minute and keeps its samples in the store, the other samples
/// nothing and reads the same samples from the store.
async fn usage_is_sampled_once_across_replicas(s: Store) {
    use ff_board_engine::usage::{sample_once, shared, Sampled};
    let (a, b) = (s.connect().await, s.connect().await);
    ff_board_engine::demo::seed(&a).await.expect("seed (budgets)");
    let budgets = a.reads.budget_ids().await.expect("budgets").len();
    assert!(budgets > 0, "the demo has budgets");
    let now = TimestampMs::now().0;
    let (on_a, on_b) = (sample_once(&a, now).await.expect("sample on A"), sample_once(&b, now + 1).await.expect("sample on B"));
    assert_eq!(on_a, Sampled::Here(budgets.min(ff_board_engine::usage::MAX_BUDGETS)), "A samples the minute");
    assert_eq!(on_b, Sampled::Elsewhere, "B does not sample it again");
    let seen = shared(&b, now).await.expect("samples from the store");
    assert_eq!(seen.len(), budgets.min(ff_board_engine::usage::MAX_BUDGETS), "B reads every budget A sampled");
    assert!(seen.iter().all(|(_, u)| !u.is_empty()), "with their usage: {seen:?}");
}
matrix!(usage_is_sampled_once_across_replicas);
