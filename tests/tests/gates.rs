//! Approvals that open real gates, one test per gate shape on every
//! backend (`matrix!`).
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
use std::sync::{Arc, Mutex};

use ff_board_engine::audit::{AuditEntry, AuditFilter, AuditLog};
use ff_board_engine::connect::Connected;
use ff_board_tests::board::{enc, form, Board, Op};
use ff_board_tests::matrix::Store;
use ff_board_tests::{client_key, matrix, sdk_gate, state};
use ff_core::contracts::{CompositeBody, CountKind, ListPendingWaitpointsArgs, ResumeCondition, SignalMatcher};
use ff_core::partition::{Partition, PartitionFamily, PartitionKey};
use ff_core::state::PublicState;
use ff_core::types::ExecutionId;
use futures::future::LocalBoxFuture;
use futures::StreamExt;

/// A board over a fresh store, three users signed in, every live frame
/// kept, and the gates made so far with their tokens.
struct Gates {
    c: Connected,
    b: Board,
    alice: Op,
    bob: Op,
    vera: Op,
    frames: Arc<Mutex<String>>,
    reader: tokio::task::JoinHandle<()>,
    ids: Vec<ExecutionId>,
    tokens: Vec<String>,
}

async fn gates_board(s: &Store) -> Gates {
    let c = s.connect().await;
    ff_board_engine::demo::promote_submitted(&c).await.expect("schema ready");
    let b = Board::start(&s.url, &c).await;
    let (alice, bob, vera) = (b.op("alice").await, b.op("bob").await, b.op("vera").await);
    // Every live frame of the test, to scan for tokens at the end.
    let ws_url = format!("{}/ws", b.base.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.expect("ws");
    futures::SinkExt::send(&mut ws, tokio_tungstenite::tungstenite::Message::Text(r#"{"type":"subscribe","topics":["all"]}"#.into()))
        .await
        .unwrap();
    let frames = Arc::new(Mutex::new(String::new()));
    let sink = frames.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(m)) = ws.next().await {
            let mut all = sink.lock().unwrap();
            all.push_str(&m.to_string());
            all.push('\n');
        }
    });
    Gates { c, b, alice, bob, vera, frames, reader, ids: vec![], tokens: vec![] }
}

impl Gates {
    /// A gate suspended on `condition`, its one pending waitpoint; its
    /// token (read on the test side, never by a browser) kept to scan for.
    async fn gate(&mut self, condition: impl FnOnce(&str) -> ResumeCondition) -> (ExecutionId, String) {
        let id = sdk_gate(&self.c, condition).await;
        let wp = self.c.backend.list_pending_waitpoints(ListPendingWaitpointsArgs::new(id.clone())).await.unwrap().entries;
        assert_eq!(wp.len(), 1, "one pending waitpoint: {wp:?}");
        let partition = PartitionKey::from(Partition { family: PartitionFamily::Flow, index: id.partition() });
        let token = self.c.backend.read_waitpoint_token(partition, &wp[0].waitpoint_id).await.unwrap().expect("token");
        self.ids.push(id.clone());
        self.tokens.push(token);
        (id, wp[0].waitpoint_id.to_string())
    }

    /// `who` approves or rejects through the board, optionally naming the signal.
    async fn decide(&self, who: &Op, id: &ExecutionId, wp: &str, decision: &str, signal: Option<&str>, key: &str) -> (u16, String) {
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
        self.b.post("decide_waitpoint", Some(&who.cookie), &f).await
    }

    /// The audit log: each of `ok` succeeded, each of `failed` is an error,
    /// denied calls are absent.
    async fn audited(&self, ok: &[&str], failed: &[&str]) -> Vec<AuditEntry> {
        let audit = AuditLog::open(&self.c.side).await.unwrap();
        let entries = audit.list(&AuditFilter { limit: 1000, ..Default::default() }).await.unwrap();
        let outcome = |k: &str| entries.iter().find(|e| client_key(e) == k).and_then(|e| e.outcome.clone()).unwrap_or_default();
        for k in ok {
            assert!(outcome(k).starts_with("ok:"), "{k}: {}", outcome(k));
        }
        for k in failed {
            assert!(outcome(k).starts_with("error:"), "{k}: {}", outcome(k));
        }
        assert!(!entries.iter().any(|e| client_key(e).starts_with("deny-")), "denied calls never reach the audit log");
        entries
    }

    /// No token anywhere: pages of every gate, server-function responses,
    /// live frames (at least `responses` responses scanned).
    async fn no_token_leaked(self, responses: usize) {
        for id in &self.ids {
            self.b.get(&format!("/executions/{}", enc(id.as_str()))).await;
        }
        self.b.get("/approvals").await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        self.reader.abort();
        let frames = self.frames.lock().unwrap().clone();
        assert!(!frames.is_empty(), "the live socket sent frames");
        let bodies = self.b.bodies.lock().unwrap();
        assert!(bodies.len() > responses, "responses scanned: {}", bodies.len());
        for t in &self.tokens {
            assert!(!bodies.iter().any(|body| body.contains(t.as_str())), "waitpoint token leaked in a response");
            assert!(!frames.contains(t.as_str()), "waitpoint token leaked in a live frame");
        }
    }
}

