//! Saved views (`ff_board_engine::views`): the sidebar's list with a capped
//! count per view, saving the current query of a list, deleting. A view is
//! a plain link (`/executions?q=…&cols=…&view=…`), so anyone who may read
//! the board can open one; private views are listed to their owner only.
//! Anyone signed in saves private views; operators share them; a shared
//! view is deleted by its owner or an admin. Saving and deleting a shared
//! view goes through the audited action pipeline.
//!
//! The counts cost at most [`COUNTED`] first-page reads of at most
//! [`COUNT_CAP`] rows each, kept [`COUNT_TTL_SECS`] seconds per query for
//! every user of this board process: a sidebar never loads the store more
//! than its views' own lists would.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The columns a view of the executions list may show (key, title).
pub const EXECUTION_COLUMNS: [&str; 9] = ["kind", "tags", "flow", "state", "why", "lane", "ns", "attempts", "changed"];
/// The columns a view of the flows list may show.
pub const FLOW_COLUMNS: [&str; 6] = ["kind", "ns", "state", "members", "edges", "created"];
/// Views counted in a sidebar (the first by name); the rest show no count.
pub const COUNTED: usize = 8;
/// A count stops here and says "at least".
pub const COUNT_CAP: usize = 100;
/// How long a count is kept, per query, for every user.
pub const COUNT_TTL_SECS: u64 = 30;

/// One view in the sidebar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewLink {
    pub name: String,
    pub shared: bool,
    pub href: String,
    /// Matching rows, up to [`COUNT_CAP`]; `None` when not counted.
    pub count: Option<u32>,
    /// There are more than `count`.
    pub more: bool,
    /// The signed-in user may delete it.
    pub deletable: bool,
}

/// The sidebar's views and what the user may do with them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Views {
    pub views: Vec<ViewLink>,
    /// The session's CSRF token when signed in (saving needs a session).
    pub csrf: Option<String>,
    /// The user may share views (operator or admin).
    pub can_share: bool,
}

/// The URL of a view: the list with its query, columns and name.
pub fn href(list: &str, query: &str, columns: &[String], name: &str) -> String {
    use crate::components::text::encode;
    let mut h = format!("/{list}?view={}", encode(name));
    if !query.is_empty() {
        h.push_str(&format!("&q={}", encode(query)));
    }
    if !columns.is_empty() {
        h.push_str(&format!("&cols={}", encode(&columns.join(","))));
    }
    h
}

#[server(prefix = "/api", endpoint = "list_views", output = crate::api::codec::PostcardAnswer)]
pub async fn list_views() -> Result<Views, AppError> {
    let actor = crate::state::reader()?;
    let user = actor.as_ref().map(|a| a.user.clone()).unwrap_or_default();
    super::read::read(|c| async move {
        let store = crate::state::views(&c).await?;
        let saved = store.list(&user).await?;
        let mut views = Vec::with_capacity(saved.len());
        for (i, v) in saved.into_iter().enumerate() {
            let (count, more) = if i < COUNTED { counts::of(&c, &v.list, &v.query).await } else { (None, false) };
            let deletable = actor.as_ref().is_some_and(|a| a.user == v.owner || (v.shared && a.role.can(crate::auth::Role::Admin)));
            views.push(ViewLink { href: href(&v.list, &v.query, &v.columns, &v.name), name: v.name, shared: v.shared, count, more, deletable });
        }
        Ok(Views {
            views,
            csrf: actor.as_ref().map(|a| a.csrf.clone()),
            can_share: actor.is_some_and(|a| a.role.can(crate::auth::Role::Operator)),
        })
    })
    .await
}

/// The sidebar's saved-views panel as HTML, for the page at `path` with
/// query string `search` (`components::views`): the views, and on a list
/// the form that saves its query and columns.
#[server(prefix = "/api", endpoint = "views_panel", output = crate::api::codec::PostcardAnswer)]
pub async fn views_panel(path: String, search: String) -> Result<String, AppError> {
    if path.len() > 2048 || search.len() > 4096 {
        return Err(AppError::BadRequest("page address too long".into()));
    }
    let views = list_views().await?;
    Ok(panel::html(views, &path, &search))
}

