//! Approvals that open real gates, on SQLite, Postgres and Valkey.
//!
//! Executions are suspended through the trait as an SDK worker suspends
//! them, with application-chosen signal names the board has never seen and
//! each condition shape (single by name, `Count{2, DistinctSources}` by
//! name, `AllOf` of two names, wildcard). Two operators then decide through
//! the board's server functions, and the engine's state is read back
//! through the trait after each step. An engine answer that means "nothing
//! happened" must be a 409 naming the reason and an audited error; roles
//! are checked before any engine call; the waitpoint token (read before the
//! gate resumes) appears in no page, server-function response or
//! WebSocket frame.
use ff_board_engine::audit::{AuditFilter, AuditLog};
use ff_board_engine::connect::Connected;
use ff_board_tests::board::{enc, form, Board};
use ff_board_tests::{connect, fresh_postgres, sdk_gate, sqlite_path, Valkey, ValkeyCluster};
use ff_core::contracts::{CompositeBody, CountKind, ListPendingWaitpointsArgs, ResumeCondition, SignalMatcher};
use ff_core::partition::{Partition, PartitionFamily, PartitionKey};
use ff_core::state::PublicState;
use ff_core::types::ExecutionId;
use futures::StreamExt;

async fn state(c: &Connected, id: &ExecutionId) -> PublicState {
    c.backend.read_execution_state(id).await.unwrap().expect("execution")
}

/// The one pending waitpoint of `id` and its token (read on the test side, never by a browser).
async fn waitpoint(c: &Connected, id: &ExecutionId) -> (String, String) {
    let wp = c.backend.list_pending_waitpoints(ListPendingWaitpointsArgs::new(id.clone())).await.unwrap().entries;
    assert_eq!(wp.len(), 1, "one pending waitpoint: {wp:?}");
    let partition = PartitionKey::from(Partition { family: PartitionFamily::Flow, index: id.partition() });
    let token = c.backend.read_waitpoint_token(partition, &wp[0].waitpoint_id).await.unwrap().expect("token");
    (wp[0].waitpoint_id.to_string(), token)
}

struct Op {
    cookie: String,
    csrf: String,
}

async fn decide(b: &Board, who: &Op, id: &ExecutionId, wp: &str, decision: &str, signal: Option<&str>, key: &str) -> (u16, String) {
    let mut f = form(&[
        ("execution_id", id.as_str()),
        ("waitpoint_id", wp),
        ("decision", decision),
        ("reason", "gate test"),
        ("idempotency_key", key),
        ("csrf", &who.csrf),
    ]);
    if let Some(s) = signal {
        f.push(("signal", s.to_owned()));
    }
    b.post("decide_waitpoint", Some(&who.cookie), &f).await
}

fn by_name(key: &str, name: &str) -> ResumeCondition {
    ResumeCondition::Single { waitpoint_key: key.into(), matcher: SignalMatcher::ByName(name.into()) }
}

