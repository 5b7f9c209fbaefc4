//! The page for unknown URLs (answered with HTTP 404).

use leptos::prelude::*;
use leptos_meta::Title;

/// Nothing lives at this URL.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main class="auth-page" id="main">
            <div class="auth-card">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address. " <a href="/">"Go to the dashboard"</a></p>
            </div>
        </main>
    }
}