/// Save the query of a list as a view; the view's URL.
#[server(prefix = "/api", endpoint = "save_view", output = crate::api::codec::PostcardAnswer)]
pub async fn save_view(name: String, list: String, query: String, columns: String, shared: Option<String>, csrf: String) -> Result<String, AppError> {
    super::actions::run::status(write::save(name, list, query, columns, shared.is_some_and(|s| !s.is_empty()), csrf).await)
}

/// Delete a view (a private one of the user's, or a shared one).
#[server(prefix = "/api", endpoint = "delete_view", output = crate::api::codec::PostcardAnswer)]
pub async fn delete_view(name: String, shared: Option<String>, csrf: String) -> Result<String, AppError> {
    super::actions::run::status(write::delete(name, shared.is_some_and(|s| !s.is_empty()), csrf).await)
}

#[cfg(feature = "ssr")]
mod write {
    //! Saving and deleting, checked before the store is asked.
    use ff_board_domain::query::{Query, Scope as QueryScope};
    use ff_board_engine::views::{self, Saved, SavedView, Scope, ViewList};

    use super::{EXECUTION_COLUMNS, FLOW_COLUMNS};
    use crate::auth::Role;
    use crate::error::AppError;

    fn bad(m: impl Into<String>) -> AppError {
        AppError::BadRequest(m.into())
    }

    /// The view as asked, or a 400 saying what is wrong with it.
    fn checked(owner: &str, name: String, list: String, query: String, columns: String, shared: bool) -> Result<SavedView, AppError> {
        let which = ViewList::parse(list.trim()).ok_or_else(|| bad(format!("unknown list {list:?}: executions or flows")))?;
        let (scope, known): (QueryScope, &[&str]) = match which {
            ViewList::Executions => (QueryScope::Executions, &EXECUTION_COLUMNS),
            ViewList::Flows => (QueryScope::Flows, &FLOW_COLUMNS),
        };
        if columns.len() > 512 {
            return Err(bad("the column list is longer than 512 characters"));
        }
        let columns: Vec<String> = columns.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect();
        if let Some(c) = columns.iter().find(|c| !known.contains(&c.as_str())) {
            return Err(bad(format!("unknown column {c:?}: one of {}", known.join(", "))));
        }
        let query = query.trim().to_owned();
        if query.chars().count() > views::MAX_QUERY {
            return Err(bad(format!("a view's query is at most {} characters", views::MAX_QUERY)));
        }
        Query::parse(&query, scope).map_err(|e| bad(e.to_string()))?;
        let view = SavedView {
            name: name.trim().to_owned(),
            owner: owner.to_owned(),
            shared,
            list: which.as_str().to_owned(),
            query,
            columns,
            created_ms: ff_core::types::TimestampMs::now().0,
        };
        views::check(&view).map_err(|e| bad(e.to_string()))?;
        Ok(view)
    }

    pub async fn save(name: String, list: String, query: String, columns: String, shared: bool, csrf: String) -> Result<String, AppError> {
        let needed = if shared { Role::Operator } else { Role::Viewer };
        let actor = crate::state::writer(needed, &csrf)?;
        let view = checked(&actor.user, name, list, query, columns, shared)?;
        let href = super::href(&view.list, &view.query, &view.columns, &view.name);
        let target = format!("view:{}", view.name);
        let store_it = |c: ff_board_engine::connect::Connected| async move {
            match crate::state::views(&c).await?.save(&view).await? {
                Saved::Saved => Ok(format!("saved view {:?}", view.name)),
                Saved::NameTaken => Err(AppError::Conflict { op: "save view".into(), error: format!("a view named {:?} is already there: choose another name", view.name) }),
                Saved::Full { cap } => Err(AppError::Conflict { op: "save view".into(), error: format!("at most {cap} views here: delete one first") }),
            }
        };
        if shared {
            let key = uuid::Uuid::new_v4().to_string();
            crate::api::actions::run::act(needed, &csrf, "save_view", &target, "", &[&href], &key, |c, _| store_it(c)).await?;
        } else {
            store_it(crate::state::conn()?).await?;
        }
        Ok(href)
    }

