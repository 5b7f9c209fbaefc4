//! The browser entry point: hydrates the server-rendered console, then marks `<body>` with
//! `data-hydrated="true"` so end-to-end tests know clicks will be handled.

use leptos::prelude::*;

/// Called by the generated JS glue once the wasm module is loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
