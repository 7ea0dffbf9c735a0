//! The board's data table (and the widgets around a list: a view's
//! columns, the next-page footer, the export links): full width, the shared header row (small grey
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

/// The columns of `all` a view shows: every one when `cols` (the view's
/// comma-separated column keys, `?cols=`) is blank; the first column
/// (the row's id) always.
pub fn shown(all: &[(&'static str, Col)], cols: &str) -> Vec<Col> {
    all.iter().enumerate().filter(|(i, (key, _))| *i == 0 || shows(cols, key)).map(|(_, (_, c))| *c).collect()
}

/// Whether a view of columns `cols` shows the column `key`.
pub fn shows(cols: &str, key: &str) -> bool {
    cols.trim().is_empty() || cols.split(',').any(|c| c.trim() == key)
}

#[component]
pub fn DataTable(#[prop(into)] head: Vec<Col>, children: Children) -> impl IntoView {
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

/// Links to the rows of a list's query as files (`/executions/export.csv?q=…`).
#[component]
pub fn Exports(list: &'static str, q: Signal<String>) -> impl IntoView {
    let href = move |ext: &str| {
        let q = q.get();
        if q.is_empty() { format!("/{list}/export.{ext}") } else { format!("/{list}/export.{ext}?q={}", crate::components::text::encode(&q)) }
    };
    view! {
        <p class="mb-2 text-right text-xs text-slate-500">"Export the query's rows: "
            <a class="underline" rel="external" download=format!("{list}.csv") data-testid="export-csv" href=move || href("csv")>"CSV"</a>" · "
            <a class="underline" rel="external" download=format!("{list}.ndjson") data-testid="export-ndjson" href=move || href("ndjson")>"NDJSON"</a>
        </p>
    }
}
