//! The hydrate entry point: attaches the SSR-rendered app in the browser.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(ff_board_app::App);
}
