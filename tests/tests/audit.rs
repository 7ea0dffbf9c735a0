//! The board's audit log (`ff_board_engine::audit`) on each backend's own
//! store, one test per behaviour on every backend (`matrix!`): attempt +
//! outcome round-trip, idempotency (same key, action and target → one
//! entry, the existing one returned, also under concurrent attempts),
//! unfinished attempts listed with `outcome: None`, filters by user /
//! action / target, newest first, entries surviving a reopen from a second
//! connection, and retention; one subject's entries read by its index
//! (issue 22, attack 3), at a cost that does not grow with the log.
use std::sync::Arc;

use ff_board_engine::audit::{Attempt, AuditEntry, AuditFilter, AuditLog, Recorded};
use ff_board_engine::connect::Connected;
use ff_board_tests::matrix;
use ff_board_tests::matrix::Store;

fn all(limit: usize) -> AuditFilter {
    AuditFilter { limit, ..AuditFilter::default() }
}

fn by(user: Option<&str>, action: Option<&str>, target: Option<&str>) -> AuditFilter {
    AuditFilter { user: user.map(Into::into), action: action.map(Into::into), target_contains: target.map(Into::into), subject: None, limit: 50 }
}

fn ids_of(v: Vec<AuditEntry>) -> Vec<String> {
    v.into_iter().map(|x| x.id).collect()
}

fn new(r: Recorded) -> AuditEntry {
    match r {
        Recorded::New(e) => e,
        Recorded::Existing(e) => panic!("expected a new entry, got the existing {e:?}"),
    }
}

/// One attempt: `(user, role, action, target, reason, idempotency key)`.
async fn attempt(log: &AuditLog, a: [&str; 6]) -> Recorded {
    let [user, role, action, target, reason, key] = a;
    log.record_attempt(Attempt { user, role, action, target, reason, idempotency_key: key }).await.unwrap_or_else(|e| panic!("attempt {a:?}: {e}"))
}

/// The audit log of a fresh store, with the connection it uses.
async fn open(s: &Store) -> (Connected, Arc<AuditLog>) {
    let c = s.connect().await;
    let log = Arc::new(AuditLog::open(&c.side).await.expect("open"));
    (c, log)
}

const FLOW_1: [&str; 6] = ["alice", "operator", "cancel_flow", "flow-1", "stuck", "k-1"];
const BUDGET_9: [&str; 6] = ["bob", "admin", "reset_budget", "budget-9", "new month", "k-2"];

/// The five entries most tests start from, newest first as listed: `e`,
/// `d`, `c` (unfinished), `b` (an error), `a` (done; `existing` is `a`
/// with its outcome, as a repeated attempt returns it).
struct Five {
    a: AuditEntry,
    existing: AuditEntry,
    b: AuditEntry,
    c: AuditEntry,
    d: AuditEntry,
    e: AuditEntry,
    listed: Vec<AuditEntry>,
}

/// Write [`Five`] into an empty log, checking each step: attempt, then
/// outcome; the same key, action and target again return the first entry;
/// the same key on another action or target is another action; the list is
/// newest first with outcomes attached.
async fn five(log: &AuditLog) -> Five {
    assert_eq!(log.list(&all(50)).await.expect("list empty"), vec![]);
    let a = new(attempt(log, FLOW_1).await);
    assert_eq!(
        (a.user.as_str(), a.role.as_str(), a.action.as_str(), a.target.as_str(), a.reason.as_str()),
        ("alice", "operator", "cancel_flow", "flow-1", "stuck")
    );
    assert_eq!((a.idempotency_key.as_str(), &a.outcome, a.outcome_at_ms), ("k-1", &None, None));
    assert!(a.at_ms > 1_600_000_000_000, "at_ms is epoch ms: {}", a.at_ms);
    log.record_outcome(&a.id, "ok: 3 members cancelled").await.expect("outcome");

    // The same key, action and target again: nothing new, the first entry
    // (now with its outcome) comes back.
    let again = attempt(log, FLOW_1).await;
    let Recorded::Existing(existing) = again else { panic!("duplicate key wrote a new entry: {again:?}") };
    assert_eq!(existing.id, a.id);
    assert_eq!(existing.outcome.as_deref(), Some("ok: 3 members cancelled"));
    let at = existing.outcome_at_ms.expect("outcome time");
    assert!(at >= a.at_ms, "outcome at {at} before attempt at {}", a.at_ms);

    // An engine failure is recorded, not lost; an attempt without outcome
    // lists with `outcome: None`.
    let b = new(attempt(log, BUDGET_9).await);
    log.record_outcome(&b.id, "error: budget not found").await.expect("outcome b");
    let c = new(attempt(log, ["alice", "operator", "cancel_execution", "{fp:3}:exec-7", "", "k-3"]).await);
    // The same key on another action or target is another action.
    let d = new(attempt(log, ["alice", "operator", "approve", "{fp:3}:exec-7 wp-1", "looks good", "k-3"]).await);
    let e = new(attempt(log, ["alice", "operator", "cancel_flow", "flow-2", "", "k-1"]).await);

    // Newest first, outcomes attached.
    let listed = log.list(&all(50)).await.expect("list");
    let ids: Vec<&str> = listed.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, [&e.id, &d.id, &c.id, &b.id, &a.id].map(String::as_str));
    assert_eq!(listed[4], existing);
    assert_eq!(listed[3].outcome.as_deref(), Some("error: budget not found"));
    assert!(listed[3].outcome_at_ms.is_some());
    assert_eq!(listed[2], c, "unfinished attempt lists as written");
    assert_eq!((listed[2].outcome.as_ref(), listed[2].outcome_at_ms), (None, None));
    Five { a, existing, b, c, d, e, listed }
}

