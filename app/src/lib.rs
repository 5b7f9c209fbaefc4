//! The Scimpad admin console: a Leptos app rendered on the server and hydrated in the browser.
//!
//! Pages live in [`pages`], shared pieces in [`components`], and every server function is thin:
//! it takes the request's signed-in actor, calls a `domain` service and returns a DTO from
//! [`dto`]. Server-only glue sits behind the `ssr` feature in [`server`].

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod dto;
pub mod error;
pub mod pages;
pub mod resource;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod server;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{ParentRoute, Route, Router, Routes},
    path,
};

use crate::{components::layout::ConsoleLayout, pages::*};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    use_the_response_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                // The stylesheet from where the server serves this build's files (`site_pkg_dir`
                // carries their version, so they are cached for good).
                <link rel="stylesheet" id="leptos" href=format!("/{}/scimpad.css", options.site_pkg_dir) />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Makes Leptos write, on every inline `<script>` of this page, the nonce that the server's
/// security-headers middleware put in the request's extensions and in the response's
/// Content-Security-Policy. `leptos_axum` provides a nonce of its own for each render, which is
/// not the one in the header; it stays only where no middleware gave one (a router without it).
#[cfg(feature = "ssr")]
fn use_the_response_nonce() {
    use leptos::nonce::Nonce;
    let nonce =
        use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<Nonce>().cloned());
    if let Some(nonce) = nonce {
        provide_context(nonce);
    }
}

/// The console's routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| format!("{page} · Scimpad") />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/signin") view=SignInPage />
                <Route path=path!("/signup") view=SignUpPage />
                <Route path=path!("/forgot-password") view=ForgotPasswordPage ssr=SsrMode::Async />
                // The pages emailed links open (`domain::email_links`'s paths).
                <Route path=path!("/reset-password") view=ResetPasswordPage ssr=SsrMode::Async />
                <Route path=path!("/confirm-email") view=ConfirmEmailPage />
                <Route path=path!("/invitation") view=InvitationPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=ConsoleLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=DashboardPage />
                    <Route path=path!("users") view=UsersPage />
                    <Route path=path!("users/:id") view=UserDetailPage />
                    <Route path=path!("groups") view=GroupsPage />
                    <Route path=path!("groups/:id") view=GroupDetailPage />
                    <Route path=path!("log") view=ProvisioningLogPage />
                    <Route path=path!("audit") view=AuditLogPage />
                    <Route path=path!("settings/profile") view=ProfilePage />
                    <Route path=path!("settings/api-keys") view=ApiKeysPage />
                    <Route path=path!("settings/sso") view=SsoSettingsPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
