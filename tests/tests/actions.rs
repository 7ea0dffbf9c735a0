//! Operator actions over HTTP (no browser) against real backends, one test
//! per behaviour on every backend (`matrix!`): the auth matrix (anonymous /
//! viewer / operator / admin × every action), CSRF, expired and forged
//! sessions, idempotency, the 2-of-2 distinct-approver gate, the engine
//! state read back through the trait after each action, one audit attempt +
//! outcome per action, and no waitpoint token in any response.
use ff_board_engine::audit::{AuditEntry, AuditFilter, AuditLog};
use ff_board_engine::connect::Connected;
use ff_board_engine::demo::{self, DemoReport};
use ff_board_tests::board::{enc, form, Board, Op};
use ff_board_tests::matrix::Store;
use ff_board_tests::{client_key, matrix, state};
use ff_core::capability::Supports;
use ff_core::contracts::ListPendingWaitpointsArgs;
use ff_core::partition::{Partition, PartitionFamily, PartitionKey};
use ff_core::state::PublicState;
use ff_core::types::ExecutionId;

/// The demo workload on a fresh store, a board over it and the four demo
/// users signed in.
struct Demo {
    c: Connected,
    report: DemoReport,
    b: Board,
    sup: Supports,
    alice: Op,
    bob: Op,
    vera: Op,
    ada: Op,
}

async fn demo_board(s: &Store) -> Demo {
    let c = s.connect().await;
    let report = demo::seed(&c).await.expect("seed");
    let b = Board::start(&s.url, &c).await;
    let sup = c.backend.capabilities().supports;
    let (alice, bob, vera, ada) = (b.op("alice").await, b.op("bob").await, b.op("vera").await, b.op("ada").await);
    Demo { c, report, b, sup, alice, bob, vera, ada }
}

/// A flow member still running or waiting (not a gate): the target of the matrix.
async fn live_target(d: &Demo) -> String {
    let flow = d.report.flow_ids[0].clone();
    let members = d.c.reads.flow_members(&flow, 10_000).await.unwrap().into_iter().map(|m| m.id).collect::<Vec<_>>();
    for m in &members {
        if d.report.two_approver_gates.contains(m) {
            continue;
        }
        if !matches!(state(&d.c, m).await, PublicState::Completed | PublicState::Failed | PublicState::Cancelled) {
            return m.to_string();
        }
    }
    panic!("a live member")
}

/// A cancel of `target` as a form.
fn cancel(target: &str, csrf: &str, key: &str) -> Vec<(&'static str, String)> {
    form(&[("execution_id", target), ("action", "cancel"), ("reason", "matrix"), ("idempotency_key", key), ("csrf", csrf)])
}

/// A budget reset as a form.
fn reset(budget: &str, csrf: &str, key: &str) -> Vec<(&'static str, String)> {
    form(&[("budget_id", budget), ("reason", "matrix"), ("idempotency_key", key), ("csrf", csrf)])
}

/// An execution action by `who` as a form, with an extra field.
fn op(who: &Op, eid: &str, action: &str, key: &str, extra: Option<(&str, &str)>) -> Vec<(&'static str, String)> {
    let mut f = form(&[("execution_id", eid), ("action", action), ("reason", "ops"), ("idempotency_key", key), ("csrf", &who.csrf)]);
    if let Some((k, v)) = extra {
        f.push((Box::leak(k.to_string().into_boxed_str()), v.to_owned()));
    }
    f
}

/// Whether the backend supports an action; where it does not, the board
/// answered `status` 501.
fn supported(yes: bool, status: u16) -> bool {
    if !yes {
        assert_eq!(status, 501);
    }
    yes
}

/// Every entry of the audit log.
async fn audit_entries(c: &Connected) -> Vec<AuditEntry> {
    let audit = AuditLog::open(&c.side).await.unwrap();
    audit.list(&AuditFilter { limit: 1000, ..Default::default() }).await.unwrap()
}

