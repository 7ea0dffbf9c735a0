//! Repair tools and the two-person rule (`engine/src/maintenance.rs`,
//! `engine/src/requests.rs`, `app/src/api/repair.rs`) against real stores:
//! the count a trim makes first equals what it then purges (and the
//! executions are gone); the index check counts an entry removed by hand;
//! over HTTP an operator asks, the same person cannot approve, an admin
//! approves and the tool runs, each step audited; bad input is a 400 and a
//! tool the backend lacks a 501.
use ff_board_engine::connect::Connected;
use ff_board_engine::maintenance::{self, Tool};
use ff_board_tests::board::{form, Board};
use ff_board_tests::matrix;
use ff_board_tests::matrix::Store;
use ff_board_tests::seed::{execution_args, new_execution_id};
use ff_core::backend::{CapabilitySet, ClaimPolicy};
use ff_core::types::{ExecutionId, LaneId, Namespace, TimestampMs, WorkerId, WorkerInstanceId};

/// `n` executions of `lane`, created and (with `finish`) run to completion.
async fn executions(c: &Connected, lane: &str, n: usize, finish: bool) -> Vec<ExecutionId> {
    ff_board_engine::backend::declare_lanes(c, &[lane]).await.expect("declare lane");
    let l = LaneId::new(lane);
    let mut ids = Vec::new();
    for _ in 0..n {
        let id = new_execution_id(c, None, &l);
        c.backend.create_execution(execution_args(&id, &Namespace::new("repair"), &l, "repair-step", "repair-test", TimestampMs::now())).await.expect("create");
        ids.push(id);
    }
    ff_board_engine::demo::promote_submitted(c).await.expect("promote");
    if finish {
        let policy = ClaimPolicy::new(WorkerId::new("repair-w"), WorkerInstanceId::new("repair-w-1"), 60_000, None);
        for _ in 0..n {
            let h = c.backend.claim(&l, &CapabilitySet::default(), policy.clone()).await.expect("claim").expect("claimable");
            c.backend.complete(&h, Some(b"{}".to_vec())).await.expect("complete");
        }
    }
    ids
}

/// Trim retention counts what it will purge, then purges exactly that.
async fn trim_purges_what_it_counted(s: Store) {
    let c = s.connect().await;
    let done = executions(&c, "trim-l", 7, true).await;
    let kept = executions(&c, "trim-l", 2, false).await;
    let tool = Tool::TrimRetention { lane: "trim-l".into(), hours: 1 };
    assert_eq!(tool.unsupported(&c), None);
    // Two hours from now, everything finished is past a one-hour retention.
    let later = ff_board_engine::backend::now_ms() + 2 * 3_600_000;
    assert_eq!(maintenance::count(&c, &tool, ff_board_engine::backend::now_ms()).await.expect("count now").expect("countable").count, 0, "nothing is an hour old yet");
    let counted = maintenance::count(&c, &tool, later).await.expect("count").expect("countable");
    assert_eq!(counted.count, done.len() as u64, "{counted:?}");
    let ran = maintenance::run(&c, &tool, later).await.expect("trim");
    assert_eq!(ran.count, counted.count, "purged what it counted: {ran:?}");
    assert!(!ran.cut());
    for id in &done {
        assert!(c.backend.describe_execution(id).await.expect("describe").is_none(), "{id} purged");
    }
    for id in &kept {
        assert!(c.backend.describe_execution(id).await.expect("describe").is_some(), "{id} (unfinished) kept");
    }
    assert_eq!(maintenance::count(&c, &tool, later).await.expect("count").expect("countable").count, 0);
}
matrix!(trim_purges_what_it_counted: postgres, valkey, valkey_cluster);

/// The index check counts an execution taken out of its lane's eligible
/// set by hand, in its partition (and nothing before).
async fn index_check_counts_an_entry_removed_by_hand(s: Store) {
    let c = s.connect().await;
    let id = executions(&c, "idx-l", 1, false).await.remove(0);
    let tool = Tool::CheckIndex { lane: "idx-l".into() };
    let before = maintenance::count(&c, &tool, ff_board_engine::backend::now_ms()).await.expect("count").expect("countable");
    let partition = id.partition();
    let at = |p: &maintenance::Progress| p.by_partition.iter().find(|(i, _)| *i == partition).map_or(0, |(_, n)| *n);
    assert_eq!(at(&before), 0, "{before:?}");
    let key = ff_core::keys::IndexKeys::new(&ff_core::partition::Partition { family: ff_core::partition::PartitionFamily::Flow, index: partition }).lane_eligible(&LaneId::new("idx-l"));
    let ff_board_engine::connect::SideStore::Valkey(client) = &c.side else { panic!("valkey") };
    let removed: i64 = client.cmd("ZREM").arg(&key).arg(id.as_str()).execute().await.expect("ZREM");
    assert_eq!(removed, 1, "the execution was in {key}");
    let after = maintenance::count(&c, &tool, ff_board_engine::backend::now_ms()).await.expect("count").expect("countable");
    assert_eq!(at(&after), 1, "{after:?}");
    assert_eq!(after.done, after.of, "every partition checked");
}
matrix!(index_check_counts_an_entry_removed_by_hand: valkey);