    pub async fn delete(name: String, shared: bool, csrf: String) -> Result<String, AppError> {
        let actor = crate::state::writer(Role::Viewer, &csrf)?;
        let name = name.trim().to_owned();
        let scope = if shared { Scope::Shared } else { Scope::Private(actor.user.clone()) };
        let c = crate::state::conn()?;
        let store = crate::state::views(&c).await?;
        let gone = || AppError::not_found("view", name.clone());
        let view = store.get(&scope, &name).await?.ok_or_else(gone)?;
        if shared && view.owner != actor.user && !actor.role.can(Role::Admin) {
            return Err(AppError::Forbidden(format!("only {} or an admin may delete the shared view {name:?}", view.owner)));
        }
        let remove = |_| async move {
            if store.delete(&scope, &name).await? { Ok(format!("deleted view {name:?}")) } else { Err(AppError::not_found("view", name)) }
        };
        if shared {
            let key = uuid::Uuid::new_v4().to_string();
            let target = format!("view:{}", view.name);
            crate::api::actions::run::act(Role::Viewer, &csrf, "delete_view", &target, "", &[], &key, |c, _| remove(c)).await.map(|r| r.message)
        } else {
            remove(c).await
        }
    }
}

#[cfg(feature = "ssr")]
mod counts {
    //! The capped count of a view's query, kept a while per query.
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    use std::time::{Duration, Instant};

    use ff_board_domain::query::{Query, Scope};
    use ff_board_engine::backend::search::Search;
    use ff_board_engine::backend::{ExecQuery, FlowQuery};
    use ff_board_engine::connect::Connected;

    use super::{COUNT_CAP, COUNT_TTL_SECS};

    /// Queries whose count is kept; past this the map starts afresh.
    const KEPT: usize = 256;

    type Count = (Option<u32>, bool);

    fn kept() -> &'static Mutex<HashMap<(String, String), (Instant, Count)>> {
        static KEPT_COUNTS: OnceLock<Mutex<HashMap<(String, String), (Instant, Count)>>> = OnceLock::new();
        KEPT_COUNTS.get_or_init(Mutex::default)
    }

    /// Rows matching `query` on `list` up to [`COUNT_CAP`], and whether
    /// there are more; `(None, false)` when the backend cannot answer it.
    pub async fn of(c: &Connected, list: &str, query: &str) -> Count {
        let key = (list.to_owned(), query.to_owned());
        let ttl = Duration::from_secs(COUNT_TTL_SECS);
        if let Some((at, n)) = kept().lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            if at.elapsed() < ttl {
                return *n;
            }
        }
        let n = count(c, list, query).await;
        let mut all = kept().lock().unwrap_or_else(|p| p.into_inner());
        if all.len() >= KEPT {
            all.clear();
        }
        all.insert(key, (Instant::now(), n));
        n
    }

    async fn count(c: &Connected, list: &str, query: &str) -> Count {
        let scope = if list == "flows" { Scope::Flows } else { Scope::Executions };
        let Ok(parsed) = Query::parse(query, scope) else { return (None, false) };
        let search = (!parsed.is_empty()).then(|| Search::new(parsed));
        let page = if scope == Scope::Flows {
            let q = FlowQuery { state: None, namespace: None, search };
            c.reads.flows(&q, None, COUNT_CAP).await.map(|p| (p.rows.len(), p.next.is_some()))
        } else {
            let q = ExecQuery { state: None, lane: None, namespace: None, search };
            c.reads.executions(&q, None, COUNT_CAP).await.map(|p| (p.rows.len(), p.next.is_some()))
        };
        match page {
            Ok((n, more)) => (Some(n as u32), more),
            Err(_) => (None, false),
        }
    }
}

#[cfg(feature = "ssr")]
mod panel {
    //! The panel's HTML, rendered here so the bundle carries none of it.
    use leptos::prelude::*;

    use super::Views;
    use crate::components::text::decode;

