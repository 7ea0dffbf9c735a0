//! The board's data table: full width, the shared header row (small grey
//! capitals over a rule) and rows divided by hairlines. Pages give the
//! column titles and the rows; attributes given to it (`attr:data-testid`)
//! land on the `<table>`.
use leptos::prelude::*;

/// A column: its title and its `<th>` classes (`""` for none; [`R`] for
/// numbers and times). The first column's cell also gets the header's
/// vertical padding.
pub type Col = (&'static str, &'static str);

/// A right-aligned column.
pub const R: &str = "text-right";

#[component]
pub fn DataTable(head: &'static [Col], children: Children) -> impl IntoView {
    let th = head.iter().enumerate().map(|(i, (title, class))| {
        let class = if i == 0 { format!("py-2 {class}").trim_end().to_owned() } else { (*class).to_owned() };
        view! { <th class=(!class.is_empty()).then_some(class)>{*title}</th> }
    });
    view! {
        <table class="w-full text-sm">
            <thead class="border-b border-slate-200 text-left text-xs uppercase text-slate-500 dark:border-slate-800">
                <tr>{th.collect_view()}</tr>
            </thead>
            <tbody class="divide-y divide-slate-100 dark:divide-slate-800">{children()}</tbody>
        </table>
    }
}

/// The link to a list's next page.
#[component]
pub fn NextPage(href: String) -> impl IntoView {
    view! { <a data-testid="next-page" class="text-blue-700 hover:underline dark:text-blue-300" href=href>"Next page →"</a> }
}

/// Under a list: why the page may hold fewer rows than asked (or how it
/// is ordered), and the link to the next page.
#[component]
pub fn Footer(note: String, next: Option<String>) -> impl IntoView {
    view! {
        <div class="mt-3 flex justify-between text-sm text-slate-500">
            <span data-testid="page-note">{note}</span>
            {next.map(|href| view! { <NextPage href=href/> })}
        </div>
    }
}