fn by_name(key: &str, name: &str) -> ResumeCondition {
    ResumeCondition::Single { waitpoint_key: key.into(), matcher: SignalMatcher::ByName(name.into()) }
}

/// `Count{2, DistinctSources}` by a name the board has never seen: roles
/// first, the page and the inbox say what it waits for, a wrong or long
/// name is a 400, one person twice a 409, a rejection without a rejection
/// signal a 409; two operators open it. Returns the gate and its waitpoint.
async fn count_gate(g: &mut Gates) -> (ExecutionId, String) {
    let (count, wp) = g
        .gate(|k| ResumeCondition::Composite(CompositeBody::count(2, CountKind::DistinctSources, Some(SignalMatcher::ByName("cab-7f-go".into())), [k.to_owned()])))
        .await;
    let (b, alice, bob, vera) = (&g.b, &g.alice, &g.bob, &g.vera);
    // Roles before any engine call: exact answers against a real waitpoint.
    let none = form(&[("execution_id", count.as_str()), ("waitpoint_id", &wp), ("decision", "approve"), ("reason", "r"), ("idempotency_key", "deny-anon"), ("csrf", "x")]);
    assert_eq!(b.post("decide_waitpoint", None, &none).await.0, 401, "anonymous");
    assert_eq!(g.decide(vera, &count, &wp, "approve", None, "deny-viewer").await.0, 403, "viewer");
    let page = b.get(&format!("/executions/{}", enc(count.as_str()))).await;
    assert!(page.contains("cab-7f-go"), "the execution page names the gate's signal");
    let started = g.c.backend.read_execution_info(&count).await.unwrap().and_then(|i| i.started_at).expect("claimed, so started");
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
    // The inbox answers the query language: its lane finds it, another namespace does not.
    let lane = ff_board_domain::query::adding("", ff_board_domain::query::Field::Lane, row["lane"].as_str().unwrap(), None);
    for (q, found) in [(lane.as_str(), true), ("ns:nowhere-at-all", false)] {
        let (s, body) = b.post("list_approvals", None, &form(&[("q", q)])).await;
        assert_eq!(s, 200, "{q}: {body}");
        assert_eq!(body.contains(count.as_str()), found, "{q}: {body}");
    }
    let (s, body) = b.post("list_approvals", None, &form(&[("q", "state:failed")])).await;
    assert_eq!(s, 400, "the inbox has no state field: {body}");
    let approvals = b.get("/approvals").await;
    assert!(approvals.contains("0 of 2 approvals"), "the inbox shows n of m on every backend");
    assert!(approvals.contains("distinct sources"), "and what counts as distinct");
    // An oversized signal name is a 400, before the engine.
    let (s, body) = g.decide(alice, &count, &wp, "approve", Some(&"x".repeat(200)), "c-long").await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("at most 128"), "{body}");
    // A name the gate does not take is refused before the engine.
    let (s, body) = g.decide(alice, &count, &wp, "approve", Some("approved"), "c-wrong").await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("cab-7f-go"), "{body}");
    let (s, body) = g.decide(alice, &count, &wp, "approve", None, "c-alice-1").await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("1 of 2"), "{body}");
    assert_eq!(state(&g.c, &count).await, PublicState::Suspended);
    assert!(b.get("/approvals").await.contains("1 of 2 approvals"), "progress after one approval");
    // The timeline marks the signal received, by the gate's own name and its sender.
    let h = g.c.reads.history(&count).await.expect("history");
    assert!(h.signals.iter().any(|m| m.name == "cab-7f-go" && m.source.contains("alice")), "signals in the history: {:?}", h.signals);
    let page = b.get(&format!("/executions/{}", enc(count.as_str()))).await;
    assert!(page.contains(r#"data-testid="timeline-signal" data-name="cab-7f-go""#), "the signal on the timeline");
    // alice again: the engine takes the call, nothing counts: a 409 naming why.
    let (s, body) = g.decide(alice, &count, &wp, "approve", None, "c-alice-2").await;
    assert_eq!(s, 409, "{body}");
    assert!(body.contains("already counted"), "{body}");
    assert_eq!(state(&g.c, &count).await, PublicState::Suspended, "one person twice does not open a 2-of-2 gate");
    // Rejecting a gate with no rejection signal cancels instead: refused as a signal.
    let (s, body) = g.decide(bob, &count, &wp, "reject", None, "c-bob-reject").await;
    assert_eq!(s, 409, "{body}");
    assert!(body.contains("cancelling the execution"), "{body}");
    let (s, body) = g.decide(bob, &count, &wp, "approve", None, "c-bob").await;
    assert_eq!(s, 200, "{body}");
    assert_ne!(state(&g.c, &count).await, PublicState::Suspended, "two distinct operators open it");
    (count, wp)
}

const COUNT_OK: [&str; 2] = ["c-alice-1", "c-bob"];
const COUNT_FAILED: [&str; 3] = ["c-alice-2", "c-bob-reject", "c-wrong"];

/// Single by name: one approval opens it.
async fn single_gate(g: &mut Gates) {
    let (single, wp) = g.gate(|k| by_name(k, "deploy.prod.ok")).await;
    let (s, body) = g.decide(&g.bob, &single, &wp, "approve", None, "s-bob").await;
    assert_eq!(s, 200, "{body}");
    assert_ne!(state(&g.c, &single).await, PublicState::Suspended);
}

/// `AllOf` of two names on one waitpoint: the operator must choose; both
/// names delivered open it.
async fn all_of_gate(g: &mut Gates) {
    let (all, wp) = g.gate(|k| ResumeCondition::Composite(CompositeBody::all_of([by_name(k, "qa-ok"), by_name(k, "sec-ok")]))).await;
    let (s, body) = g.decide(&g.alice, &all, &wp, "approve", None, "a-none").await;
    assert_eq!(s, 400, "no silent guess: {body}");
    assert!(body.contains("qa-ok") && body.contains("sec-ok"), "{body}");
    let (s, body) = g.decide(&g.alice, &all, &wp, "approve", Some("qa-ok"), "a-qa").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(state(&g.c, &all).await, PublicState::Suspended);
    let (s, body) = g.decide(&g.bob, &all, &wp, "approve", Some("sec-ok"), "a-sec").await;
    assert_eq!(s, 200, "{body}");
    assert_ne!(state(&g.c, &all).await, PublicState::Suspended, "both names delivered open an AllOf");
}

/// Wildcard: reject sends `rejected`, which resumes it for its worker to read.
async fn wildcard_gate(g: &mut Gates) {
    let (any, wp) = g.gate(|k| ResumeCondition::Single { waitpoint_key: k.into(), matcher: SignalMatcher::Wildcard }).await;
    let (s, body) = g.decide(&g.alice, &any, &wp, "reject", None, "w-reject").await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("`rejected`"), "{body}");
    assert_ne!(state(&g.c, &any).await, PublicState::Suspended);
}