async fn suite(url: &str) {
    let c = connect(url).await;
    ff_board_engine::demo::promote_submitted(&c).await.expect("schema ready");
    let b = Board::start(url, &c).await;
    let sign = |u: &'static str| {
        let b = &b;
        async move {
            let (cookie, csrf) = b.sign_in(u).await;
            Op { cookie, csrf }
        }
    };
    let (alice, bob, vera) = (sign("alice").await, sign("bob").await, sign("vera").await);
    // Every live frame of the test, to scan for tokens at the end.
    let ws_url = format!("{}/ws", b.base.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.expect("ws");
    futures::SinkExt::send(&mut ws, tokio_tungstenite::tungstenite::Message::Text(r#"{"type":"subscribe","topics":["all"]}"#.into()))
        .await
        .unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = seen.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(m)) = ws.next().await {
            let mut all = sink.lock().unwrap();
            all.push_str(&m.to_string());
            all.push('\n');
        }
    });
    let mut tokens = vec![];

    // 1. Count{2, DistinctSources} by a name the board has never seen.
    let count = sdk_gate(&c, |k| {
        ResumeCondition::Composite(CompositeBody::count(2, CountKind::DistinctSources, Some(SignalMatcher::ByName("cab-7f-go".into())), [k.to_owned()]))
    })
    .await;
    let (wp, token) = waitpoint(&c, &count).await;
    tokens.push(token);
    // Roles before any engine call: exact answers against a real waitpoint.
    let none = form(&[("execution_id", count.as_str()), ("waitpoint_id", &wp), ("decision", "approve"), ("reason", "r"), ("idempotency_key", "deny-anon"), ("csrf", "x")]);
    assert_eq!(b.post("decide_waitpoint", None, &none).await.0, 401, "anonymous");
    assert_eq!(decide(&b, &vera, &count, &wp, "approve", None, "deny-viewer").await.0, 403, "viewer");
    let page = b.get(&format!("/executions/{}", enc(count.as_str()))).await;
    assert!(page.contains("cab-7f-go"), "the execution page names the gate's signal");
    let started = c.backend.read_execution_info(&count).await.unwrap().and_then(|i| i.started_at).expect("claimed, so started");
    assert!(!page.contains(&format!(">{started}<")), "no raw epoch ms on the execution page");
    assert!(page.contains(&ff_board_app::components::text::iso(started.parse().unwrap())), "started_at as UTC time");
    // The inbox says when it suspended (Valkey's index scores by the deadline instead).
    let (s, rows) = b.post("list_approvals", None, &[]).await;
    assert_eq!(s, 200, "{rows}");
    let rows: serde_json::Value = serde_json::from_str(&rows).unwrap();
    let row = rows["rows"].as_array().unwrap().iter().find(|r| r["execution_id"] == count.as_str()).expect("gate in the inbox");
    let at = row["suspended_at"].as_i64().unwrap();
    let now = ff_core::types::TimestampMs::now().0;
    assert!(at <= now && now - at < 600_000, "suspended_at {at} is when it suspended (now {now})");
    let approvals = b.get("/approvals").await;
    assert!(approvals.contains("0 of 2 approvals"), "the inbox shows n of m on every backend");
    assert!(approvals.contains("distinct sources"), "and what counts as distinct");
    // An oversized signal name is a 400, before the engine.
    let (s, body) = decide(&b, &alice, &count, &wp, "approve", Some(&"x".repeat(200)), "c-long").await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("at most 128"), "{body}");
    // A name the gate does not take is refused before the engine.
    let (s, body) = decide(&b, &alice, &count, &wp, "approve", Some("approved"), "c-wrong").await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("cab-7f-go"), "{body}");
    let (s, body) = decide(&b, &alice, &count, &wp, "approve", None, "c-alice-1").await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("1 of 2"), "{body}");
    assert_eq!(state(&c, &count).await, PublicState::Suspended);
    assert!(b.get("/approvals").await.contains("1 of 2 approvals"), "progress after one approval");
    // alice again: the engine takes the call, nothing counts: a 409 naming why.
    let (s, body) = decide(&b, &alice, &count, &wp, "approve", None, "c-alice-2").await;
    assert_eq!(s, 409, "{body}");
    assert!(body.contains("already counted"), "{body}");
    assert_eq!(state(&c, &count).await, PublicState::Suspended, "one person twice does not open a 2-of-2 gate");
    // Rejecting a gate with no rejection signal cancels instead: refused as a signal.
    let (s, body) = decide(&b, &bob, &count, &wp, "reject", None, "c-bob-reject").await;
    assert_eq!(s, 409, "{body}");
    assert!(body.contains("cancelling the execution"), "{body}");
    let (s, body) = decide(&b, &bob, &count, &wp, "approve", None, "c-bob").await;
    assert_eq!(s, 200, "{body}");
    assert_ne!(state(&c, &count).await, PublicState::Suspended, "two distinct operators open it");

    // 2. Single by name.
    let single = sdk_gate(&c, |k| by_name(k, "deploy.prod.ok")).await;
    let (wp, token) = waitpoint(&c, &single).await;
    tokens.push(token);
    let (s, body) = decide(&b, &bob, &single, &wp, "approve", None, "s-bob").await;
    assert_eq!(s, 200, "{body}");
    assert_ne!(state(&c, &single).await, PublicState::Suspended);

    // 3. AllOf of two names on one waitpoint: the operator must choose.
    let all = sdk_gate(&c, |k| ResumeCondition::Composite(CompositeBody::all_of([by_name(k, "qa-ok"), by_name(k, "sec-ok")]))).await;
    let (wp, token) = waitpoint(&c, &all).await;
    tokens.push(token);
    let (s, body) = decide(&b, &alice, &all, &wp, "approve", None, "a-none").await;
    assert_eq!(s, 400, "no silent guess: {body}");
    assert!(body.contains("qa-ok") && body.contains("sec-ok"), "{body}");
    let (s, body) = decide(&b, &alice, &all, &wp, "approve", Some("qa-ok"), "a-qa").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(state(&c, &all).await, PublicState::Suspended);
    let (s, body) = decide(&b, &bob, &all, &wp, "approve", Some("sec-ok"), "a-sec").await;
    assert_eq!(s, 200, "{body}");
    assert_ne!(state(&c, &all).await, PublicState::Suspended, "both names delivered open an AllOf");

    // 4. Wildcard: reject sends `rejected`, which resumes it for its worker to read.
    let any = sdk_gate(&c, |k| ResumeCondition::Single { waitpoint_key: k.into(), matcher: SignalMatcher::Wildcard }).await;
    let (wp, token) = waitpoint(&c, &any).await;
    tokens.push(token);
    let (s, body) = decide(&b, &alice, &any, &wp, "reject", None, "w-reject").await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("`rejected`"), "{body}");
    assert_ne!(state(&c, &any).await, PublicState::Suspended);

    // The audit log: successes are ok, the ignored signal and the refusals are errors, denials absent.
    let audit = AuditLog::open(&c.side).await.unwrap();
    let entries = audit.list(&AuditFilter { user: None, action: None, target_contains: None, limit: 1000 }).await.unwrap();
    let outcome = |k: &str| entries.iter().find(|e| ff_board_tests::client_key(e) == k).and_then(|e| e.outcome.clone()).unwrap_or_default();
    for k in ["c-alice-1", "c-bob", "s-bob", "a-qa", "a-sec", "w-reject"] {
        assert!(outcome(k).starts_with("ok:"), "{k}: {}", outcome(k));
    }
    for k in ["c-alice-2", "c-bob-reject", "a-none", "c-wrong"] {
        assert!(outcome(k).starts_with("error:"), "{k}: {}", outcome(k));
    }
    assert!(outcome("c-alice-2").contains("already counted"), "{}", outcome("c-alice-2"));
    assert!(!entries.iter().any(|e| ff_board_tests::client_key(e).starts_with("deny-")), "denied calls never reach the audit log");
    // A failed decision can be retried with the same key (recorded as a new attempt).
    let (s, _) = decide(&b, &alice, &count, &wp, "approve", None, "c-alice-2").await;
    assert_ne!(s, 200, "a retry of a failed decision runs again (and fails again: the gate is gone)");

    // No token anywhere: pages, server-function responses, live frames.
    for id in [&count, &single, &all, &any] {
        b.get(&format!("/executions/{}", enc(id.as_str()))).await;
    }
    b.get("/approvals").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    reader.abort();
    let frames = seen.lock().unwrap().clone();
    assert!(!frames.is_empty(), "the live socket sent frames");
    let bodies = b.bodies.lock().unwrap();
    assert!(bodies.len() > 20, "responses scanned: {}", bodies.len());
    for t in &tokens {
        assert!(!bodies.iter().any(|body| body.contains(t.as_str())), "waitpoint token leaked in a response");
        assert!(!frames.contains(t.as_str()), "waitpoint token leaked in a live frame");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_gates() {
    suite(&format!("sqlite:{}", sqlite_path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_gates() {
    suite(&fresh_postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_gates() {
    let v = Valkey::start();
    suite(&v.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_cluster_gates() {
    let cluster = ValkeyCluster::start();
    suite(&cluster.url()).await;
}
