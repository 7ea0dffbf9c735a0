//! /status (backend family, version and the `Supports` table) and the 404
//! page of unknown routes.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::status::get_status;
use crate::components::feedback::{set_status, ErrorPanel, Loading};

#[component]
pub fn StatusPage() -> impl IntoView {
    let data = crate::api::codec::resource(|| (), |_| get_status());
    view! {
        <Title text="Status"/>
        <h1 class="mb-4 text-2xl font-semibold">"Status"</h1>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    Ok(s) => view! {
                        <dl class="mb-6 grid grid-cols-2 gap-4 text-sm sm:grid-cols-4">
                            <div><dt class="text-xs text-slate-500">"Backend"</dt><dd class="font-mono">{s.info.backend.clone()}</dd></div>
                            <div><dt class="text-xs text-slate-500">"Engine"</dt><dd data-testid="engine-version">{s.info.version.clone().unwrap_or_default()}</dd></div>
                            <div><dt class="text-xs text-slate-500">"Flow partitions"</dt><dd class="tabular-nums">{s.partitions}</dd></div>
                            <div><dt class="text-xs text-slate-500">"Health"</dt><dd>{if s.info.connected { "backend answers ping".to_owned() } else { s.info.error.clone().unwrap_or_default() }}</dd></div>
                        </dl>
                        <h2 class="mb-2 text-lg font-semibold">"Supports"</h2>
                        <ul class="grid gap-x-6 gap-y-1 text-sm sm:grid-cols-3" data-testid="supports">
                            {s.supports.into_iter().map(|(k, v)| view! {
                                <li data-testid="support" data-supported=v.to_string() class="flex justify-between border-b border-slate-100 py-1 dark:border-slate-800">
                                    <span class="font-mono text-xs">{k}</span>
                                    <span class=if v { "text-green-700 dark:text-green-400" } else { "text-slate-600 dark:text-slate-400" }>{if v { "✓ yes" } else { "✕ no" }}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    set_status(404);
    view! {
        <Title text="Not found"/>
        <div data-testid="error" data-status="404" class="rounded-lg border border-slate-300 p-6">
            <p class="font-semibold">"404 · No such page"</p>
            <p class="mt-1 text-sm text-slate-500">"Try "<a class="text-blue-700 underline" href="/flows">"Flows"</a>"."</p>
        </div>
    }
}
