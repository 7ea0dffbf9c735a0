//! Saved views in the sidebar: the user's views and the shared ones, each
//! a link with its capped count (`data-testid="saved-view"`), a delete
//! button where the user may delete it, and on a list (executions or
//! flows) the form that saves its current query and columns.
//!
//! The panel is rendered on the server (`api::views::views_panel`) and
//! shown as HTML, refreshed on every navigation and every 30 s: its forms
//! are plain form posts (the server function answers with a redirect back,
//! an error with the page's error banner), so the panel costs the bundle a
//! resource of text, not a component tree per view.
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::views::views_panel;
use crate::components::refresh::use_tick;

/// The sidebar's saved views.
#[component]
pub fn SavedViews() -> impl IntoView {
    let loc = use_location();
    let tick = use_tick(30_000);
    let panel = crate::api::codec::resource(move || (loc.pathname.get(), loc.search.get(), tick.get()), |(path, search, _)| views_panel(path, search));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                panel.await.ok().map(|html| view! { <div class="mt-6 hidden peer-checked:block md:block" data-testid="saved-views" inner_html=html></div> })
            })}
        </Transition>
    }
}
