//! /status (backend family, version, lane discovery and the `Supports`
//! table; rendered on the server, `api::rendered`) and the 404 page of
//! unknown routes.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::feedback::{set_status, titled};

#[component]
pub fn StatusPage() -> impl IntoView {
    let data = crate::api::codec::resource(|| (), |_| crate::api::rendered::rendered("status".into()));
    titled("Status", data, |html| view! { <div inner_html=html></div> })
}

/// The page's HTML, from its data.
#[cfg(feature = "ssr")]
pub fn html(s: crate::api::status::StatusView) -> String {
    use crate::components::card::Fact;
    view! {
        <dl class="mb-6 grid grid-cols-2 gap-4 text-sm sm:grid-cols-4">
            <Fact label="Backend" class="font-mono">{s.info.backend.clone()}</Fact>
            <Fact label="Engine" testid="engine-version">{s.info.version.clone().unwrap_or_default()}</Fact>
            <Fact label="Flow partitions" class="tabular-nums">{s.partitions}</Fact>
            <Fact label="Health">{if s.info.connected { "backend answers ping".to_owned() } else { s.info.error.clone().unwrap_or_default() }}</Fact>
            {s.lane_discovery.map(|(percent, passes)| view! {
                <Fact label="Lane discovery" testid="lane-discovery">{format!("{passes} pass(es), {percent} % into the next")}</Fact>
                <Fact label="Lanes outside the registry" testid="lanes-outside">{if s.lanes_outside.is_empty() { "none".to_owned() } else { s.lanes_outside.join(", ") }}</Fact>
            })}
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
    }
    .into_view()
    .to_html()
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
