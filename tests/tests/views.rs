//! Saved views (`ff_board_engine::views`) on each backend's own store, one
//! test per behaviour on every backend (`matrix!`): a private view is
//! listed to its owner only and a shared one to everybody; names are unique
//! per scope (the same name may be private to two users and shared once);
//! each scope stops at its cap without writing; a delete removes exactly
//! one view; what one connection saves another reads (after the read
//! window, 1 s, for which a replica reuses a user's list).
use ff_board_engine::views::{Saved, SavedView, Scope, ViewStore, MAX_PRIVATE};
use ff_board_tests::matrix;
use ff_board_tests::matrix::Store;

fn view(owner: &str, name: &str, shared: bool) -> SavedView {
    SavedView {
        name: name.into(),
        owner: owner.into(),
        shared,
        list: "executions".into(),
        query: "state:failed tag:shop.region=eu".into(),
        columns: vec!["kind".into(), "tags".into()],
        created_ms: 1_765_000_000_000,
    }
}

async fn open(s: &Store) -> Box<dyn ViewStore> {
    s.connect().await.side.open_views().await.expect("open views")
}

fn names(v: &[SavedView]) -> Vec<(String, bool)> {
    v.iter().map(|v| (v.name.clone(), v.shared)).collect()
}

async fn private_and_shared_views_list_to_whom_they_belong(s: Store) {
    let views = open(&s).await;
    assert_eq!(views.save(&view("ana", "mine", false)).await.unwrap(), Saved::Saved);
    assert_eq!(views.save(&view("ana", "team", true)).await.unwrap(), Saved::Saved);
    assert_eq!(views.save(&view("bob", "bobs", false)).await.unwrap(), Saved::Saved);
    let ana = views.list("ana").await.unwrap();
    assert_eq!(names(&ana), [("mine".into(), false), ("team".into(), true)]);
    assert_eq!(ana[0], view("ana", "mine", false), "read back whole: query, columns, owner, time");
    assert_eq!(names(&views.list("bob").await.unwrap()), [("bobs".into(), false), ("team".into(), true)]);
    assert_eq!(names(&views.list("").await.unwrap()), [("team".into(), true)], "anonymous readers see shared views only");
    // Another connection (another replica) reads the same views.
    let again = open(&s).await;
    assert_eq!(again.get(&Scope::Private("ana".into()), "mine").await.unwrap(), Some(view("ana", "mine", false)));
    assert_eq!(again.get(&Scope::Private("bob".into()), "mine").await.unwrap(), None);
}
matrix!(private_and_shared_views_list_to_whom_they_belong);

async fn names_are_unique_per_scope(s: Store) {
    let views = open(&s).await;
    assert_eq!(views.save(&view("ana", "failed", false)).await.unwrap(), Saved::Saved);
    assert_eq!(views.save(&view("bob", "failed", false)).await.unwrap(), Saved::Saved, "another user's scope");
    assert_eq!(views.save(&view("ana", "failed", true)).await.unwrap(), Saved::Saved, "the shared scope");
    let mut other = view("ana", "failed", false);
    other.query = "state:cancelled".into();
    assert_eq!(views.save(&other).await.unwrap(), Saved::NameTaken);
    assert_eq!(views.save(&view("bob", "failed", true)).await.unwrap(), Saved::NameTaken, "one shared view of a name");
    let kept = views.get(&Scope::Private("ana".into()), "failed").await.unwrap().unwrap();
    assert_eq!(kept.query, "state:failed tag:shop.region=eu", "a refused save changed nothing");
}
matrix!(names_are_unique_per_scope);

async fn a_full_scope_refuses_without_writing(s: Store) {
    let views = open(&s).await;
    for i in 0..MAX_PRIVATE {
        assert_eq!(views.save(&view("ana", &format!("v{i:03}"), false)).await.unwrap(), Saved::Saved);
    }
    assert_eq!(views.save(&view("ana", "one more", false)).await.unwrap(), Saved::Full { cap: MAX_PRIVATE });
    assert_eq!(views.list("ana").await.unwrap().len(), MAX_PRIVATE);
    assert_eq!(views.save(&view("ana", "shared", true)).await.unwrap(), Saved::Saved, "the shared scope has its own cap");
    assert_eq!(views.save(&view("bob", "one more", false)).await.unwrap(), Saved::Saved, "so has every user");
    assert!(views.delete(&Scope::Private("ana".into()), "v000").await.unwrap());
    assert_eq!(views.save(&view("ana", "one more", false)).await.unwrap(), Saved::Saved, "room again after a delete");
}
matrix!(a_full_scope_refuses_without_writing: sqlite, postgres, valkey);

