//! Saved views: a named query (`docs/SEARCH.md`) over the executions or
//! flows list with the columns to show, private to the user who saved it
//! or shared with every reader of the board. Kept in the deployment's
//! store beside the audit log (`ff_board_views` on Postgres and SQLite,
//! `ff_board:{views}:*` hashes on Valkey, one per owner and one shared), so
//! every replica sees the same views.
//!
//! Every limit is explicit: a name is at most [`MAX_NAME`] characters, a
//! query at most [`MAX_QUERY`], a user keeps at most [`MAX_PRIVATE`] views
//! and the board at most [`MAX_SHARED`] shared ones, so listing a user's
//! views reads at most `MAX_PRIVATE + MAX_SHARED` entries however large
//! the store is. A view's identity is its scope and name: names are unique
//! per owner (private) and across the board (shared).
use async_trait::async_trait;

use crate::store_error::StoreError;

/// At most this many characters in a view's name.
pub const MAX_NAME: usize = 64;
/// At most this many characters in a view's query (the query language's own limit).
pub const MAX_QUERY: usize = 512;
/// At most this many private views per user.
pub const MAX_PRIVATE: usize = 50;
/// At most this many shared views on a board.
pub const MAX_SHARED: usize = 100;
/// At most this many columns named in a view.
pub const MAX_COLUMNS: usize = 16;

/// Which list a view opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewList {
    Executions,
    Flows,
}

impl ViewList {
    pub fn as_str(self) -> &'static str {
        match self {
            ViewList::Executions => "executions",
            ViewList::Flows => "flows",
        }
    }

    pub fn parse(s: &str) -> Option<ViewList> {
        [ViewList::Executions, ViewList::Flows].into_iter().find(|l| l.as_str() == s)
    }
}

/// Whose a view is: its owner's alone, or every reader's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Private(String),
    Shared,
}

impl Scope {
    /// The stored form: the owner's name, or the empty string for shared
    /// (user names are never empty).
    pub fn key(&self) -> &str {
        match self {
            Scope::Private(owner) => owner,
            Scope::Shared => "",
        }
    }

    fn cap(&self) -> usize {
        match self {
            Scope::Private(_) => MAX_PRIVATE,
            Scope::Shared => MAX_SHARED,
        }
    }
}

/// One saved view.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedView {
    pub name: String,
    /// Who saved it (also for shared views: they may delete it).
    pub owner: String,
    pub shared: bool,
    /// `executions` or `flows` ([`ViewList`]).
    pub list: String,
    pub query: String,
    /// The columns shown, by their keys; empty for all.
    pub columns: Vec<String>,
    pub created_ms: i64,
}

impl SavedView {
    pub fn scope(&self) -> Scope {
        if self.shared { Scope::Shared } else { Scope::Private(self.owner.clone()) }
    }
}

/// What saving a view did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Saved {
    Saved,
    /// A view of that name is already in that scope: nothing was written.
    NameTaken,
    /// The scope holds its most views: nothing was written.
    Full { cap: usize },
}

/// Why a view cannot be saved as given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("a view needs a name")]
    NoName,
    #[error("a view's name is at most {MAX_NAME} characters")]
    LongName,
    #[error("a view's name may not hold control characters")]
    ControlInName,
    #[error("a view's query is at most {MAX_QUERY} characters")]
    LongQuery,
    #[error("a view names at most {MAX_COLUMNS} columns")]
    TooManyColumns,
    #[error("unknown list {0:?}: executions or flows")]
    UnknownList(String),
}

/// Check a view before the store is asked.
pub fn check(v: &SavedView) -> Result<(), Invalid> {
    let name = v.name.trim();
    if name.is_empty() {
        return Err(Invalid::NoName);
    }
    if name.chars().count() > MAX_NAME {
        return Err(Invalid::LongName);
    }
    if name.chars().any(char::is_control) {
        return Err(Invalid::ControlInName);
    }
    if v.query.chars().count() > MAX_QUERY {
        return Err(Invalid::LongQuery);
    }
    if v.columns.len() > MAX_COLUMNS {
        return Err(Invalid::TooManyColumns);
    }
    if ViewList::parse(&v.list).is_none() {
        return Err(Invalid::UnknownList(v.list.clone()));
    }
    Ok(())
}

/// The store of saved views, on each backend's own storage.
#[async_trait]
pub trait ViewStore: Send + Sync {
    /// `user`'s private views and every shared view, by name, at most
    /// `MAX_PRIVATE + MAX_SHARED`.
    async fn list(&self, user: &str) -> Result<Vec<SavedView>, StoreError>;
    /// Save `view` in its scope unless the name is taken or the scope full.
    async fn save(&self, view: &SavedView) -> Result<Saved, StoreError>;
    /// The view `name` in `scope`, if any.
    async fn get(&self, scope: &Scope, name: &str) -> Result<Option<SavedView>, StoreError>;
    /// Delete the view `name` in `scope`; whether there was one.
    async fn delete(&self, scope: &Scope, name: &str) -> Result<bool, StoreError>;
}

