//! /login (form fields `username`, `password`; demo accounts listed in demo
//! mode only) and /audit (admins).
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::session::{list_audit, Login};
use crate::components::audit::AuditTable;
use crate::components::feedback::loaded;
use crate::components::form::{self, PostForm};
use crate::components::refresh::use_tick;

const INPUT: &str = "w-full rounded border border-slate-300 bg-white px-2 py-1.5 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100";

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let next = move || use_query_map().get().get("next").unwrap_or_else(|| "/flows".into());
    let extra = crate::api::codec::resource(next, |n| crate::api::rendered::rendered(format!("login?next={n}")));
    view! {
        <Title text="Sign in"/>
        <div class="mx-auto mt-8 max-w-sm rounded-lg border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
            <h1 class="mb-4 text-xl font-semibold">"Sign in to ff-board"</h1>
            <PostForm act=login read=form::login attr:data-testid="login-form">
                <input type="hidden" name="next" value=next/>
                <label class="mb-3 block text-sm">"Username"<input name="username" autocomplete="username" required class=INPUT/></label>
                <label class="mb-4 block text-sm">"Password"<input name="password" type="password" autocomplete="current-password" required class=INPUT/></label>
                <button type="submit" data-testid="login-submit" class="w-full rounded bg-slate-900 px-3 py-2 text-sm font-medium text-white dark:bg-slate-100 dark:text-slate-900">"Sign in"</button>
            </PostForm>
            {move || login.value().get().and_then(|r| r.err()).map(|e| view! { <p data-testid="login-error" role="alert" class="mt-3 text-sm text-red-700">{e.to_string()}</p> })}
            // Single sign-on's button and the demo accounts: server-built
            // HTML (`login_html`), so the bundle carries neither.
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move { extra.await.ok().map(|html| view! { <div inner_html=html></div> }) })}
            </Suspense>
        </div>
    }
}

/// The sign-in page's server-built part: the identity provider's button
/// (`data-testid="sso"`, when single sign-on is on; it comes back to
/// `next`) and the demo accounts (embedded demo only).
#[cfg(feature = "ssr")]
pub fn login_html(sso: Option<String>, demo: &[(String, String, crate::auth::Role)], next: &str) -> String {
    use crate::components::chart::esc;
    let mut out = String::new();
    if let Some(label) = sso {
        out += &format!(
            r#"<a href="/auth/sso?next={}" rel="external" data-testid="sso" class="mt-4 block w-full rounded border border-slate-300 px-3 py-2 text-center text-sm font-medium dark:border-slate-700">{}</a>"#,
            crate::components::text::encode(next),
            esc(&label)
        );
    }
    if !demo.is_empty() {
        out += r#"<div class="mt-6 rounded bg-amber-50 p-3 text-xs text-amber-900 dark:bg-amber-950 dark:text-amber-100" data-testid="demo-accounts"><p class="mb-1 font-semibold">Demo accounts (embedded demo only)</p><ul>"#;
        for (n, p, r) in demo {
            out += &format!("<li><code>{}</code> / <code>{}</code> — {}</li>", esc(n), esc(p), r.as_str());
        }
        out += "</ul></div>";
    }
    out
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let q = use_query_map();
    let tick = use_tick(5000);
    let rows = crate::api::codec::resource(
        move || (q.get().get("user"), q.get().get("action"), q.get().get("target"), tick.get()),
        |(u, a, t, _)| list_audit(u, a, t),
    );
    view! {
        <Title text="Audit"/>
        <div class="mb-4 flex items-end justify-between gap-4">
            <h1 class="text-2xl font-semibold">"Audit log"</h1>
            <form method="get" action="/audit" class="flex items-end gap-2 text-sm">
                {["user", "action", "target"].map(|f| view! {
                    <label class="flex flex-col text-xs text-slate-500">{f}<input name=f value=move || q.get().get(f).unwrap_or_default() class="w-36 rounded border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"/></label>
                }).collect_view()}
                <button class="rounded bg-slate-900 px-3 py-1.5 text-white dark:bg-slate-100 dark:text-slate-900">"Filter"</button>
            </form>
        </div>
        {loaded(rows, None, |rows| view! { <AuditTable rows=rows/> })}
    }
}