async fn a_delete_removes_exactly_one_view(s: Store) {
    let views = open(&s).await;
    for (owner, shared) in [("ana", false), ("bob", false), ("ana", true)] {
        views.save(&view(owner, "same", shared)).await.unwrap();
    }
    assert!(views.delete(&Scope::Shared, "same").await.unwrap());
    assert!(!views.delete(&Scope::Shared, "same").await.unwrap(), "gone: a second delete finds nothing");
    assert!(!views.delete(&Scope::Private("carl".into()), "same").await.unwrap());
    assert_eq!(names(&views.list("ana").await.unwrap()), [("same".into(), false)]);
    assert_eq!(names(&views.list("bob").await.unwrap()), [("same".into(), false)]);
}
matrix!(a_delete_removes_exactly_one_view);

/// The sidebar lists a user's views on every page load: a replica reuses
/// a list for the read window (1 s), drops every kept list when it saves
/// or deletes one, and reads another replica's save once the window passed.
async fn a_list_is_reused_for_the_read_window_and_dropped_by_a_write(s: Store) {
    let (a, b) = (open(&s).await, open(&s).await);
    assert!(a.list("ana").await.unwrap().is_empty());
    assert_eq!(b.save(&view("ana", "from b", false)).await.unwrap(), Saved::Saved);
    assert!(a.list("ana").await.unwrap().is_empty(), "A reuses its list within the window");
    assert_eq!(names(&b.list("ana").await.unwrap()), [("from b".into(), false)], "B dropped its lists when it saved");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(names(&a.list("ana").await.unwrap()), [("from b".into(), false)], "past the window A reads the store");
    assert_eq!(a.save(&view("ana", "from a", false)).await.unwrap(), Saved::Saved);
    assert_eq!(a.list("ana").await.unwrap().len(), 2, "A's own save is listed at once");
    assert!(a.delete(&Scope::Private("ana".into()), "from b").await.unwrap());
    assert_eq!(names(&a.list("ana").await.unwrap()), [("from a".into(), false)], "and so is its delete");
}

matrix!(a_list_is_reused_for_the_read_window_and_dropped_by_a_write);

