//! The HTTP router: every route and the middleware stack, in one place.
//!
//! Outermost first: request id → trace span → request id on the response → security headers
//! (`security_headers`) → compression → panic catcher →
//! CSRF guard → session cookie → client address and user agent (`client_addr`) → authentication
//! → NUL guard (`nul_guard`) → handlers (health, SCIM, SSO, the console's CSV exports, console
//! pages, server functions, assets). SCIM has its own bearer-token gate and never touches the session.
//!
//! A handler that panics must not drop the connection (Entra retries a dropped SCIM request as if
//! nothing had been answered, a browser shows a network error): the panic is logged with the
//! request's span and answered 500 — an RFC 7644 §3.12 error under `/scim/v2`, a short page
//! elsewhere — without the panic message, which may carry internals.

use std::{any::Any, sync::OnceLock};

use axum::{
    Router,
    extract::Request,
    http::{StatusCode, header},
    middleware::{Next, from_fn, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::get,
};
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use scim::ScimError;
use tower_http::{catch_panic::CatchPanicLayer, compression::CompressionLayer};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

use crate::{
    auth, csrf, export, health, metrics, nul_guard, scim_api, scim_api::wire::ScimFailure, security_headers,
    security_headers::SecurityHeaders, sso, state::AppState, telemetry,
};

/// The session cookie's name; `__Host-` (Secure, Path=/, no Domain) whenever it is Secure.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-scimpad" } else { "scimpad" }
}

/// Builds the whole application router over `state`.
pub fn build_router(state: AppState) -> Router {
    with_middleware(routes(&state), state)
}

/// The console's routes, generated once per process. Generating them renders the app with resource
/// loading suppressed by a process-global flag (leptos_server's `SuppressResourceLoad`), and a page
/// whose resource is first polled meanwhile, in any other server of the process, waits for good
/// (leptos-rs/leptos#4773): a test binary that starts servers while others serve pages hung on
/// about one run in ten. The list depends on nothing but the app, so every router shares it.
fn console_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// Every route: health, SCIM, SSO, CSV exports, console pages and server functions, and the asset
/// fallback.
pub fn routes(state: &AppState) -> Router<AppState> {
    let context = state.app_context();
    let options = state.leptos.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .route(scim_api::limits_page::PATH, get(scim_api::limits_page::page))
        .route("/readyz", get(health::readyz))
        .route(metrics::PATH, get(metrics::scrape_with_token))
        .nest(scim_api::BASE_PATH, scim_api::router(state.clone()))
        .merge(sso::router())
        .merge(export::router())
        .merge(state.assets.routes())
        .leptos_routes_with_context(
            state,
            console_routes(),
            move || provide_context(context.clone()),
            move || app::shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
}

/// Wraps `routes` — merged and nested ones included — in the whole middleware stack. Public so
/// that tests can serve routes of their own (one that panics, say) exactly as production does.
pub fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    let secure = state.config.raw.secure_cookies;
    let sessions = SessionManagerLayer::new(state.sessions.clone())
        .with_name(session_cookie_name(secure))
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(auth::IDLE_TIMEOUT));
    let headers = SecurityHeaders::new(&state.config.public_url, secure);
    routes
        .layer(from_fn(nul_guard::refuse))
        .layer(from_fn_with_state(state.clone(), auth::authenticate))
        .layer(from_fn_with_state(state.clone(), crate::client_addr::attach))
        .layer(sessions)
        .layer(from_fn_with_state(state.clone(), csrf::guard))
        .layer(CatchPanicLayer::custom(answer_panic))
        .layer(from_fn(scim_panic_body))
        .layer(from_fn_with_state(headers, security_headers::apply))
        // Pages, server-function answers and SCIM JSON, by what the client accepts; the static
        // files are compressed at build (`assets`) and pass through as they are.
        .layer(CompressionLayer::new())
        .layer(telemetry::propagate_request_id())
        .layer(from_fn(telemetry::remember_span))
        .layer(telemetry::trace_layer())
        .layer(telemetry::set_request_id())
        .with_state(state)
}

/// Marks the response [`answer_panic`] made, so [`scim_panic_body`] (which knows the path) can
/// give it the body a SCIM client reads.
#[derive(Clone, Copy, Debug)]
struct Panicked;

/// What a browser gets when a console request panicked.
const PANIC_PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Server error</title></head>\
<body><h1>Something went wrong on our side</h1><p>The error has been logged. Please try again, or go back to \
<a href=\"/\">the dashboard</a>.</p></body></html>";

/// Logs a handler's panic (in the request's span, so with its request id) and answers 500.
fn answer_panic(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "request handler panicked");
    let mut response = (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
        PANIC_PAGE,
    )
        .into_response();
    response.extensions_mut().insert(Panicked);
    response
}

/// Under `/scim/v2`, turns the panic page into an RFC 7644 §3.12 error.
async fn scim_panic_body(request: Request, next: Next) -> Response {
    let scim = is_scim(request.uri().path());
    let response = next.run(request).await;
    if scim && response.extensions().get::<Panicked>().is_some() {
        return ScimFailure(ScimError::internal(
            "the server failed while handling this request; it has been logged",
        ))
        .into_response();
    }
    response
}

/// Whether `path` is the SCIM API's.
pub(crate) fn is_scim(path: &str) -> bool {
    path.strip_prefix(scim_api::BASE_PATH).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::is_scim;

    #[test]
    fn scim_paths_are_those_under_the_base_path() {
        assert!(is_scim("/scim/v2"));
        assert!(is_scim("/scim/v2/Users/1"));
        assert!(!is_scim("/scim/v2x"));
        assert!(!is_scim("/users"));
        assert!(!is_scim("/api/list_users"));
    }
}