    /// The value of `name` in the query string `search` (`?a=b&c=d`).
    fn param(search: &str, name: &str) -> String {
        search
            .trim_start_matches('?')
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| decode(&v.replace('+', " ")))
            .unwrap_or_default()
    }

    pub fn html(v: Views, path: &str, search: &str) -> String {
        let list = ["executions", "flows"].into_iter().find(|l| path == format!("/{l}"));
        let csrf = v.csrf.clone().unwrap_or_default();
        let input = "rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100";
        let save = v.csrf.clone().zip(list).map(|(csrf, list)| {
            let (q, cols) = (param(search, "q"), param(search, "cols"));
            view! {
                <details class="mt-2 px-2 text-xs" data-testid="save-view">
                    <summary class="cursor-pointer text-slate-500">"Save this query as a view"</summary>
                    <form method="post" action="/api/save_view" class="mt-2 space-y-2">
                        <input type="hidden" name="list" value=list/>
                        <input type="hidden" name="query" value=q/>
                        <input type="hidden" name="csrf" value=csrf/>
                        <label class="block text-slate-500">"Name"
                            <input name="name" required maxlength="64" data-testid="view-name" class=format!("block w-full {input}")/>
                        </label>
                        <label class="block text-slate-500">"Columns (blank for all)"
                            <input name="columns" value=cols maxlength="512" data-testid="view-columns" class=format!("block w-full {input}")/>
                        </label>
                        {v.can_share.then(|| view! {
                            <label class="flex items-center gap-1 text-slate-500"><input type="checkbox" name="shared" value="1" data-testid="view-shared"/>"shared with every reader"</label>
                        })}
                        <button type="submit" data-testid="view-save" class="rounded bg-slate-900 px-3 py-1 text-white dark:bg-slate-100 dark:text-slate-900">"Save view"</button>
                    </form>
                </details>
            }
        });
        view! {
            <h2 class="px-2 text-xs font-semibold uppercase text-slate-500">"Saved views"</h2>
            {v.views.is_empty().then(|| view! { <p class="px-2 py-1 text-xs text-slate-500">"None yet: save a query from Executions or Flows."</p> })}
            <ul class="mt-1 space-y-0.5">
                {v.views.into_iter().map(|l| {
                    let count = l.count.map(|n| if l.more { format!("{n}+") } else { n.to_string() });
                    view! {
                        <li class="flex items-center gap-1">
                            <a href=l.href data-testid="saved-view" data-view-name=l.name.clone()
                                class="min-w-0 flex-1 truncate rounded px-2 py-1 text-sm text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800">
                                {l.name.clone()}{l.shared.then_some(" ·shared")}
                            </a>
                            {count.map(|c| view! { <span data-testid="view-count" class="text-xs tabular-nums text-slate-500">{c}</span> })}
                            {l.deletable.then(|| view! {
                                <form method="post" action="/api/delete_view">
                                    <input type="hidden" name="name" value=l.name.clone()/>
                                    {l.shared.then(|| view! { <input type="hidden" name="shared" value="1"/> })}
                                    <input type="hidden" name="csrf" value=csrf.clone()/>
                                    <button type="submit" data-testid="view-delete" class="px-1 text-xs text-slate-400 hover:text-red-700" title="delete this view" aria-label=format!("delete view {}", l.name)>"×"</button>
                                </form>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {save}
        }
        .to_html()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_panel_escapes_names_and_offers_the_lists_query() {
            let v = Views {
                views: vec![super::super::ViewLink {
                    name: "<b>eu</b>".into(),
                    shared: true,
                    href: "/executions?view=x".into(),
                    count: Some(100),
                    more: true,
                    deletable: true,
                }],
                csrf: Some("tok".into()),
                can_share: false,
            };
            let h = html(v.clone(), "/executions", "?q=tag%3Ashop.region%3Deu&cols=kind");
            assert!(h.contains("&lt;b&gt;eu&lt;/b&gt;") && !h.contains("<b>eu"), "{h}");
            assert!(h.contains("100+") && h.contains("data-testid=\"view-delete\""), "{h}");
            assert!(h.contains("value=\"tag:shop.region=eu\""), "the list's query to save: {h}");
            assert!(!h.contains("view-shared"), "a viewer cannot share");
            let h = html(v, "/overview", "");
            assert!(!h.contains("save-view"), "no list, nothing to save");
        }
    }
}
