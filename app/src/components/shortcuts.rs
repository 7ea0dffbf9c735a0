//! Keyboard shortcuts and the jump box: `/` focuses the jump box (any
//! flow, execution or waitpoint id), `g o` / `g f` / `g a` / `g e` / `g l`
//! / `g b` / `g s` go to overview / flows / approvals / executions / live /
//! budgets / status,
//! `?` lists them. Keys typed into a field are left alone. The jump box
//! and the list also work without wasm (a GET form; an invoker-command
//! button), the keys need it.
use leptos::prelude::*;

/// Where `g <key>` goes.
pub const GO: [(&str, &str, &str); 7] = [
    ("o", "/overview", "Overview"),
    ("f", "/flows", "Flows"),
    ("a", "/approvals", "Approvals"),
    ("e", "/executions", "Executions"),
    ("l", "/live", "Live"),
    ("b", "/budgets", "Budgets"),
    ("s", "/status", "Status"),
];

/// The jump box (header).
#[component]
pub fn JumpBox() -> impl IntoView {
    view! {
        <form action="/jump" method="get" role="search" class="w-full md:w-48 2xl:w-64">
            <label for="jump" class="sr-only">"Jump to a flow, execution or waitpoint id, or search executions"</label>
            <input id="jump" name="id" type="search" data-testid="jump" maxlength="512" autocomplete="off"
                placeholder="Jump to id or query…   /"
                class="w-full rounded border border-slate-300 bg-white px-2 py-1 font-mono text-xs text-slate-900 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"/>
        </form>
    }
}

/// The `?` button, the shortcut list and (with wasm) the key handling.
#[component]
pub fn Shortcuts() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    listen();
    let kbd = "rounded border border-slate-300 bg-slate-100 px-1.5 font-mono text-xs dark:border-slate-700 dark:bg-slate-800";
    view! {
        <button type="button" commandfor="shortcuts" command="show-modal" data-testid="shortcuts-open" aria-label="Keyboard shortcuts"
            class="rounded border border-slate-300 px-2 py-0.5 text-xs dark:border-slate-700">"?"</button>
        <dialog id="shortcuts" data-testid="shortcuts" aria-labelledby="shortcuts-title"
            class="m-auto w-[min(24rem,calc(100vw-2rem))] rounded-lg border border-slate-300 bg-white p-4 text-slate-900 shadow-xl backdrop:bg-slate-950/50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100">
            <div class="mb-3 flex items-center justify-between">
                <h2 id="shortcuts-title" class="text-base font-semibold">"Keyboard shortcuts"</h2>
                <button type="button" commandfor="shortcuts" command="close" aria-label="Close" class="px-2 text-lg leading-none text-slate-500">"×"</button>
            </div>
            <dl class="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
                <dt><kbd class=kbd>"/"</kbd></dt><dd>"Jump to a flow, execution or waitpoint id"</dd>
                {GO.iter().map(|(k, _, label)| view! {
                    <dt><kbd class=kbd>"g"</kbd>" "<kbd class=kbd>{*k}</kbd></dt><dd>{format!("Go to {label}")}</dd>
                }).collect_view()}
                <dt><kbd class=kbd>"?"</kbd></dt><dd>"This list"</dd>
                <dt><kbd class=kbd>"Esc"</kbd></dt><dd>"Close a dialog"</dd>
            </dl>
        </dialog>
    }
}

#[cfg(feature = "hydrate")]
fn listen() {
    use wasm_bindgen::JsCast;
    let navigate = leptos_router::hooks::use_navigate();
    // When `g` was pressed (ms), waiting for its second key.
    let pending = StoredValue::new(None::<f64>);
    let handle = window_event_listener(leptos::ev::keydown, move |ev: web_sys::KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let typing = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.has_attribute("contenteditable")
        });
        if typing {
            return;
        }
        let key = ev.key();
        let now = js_sys::Date::now();
        if pending.get_value().is_some_and(|t| now - t < 1500.0) {
            pending.set_value(None);
            if let Some((_, to, _)) = GO.iter().find(|(k, _, _)| *k == key) {
                ev.prevent_default();
                navigate(to, Default::default());
            }
            return;
        }
        let document = || web_sys::window().and_then(|w| w.document());
        match key.as_str() {
            "/" => {
                ev.prevent_default();
                if let Some(input) = document()
                    .and_then(|d| d.get_element_by_id("jump"))
                    .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                {
                    let _ = input.focus();
                }
            }
            "?" => {
                if let Some(dialog) = document()
                    .and_then(|d| d.get_element_by_id("shortcuts"))
                    .and_then(|e| e.dyn_into::<web_sys::HtmlDialogElement>().ok())
                {
                    let _ = dialog.show_modal();
                }
            }
            "g" => pending.set_value(Some(now)),
            _ => {}
        }
    });
    // Copy buttons (`data-copy`, `components::text::Id`): one listener.
    let copy = window_event_listener(leptos::ev::click, |ev: web_sys::MouseEvent| {
        let button = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).and_then(|el| el.closest("[data-copy]").ok().flatten());
        if let (Some(b), Some(w)) = (button, web_sys::window()) {
            if let Some(text) = b.get_attribute("data-copy") {
                let _ = w.navigator().clipboard().write_text(&text);
            }
        }
    });
    on_cleanup(move || {
        handle.remove();
        copy.remove();
    });
}