fn ask(csrf: &str, tool: &str, extra: &[(&str, &str)], key: &str) -> Vec<(&'static str, String)> {
    let mut f = vec![("tool", tool), ("reason", "repair test"), ("idempotency_key", key), ("csrf", csrf)];
    f.extend_from_slice(extra);
    form(&f)
}

/// The request row of `id`'s tool on the page, newest first.
fn rows(html: &str) -> Vec<(String, String)> {
    html.split(r#"data-testid="repair-request" data-id=""#)
        .skip(1)
        .filter_map(|s| {
            let (id, rest) = s.split_once('"')?;
            let state = rest.split("data-state=\"").nth(1)?.split('"').next()?;
            Some((id.to_owned(), state.to_owned()))
        })
        .collect()
}

/// Ask, refuse the same person, approve as another, run; audited.
async fn two_person_rule(s: Store) {
    let c = s.connect().await;
    let b = Board::start_quiet(&s.url, &c).await;
    let (alice, ada, vera) = (b.op("alice").await, b.op("ada").await, b.op("vera").await);
    // Bad input, and a reader, are refused before anything is kept.
    for (f, want) in [
        (ask(&alice.csrf, "drop_everything", &[], "k0"), 400),
        (ask(&alice.csrf, "trim_retention", &[("lane", "l"), ("hours", "0")], "k1"), 400),
        (ask(&alice.csrf, "trim_retention", &[("lane", "l"), ("hours", "many")], "k2"), 400),
        (ask(&alice.csrf, "check_index", &[("lane", &"l".repeat(200))], "k3"), 400),
    ] {
        let (st, body) = b.post("repair_request", Some(&alice.cookie), &f).await;
        assert_eq!(st, want, "{body}");
    }
    let (st, body) = b.post("repair_request", Some(&vera.cookie), &ask(&vera.csrf, "rotate_hmac", &[], "kv")).await;
    assert_eq!(st, 403, "a viewer may not ask: {body}");
    if c.kind == ff_board_engine::connect::BackendKind::Sqlite {
        let (st, body) = b.post("repair_request", Some(&alice.cookie), &ask(&alice.csrf, "trim_retention", &[("lane", "l"), ("hours", "24")], "k4")).await;
        assert_eq!(st, 501, "SQLite does not trim: {body}");
    }
    assert!(rows(&b.get("/repair").await).is_empty(), "nothing kept");
    // Alice asks: counted and kept, waiting.
    let (st, body) = b.post("repair_request", Some(&alice.cookie), &ask(&alice.csrf, "rotate_hmac", &[], "k5")).await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("a different admin must approve"), "{body}");
    let page = b.get("/repair").await;
    let (id, state) = rows(&page).remove(0);
    assert_eq!(state, "pending");
    assert!(page.contains("would touch"), "the count first is shown");
    // Alice (not an admin) cannot approve; Ada can.
    let decide = |who: &ff_board_tests::board::Op, d: &str, key: &str| form(&[("id", id.as_str()), ("decision", d), ("reason", "ok"), ("idempotency_key", key), ("csrf", &who.csrf)]);
    let (st, _) = b.post("repair_decide", Some(&alice.cookie), &decide(&alice, "approve", "d1")).await;
    assert_eq!(st, 403);
    let (st, body) = b.post("repair_decide", Some(&ada.cookie), &decide(&ada, "approve", "d2")).await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("rotated"), "{body}");
    assert_eq!(rows(&b.get("/repair").await)[0], (id.clone(), "ran".to_owned()));
    // Decided: a second approval is "it moved on".
    let (st, body) = b.post("repair_decide", Some(&ada.cookie), &decide(&ada, "approve", "d3")).await;
    assert_eq!(st, 409, "{body}");
    // Ada asks; she may not approve her own request.
    let (st, _) = b.post("repair_request", Some(&ada.cookie), &ask(&ada.csrf, "rotate_hmac", &[], "k6")).await;
    assert_eq!(st, 200);
    let (own, _) = rows(&b.get("/repair").await).into_iter().find(|(i, _)| *i != id).expect("ada's request");
    let own_decide = form(&[("id", own.as_str()), ("decision", "approve"), ("reason", "mine"), ("idempotency_key", "d4"), ("csrf", &ada.csrf)]);
    let (st, body) = b.post("repair_decide", Some(&ada.cookie), &own_decide).await;
    assert_eq!(st, 403, "{body}");
    assert!(body.contains("two-person rule"), "{body}");
    // Unknown and malformed ids.
    let unknown = uuid::Uuid::new_v4().to_string();
    let (st, _) = b.post("repair_decide", Some(&ada.cookie), &form(&[("id", unknown.as_str()), ("decision", "refuse"), ("idempotency_key", "d5"), ("csrf", &ada.csrf)])).await;
    assert_eq!(st, 404);
    let (st, _) = b.post("repair_decide", Some(&ada.cookie), &form(&[("id", "x"), ("decision", "refuse"), ("idempotency_key", "d6"), ("csrf", &ada.csrf)])).await;
    assert_eq!(st, 400);
    // Every step audited, the refused self-approval included.
    let (st, audit) = b.post("list_audit", Some(&ada.cookie), &[("target", format!("repair:{own}"))]).await;
    assert_eq!(st, 200);
    assert!(audit.contains("repair_request") && audit.contains("repair_approve"), "{audit}");
    let (_, audit) = b.post("list_audit", Some(&ada.cookie), &[("target", format!("repair:{id}"))]).await;
    assert!(audit.contains("repair_approve"), "{audit}");
}
matrix!(two_person_rule);

