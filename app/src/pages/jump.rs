//! /jump?id=…: the jump box's target. Goes to the page of the flow,
//! execution or waitpoint the id names (a redirect, so it works without
//! wasm), or says why it cannot.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::jump::jump;
use crate::components::feedback::{ErrorPanel, Loading};

#[component]
pub fn JumpPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let id = move || query.get().get("id").unwrap_or_default();
    let target = crate::api::codec::resource(id, jump);
    view! {
        <Title text="Jump to id"/>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match target.await {
                    Ok(href) => view! { <Redirect path=href/> }.into_any(),
                    Err(e) => view! {
                        <h1 class="mb-4 text-2xl font-semibold">"Jump to id"</h1>
                        <ErrorPanel error=e/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
