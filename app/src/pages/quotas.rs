//! /quotas: quota policies with their windows, caps and current use;
//! rendered on the server (`api::rendered`, page `quotas`).
use leptos::prelude::*;

use crate::components::feedback::titled;
use crate::components::refresh::use_tick;

#[component]
pub fn QuotasPage() -> impl IntoView {
    let tick = use_tick(5_000);
    let data = crate::api::codec::resource(move || tick.get(), |_| crate::api::rendered::rendered("quotas".into()));
    titled("Quotas", data, |html| view! { <div inner_html=html></div> })
}
