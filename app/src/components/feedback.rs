//! Error, empty and "not supported" states. An error panel also sets the
//! page's HTTP status during SSR (400 / 404 / 501 / 503 / 502 / 504 / 500).
use leptos::prelude::*;

use crate::api::executions::Field;
use crate::error::AppError;

/// Set the HTTP status of the SSR response (no-op in the browser).
pub fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(s) = http::StatusCode::from_u16(code) {
            r.set_status(s);
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

/// A full error panel naming what failed.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    set_status(error.status());
    let title = match &error {
        AppError::BadRequest(_) => "Bad request",
        AppError::Unauthorized(_) => "Sign in required",
        AppError::Forbidden(_) => "Forbidden",
        AppError::NotFound { .. } => "Not found",
        AppError::Conflict { .. } => "Refused in the current state",
        AppError::NoEffect(_) => "Nothing happened",
        AppError::Unsupported { .. } => "Not supported by this backend",
        AppError::BackendDown { .. } => "Backend unavailable",
        AppError::Engine { .. } => "Engine call failed",
        AppError::Store { .. } => "Board store failed",
        AppError::Timeout { .. } => "Backend too slow",
        AppError::TooMany(_) => "Too many attempts",
        AppError::Transport(_) => "Request failed",
    };
    view! {
        <div data-testid="error" data-status=error.status() class="rounded-lg border border-red-300 bg-red-50 p-4 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
            <p class="font-semibold">{error.status()}" · "{title}</p>
            <p class="mt-1 text-sm">{error.to_string()}</p>
        </div>
    }
}

/// An empty state: why it is empty and what to do.
#[component]
pub fn Empty(#[prop(into)] title: String, #[prop(into)] hint: String) -> impl IntoView {
    view! {
        <div data-testid="empty" class="rounded-lg border border-dashed border-slate-300 p-8 text-center dark:border-slate-700">
            <p class="font-medium">{title}</p>
            <p class="mt-1 text-sm text-slate-500">{hint}</p>
        </div>
    }
}

/// The one line saying a part of a page has nothing to show.
#[component]
pub fn Nothing(text: &'static str) -> impl IntoView {
    view! { <p class="text-sm text-slate-500">{text}</p> }
}

/// `rows` through `render`, or the line `none` when there are none.
pub fn rows_or<T, V: IntoView + 'static>(rows: Vec<T>, none: &'static str, render: impl FnOnce(Vec<T>) -> V) -> AnyView {
    if rows.is_empty() {
        view! { <Nothing text=none/> }.into_any()
    } else {
        render(rows).into_any()
    }
}

/// Render an optional read: its value, or "not supported by this backend".
pub fn field_view<T: Clone + 'static, V: IntoView + 'static>(f: &Field<T>, render: impl FnOnce(T) -> V) -> AnyView {
    match f.clone() {
        Field::Value(v) => render(v).into_any(),
        Field::Unsupported(op) => view! {
            <p class="text-sm italic text-slate-500" data-testid="unsupported">"not supported by this backend ("{op}")"</p>
        }
        .into_any(),
        Field::Failed(e) => view! { <p class="text-sm text-red-700">"read failed: "{e}</p> }.into_any(),
    }
}

/// A page's read: "Loading…" at first, then the error panel (titled
/// `title` when the page names itself only once it has read) or `ok` of
/// the value; a refresh swaps the content without a flash.
pub fn loaded<T, V>(
    data: Resource<Result<T, AppError>, crate::api::codec::Postcard>,
    title: Option<&'static str>,
    ok: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let ok = std::sync::Arc::new(ok);
    view! {
        <Transition fallback=Loading>
            {move || {
                let ok = ok.clone();
                Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { {title.map(|t| view! { <leptos_meta::Title text=t/> })}<ErrorPanel error=e/> }.into_any(),
                        Ok(v) => ok(v).into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// A page that names itself `title` (tab and heading) and shows one read.
pub fn titled<T, V>(
    title: &'static str,
    data: Resource<Result<T, AppError>, crate::api::codec::Postcard>,
    ok: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <leptos_meta::Title text=title/>
        <h1 class="mb-4 text-2xl font-semibold">{title}</h1>
        {loaded(data, None, ok)}
    }
}

/// Pending resource placeholder.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="animate-pulse text-sm text-slate-500">"Loading…"</p> }
}
