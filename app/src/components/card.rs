//! Boxes of a page: a card (a white, rounded, bordered `<section>`;
//! attributes given to it, `attr:data-testid`, land on the section) and a
//! fact of a facts list (a label over its value, in a `<dl>`).
use leptos::prelude::*;

/// The card's own classes, for the few boxes that are not sections.
pub const CARD: &str = "rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900";

/// A card; `class` adds padding and layout (`"p-4"`, `"p-3 overflow-x-auto"`).
#[component]
pub fn Card(#[prop(optional)] class: &'static str, children: Children) -> impl IntoView {
    view! { <section class=format!("{CARD} {class}")>{children()}</section> }
}

/// One fact of a `<dl>`: `label` over the value; `class` and `testid` go
/// on the value.
#[component]
pub fn Fact(
    label: &'static str,
    #[prop(optional)] class: &'static str,
    #[prop(optional)] testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! { <div><dt class="text-xs text-slate-500">{label}</dt><dd class=(!class.is_empty()).then_some(class) data-testid=testid>{children()}</dd></div> }
}