/// Concurrent attempts with one key: one entry, everyone sees it.
async fn race(log: &Arc<AuditLog>) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let log = log.clone();
            tokio::spawn(async move {
                let user = format!("user{i}");
                attempt(&log, [&user, "operator", "revoke_lease", "{fp:1}:exec-9", "", "k-race"]).await
            })
        })
        .collect();
    let results: Vec<Recorded> = futures::future::try_join_all(tasks).await.expect("join");
    let winners: Vec<&AuditEntry> = results.iter().filter_map(|r| if let Recorded::New(e) = r { Some(e) } else { None }).collect();
    assert_eq!(winners.len(), 1, "exactly one racing attempt is new: {results:?}");
    assert!(results.iter().all(|r| r.entry() == winners[0]), "all see the winner: {results:?}");
    let race = log.list(&by(None, Some("revoke_lease"), None)).await.unwrap();
    assert_eq!(race.len(), 1, "{race:?}");
}

async fn attempts_and_outcomes_round_trip(s: Store) {
    let (_c, log) = open(&s).await;
    let f = five(&log).await;
    assert_eq!(f.existing.outcome.as_deref(), Some("ok: 3 members cancelled"));
}
matrix!(attempts_and_outcomes_round_trip);

/// The limit keeps the newest; filters by exact user and action and by a
/// target substring (no wildcards; empty means any).
async fn limit_and_filters_select_entries(s: Store) {
    let (_c, log) = open(&s).await;
    let Five { a, b, c, d, e, .. } = five(&log).await;
    let two = log.list(&all(2)).await.expect("limit");
    assert_eq!(two.iter().map(|x| &x.id).collect::<Vec<_>>(), [&e.id, &d.id]);
    assert_eq!(log.list(&all(0)).await.expect("limit 0"), vec![]);

    assert_eq!(ids_of(log.list(&by(Some("bob"), None, None)).await.unwrap()), vec![b.id.clone()]);
    assert_eq!(ids_of(log.list(&by(None, Some("cancel_flow"), None)).await.unwrap()), [e.id.clone(), a.id.clone()]);
    assert_eq!(
        ids_of(log.list(&by(None, None, Some("exec-7"))).await.unwrap()),
        [d.id.clone(), c.id.clone()],
        "the execution page finds its entries, also where it is one of several targets"
    );
    assert_eq!(ids_of(log.list(&by(None, None, Some("wp-1"))).await.unwrap()), vec![d.id.clone()]);
    assert_eq!(ids_of(log.list(&by(Some("alice"), Some("cancel_flow"), Some("flow-1"))).await.unwrap()), vec![a.id.clone()]);
    assert_eq!(ids_of(log.list(&by(Some("carol"), None, None)).await.unwrap()), Vec::<String>::new());
    assert_eq!(ids_of(log.list(&by(None, None, Some("%"))).await.unwrap()), Vec::<String>::new(), "no wildcards");
    assert_eq!(ids_of(log.list(&by(Some(""), None, Some(""))).await.unwrap()).len(), 5, "empty = any");
    let one = AuditFilter { limit: 1, ..by(Some("alice"), None, None) };
    assert_eq!(ids_of(log.list(&one).await.unwrap()), vec![e.id.clone()]);
}
matrix!(limit_and_filters_select_entries);

async fn bad_calls_are_clear_errors(s: Store) {
    let (_c, log) = open(&s).await;
    let err = log.record_outcome("no-such-entry", "ok").await.expect_err("unknown id").to_string();
    assert!(err.contains("no audit entry"), "{err}");
    let empty = Attempt { user: "alice", role: "operator", action: "x", target: "y", reason: "", idempotency_key: "" };
    let err = log.record_attempt(empty).await.expect_err("empty key").to_string();
    assert!(err.contains("idempotency key"), "{err}");
}
matrix!(bad_calls_are_clear_errors);

async fn concurrent_attempts_make_one_entry(s: Store) {
    let (_c, log) = open(&s).await;
    race(&log).await;
}
matrix!(concurrent_attempts_make_one_entry);

