//! Operator actions over HTTP (no browser) against real backends: the auth
//! matrix (anonymous / viewer / operator / admin × every action), CSRF,
//! expired and forged sessions, idempotency, the 2-of-2 distinct-approver
//! gate, the engine state read back through the trait after each action,
//! one audit attempt + outcome per action, and no waitpoint token in any
//! response.
use ff_board_engine::audit::{AuditFilter, AuditLog};
use ff_board_engine::connect::Connected;
use ff_board_engine::demo;
use ff_board_tests::board::{enc, form, Board};
use ff_board_tests::{client_key, connect, fresh_postgres, sqlite_path, Valkey, ValkeyCluster};
use ff_core::contracts::ListPendingWaitpointsArgs;
use ff_core::partition::{Partition, PartitionFamily, PartitionKey};
use ff_core::state::PublicState;

async fn state(c: &Connected, id: &ff_core::types::ExecutionId) -> PublicState {
    c.backend.describe_execution(id).await.unwrap().expect("execution").public_state
}

async fn suite(url: &str) {
    let c = connect(url).await;
    let report = demo::seed(&c).await.expect("seed");
    let b = Board::start(url, &c).await;
    let sup = c.backend.capabilities().supports;
    let (alice, alice_csrf) = b.sign_in("alice").await;
    let (bob, bob_csrf) = b.sign_in("bob").await;
    let (vera, vera_csrf) = b.sign_in("vera").await;
    let (ada, ada_csrf) = b.sign_in("ada").await;

    // A target for the matrix: a flow member still running or waiting.
    let flow = report.flow_ids[0].clone();
    let members = c.reads.flow_members(&flow, 10_000).await.unwrap().into_iter().map(|m| m.id).collect::<Vec<_>>();
    let mut target = None;
    for m in &members {
        if report.two_approver_gates.contains(m) {
            continue;
        }
        if !matches!(state(&c, m).await, PublicState::Completed | PublicState::Failed | PublicState::Cancelled) {
            target = Some(m.clone());
            break;
        }
    }
    let target = target.expect("a live member").to_string();

    // Auth matrix: anonymous, viewer, bad CSRF, missing CSRF, forged cookie → denied.
    let cancel = |csrf: &str, key: &str| {
        form(&[("execution_id", &target), ("action", "cancel"), ("reason", "matrix"), ("idempotency_key", key), ("csrf", csrf)])
    };
    assert_eq!(b.post("execution_action", None, &cancel("x", "k1")).await.0, 401, "anonymous");
    assert_eq!(b.post("execution_action", Some(&vera), &cancel(&vera_csrf, "k2")).await.0, 403, "viewer");
    assert_eq!(b.post("execution_action", Some(&alice), &cancel(&bob_csrf, "k3")).await.0, 403, "another session's csrf");
    assert_eq!(b.post("execution_action", Some(&alice), &cancel("", "k4")).await.0, 403, "missing csrf");
    let forged = format!("{}x", alice);
    assert_eq!(b.post("execution_action", Some(&forged), &cancel(&alice_csrf, "k5")).await.0, 401, "forged cookie");
    let budget = report.hard_breached_budgets[0].to_string();
    let reset = |csrf: &str, key: &str| form(&[("budget_id", &budget), ("reason", "matrix"), ("idempotency_key", key), ("csrf", csrf)]);
    assert_eq!(b.post("reset_budget_action", Some(&alice), &reset(&alice_csrf, "r1")).await.0, 403, "operator may not reset budgets");
    assert_eq!(b.post("reset_budget_action", Some(&vera), &reset(&vera_csrf, "r2")).await.0, 403);
    assert_eq!(b.post("reset_budget_action", None, &reset("", "r3")).await.0, 401);
    // The deny half of the matrix, for every action: anonymous → 401, viewer → 403 (admin-only
    // budget reset: operator → 403 too). None of these reach the engine or the audit log.
    let flow_s = report.flow_ids[0].to_string();
    let budget_s = report.hard_breached_budgets[0].to_string();
    let gate_s = report.two_approver_gates[0].to_string();
    let gate_wp = c.backend.list_pending_waitpoints(ListPendingWaitpointsArgs::new(report.two_approver_gates[0].clone())).await.unwrap().entries[0]
        .waitpoint_id
        .to_string();
    let every: Vec<(&str, Vec<(&'static str, String)>, bool)> = vec![
        ("cancel_flow_action", form(&[("flow_id", &flow_s), ("policy", "cancel_all"), ("wait", "none"), ("timeout_ms", "1000"), ("reason", "m")]), false),
        ("execution_action", form(&[("execution_id", &target), ("action", "cancel"), ("reason", "m")]), false),
        ("execution_action", form(&[("execution_id", &target), ("action", "revoke_lease"), ("reason", "m")]), false),
        ("execution_action", form(&[("execution_id", &target), ("action", "replay"), ("reason", "m")]), false),
        ("execution_action", form(&[("execution_id", &target), ("action", "change_priority"), ("priority", "5"), ("reason", "m")]), false),
        ("decide_waitpoint", form(&[("execution_id", &gate_s), ("waitpoint_id", &gate_wp), ("decision", "approve"), ("reason", "m")]), false),
        ("reset_budget_action", form(&[("budget_id", &budget_s), ("reason", "m")]), true),
        ("bulk_step", form(&[("state", "waiting"), ("reason", "m")]), false),
    ];
    for (i, (endpoint, fields, admin_only)) in every.iter().enumerate() {
        for (who, cookie, csrf, want) in [
            ("anonymous", None, String::new(), 401),
            ("viewer", Some(vera.as_str()), vera_csrf.clone(), 403),
            ("operator", Some(alice.as_str()), alice_csrf.clone(), if *admin_only { 403 } else { 0 }),
        ] {
            if want == 0 {
                continue;
            }
            let mut f = fields.clone();
            f.push(("idempotency_key", format!("deny-{i}-{who}")));
            f.push(("csrf", csrf));
            let (s, body) = b.post(endpoint, cookie, &f).await;
            assert_eq!(s, want, "{who} on {endpoint}: {body}");
        }
    }
    let expired = b.auth.session_cookie_issued("alice", ff_board::auth::now_ms() - 13 * 3_600_000).unwrap();
    assert_eq!(b.post("execution_action", Some(&expired), &cancel(&alice_csrf, "k6")).await.0, 401, "expired session");
    // Validation: clear 400s.
    let (s, body) = b.post("execution_action", Some(&alice), &form(&[("execution_id", "garbage"), ("action", "cancel"), ("reason", ""), ("idempotency_key", "v1"), ("csrf", &alice_csrf)])).await;
    assert_eq!(s, 400, "{body}");
    let (s, _) = b.post("execution_action", Some(&alice), &form(&[("execution_id", &target), ("action", "explode"), ("reason", ""), ("idempotency_key", "v2"), ("csrf", &alice_csrf)])).await;
    assert_eq!(s, 400);

    // Operator cancels; a double submit with the same key is one effect.
    let tid = ff_core::types::ExecutionId::parse(&target).unwrap();
    if sup.cancel_execution {
        let (s, body) = b.post("execution_action", Some(&alice), &cancel(&alice_csrf, "cancel-once")).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(state(&c, &tid).await, PublicState::Cancelled, "cancelled through the board");
        let (s, body) = b.post("execution_action", Some(&alice), &cancel(&alice_csrf, "cancel-once")).await;
        assert_eq!(s, 200);
        assert!(body.contains("\"duplicate\":true"), "{body}");
    }

    // 2-of-2 distinct approvers: alice twice counts once; bob completes it.
    let gate = report.two_approver_gates[0].clone();
    let part = PartitionKey::from(Partition { family: PartitionFamily::Flow, index: gate.partition() });
    let wp = c.backend.list_pending_waitpoints(ListPendingWaitpointsArgs::new(gate.clone())).await.unwrap().entries[0].waitpoint_id.to_string();
    // Read while the waitpoint is pending (the SQL stores drop it once resumed).
    let token = c.backend.read_waitpoint_token(
        PartitionKey::from(Partition { family: PartitionFamily::Flow, index: gate.partition() }),
        &ff_core::types::WaitpointId::parse(&wp).unwrap(),
    ).await.ok().flatten();
    let approve = |csrf: &str, key: &str| {
        form(&[("execution_id", gate.as_str()), ("waitpoint_id", &wp), ("decision", "approve"), ("reason", "ship it"), ("idempotency_key", key), ("csrf", csrf)])
    };
    assert_eq!(b.post("decide_waitpoint", Some(&vera), &approve(&vera_csrf, "a0")).await.0, 403, "viewers do not approve");
    let (s, body) = b.post("decide_waitpoint", Some(&alice), &approve(&alice_csrf, "a1")).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("\"duplicate\":false"), "{body}");
    let (s, body) = b.post("decide_waitpoint", Some(&alice), &approve(&alice_csrf, "a2")).await;
    assert_eq!(s, 409, "the second approval of one person counts for nothing: {body}");
    assert_eq!(state(&c, &gate).await, PublicState::Suspended, "the same operator twice counts once");
    // bob sends alice's key: keys are scoped by user on the server, so this
    // is bob's own approval, delivered (not "already done" with hers).
    let (s, body) = b.post("decide_waitpoint", Some(&bob), &approve(&bob_csrf, "a1")).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("\"duplicate\":false"), "another user's key is not a duplicate: {body}");
    assert_ne!(state(&c, &gate).await, PublicState::Suspended, "two distinct operators resume it");
    let _ = part;

    // Admin resets the breached budget.
    let bid = report.hard_breached_budgets[0].clone();
    let (s, body) = b.post("reset_budget_action", Some(&ada), &reset(&ada_csrf, "reset-1")).await;
    if sup.budget_admin {
        assert_eq!(s, 200, "{body}");
        let st = c.backend.get_budget_status(&bid).await.unwrap();
        assert!(st.usage.values().all(|v| *v == 0), "usage reset: {:?}", st.usage);
    } else {
        assert_eq!(s, 501);
    }

    // Cancel a whole flow.
    let other = report.flow_ids.last().unwrap().to_string();
    let (s, body) = b
        .post("cancel_flow_action", Some(&bob), &form(&[("flow_id", &other), ("policy", "cancel_all"), ("wait", "none"), ("timeout_ms", "30000"), ("reason", "incident"), ("idempotency_key", "cf1"), ("csrf", &bob_csrf)]))
        .await;
    assert_eq!(s, 200, "{body}");
    let fs = c.backend.describe_flow(&report.flow_ids.last().unwrap().clone()).await.unwrap().unwrap();
    assert!(fs.cancelled_at.is_some() || fs.public_flow_state == "cancelled", "flow cancelled: {}", fs.public_flow_state);

    // Revoke a lease, change a priority, replay a finished execution: read back through the trait.
    let op = |eid: &str, action: &str, key: &str, extra: Option<(&str, &str)>| {
        let mut f = form(&[("execution_id", eid), ("action", action), ("reason", "ops"), ("idempotency_key", key), ("csrf", &bob_csrf)]);
        if let Some((k, v)) = extra {
            f.push((Box::leak(k.to_string().into_boxed_str()), v.to_owned()));
        }
        f
    };
    let leased = c.reads.leases(50).await.unwrap().into_iter().next().map(|l| l.exec.id).expect("the demo leaves a leased execution");
    let (s1, body) = b.post("execution_action", Some(&bob), &op(leased.as_str(), "revoke_lease", "rv1", None)).await;
    let (s2, body2) = b.post("execution_action", Some(&bob), &op(leased.as_str(), "revoke_lease", "rv2", None)).await;
    if !sup.revoke_lease {
        assert_eq!((s1, s2), (501, 501));
    } else if c.kind == ff_board_engine::BackendKind::Valkey {
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
    let mut live_one = None;
    let mut done_one = None;
    // A waiting and a finished member of the demo's flows (not the one
    // cancelled above).
    'flows: for f in &report.flow_ids[..report.flow_ids.len() - 1] {
        for m in c.reads.flow_members(f, 10_000).await.unwrap().into_iter().map(|m| m.id) {
            match state(&c, &m).await {
                PublicState::Completed | PublicState::Failed => done_one = done_one.or(Some(m)),
                PublicState::Waiting | PublicState::WaitingChildren | PublicState::Delayed => live_one = live_one.or(Some(m)),
                _ => {}
            }
            if live_one.is_some() && done_one.is_some() {
                break 'flows;
            }
        }
    }
    {
        let m = live_one.expect("a demo flow has a waiting member");
        let (s, body) = b.post("execution_action", Some(&bob), &op(m.as_str(), "change_priority", "pr1", Some(("priority", "777")))).await;
        if sup.change_priority && s == 409 {
            // The engine only reprioritises eligible executions; the board says so.
            assert!(body.contains("Conflict"), "{body}");
        } else if sup.change_priority {
            assert_eq!(s, 200, "{body}");
            let info = c.backend.read_execution_info(&m).await.unwrap().unwrap();
            assert_eq!(info.priority, 777, "priority changed");
        } else {
            assert_eq!(s, 501);
        }
        let (s, _) = b.post("execution_action", Some(&bob), &op(m.as_str(), "change_priority", "pr2", Some(("priority", "99999")))).await;
        assert_eq!(s, if sup.change_priority { 400 } else { 501 }, "out-of-range priority refused (or the action unsupported)");
    }
    {
        let m = done_one.expect("a demo flow has a finished member");
        let (s, body) = b.post("execution_action", Some(&bob), &op(m.as_str(), "replay", "rp1", None)).await;
        if sup.replay_execution {
            assert_eq!(s, 200, "{body}");
            assert!(!matches!(state(&c, &m).await, PublicState::Completed | PublicState::Failed), "replayed execution runs again");
        } else {
            assert_eq!(s, 501);
        }
    }

    // Bulk: the preview lists what the run acts on; the run sends exactly those back in
    // bounded batches; failures are listed; nothing else is touched.
    let mut pick = None;
    for st in ["waiting", "waiting_children", "active"] {
        let (s, body) = b.post("bulk_preview", Some(&vera), &form(&[("state", st)])).await;
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
    assert_eq!(b.post("bulk_step", Some(&vera), &step(&ids[..1], "bulk-v", &vera_csrf)).await.0, 403, "viewers do not run bulk actions");
    let many: Vec<String> = std::iter::repeat(ids[0].clone()).take(26).collect();
    let (s, body) = b.post("bulk_step", Some(&bob), &step(&many, "bulk-big", &bob_csrf)).await;
    assert_eq!(s, 400, "more than one batch per step is refused on the server: {body}");
    // The last previewed execution is cancelled elsewhere first: the run leaves it alone.
    let moved = ff_core::types::ExecutionId::parse(ids.last().unwrap()).unwrap();
    ff_board_engine::actions::cancel_execution(&c, &moved, "moved on").await.expect("cancel one");
    let (mut done, mut failures) = (0usize, vec![]);
    for batch in ids.chunks(ff_board_app::api::bulk::BULK_BATCH) {
        let (s, body) = b.post("bulk_step", Some(&bob), &step(batch, "bulk-1", &bob_csrf)).await;
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
    let audit_bulk = AuditLog::open(&c.side).await.unwrap();
    let bulk_entries = audit_bulk.list(&AuditFilter { user: None, action: None, target_contains: None, limit: 1000 }).await.unwrap();
    let acted = bulk_entries.iter().filter(|e| client_key(e).starts_with("bulk-1:")).count();
    assert_eq!(acted, ids.len() - 1, "the run acted on exactly the previewed executions still in {st}");
    assert!(!bulk_entries.iter().any(|e| client_key(e).starts_with("bulk-big")), "a refused step acts on nothing");

    // Audit: each accepted action left exactly one attempt with an outcome.
    let audit = AuditLog::open(&c.side).await.unwrap();
    let listed = audit.list(&AuditFilter { user: None, action: None, target_contains: None, limit: 1000 }).await.unwrap();
    // Refusals (the denials below) are audited apart, under keys of their own.
    let (refused, all): (Vec<_>, Vec<_>) = listed.into_iter().partition(|e| e.action.starts_with("refused_"));
    assert!(refused.iter().all(|e| e.idempotency_key.starts_with("refused/")), "{refused:?}");
    let mut keys: Vec<&str> = all.iter().map(|e| e.idempotency_key.as_str()).collect();
    keys.sort();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n, "one entry per idempotency key");
    assert!(all.iter().all(|e| e.outcome.is_some()), "every attempt has its outcome");
    for k in ["a1", "a2", "cf1"] {
        assert!(all.iter().any(|e| client_key(e) == k), "audit has {k}");
    }
    let a1: Vec<&str> = all.iter().filter(|e| client_key(e) == "a1").map(|e| e.user.as_str()).collect();
    assert_eq!(a1.len(), 2, "alice's a1 and bob's a1 are two actions: {a1:?}");
    assert!(all.iter().all(|e| e.idempotency_key.starts_with(&format!("{}/", e.user))), "stored keys are scoped by their user");
    for denied in ["k1", "k2", "k3", "k4", "k5", "k6", "r1", "r2", "r3", "a0"] {
        assert!(!all.iter().any(|e| client_key(e) == denied), "denied {denied} never reached the audit/engine");
    }
    assert!(!all.iter().any(|e| client_key(e).starts_with("deny-")), "denials never reach the audit log");
    let (s, body) = b.post("list_audit", Some(&alice), &[]).await;
    assert_eq!(s, 403, "operators may not read the whole audit log: {body}");
    let (s, body) = b.post("list_audit", Some(&ada), &[]).await;
    assert_eq!(s, 200, "{body}");
    // A non-admin reads one exact id's entries, never a substring search
    // (every uuid contains "-").
    for broad in ["-", "0", "fp"] {
        let (s, body) = b.post("list_audit", Some(&alice), &[("target", broad.to_owned())]).await;
        assert_eq!(s, 403, "target {broad:?}: {body}");
    }
    let (s, body) = b.post("list_audit", Some(&alice), &[("target", gate.to_string())]).await;
    assert_eq!(s, 200, "one execution's entries: {body}");

    // The waitpoint token is in no response: pages, server functions.
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


#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_actions() {
    suite(&format!("sqlite:{}", sqlite_path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_actions() {
    suite(&fresh_postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_actions() {
    let v = Valkey::start();
    suite(&v.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_cluster_actions() {
    let cluster = ValkeyCluster::start();
    suite(&cluster.url()).await;
}
