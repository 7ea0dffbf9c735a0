//! ff-board's Leptos app: the routes, the page shell, and the modules the
//! server and the browser share.
//!
//! - [`api`]: server functions by domain, next to the serde types the
//!   browser sees (no `ff-*` type ever reaches the wasm build);
//! - [`pages`]: one file per route; [`components`]: shared widgets;
//! - [`error`]: the one [`error::AppError`] every server function returns.
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

pub mod api;
pub mod auth;
pub mod components;
pub mod error;
pub mod live;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod proxy;
#[cfg(feature = "ssr")]
pub mod security;
#[cfg(feature = "ssr")]
pub mod state;

use components::layout::Layout;
use pages::*;

/// The Content-Security-Policy of a page: scripts only with this
/// response's nonce (the theme script, the hydration loader, streamed
/// resources) and what they load (`strict-dynamic`), wasm compiled from
/// the board's own module, everything else from the board itself.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
    )
}

/// The HTML document around the app (rendered on the server only). It
/// sets the page's CSP with this response's nonce.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    #[cfg(feature = "ssr")]
    if let (Some(n), Some(res)) = (nonce.as_ref(), use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(v) = http::HeaderValue::from_str(&page_csp(n)) {
            res.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <script nonce=nonce>
                    "try{var t=localStorage.getItem('ffb-theme');if(t==='dark'||(!t&&matchMedia('(prefers-color-scheme: dark)').matches))document.documentElement.classList.add('dark')}catch(e){}"
                </script>
                // Hashed name in optimized builds (pkg/ff-board.<hash>.css).
                <HashedStylesheet options=options.clone() id="leptos"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="bg-slate-50 text-slate-900 dark:bg-slate-950 dark:text-slate-100">
                <App/>
            </body>
        </html>
    }
}

/// The routed app.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    components::live::provide_live();
    view! {
        <Title formatter=|t: String| if t.is_empty() { "ff-board".to_owned() } else { format!("{t} · ff-board") }/>
        <Router>
            <Layout>
                <Routes fallback=|| view! { <NotFoundPage/> }>
                    <Route path=path!("/") view=OverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/overview") view=OverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/flows") view=FlowsPage ssr=SsrMode::Async/>
                    <Route path=path!("/flows/:flow_id") view=FlowPage ssr=SsrMode::Async/>
                    <Route path=path!("/executions") view=ExecutionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/executions/:execution_id") view=ExecutionPage ssr=SsrMode::Async/>
                    <Route path=path!("/approvals") view=ApprovalsPage ssr=SsrMode::Async/>
                    <Route path=path!("/budgets") view=BudgetsPage ssr=SsrMode::Async/>
                    <Route path=path!("/budgets/:budget_id") view=BudgetPage ssr=SsrMode::Async/>
                    <Route path=path!("/leases") view=LeasesPage ssr=SsrMode::Async/>
                    <Route path=path!("/workers") view=WorkersPage ssr=SsrMode::Async/>
                    <Route path=path!("/quotas") view=QuotasPage ssr=SsrMode::Async/>
                    <Route path=path!("/repair") view=RepairPage ssr=SsrMode::Async/>
                    <Route path=path!("/lanes") view=LanesPage ssr=SsrMode::Async/>
                    <Route path=path!("/status") view=StatusPage ssr=SsrMode::Async/>
                    <Route path=path!("/live") view=LivePage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/jump") view=JumpPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}