/// Reopened, twice, from another connection: entries kept, idempotency too.
async fn entries_survive_a_reopen(s: Store) {
    let (_c, log) = open(&s).await;
    let Five { c, listed, .. } = five(&log).await;
    race(&log).await;
    let other = s.connect().await;
    let _ = AuditLog::open(&other.side).await.expect("reopen");
    let reopened = AuditLog::open(&other.side).await.expect("reopen again");
    let after = reopened.list(&all(50)).await.expect("list after reopen");
    assert_eq!(after.len(), 6);
    assert_eq!(&after[1..], &listed[..]);
    let r = attempt(&reopened, BUDGET_9).await;
    assert_eq!(r, Recorded::Existing(listed[3].clone()));
    reopened.record_outcome(&c.id, "ok").await.expect("finish c");
    let c_now = log.list(&by(None, Some("cancel_execution"), None)).await.unwrap();
    assert_eq!(c_now[0].outcome.as_deref(), Some("ok"));
}
matrix!(entries_survive_a_reopen);

/// Retention: entries before a cutoff go, with their idempotency scope
/// (the same key then writes a new attempt); later ones stay.
async fn trim_drops_older_entries(s: Store) {
    let (_c, log) = open(&s).await;
    five(&log).await;
    race(&log).await;
    let everything = log.list(&all(50)).await.unwrap();
    let oldest = everything.iter().map(|e| e.at_ms).min().unwrap();
    assert_eq!(log.trim(oldest).await.expect("trim nothing"), 0, "nothing is older than the oldest");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let later = new(attempt(&log, ["carol", "operator", "cancel_flow", "flow-7", "later", "k-late"]).await);
    assert!(everything.iter().all(|e| e.at_ms < later.at_ms), "clock order");
    assert_eq!(log.trim(later.at_ms).await.expect("trim"), everything.len());
    let left = log.list(&all(50)).await.unwrap();
    assert_eq!(left.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), vec![later.id.as_str()], "only the newer entry stays");
    let again = attempt(&log, BUDGET_9).await;
    assert!(matches!(again, Recorded::New(_)), "a trimmed attempt's key is free again: {again:?}");
}
matrix!(trim_drops_older_entries);

/// Issue 22, attack 3: a flow's or an execution's page reads its own
/// entries (an approval's `"<execution> <waitpoint>"` included, another id
/// sharing its prefix not) by subject, from an index: on Valkey the
/// commands of one read do not grow from 200 to 2,000 other entries, and
/// entries written before the index existed are found once the backfill ran.
async fn one_subjects_entries_are_read_by_its_index(s: Store) {
    let (c, log) = open(&s).await;
    let subject = "{fp:1}:0f8fad5b-d9cb-469f-a165-70867728950e";
    let (approval, longer) = (format!("{subject} wp-1"), format!("{subject}0"));
    let mut mine = Vec::new();
    for (i, target) in [subject, approval.as_str(), subject].into_iter().enumerate() {
        mine.push(new(attempt(&log, ["alice", "operator", "cancel_execution", target, "stuck", &format!("s-{i}")]).await).id);
    }
    new(attempt(&log, ["alice", "operator", "cancel_execution", &longer, "stuck", "s-x"]).await);
    let noise = |from: usize, to: usize| {
        let log = log.clone();
        async move {
            for i in from..to {
                let target = format!("{{fp:2}}:{i:08}-d9cb-469f-a165-70867728950e");
                log.record_attempt(Attempt { user: "bob", role: "operator", action: "cancel_execution", target: &target, reason: "noise", idempotency_key: &format!("n-{i}") }).await.expect("noise");
            }
        }
    };
    noise(0, 200).await;
    let by_subject = AuditFilter { subject: Some(subject.into()), limit: 50, ..AuditFilter::default() };
    mine.reverse();
    assert_eq!(ids_of(log.list(&by_subject).await.expect("by subject")), mine, "its entries, newest first, not the longer id's");
    let only_approvals = AuditFilter { user: Some("alice".into()), ..by_subject.clone() };
    assert_eq!(log.list(&only_approvals).await.expect("filtered").len(), 3);
    let port = s.url.strip_prefix("valkey://127.0.0.1:").filter(|_| !s.url.contains("cluster")).and_then(|p| p.split(['?', '/']).next()?.parse::<u16>().ok());
    let Some(port) = port else { return };
    let cost = || async {
        let before = ff_board_tests::count::valkey_calls(port).await;
        log.list(&by_subject).await.expect("by subject");
        ff_board_tests::count::valkey_calls(port).await - before - 1
    };
    let small = cost().await;
    noise(200, 2_000).await;
    let large = cost().await;
    assert!(small > 0 && small == large, "one subject's read: {small} commands at 200 other entries, {large} at 2,000");
    // An entry written as before the index existed (the stream only).
    let ff_board_engine::connect::SideStore::Valkey(client) = &c.side else { panic!("valkey") };
    let old: String = client
        .cmd("XADD")
        .arg("ff_board:{audit}")
        .arg("*")
        .arg(["at_ms", "1", "user", "ada", "role", "admin", "action", "cancel_execution", "target", subject, "reason", "old", "idempotency_key", "old-1", "scope", "old"].as_slice())
        .execute()
        .await
        .expect("XADD");
    assert!(!ids_of(log.list(&by_subject).await.expect("before")).contains(&old));
    ff_board_engine::backend::valkey::audit::backfill(client).await.expect("backfill");
    assert!(ids_of(log.list(&by_subject).await.expect("after")).contains(&old), "found once backfilled");
}
matrix!(one_subjects_entries_are_read_by_its_index);