/// The 2-of-2 distinct-sources gate, audited: successes ok, the ignored
/// signal and the refusals errors, denials absent; a failed decision can
/// be retried with the same key (a new attempt, failing again: the gate is gone).
async fn count_gate_needs_two_distinct_approvers(s: Store) {
    let mut g = gates_board(&s).await;
    let (count, wp) = count_gate(&mut g).await;
    let entries = g.audited(&COUNT_OK, &COUNT_FAILED).await;
    let outcome = entries.iter().find(|e| client_key(e) == "c-alice-2").and_then(|e| e.outcome.clone()).unwrap_or_default();
    assert!(outcome.contains("already counted"), "{outcome}");
    let (s, _) = g.decide(&g.alice, &count, &wp, "approve", None, "c-alice-2").await;
    assert_ne!(s, 200, "a retry of a failed decision runs again (and fails again: the gate is gone)");
    g.no_token_leaked(10).await;
}
matrix!(count_gate_needs_two_distinct_approvers);

/// One gate shape on a board of its own: its steps, its audit outcomes
/// (`ok`, `failed`), no token leaked in more than `responses` responses.
async fn one_shape<F>(s: Store, steps: F, ok: &[&str], failed: &[&str], responses: usize)
where
    F: for<'a> FnOnce(&'a mut Gates) -> LocalBoxFuture<'a, ()>,
{
    let mut g = gates_board(&s).await;
    steps(&mut g).await;
    g.audited(ok, failed).await;
    g.no_token_leaked(responses).await;
}

async fn single_gate_opens_on_one_approval(s: Store) {
    one_shape(s, |g| Box::pin(single_gate(g)), &["s-bob"], &[], 1).await;
}
matrix!(single_gate_opens_on_one_approval);

async fn all_of_gate_needs_every_name(s: Store) {
    one_shape(s, |g| Box::pin(all_of_gate(g)), &["a-qa", "a-sec"], &["a-none"], 3).await;
}
matrix!(all_of_gate_needs_every_name);

async fn wildcard_reject_resumes_with_rejected(s: Store) {
    one_shape(s, |g| Box::pin(wildcard_gate(g)), &["w-reject"], &[], 1).await;
}
matrix!(wildcard_reject_resumes_with_rejected);

/// All four shapes on one board: every outcome audited as before, and no
/// token of any gate in any response or live frame.
async fn no_token_in_any_response_or_frame(s: Store) {
    let mut g = gates_board(&s).await;
    count_gate(&mut g).await;
    single_gate(&mut g).await;
    all_of_gate(&mut g).await;
    wildcard_gate(&mut g).await;
    let ok: Vec<&str> = COUNT_OK.iter().copied().chain(["s-bob", "a-qa", "a-sec", "w-reject"]).collect();
    let failed: Vec<&str> = COUNT_FAILED.iter().copied().chain(["a-none"]).collect();
    g.audited(&ok, &failed).await;
    g.no_token_leaked(20).await;
}
matrix!(no_token_in_any_response_or_frame);