/// The audit log after any run of actions: refusals apart under keys of
/// their own, one entry per idempotency key, each with its outcome, keys
/// scoped by their user. Returns the entries of accepted calls.
async fn audit_consistent(c: &Connected) -> Vec<AuditEntry> {
    let (refused, all): (Vec<_>, Vec<_>) = audit_entries(c).await.into_iter().partition(|e| e.action.starts_with("refused_"));
    assert!(refused.iter().all(|e| e.idempotency_key.starts_with("refused/")), "{refused:?}");
    let mut keys: Vec<&str> = all.iter().map(|e| e.idempotency_key.as_str()).collect();
    keys.sort();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n, "one entry per idempotency key");
    assert!(all.iter().all(|e| e.outcome.is_some()), "every attempt has its outcome");
    assert!(all.iter().all(|e| e.idempotency_key.starts_with(&format!("{}/", e.user))), "stored keys are scoped by their user");
    all
}

/// Anonymous, viewer, a foreign or missing CSRF token, a forged or expired
/// cookie are refused on every action (a budget reset also for operators),
/// before the engine and the audit log.
async fn denied_without_role_or_csrf(s: Store) {
    let d = demo_board(&s).await;
    let (b, alice, bob, vera) = (&d.b, &d.alice, &d.bob, &d.vera);
    let target = live_target(&d).await;
    assert_eq!(b.post("execution_action", None, &cancel(&target, "x", "k1")).await.0, 401, "anonymous");
    assert_eq!(b.post("execution_action", Some(&vera.cookie), &cancel(&target, &vera.csrf, "k2")).await.0, 403, "viewer");
    assert_eq!(b.post("execution_action", Some(&alice.cookie), &cancel(&target, &bob.csrf, "k3")).await.0, 403, "another session's csrf");
    assert_eq!(b.post("execution_action", Some(&alice.cookie), &cancel(&target, "", "k4")).await.0, 403, "missing csrf");
    let forged = format!("{}x", alice.cookie);
    assert_eq!(b.post("execution_action", Some(&forged), &cancel(&target, &alice.csrf, "k5")).await.0, 401, "forged cookie");
    let budget = d.report.hard_breached_budgets[0].to_string();
    assert_eq!(b.post("reset_budget_action", Some(&alice.cookie), &reset(&budget, &alice.csrf, "r1")).await.0, 403, "operator may not reset budgets");
    assert_eq!(b.post("reset_budget_action", Some(&vera.cookie), &reset(&budget, &vera.csrf, "r2")).await.0, 403);
    assert_eq!(b.post("reset_budget_action", None, &reset(&budget, "", "r3")).await.0, 401);
    deny_every_action(&d, &target).await;
    let expired = b.auth.session_cookie_issued("alice", ff_board::auth::now_ms() - 13 * 3_600_000).unwrap();
    assert_eq!(b.post("execution_action", Some(&expired), &cancel(&target, &alice.csrf, "k6")).await.0, 401, "expired session");
    let all = audit_consistent(&d.c).await;
    for denied in ["k1", "k2", "k3", "k4", "k5", "k6", "r1", "r2", "r3"] {
        assert!(!all.iter().any(|e| client_key(e) == denied), "denied {denied} never reached the audit/engine");
    }
    assert!(!all.iter().any(|e| client_key(e).starts_with("deny-")), "denials never reach the audit log");
}
matrix!(denied_without_role_or_csrf);

