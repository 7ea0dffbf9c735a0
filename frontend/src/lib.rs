//! The hydrate entry point: attaches the SSR-rendered app in the browser.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Panic messages in the console for debug builds only: the hook and
    // its formatting cost the release bundle ~10 KB brotli.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(ff_board_app::App);
}