/// The board's HTTP side on SQLite: saving (private by anyone signed in,
/// shared by operators), the sidebar's list with counts, a view's link
/// opening the list with its query and name, refusals with a 400 or 409
/// and a message, deleting (a shared view by its owner or an admin), and
/// the audit entries of shared views.
#[tokio::test]
async fn views_over_http() {
    use ff_board_app::components::text::encode as enc;
    use ff_board_tests::board::{form, Board};
    let url = format!("sqlite:{}", ff_board_tests::sqlite_path());
    let c = ff_board_tests::connect(&url).await;
    let b = Board::start_quiet(&url, &c).await;
    let (vera, alice, ada) = (b.op("vera").await, b.op("alice").await, b.op("ada").await);
    let b = &b;
    let save = |op: &ff_board_tests::board::Op, name: &str, query: &str, shared: bool| {
        let mut f = form(&[("name", name), ("list", "executions"), ("query", query), ("columns", "kind,tags,state"), ("csrf", &op.csrf)]);
        if shared {
            f.push(("shared", "1".into()));
        }
        (op.cookie.clone(), f)
    };
    let post = |endpoint: &'static str, (cookie, f): (String, Vec<(&'static str, String)>)| async move { b.post(endpoint, Some(&cookie), &f).await };
    let list = |cookie: Option<String>| async move {
        let (status, body) = b.post("list_views", cookie.as_deref(), &[]).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };

    // A viewer saves a private view; its answer is the view's link.
    let (status, body) = post("save_view", save(&vera, "eu failures", "state:failed tag:shop.region=eu", false)).await;
    assert_eq!(status, 200, "{body}");
    let href: String = serde_json::from_str(&body).unwrap();
    assert_eq!(href, format!("/executions?view={}&q={}&cols={}", enc("eu failures"), enc("state:failed tag:shop.region=eu"), enc("kind,tags,state")));
    // …but may not share one.
    let (status, body) = post("save_view", save(&vera, "team", "state:failed", true)).await;
    assert_eq!(status, 403, "{body}");
    // An operator shares one; it is audited.
    let (status, body) = post("save_view", save(&alice, "team failures", "state:failed", true)).await;
    assert_eq!(status, 200, "{body}");
    // Listed: the viewer sees hers and the shared one, with counts (no
    // executions on this store: 0), and may delete only her own.
    let v = list(Some(vera.cookie.clone())).await;
    let views = v["views"].as_array().unwrap();
    let names: Vec<&str> = views.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["eu failures", "team failures"]);
    assert_eq!(views[0]["count"], 0);
    assert_eq!((views[0]["deletable"].as_bool(), views[1]["deletable"].as_bool()), (Some(true), Some(false)));
    assert_eq!(v["can_share"], false);
    // Anonymous readers (the demo board allows them) see the shared view only.
    let v = list(None).await;
    assert_eq!(v["views"].as_array().unwrap().len(), 1);
    assert!(v["csrf"].is_null());
    // The link opens the list with its query, columns and name.
    let page = b.get(&href).await;
    assert!(page.contains("data-testid=\"view-title\""), "the view's name is shown");
    assert!(page.contains("state:failed tag:shop.region=eu"), "its query is in the box");

    // Refusals: each a 4xx with its message, nothing written.
    for (name, query, want) in [
        ("", "state:failed", "needs a name"),
        (&"n".repeat(65) as &str, "state:failed", "at most 64"),
        ("bad query", "state:runing", "one of waiting"),
        ("long", &"a".repeat(600), "at most 512"),
    ] {
        let (status, body) = post("save_view", save(&vera, name, query, false)).await;
        assert_eq!(status, 400, "{name:?}: {body}");
        assert!(body.contains(want), "{name:?}: {body}");
    }
    let (cookie, mut f) = save(&vera, "cols", "", false);
    f.retain(|(k, _)| *k != "columns");
    f.push(("columns", "kind,secret".into()));
    let (status, body) = b.post("save_view", Some(&cookie), &f).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("unknown column \\\"secret\\\"") || body.contains("unknown column"), "{body}");
    let (status, body) = post("save_view", save(&vera, "eu failures", "state:cancelled", false)).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("already there"), "{body}");
    let (status, _) = b.post("save_view", Some(&vera.cookie), &form(&[("name", "x"), ("list", "executions"), ("query", ""), ("columns", ""), ("csrf", "forged")])).await;
    assert_eq!(status, 403, "a forged CSRF token");
    assert_eq!(list(Some(vera.cookie.clone())).await["views"].as_array().unwrap().len(), 2, "nothing refused was written");

    // Deleting: the shared view not by a viewer, but by an admin.
    let del = |op: &ff_board_tests::board::Op, name: &str, shared: bool| {
        let mut f = form(&[("name", name), ("csrf", &op.csrf)]);
        if shared {
            f.push(("shared", "1".into()));
        }
        (op.cookie.clone(), f)
    };
    let (status, body) = post("delete_view", del(&vera, "team failures", true)).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post("delete_view", del(&ada, "team failures", true)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post("delete_view", del(&vera, "eu failures", false)).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = post("delete_view", del(&vera, "eu failures", false)).await;
    assert_eq!(status, 404, "gone");
    assert!(list(Some(vera.cookie.clone())).await["views"].as_array().unwrap().is_empty());

    // The shared view's save and delete are in the audit log, done.
    let log = ff_board_engine::audit::AuditLog::open(&c.side).await.unwrap();
    let entries = log.list(&ff_board_engine::audit::AuditFilter { target_contains: Some("view:team failures".into()), limit: 10, ..Default::default() }).await.unwrap();
    let done: Vec<(&str, &str)> = entries.iter().map(|e| (e.user.as_str(), e.action.as_str())).collect();
    assert_eq!(done, [("ada", "delete_view"), ("alice", "save_view")]);
    assert!(entries.iter().all(|e| e.outcome.as_deref().is_some_and(|o| o.contains("view"))), "{entries:?}");
    let private = log.list(&ff_board_engine::audit::AuditFilter { target_contains: Some("eu failures".into()), limit: 10, ..Default::default() }).await.unwrap();
    assert!(private.is_empty(), "private views are not audited: {private:?}");
}
