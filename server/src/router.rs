//! The HTTP router: every route and the middleware stack, in one place.
//!
//! Outermost first: request id → trace span → request id on the response → CSRF guard →
//! session cookie → authentication → handlers (health, SCIM, SSO, console pages, server
//! functions, assets). SCIM has its own bearer-token gate and never touches the session.

use axum::{Router, middleware::from_fn_with_state, routing::get};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

use crate::{auth, csrf, health, scim_api, sso, state::AppState, telemetry};

/// The session cookie's name; `__Host-` (Secure, Path=/, no Domain) whenever it is Secure.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-scimpad" } else { "scimpad" }
}

/// Builds the whole application router over `state`.
pub fn build_router(state: AppState) -> Router {
    let secure = state.config.raw.secure_cookies;
    let sessions = SessionManagerLayer::new(state.sessions.clone())
        .with_name(session_cookie_name(secure))
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(auth::IDLE_TIMEOUT));
    let context = state.app_context();
    let options = state.leptos.clone();

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest(scim_api::BASE_PATH, scim_api::router(state.clone()))
        .merge(sso::router())
        .leptos_routes_with_context(
            &state,
            generate_route_list(app::App),
            move || provide_context(context.clone()),
            move || app::shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(from_fn_with_state(state.clone(), auth::authenticate))
        .layer(sessions)
        .layer(from_fn_with_state(state.clone(), csrf::guard))
        .layer(telemetry::propagate_request_id())
        .layer(telemetry::trace_layer())
        .layer(telemetry::set_request_id())
        .with_state(state)
}