/// The deny half of the matrix, for every action: anonymous → 401, viewer →
/// 403 (admin-only budget reset: operator → 403 too).
async fn deny_every_action(d: &Demo, target: &str) {
    let flow_s = d.report.flow_ids[0].to_string();
    let budget_s = d.report.hard_breached_budgets[0].to_string();
    let gate = &d.report.two_approver_gates[0];
    let gate_s = gate.to_string();
    let gate_wp = d.c.backend.list_pending_waitpoints(ListPendingWaitpointsArgs::new(gate.clone())).await.unwrap().entries[0].waitpoint_id.to_string();
    let every: Vec<(&str, Vec<(&'static str, String)>, bool)> = vec![
        ("cancel_flow_action", form(&[("flow_id", &flow_s), ("policy", "cancel_all"), ("wait", "none"), ("timeout_ms", "1000"), ("reason", "m")]), false),
        ("execution_action", form(&[("execution_id", target), ("action", "cancel"), ("reason", "m")]), false),
        ("execution_action", form(&[("execution_id", target), ("action", "revoke_lease"), ("reason", "m")]), false),
        ("execution_action", form(&[("execution_id", target), ("action", "replay"), ("reason", "m")]), false),
        ("execution_action", form(&[("execution_id", target), ("action", "change_priority"), ("priority", "5"), ("reason", "m")]), false),
        ("decide_waitpoint", form(&[("execution_id", &gate_s), ("waitpoint_id", &gate_wp), ("decision", "approve"), ("reason", "m")]), false),
        ("reset_budget_action", form(&[("budget_id", &budget_s), ("reason", "m")]), true),
        ("bulk_step", form(&[("state", "waiting"), ("reason", "m")]), false),
    ];
    for (i, (endpoint, fields, admin_only)) in every.iter().enumerate() {
        for (who, cookie, csrf, want) in [
            ("anonymous", None, String::new(), 401),
            ("viewer", Some(d.vera.cookie.as_str()), d.vera.csrf.clone(), 403),
            ("operator", Some(d.alice.cookie.as_str()), d.alice.csrf.clone(), if *admin_only { 403 } else { 0 }),
        ] {
            if want == 0 {
                continue;
            }
            let mut f = fields.clone();
            f.push(("idempotency_key", format!("deny-{i}-{who}")));
            f.push(("csrf", csrf));
            let (s, body) = d.b.post(endpoint, cookie, &f).await;
            assert_eq!(s, want, "{who} on {endpoint}: {body}");
        }
    }
}

/// A malformed execution id or an unknown action is a clear 400.
async fn invalid_input_is_refused(s: Store) {
    let d = demo_board(&s).await;
    let (b, alice) = (&d.b, &d.alice);
    let target = live_target(&d).await;
    let (s, body) = b.post("execution_action", Some(&alice.cookie), &form(&[("execution_id", "garbage"), ("action", "cancel"), ("reason", ""), ("idempotency_key", "v1"), ("csrf", &alice.csrf)])).await;
    assert_eq!(s, 400, "{body}");
    let (s, _) = b.post("execution_action", Some(&alice.cookie), &form(&[("execution_id", &target), ("action", "explode"), ("reason", ""), ("idempotency_key", "v2"), ("csrf", &alice.csrf)])).await;
    assert_eq!(s, 400);
    audit_consistent(&d.c).await;
}
matrix!(invalid_input_is_refused);

/// An operator cancels; a double submit with the same key is one effect.
async fn cancel_twice_is_one_effect(s: Store) {
    let d = demo_board(&s).await;
    let (b, alice) = (&d.b, &d.alice);
    let target = live_target(&d).await;
    let tid = ExecutionId::parse(&target).unwrap();
    if d.sup.cancel_execution {
        let (s, body) = b.post("execution_action", Some(&alice.cookie), &cancel(&target, &alice.csrf, "cancel-once")).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(state(&d.c, &tid).await, PublicState::Cancelled, "cancelled through the board");
        let (s, body) = b.post("execution_action", Some(&alice.cookie), &cancel(&target, &alice.csrf, "cancel-once")).await;
        assert_eq!(s, 200);
        assert!(body.contains("\"duplicate\":true"), "{body}");
    }
    audit_consistent(&d.c).await;
}
matrix!(cancel_twice_is_one_effect);

/// 2-of-2 distinct approvers: alice twice counts once; bob (even with
/// alice's idempotency key) completes it. The audit log has both a1 and
/// the refused a2; the gate's waitpoint token is in no response.
async fn approve_counts_distinct_sources(s: Store) {
    let d = demo_board(&s).await;
    let (b, alice, bob, vera) = (&d.b, &d.alice, &d.bob, &d.vera);
    let gate = d.report.two_approver_gates[0].clone();
    let wp = d.c.backend.list_pending_waitpoints(ListPendingWaitpointsArgs::new(gate.clone())).await.unwrap().entries[0].waitpoint_id.to_string();
    // Read while the waitpoint is pending (the SQL stores drop it once resumed).
    let token = d
        .c
        .backend
        .read_waitpoint_token(
            PartitionKey::from(Partition { family: PartitionFamily::Flow, index: gate.partition() }),
            &ff_core::types::WaitpointId::parse(&wp).unwrap(),
        )
        .await
        .ok()
        .flatten();
    let approve = |csrf: &str, key: &str| {
        form(&[("execution_id", gate.as_str()), ("waitpoint_id", &wp), ("decision", "approve"), ("reason", "ship it"), ("idempotency_key", key), ("csrf", csrf)])
    };
    assert_eq!(b.post("decide_waitpoint", Some(&vera.cookie), &approve(&vera.csrf, "a0")).await.0, 403, "viewers do not approve");
    let (s, body) = b.post("decide_waitpoint", Some(&alice.cookie), &approve(&alice.csrf, "a1")).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("\"duplicate\":false"), "{body}");
    let (s, body) = b.post("decide_waitpoint", Some(&alice.cookie), &approve(&alice.csrf, "a2")).await;
    assert_eq!(s, 409, "the second approval of one person counts for nothing: {body}");
    assert_eq!(state(&d.c, &gate).await, PublicState::Suspended, "the same operator twice counts once");
    // bob sends alice's key: keys are scoped by user on the server, so this
    // is bob's own approval, delivered (not "already done" with hers).
    let (s, body) = b.post("decide_waitpoint", Some(&bob.cookie), &approve(&bob.csrf, "a1")).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("\"duplicate\":false"), "another user's key is not a duplicate: {body}");
    assert_ne!(state(&d.c, &gate).await, PublicState::Suspended, "two distinct operators resume it");

    let all = audit_consistent(&d.c).await;
    for k in ["a1", "a2"] {
        assert!(all.iter().any(|e| client_key(e) == k), "audit has {k}");
    }
    let a1: Vec<&str> = all.iter().filter(|e| client_key(e) == "a1").map(|e| e.user.as_str()).collect();
    assert_eq!(a1.len(), 2, "alice's a1 and bob's a1 are two actions: {a1:?}");
    assert!(!all.iter().any(|e| client_key(e) == "a0"), "denied a0 never reached the audit/engine");

    // The waitpoint token is in no response: the decisions, the gate's
    // audit entries, pages.
    assert_eq!(b.post("list_audit", Some(&alice.cookie), &[("target", gate.to_string())]).await.0, 200);
    assert_eq!(b.post("list_audit", Some(&d.ada.cookie), &[]).await.0, 200);
    for p in ["/approvals", &format!("/executions/{}", enc(gate.as_str()))] {
        b.get(p).await;
    }
    let token = token.expect("the gate's waitpoint token is readable on the server");
    let bodies = b.bodies.lock().unwrap();
    assert!(bodies.len() >= 2, "the pages were read");
    for body in bodies.iter() {
        assert!(!body.contains(&token), "waitpoint token leaked");
    }
}
matrix!(approve_counts_distinct_sources);

