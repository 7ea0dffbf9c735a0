//! The board's audit log (`ff_board_engine::audit`) on each backend's own
//! store: attempt + outcome round-trip, idempotency (same key, action and
//! target → one entry, the existing one returned, also under concurrent
//! attempts), unfinished attempts listed with `outcome: None`, filters by
//! user / action / target, newest first, and entries surviving a reopen
//! from a second connection.
use std::sync::Arc;

use ff_board_engine::audit::{Attempt, AuditEntry, AuditFilter, AuditLog, Recorded};
use ff_board_engine::connect::SideStore;
use ff_board_tests::{connect, fresh_postgres, sqlite_path, Valkey, ValkeyCluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_on_sqlite() {
    let url = format!("sqlite:{}", sqlite_path());
    let first = connect(&url).await;
    let second = connect(&url).await;
    check(&first.side, &second.side).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_on_postgres() {
    let url = fresh_postgres().await;
    let first = connect(&url).await;
    let second = connect(&url).await;
    check(&first.side, &second.side).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_on_valkey() {
    let valkey = Valkey::start();
    let first = connect(&valkey.url()).await;
    let second = connect(&valkey.url()).await;
    check(&first.side, &second.side).await;
}

/// The attempt of `user` as `role` to do `action` on `target`.
fn attempt<'a>(user: &'a str, role: &'a str, action: &'a str, target: &'a str, reason: &'a str, key: &'a str) -> Attempt<'a> {
    Attempt { user, role, action, target, reason, idempotency_key: key }
}

fn all(limit: usize) -> AuditFilter {
    AuditFilter { limit, ..AuditFilter::default() }
}

fn new(r: Recorded) -> AuditEntry {
    match r {
        Recorded::New(e) => e,
        Recorded::Existing(e) => panic!("expected a new entry, got the existing {e:?}"),
    }
}

/// `side` and `other` are two connections to one fresh store.
async fn check(side: &SideStore, other: &SideStore) {
    let log = Arc::new(AuditLog::open(side).await.expect("open"));
    assert_eq!(log.list(&all(50)).await.expect("list empty"), vec![]);

    // Attempt, then outcome.
    let a = new(
        log.record_attempt(attempt("alice", "operator", "cancel_flow", "flow-1", "stuck", "k-1"))
            .await
            .expect("attempt"),
    );
    assert_eq!(
        (a.user.as_str(), a.role.as_str(), a.action.as_str(), a.target.as_str(), a.reason.as_str()),
        ("alice", "operator", "cancel_flow", "flow-1", "stuck")
    );
    assert_eq!((a.idempotency_key.as_str(), &a.outcome, a.outcome_at_ms), ("k-1", &None, None));
    assert!(a.at_ms > 1_600_000_000_000, "at_ms is epoch ms: {}", a.at_ms);
    log.record_outcome(&a.id, "ok: 3 members cancelled").await.expect("outcome");

    // The same key, action and target again: nothing new, the first entry
    // (now with its outcome) comes back.
    let again = log
        .record_attempt(attempt("alice", "operator", "cancel_flow", "flow-1", "stuck", "k-1"))
        .await
        .expect("second attempt");
    let Recorded::Existing(existing) = again else { panic!("duplicate key wrote a new entry: {again:?}") };
    assert_eq!(existing.id, a.id);
    assert_eq!(existing.outcome.as_deref(), Some("ok: 3 members cancelled"));
    let at = existing.outcome_at_ms.expect("outcome time");
    assert!(at >= a.at_ms, "outcome at {at} before attempt at {}", a.at_ms);

    // An engine failure is recorded, not lost; an attempt without outcome
    // lists with `outcome: None`.
    let b = new(
        log.record_attempt(attempt("bob", "admin", "reset_budget", "budget-9", "new month", "k-2"))
            .await
            .expect("attempt b"),
    );
    log.record_outcome(&b.id, "error: budget not found").await.expect("outcome b");
    let c = new(
        log.record_attempt(attempt("alice", "operator", "cancel_execution", "{fp:3}:exec-7", "", "k-3"))
            .await
            .expect("attempt c"),
    );
    // The same key on another action or target is another action.
    let d = new(
        log.record_attempt(attempt("alice", "operator", "approve", "{fp:3}:exec-7 wp-1", "looks good", "k-3"))
            .await
            .expect("attempt d"),
    );
    let e = new(
        log.record_attempt(attempt("alice", "operator", "cancel_flow", "flow-2", "", "k-1"))
            .await
            .expect("attempt e"),
    );

    // Newest first, outcomes attached.
    let listed = log.list(&all(50)).await.expect("list");
    let ids: Vec<&str> = listed.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, [&e.id, &d.id, &c.id, &b.id, &a.id].map(String::as_str));
    assert_eq!(listed[4], existing);
    assert_eq!(listed[3].outcome.as_deref(), Some("error: budget not found"));
    assert!(listed[3].outcome_at_ms.is_some());
    assert_eq!(listed[2], c, "unfinished attempt lists as written");
    assert_eq!((listed[2].outcome.as_ref(), listed[2].outcome_at_ms), (None, None));

    // Limit keeps the newest.
    let two = log.list(&all(2)).await.expect("limit");
    assert_eq!(two.iter().map(|x| &x.id).collect::<Vec<_>>(), [&e.id, &d.id]);
    assert_eq!(log.list(&all(0)).await.expect("limit 0"), vec![]);

    // Filters.
    let by = |user: Option<&str>, action: Option<&str>, target: Option<&str>| AuditFilter {
        user: user.map(Into::into),
        action: action.map(Into::into),
        target_contains: target.map(Into::into),
        limit: 50,
    };
    let ids_of = |v: Vec<AuditEntry>| v.into_iter().map(|x| x.id).collect::<Vec<_>>();
    assert_eq!(ids_of(log.list(&by(Some("bob"), None, None)).await.unwrap()), vec![b.id.clone()]);
    assert_eq!(
        ids_of(log.list(&by(None, Some("cancel_flow"), None)).await.unwrap()),
        [e.id.clone(), a.id.clone()]
    );
    assert_eq!(
        ids_of(log.list(&by(None, None, Some("exec-7"))).await.unwrap()),
        [d.id.clone(), c.id.clone()],
        "the execution page finds its entries, also where it is one of several targets"
    );
    assert_eq!(ids_of(log.list(&by(None, None, Some("wp-1"))).await.unwrap()), vec![d.id.clone()]);
    assert_eq!(
        ids_of(log.list(&by(Some("alice"), Some("cancel_flow"), Some("flow-1"))).await.unwrap()),
        vec![a.id.clone()]
    );
    assert_eq!(ids_of(log.list(&by(Some("carol"), None, None)).await.unwrap()), Vec::<String>::new());
    assert_eq!(ids_of(log.list(&by(None, None, Some("%"))).await.unwrap()), Vec::<String>::new(), "no wildcards");
    assert_eq!(ids_of(log.list(&by(Some(""), None, Some(""))).await.unwrap()).len(), 5, "empty = any");
    let one = AuditFilter { limit: 1, ..by(Some("alice"), None, None) };
    assert_eq!(ids_of(log.list(&one).await.unwrap()), vec![e.id.clone()]);

    // Bad calls are clear errors.
    let err = log.record_outcome("no-such-entry", "ok").await.expect_err("unknown id");
    assert!(err.to_string().contains("no audit entry"), "{err}");
    let err = log.record_attempt(attempt("alice", "operator", "x", "y", "", "")).await.expect_err("empty key");
    assert!(err.to_string().contains("idempotency key"), "{err}");

    // Concurrent attempts with one key: one entry, everyone sees it.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let log = log.clone();
            tokio::spawn(async move {
                log.record_attempt(attempt(&format!("user{i}"), "operator", "revoke_lease", "{fp:1}:exec-9", "", "k-race"))
                    .await
                    .expect("racing attempt")
            })
        })
        .collect();
    let results: Vec<Recorded> = futures::future::try_join_all(tasks).await.expect("join");
    let winners: Vec<&AuditEntry> =
        results.iter().filter_map(|r| if let Recorded::New(e) = r { Some(e) } else { None }).collect();
    assert_eq!(winners.len(), 1, "exactly one racing attempt is new: {results:?}");
    assert!(results.iter().all(|r| r.entry() == winners[0]), "all see the winner: {results:?}");
    let race = log.list(&by(None, Some("revoke_lease"), None)).await.unwrap();
    assert_eq!(race.len(), 1, "{race:?}");

    // Reopen, twice, from another connection: entries kept, idempotency too.
    let _ = AuditLog::open(other).await.expect("reopen");
    let reopened = AuditLog::open(other).await.expect("reopen again");
    let after = reopened.list(&all(50)).await.expect("list after reopen");
    assert_eq!(after.len(), 6);
    assert_eq!(&after[1..], &listed[..]);
    let r = reopened
        .record_attempt(attempt("bob", "admin", "reset_budget", "budget-9", "new month", "k-2"))
        .await
        .expect("attempt after reopen");
    assert_eq!(r, Recorded::Existing(listed[3].clone()));
    reopened.record_outcome(&c.id, "ok").await.expect("finish c");
    let c_now = log.list(&by(None, Some("cancel_execution"), None)).await.unwrap();
    assert_eq!(c_now[0].outcome.as_deref(), Some("ok"));

    // Retention: entries before a cutoff go, with their idempotency scope
    // (the same key then writes a new attempt); later ones stay.
    let everything = log.list(&all(50)).await.unwrap();
    let oldest = everything.iter().map(|e| e.at_ms).min().unwrap();
    assert_eq!(log.trim(oldest).await.expect("trim nothing"), 0, "nothing is older than the oldest");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let later = new(
        log.record_attempt(attempt("carol", "operator", "cancel_flow", "flow-7", "later", "k-late")).await.expect("later attempt"),
    );
    assert!(everything.iter().all(|e| e.at_ms < later.at_ms), "clock order");
    assert_eq!(log.trim(later.at_ms).await.expect("trim"), everything.len());
    let left = log.list(&all(50)).await.unwrap();
    assert_eq!(left.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), vec![later.id.as_str()], "only the newer entry stays");
    let again = log.record_attempt(attempt("bob", "admin", "reset_budget", "budget-9", "new month", "k-2")).await.expect("re-attempt");
    assert!(matches!(again, Recorded::New(_)), "a trimmed attempt's key is free again: {again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_on_valkey_cluster() {
    let cluster = ValkeyCluster::start();
    let first = connect(&cluster.url()).await;
    let second = connect(&cluster.url()).await;
    check(&first.side, &second.side).await;
}