/// Over the two-person threshold a bulk action is refused when run alone
/// and asked for instead: the request keeps exactly the previewed
/// executions, the asker cannot approve it, and an admin's approval acts
/// on each of them, one audited action each, as the approver.
async fn bulk_over_the_threshold_waits_for_a_second_person(s: Store) {
    bulk_threshold_3();
    let c = s.connect().await;
    let ids = executions(&c, "bulk-l", 5, false).await;
    let b = Board::start_quiet(&s.url, &c).await;
    let (alice, ada, vera) = (b.op("alice").await, b.op("ada").await, b.op("vera").await);
    let q = [("state", "waiting"), ("q", "lane:bulk-l")];
    let (st, body) = b.post("bulk_preview", Some(&alice.cookie), &form(&q)).await;
    assert_eq!(st, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((v["count"].as_u64(), v["approval_over"].as_u64()), (Some(5), Some(3)), "{body}");
    // Run alone: refused on the server, nothing touched.
    let mut step = form(&[("state", "waiting"), ("reason", "drain"), ("idempotency_key", "alone"), ("csrf", &alice.csrf)]);
    for (i, id) in ids.iter().enumerate() {
        step.push((Box::leak(format!("ids[{i}]").into_boxed_str()), id.to_string()));
    }
    let (st, body) = b.post("bulk_step", Some(&alice.cookie), &step).await;
    assert_eq!(st, 429, "{body}");
    assert!(body.contains("second person"), "{body}");
    let waiting = |c: &Connected, id: &ExecutionId| {
        let (c, id) = (c.clone(), id.clone());
        async move { c.backend.describe_execution(&id).await.expect("describe").expect("exists").public_state }
    };
    for id in &ids {
        assert_eq!(waiting(&c, id).await, ff_core::state::PublicState::Waiting, "{id} untouched");
    }
    // Asked for: a viewer may not; nothing matching is a 400; Alice may.
    let bulk = |who: &ff_board_tests::board::Op, q: &str, key: &str| form(&[("tool", "bulk"), ("state", "waiting"), ("q", q), ("reason", "drain bulk-l"), ("idempotency_key", key), ("csrf", &who.csrf)]);
    assert_eq!(b.post("repair_request", Some(&vera.cookie), &bulk(&vera, "lane:bulk-l", "bv")).await.0, 403);
    let (st, body) = b.post("repair_request", Some(&alice.cookie), &bulk(&alice, "lane:nothing-here", "b0")).await;
    assert_eq!(st, 400, "{body}");
    // An oversize query is refused with the limit, before any read.
    let (st, body) = b.post("repair_request", Some(&alice.cookie), &bulk(&alice, &format!("lane:{}", "x".repeat(600)), "bq")).await;
    assert_eq!(st, 400, "{body}");
    assert!(body.contains("512"), "the limit is named: {body}");
    let (st, body) = b.post("repair_request", Some(&alice.cookie), &bulk(&alice, "lane:bulk-l", "b1")).await;
    assert!(st == 200 || st == 302, "{st} {body}");
    let page = b.get("/repair").await;
    let (id, state) = rows(&page).remove(0);
    assert_eq!(state, "pending");
    assert!(page.contains("cancel 5 waiting executions matching lane:bulk-l"), "the request names what it will do");
    let decide = |who: &ff_board_tests::board::Op, key: &str| form(&[("id", id.as_str()), ("decision", "approve"), ("reason", "ok"), ("idempotency_key", key), ("csrf", &who.csrf)]);
    assert_eq!(b.post("repair_decide", Some(&alice.cookie), &decide(&alice, "d1")).await.0, 403, "not the asker, and not an operator");
    let (st, body) = b.post("repair_decide", Some(&ada.cookie), &decide(&ada, "d2")).await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains(": 5 executions"), "{body}");
    assert_eq!(rows(&b.get("/repair").await)[0], (id.clone(), "ran".to_owned()));
    for e in &ids {
        assert_eq!(waiting(&c, e).await, ff_core::state::PublicState::Cancelled, "{e} cancelled");
        let (st, audit) = b.post("list_audit", Some(&ada.cookie), &[("target", e.to_string())]).await;
        assert_eq!(st, 200);
        assert!(audit.contains("cancel") && audit.contains("ada"), "one audited action as the approver: {audit}");
    }
}
matrix!(bulk_over_the_threshold_waits_for_a_second_person);