/// An admin resets a breached budget (or the backend says it cannot).
async fn admin_resets_budget(s: Store) {
    let d = demo_board(&s).await;
    let bid = d.report.hard_breached_budgets[0].clone();
    let (s, body) = d.b.post("reset_budget_action", Some(&d.ada.cookie), &reset(&bid.to_string(), &d.ada.csrf, "reset-1")).await;
    if supported(d.sup.budget_admin, s) {
        assert_eq!(s, 200, "{body}");
        let st = d.c.backend.get_budget_status(&bid).await.unwrap();
        assert!(st.usage.values().all(|v| *v == 0), "usage reset: {:?}", st.usage);
    }
    audit_consistent(&d.c).await;
}
matrix!(admin_resets_budget);

/// An operator cancels a whole flow; the engine says so, the audit log has it.
async fn cancel_flow_cancels_it(s: Store) {
    let d = demo_board(&s).await;
    let (b, bob) = (&d.b, &d.bob);
    let other = d.report.flow_ids.last().unwrap().to_string();
    let (s, body) = b
        .post("cancel_flow_action", Some(&bob.cookie), &form(&[("flow_id", &other), ("policy", "cancel_all"), ("wait", "none"), ("timeout_ms", "30000"), ("reason", "incident"), ("idempotency_key", "cf1"), ("csrf", &bob.csrf)]))
        .await;
    assert_eq!(s, 200, "{body}");
    let fs = d.c.backend.describe_flow(&d.report.flow_ids.last().unwrap().clone()).await.unwrap().unwrap();
    assert!(fs.cancelled_at.is_some() || fs.public_flow_state == "cancelled", "flow cancelled: {}", fs.public_flow_state);
    let all = audit_consistent(&d.c).await;
    assert!(all.iter().any(|e| client_key(e) == "cf1"), "audit has cf1");
}
matrix!(cancel_flow_cancels_it);