/// A [`ViewStore`] whose lists are reused for the board's read window
/// (`FF_BOARD_READ_CACHE_MS`, 1 s) per user: the sidebar lists a user's
/// views on every page load, so a hundred tabs refetching a page each
/// second read the store once a second, not a hundred times (measured on
/// Postgres before: 84 queries/s for 100 tabs on `/flows` against 2 for
/// one, `docs/BENCHMARKS.md`). A save or delete through this replica drops
/// every kept list, so its author sees it at once; another replica's
/// lists catch up within the window. At most [`RECENT_USERS`] lists kept.
pub struct Recent {
    inner: Box<dyn ViewStore>,
    lists: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Vec<SavedView>)>>,
    /// Bumped by every write: a list read while one ran is not kept.
    writes: std::sync::atomic::AtomicU64,
}

/// Users whose lists [`Recent`] keeps at once (past it, expired ones are
/// dropped, and all if none has).
pub const RECENT_USERS: usize = 1024;

impl Recent {
    pub fn new(inner: Box<dyn ViewStore>) -> Recent {
        Recent { inner, lists: Default::default(), writes: Default::default() }
    }

    /// After a write: drop every kept list, and any list being read.
    fn forget(&self) {
        let mut lists = self.lists();
        self.writes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        lists.clear();
    }

    fn lists(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, (std::time::Instant, Vec<SavedView>)>> {
        self.lists.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl ViewStore for Recent {
    async fn list(&self, user: &str) -> Result<Vec<SavedView>, StoreError> {
        let window = crate::backend::cache::read_cache_setting();
        if let Some((at, views)) = self.lists().get(user) {
            if at.elapsed() < window {
                return Ok(views.clone());
            }
        }
        let before = self.writes.load(std::sync::atomic::Ordering::SeqCst);
        let views = self.inner.list(user).await?;
        let mut lists = self.lists();
        if self.writes.load(std::sync::atomic::Ordering::SeqCst) != before {
            return Ok(views);
        }
        if lists.len() >= RECENT_USERS {
            lists.retain(|_, (at, _)| at.elapsed() < window);
            if lists.len() >= RECENT_USERS {
                lists.clear();
            }
        }
        lists.insert(user.to_owned(), (std::time::Instant::now(), views.clone()));
        Ok(views)
    }

    async fn save(&self, view: &SavedView) -> Result<Saved, StoreError> {
        let saved = self.inner.save(view).await;
        self.forget();
        saved
    }

    async fn get(&self, scope: &Scope, name: &str) -> Result<Option<SavedView>, StoreError> {
        self.inner.get(scope, name).await
    }

    async fn delete(&self, scope: &Scope, name: &str) -> Result<bool, StoreError> {
        let gone = self.inner.delete(scope, name).await;
        self.forget();
        gone
    }
}

/// The cap of a scope, for the stores.
pub(crate) fn cap(scope: &Scope) -> usize {
    scope.cap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, query: &str) -> SavedView {
        SavedView {
            name: name.into(),
            owner: "ana".into(),
            shared: false,
            list: "executions".into(),
            query: query.into(),
            columns: vec![],
            created_ms: 0,
        }
    }

    #[test]
    fn limits_are_checked_before_the_store() {
        let why = |v: &SavedView| check(v).unwrap_err().to_string();
        assert!(check(&view("failed payments", "state:failed ns:payments")).is_ok());
        assert!(why(&view("  ", "")).contains("needs a name"));
        assert!(why(&view(&"n".repeat(MAX_NAME + 1), "")).contains("at most 64"));
        assert!(why(&view("a\u{7}b", "")).contains("control"));
        assert!(why(&view("x", &"q".repeat(MAX_QUERY + 1))).contains("at most 512"));
        let mut v = view("x", "");
        v.list = "budgets".into();
        assert!(why(&v).contains("unknown list"));
        v.list = "flows".into();
        v.columns = vec!["kind".into(); MAX_COLUMNS + 1];
        assert!(why(&v).contains("at most 16 columns"));
    }

    #[test]
    fn scopes_have_their_keys_and_caps() {
        assert_eq!(Scope::Shared.key(), "");
        assert_eq!(Scope::Private("ana".into()).key(), "ana");
        assert_eq!(cap(&Scope::Shared), MAX_SHARED);
        let mut v = view("x", "");
        assert_eq!(v.scope(), Scope::Private("ana".into()));
        v.shared = true;
        assert_eq!(v.scope(), Scope::Shared);
    }
}