/// The two-person threshold of this binary's bulk tests.
fn bulk_threshold_3() {
    static THRESHOLD: std::sync::Once = std::sync::Once::new();
    // Read per call by `approval_over`; this binary's other tests run no bulk.
    THRESHOLD.call_once(|| std::env::set_var("FF_BOARD_BULK_APPROVAL", "3"));
}

/// An approved bulk run whose replica stopped in the middle (its request
/// left `running` past the run's deadline) is continued by a second admin:
/// the executions the stopped run acted on are left alone, the others are
/// acted on once each, and the request ends `ran`.
async fn a_bulk_run_its_replica_left_is_continued(s: Store) {
    use ff_board_engine::requests::{RequestState, STALE_RUN_MS};
    bulk_threshold_3();
    let c = s.connect().await;
    let ids = executions(&c, "cont-l", 5, false).await;
    let b = Board::start_quiet(&s.url, &c).await;
    let (alice, ada) = (b.op("alice").await, b.op("ada").await);
    let ask = form(&[("tool", "bulk"), ("state", "waiting"), ("q", "lane:cont-l"), ("reason", "drain cont-l"), ("idempotency_key", "c1"), ("csrf", &alice.csrf)]);
    let (st, body) = b.post("repair_request", Some(&alice.cookie), &ask).await;
    assert!(st == 200 || st == 302, "{st} {body}");
    let (id, _) = rows(&b.get("/repair").await).remove(0);
    // The replica running it acted on two executions, then stopped.
    let mut step = form(&[("state", "waiting"), ("reason", "the stopped run"), ("idempotency_key", "stopped"), ("csrf", &ada.csrf)]);
    for (i, e) in ids[..2].iter().enumerate() {
        step.push((Box::leak(format!("ids[{i}]").into_boxed_str()), e.to_string()));
    }
    assert_eq!(b.post("bulk_step", Some(&ada.cookie), &step).await.0, 200);
    let store = c.side.open_requests().await.unwrap();
    let req = store.get(&id).await.unwrap().unwrap();
    let stopped = ff_board_engine::requests::Request { state: RequestState::Running { by: "ada".into(), at: ff_board_engine::backend::now_ms() - STALE_RUN_MS - 1_000 }, ..req.clone() };
    assert!(store.swap(&req, &stopped).await.unwrap());
    let as_ada = || async { b.post("rendered", Some(&ada.cookie), &[("page", "repair".to_owned())]).await.1 };
    assert!(as_ada().await.contains("Continue the run"), "a second admin is offered to continue it");
    let decide = |who: &ff_board_tests::board::Op, key: &str| form(&[("id", id.as_str()), ("decision", "approve"), ("reason", "continue"), ("idempotency_key", key), ("csrf", &who.csrf)]);
    assert_eq!(b.post("repair_decide", Some(&alice.cookie), &decide(&alice, "k1")).await.0, 403, "not by the asker");
    let (st, body) = b.post("repair_decide", Some(&ada.cookie), &decide(&ada, "k2")).await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains(": 3 executions"), "the three the stopped run left: {body}");
    assert_eq!(rows(&b.get("/repair").await)[0], (id.clone(), "ran".to_owned()));
    for e in &ids {
        assert_eq!(c.backend.describe_execution(e).await.unwrap().unwrap().public_state, ff_core::state::PublicState::Cancelled, "{e}");
        let (_, audit) = b.post("list_audit", Some(&ada.cookie), &[("target", e.to_string())]).await;
        let entries: Vec<serde_json::Value> = serde_json::from_str(&audit).unwrap();
        let cancels = entries.iter().filter(|x| x["action"].as_str().is_some_and(|a| a.contains("cancel"))).count();
        assert_eq!(cancels, 1, "acted on once: {audit}");
    }
    // Finished: nothing left to continue.
    assert!(!as_ada().await.contains("Continue the run"));
}
matrix!(a_bulk_run_its_replica_left_is_continued);