/// Revoking a lease, read back through the engine: a second revoke is a
/// refusal (Valkey), the 0.15 SQL backends say there is no current lease,
/// or the backend cannot.
async fn revoke_lease_is_read_back(s: Store) {
    let d = demo_board(&s).await;
    let (b, bob) = (&d.b, &d.bob);
    let leased = d.c.reads.leases(50).await.unwrap().into_iter().next().map(|l| l.exec.id).expect("the demo leaves a leased execution");
    let (s1, body) = b.post("execution_action", Some(&bob.cookie), &op(bob, leased.as_str(), "revoke_lease", "rv1", None)).await;
    let (s2, body2) = b.post("execution_action", Some(&bob.cookie), &op(bob, leased.as_str(), "revoke_lease", "rv2", None)).await;
    if !d.sup.revoke_lease {
        assert_eq!((s1, s2), (501, 501));
    } else if d.c.kind == ff_board_engine::BackendKind::Valkey {
        assert_eq!(s1, 200, "{body}");
        assert!(body.contains("revoked"), "{body}");
        // Read back through the engine: nothing left to revoke, and that
        // no-op answer is a refusal, not a success.
        assert_eq!(s2, 409, "{body2}");
        assert!(body2.contains("nothing to revoke"), "{body2}");
    } else {
        // 0.15 SQL backends: the lease index lists the attempt, while
        // describe_execution has no current lease; the board says so.
        assert_eq!((s1, s2), (404, 404), "{body} {body2}");
        assert!(body.contains("lease"), "{body}");
    }
    audit_consistent(&d.c).await;
}
matrix!(revoke_lease_is_read_back);

/// The first member of the demo's flows (but the last flow) whose state is one of `wanted`.
async fn member_in(d: &Demo, wanted: &[PublicState]) -> Option<ExecutionId> {
    for f in &d.report.flow_ids[..d.report.flow_ids.len() - 1] {
        for m in d.c.reads.flow_members(f, 10_000).await.unwrap().into_iter().map(|m| m.id) {
            if wanted.contains(&state(&d.c, &m).await) {
                return Some(m);
            }
        }
    }
    None
}

/// A waiting execution's priority changes (read back), or the engine's
/// refusal is shown; an out-of-range priority is refused.
async fn change_priority_is_read_back(s: Store) {
    let d = demo_board(&s).await;
    let (b, bob) = (&d.b, &d.bob);
    let waiting = [PublicState::Waiting, PublicState::WaitingChildren, PublicState::Delayed];
    let m = member_in(&d, &waiting).await.expect("a demo flow has a waiting member");
    let (s, body) = b.post("execution_action", Some(&bob.cookie), &op(bob, m.as_str(), "change_priority", "pr1", Some(("priority", "777")))).await;
    if d.sup.change_priority && s == 409 {
        // The engine only reprioritises eligible executions; the board says so.
        assert!(body.contains("Conflict"), "{body}");
    } else if d.sup.change_priority {
        assert_eq!(s, 200, "{body}");
        let info = d.c.backend.read_execution_info(&m).await.unwrap().unwrap();
        assert_eq!(info.priority, 777, "priority changed");
    } else {
        assert_eq!(s, 501);
    }
    let (s, _) = b.post("execution_action", Some(&bob.cookie), &op(bob, m.as_str(), "change_priority", "pr2", Some(("priority", "99999")))).await;
    assert_eq!(s, if d.sup.change_priority { 400 } else { 501 }, "out-of-range priority refused (or the action unsupported)");
    audit_consistent(&d.c).await;
}
matrix!(change_priority_is_read_back);

/// A finished execution replayed runs again (read back).
async fn replay_runs_again(s: Store) {
    let d = demo_board(&s).await;
    let m = member_in(&d, &[PublicState::Completed, PublicState::Failed]).await.expect("a demo flow has a finished member");
    let (s, body) = d.b.post("execution_action", Some(&d.bob.cookie), &op(&d.bob, m.as_str(), "replay", "rp1", None)).await;
    if supported(d.sup.replay_execution, s) {
        assert_eq!(s, 200, "{body}");
        assert!(!matches!(state(&d.c, &m).await, PublicState::Completed | PublicState::Failed), "replayed execution runs again");
    }
    audit_consistent(&d.c).await;
}
matrix!(replay_runs_again);

