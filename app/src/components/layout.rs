//! The page frame: left navigation (current page marked), and a header with
//! the backend badge (a loud "dev backend" for SQLite), the backend-down
//! banner (shown while the backend is unreachable, cleared when it answers
//! again) and the dark-mode toggle.
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::status::{get_board_info, BoardInfo};
use crate::error::AppError;
use crate::components::live::LiveIndicator;
use crate::components::refresh::use_tick;
use crate::components::shortcuts::{JumpBox, Shortcuts};

const NAV: &[(&str, &str)] = &[
    ("/overview", "Overview"),
    ("/flows", "Flows"),
    ("/approvals", "Approvals"),
    ("/executions", "Executions"),
    ("/leases", "Leases"),
    ("/workers", "Workers"),
    ("/budgets", "Budgets"),
    ("/quotas", "Quotas"),
    ("/lanes", "Lanes"),
    ("/live", "Live"),
    ("/audit", "Audit"),
    ("/repair", "Repair"),
    ("/status", "Status"),
];

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let tick = use_tick(3000);
    let info = crate::api::codec::resource(move || tick.get(), |_| get_board_info());
    let path = use_location().pathname;
    view! {
        // Below 768 px the sidebar folds into a menu: a checkbox and its
        // label open it, so it works before (and without) wasm.
        <div class="flex min-h-screen flex-col md:flex-row">
            <nav class="w-full shrink-0 border-b border-slate-200 bg-white px-3 py-2 md:w-52 md:border-b-0 md:border-r md:py-4 dark:border-slate-800 dark:bg-slate-900" aria-label="main">
                <div class="flex items-center justify-between md:mb-6">
                    <a href="/" class="block px-2 text-lg font-bold tracking-tight">"ff-board"</a>
                    <label for="nav-toggle" data-testid="nav-menu" class="cursor-pointer rounded border border-slate-300 px-3 py-1 text-sm md:hidden dark:border-slate-700">"☰ Menu"</label>
                </div>
                <input type="checkbox" id="nav-toggle" class="peer sr-only" aria-label="show the navigation"/>
                <ul class="mt-2 hidden space-y-0.5 peer-checked:block md:mt-0 md:block">
                    {NAV.iter().map(|(href, label)| {
                        let href = *href;
                        let current = move || {
                            let p = path.get();
                            p == href || p.starts_with(&format!("{href}/")) || (href == "/overview" && p == "/")
                        };
                        view! {
                            <li>
                                <a href=href data-testid=format!("nav-{}", &href[1..])
                                    aria-current=move || current().then_some("page")
                                    class=move || if current() {
                                        "block rounded px-2 py-1.5 text-sm font-semibold bg-slate-900 text-white dark:bg-slate-100 dark:text-slate-900"
                                    } else {
                                        "block rounded px-2 py-1.5 text-sm text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
                                    }>{*label}</a>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <crate::components::views::SavedViews/>
            </nav>
            <div class="min-w-0 flex-1">
                <header class="flex flex-wrap items-center gap-x-2.5 gap-y-2 border-b border-slate-200 bg-white px-3 py-2 md:px-6 dark:border-slate-800 dark:bg-slate-900">
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            match info.await {
                                Ok(i) => view! { <Badge info=i/> }.into_any(),
                                Err(e) => view! { <span class="text-sm text-red-700">{e.to_string()}</span> }.into_any(),
                            }
                        })}
                    </Transition>
                    <div class="flex-1"></div>
                    <JumpBox/>
                    <LiveIndicator/>
                    <UserMenu/>
                    <ThemeToggle/>
                    <Shortcuts/>
                </header>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        info.await.ok().filter(|i| !i.connected).map(|i| view! {
                            <div data-testid="backend-banner" role="alert" class="border-b border-red-300 bg-red-50 px-6 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
                                <strong>"Backend unavailable: "</strong>{i.backend.clone()}" — "{i.error.clone().unwrap_or_default()}
                                <span class="text-red-700 dark:text-red-300">" · retrying"</span>
                            </div>
                        })
                    })}
                </Transition>
                <FormError/>
                // Wide tables scroll sideways inside the page, never off it.
                <main class="mx-auto max-w-7xl overflow-x-auto px-3 py-4 md:px-6 md:py-6">{children()}</main>
            </div>
        </div>
    }
}

#[component]
fn Badge(info: BoardInfo) -> impl IntoView {
    let label = info.version.clone().unwrap_or_else(|| info.kind.clone());
    view! {
        <span data-testid="backend-badge" class="rounded bg-slate-100 px-2 py-0.5 font-mono text-xs dark:bg-slate-800" title=info.backend.clone()>{label}</span>
        {info.dev_backend.then(|| view! {
            <span data-testid="dev-badge" class="rounded bg-amber-400 px-2 py-0.5 text-xs font-bold uppercase text-amber-950">"dev backend"</span>
        })}
        {info.embedded_demo.then(|| view! {
            <span class="text-xs text-slate-500">"demo workload running"</span>
        })}
        <span class=if info.connected { "text-xs text-green-700 dark:text-green-400" } else { "text-xs text-red-700" }>
            {if info.connected { "● backend ok" } else { "● backend down" }}
        </span>
    }
}

/// The signed-in user and role, with sign-out (a plain form post).
#[component]
fn UserMenu() -> impl IntoView {
    // Keyed on the path: signing in or out navigates, and the menu follows.
    let path = use_location().pathname;
    let me = crate::api::codec::resource(move || path.get(), |_| crate::api::session::get_me());
    let logout = ServerAction::<crate::api::session::Logout>::new();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await.ok().and_then(|m| m.actor) {
                    Some(a) => view! {
                        <span data-testid="user" class="text-sm">{a.user.clone()}<span class="ml-1 rounded bg-slate-100 px-1.5 text-xs dark:bg-slate-800">{a.role.as_str()}</span></span>
                        <crate::components::form::PostForm act=logout read=crate::components::form::logout><button type="submit" data-testid="logout" class="text-xs text-slate-500 hover:underline">"Sign out"</button></crate::components::form::PostForm>
                    }.into_any(),
                    None => view! { <a href="/login" data-testid="sign-in" class="text-sm text-blue-700 hover:underline dark:text-blue-300">"Sign in"</a> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ThemeToggle() -> impl IntoView {
    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let dark = root.class_list().toggle("dark").unwrap_or(false);
            if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
                let _ = s.set_item("ffb-theme", if dark { "dark" } else { "light" });
            }
        }
    };
    view! {
        <button type="button" data-testid="theme-toggle" on:click=toggle class="rounded px-2 py-1 text-sm text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800" title="toggle dark mode">"◐"</button>
    }
}

/// Without wasm, a form post that the server refuses redirects back here
/// with the error in the URL (`__err`, server_fn's form-redirect encoding):
/// show it where the operator is looking.
#[component]
fn FormError() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    move || {
        let q = query.get();
        let err = q.get("__err")?;
        let error = leptos::server_fn::error::ServerFnUrlError::<AppError>::decode_err(&err);
        Some(view! {
            <div data-testid="form-error" role="alert" class="border-b border-red-300 bg-red-50 px-6 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
                <strong>"Your last action did not go through: "</strong>{error.to_string()}
            </div>
        })
    }
}