/// The bulk preview lists what the run acts on; the run sends exactly those
/// back in bounded batches; failures are listed; nothing else is touched.
async fn bulk_acts_on_the_preview(s: Store) {
    let d = demo_board(&s).await;
    let (b, bob, vera) = (&d.b, &d.bob, &d.vera);
    let mut pick = None;
    for st in ["waiting", "waiting_children", "active"] {
        let (s, body) = b.post("bulk_preview", Some(&vera.cookie), &form(&[("state", st)])).await;
        assert_eq!(s, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let ids: Vec<String> = v["ids"].as_array().unwrap().iter().map(|i| i.as_str().unwrap().to_owned()).collect();
        assert_eq!(v["count"].as_u64().unwrap() as usize, ids.len(), "the count is the list the run acts on");
        if !ids.is_empty() {
            pick = Some((st, ids));
            break;
        }
    }
    let (st, ids) = pick.expect("the demo leaves unfinished executions");
    let step = |ids: &[String], key: &str, csrf: &str| {
        let mut f = form(&[("state", st), ("reason", "drain"), ("idempotency_key", key), ("csrf", csrf)]);
        for (i, id) in ids.iter().enumerate() {
            f.push((Box::leak(format!("ids[{i}]").into_boxed_str()), id.clone()));
        }
        f
    };
    assert_eq!(b.post("bulk_step", Some(&vera.cookie), &step(&ids[..1], "bulk-v", &vera.csrf)).await.0, 403, "viewers do not run bulk actions");
    let many: Vec<String> = std::iter::repeat(ids[0].clone()).take(26).collect();
    let (s, body) = b.post("bulk_step", Some(&bob.cookie), &step(&many, "bulk-big", &bob.csrf)).await;
    assert_eq!(s, 400, "more than one batch per step is refused on the server: {body}");
    // The last previewed execution is cancelled elsewhere first: the run leaves it alone.
    let moved = ExecutionId::parse(ids.last().unwrap()).unwrap();
    ff_board_engine::actions::cancel_execution(&d.c, &moved, "moved on").await.expect("cancel one");
    let (mut done, mut failures) = (0usize, vec![]);
    for batch in ids.chunks(ff_board_app::api::bulk::BULK_BATCH) {
        let (s, body) = b.post("bulk_step", Some(&bob.cookie), &step(batch, "bulk-1", &bob.csrf)).await;
        assert_eq!(s, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        done += v["done"].as_u64().unwrap() as usize;
        failures.extend(v["failures"].as_array().unwrap().iter().map(|f| (f[0].as_str().unwrap().to_owned(), f[1].as_str().unwrap().to_owned())));
    }
    assert_eq!(done + failures.len(), ids.len(), "every previewed execution was handled once");
    assert!(
        failures.iter().any(|(id, why)| id == moved.as_str() && why.contains("no longer")),
        "the one that moved on is left alone: {failures:?}"
    );
    let bulk_entries = audit_entries(&d.c).await;
    let acted = bulk_entries.iter().filter(|e| client_key(e).starts_with("bulk-1:")).count();
    assert_eq!(acted, ids.len() - 1, "the run acted on exactly the previewed executions still in {st}");
    assert!(!bulk_entries.iter().any(|e| client_key(e).starts_with("bulk-big")), "a refused step acts on nothing");
    audit_consistent(&d.c).await;
}
matrix!(bulk_acts_on_the_preview);

/// Only admins read the whole audit log; others read one exact id's
/// entries, never a substring search (every uuid contains "-").
async fn audit_log_reads_by_role(s: Store) {
    let d = demo_board(&s).await;
    let (b, alice) = (&d.b, &d.alice);
    let (s, body) = b.post("list_audit", Some(&alice.cookie), &[]).await;
    assert_eq!(s, 403, "operators may not read the whole audit log: {body}");
    let (s, body) = b.post("list_audit", Some(&d.ada.cookie), &[]).await;
    assert_eq!(s, 200, "{body}");
    for broad in ["-", "0", "fp"] {
        let (s, body) = b.post("list_audit", Some(&alice.cookie), &[("target", broad.to_owned())]).await;
        assert_eq!(s, 403, "target {broad:?}: {body}");
    }
    let gate = &d.report.two_approver_gates[0];
    let (s, body) = b.post("list_audit", Some(&alice.cookie), &[("target", gate.to_string())]).await;
    assert_eq!(s, 200, "one execution's entries: {body}");
}
matrix!(audit_log_reads_by_role);
