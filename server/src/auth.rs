//! Console authentication: turns the session cookie into the request's [`Actor`].
//!
//! On every console request the session's user is loaded again and must still be active, so a
//! person deactivated or deleted (by an admin or by SCIM) loses access on their very next request,
//! not when their cookie expires. Sessions also have an absolute lifetime on top of tower-sessions'
//! idle expiry (OWASP Session Management Cheat Sheet). Console pages without a session redirect to
//! the sign-in page; the server functions check the actor themselves.

use axum::{
    extract::{Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use domain::{
    accounts::{self, Actor},
    clock::now_ms,
    origin::{Client, Origin},
    session_store::{SIGNED_IN_AT_KEY, USER_ID_KEY},
};
use tower_sessions::Session;

use crate::state::AppState;

/// Idle timeout of a console session.
pub const IDLE_TIMEOUT: time::Duration = time::Duration::hours(8);
/// Longest a session lives after sign-in, however active.
pub const ABSOLUTE_LIFETIME_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Paths that never touch the console session (machine clients, static assets).
fn is_sessionless(path: &str) -> bool {
    ["/pkg/", "/scim/", "/healthz", "/readyz", crate::metrics::PATH, "/favicon.svg"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// Pages for a visitor without a session: someone signed in goes to the console instead.
fn is_public_page(path: &str) -> bool {
    matches!(path, "/signin" | "/signup" | "/forgot-password")
}

/// Pages that emailed links open: they work with or without a session (the link is the
/// credential; someone signed in may confirm their address from the same browser).
fn is_link_page(path: &str) -> bool {
    use domain::email_links::{CONFIRM_EMAIL_PATH, INVITATION_PATH, RESET_PASSWORD_PATH};
    [CONFIRM_EMAIL_PATH, RESET_PASSWORD_PATH, INVITATION_PATH].contains(&path)
}

/// Loads the signed-in actor of `session`, ending the session if its person is gone, deactivated
/// or the session is past its absolute lifetime.
async fn current_actor(
    state: &AppState,
    session: &Session,
    origin: Origin,
) -> Result<Option<Actor>, Response> {
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "session lookup failed");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    };
    let user_id: Option<String> = session.get(USER_ID_KEY).await.map_err(|e| internal(&e))?;
    let Some(user_id) = user_id else { return Ok(None) };
    let signed_in_at: i64 = session.get(SIGNED_IN_AT_KEY).await.map_err(|e| internal(&e))?.unwrap_or(0);
    let actor = if now_ms() - signed_in_at > ABSOLUTE_LIFETIME_MS {
        None
    } else {
        accounts::load_actor(&state.db, &user_id, origin).await.map_err(|e| internal(&e))?
    };
    if actor.is_none() {
        session.flush().await.map_err(|e| internal(&e))?;
    }
    Ok(actor)
}

/// Middleware: attaches the [`Actor`] to the request and guards console pages.
pub async fn authenticate(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    if is_sessionless(&path) {
        return next.run(req).await;
    }
    // Without a client (a router served other than by `crate::serve`) nobody is signed in: every
    // actor carries where its request comes from, for the audit log.
    let client = req.extensions().get::<Client>().cloned();
    let actor = match client {
        Some(client) => match current_actor(&state, &session, Origin::Request(client)).await {
            Ok(actor) => actor,
            Err(response) => return response,
        },
        None => None,
    };
    // Sign-in flows (SSO) run whether or not someone is signed in, and never redirect here.
    let is_page = req.method() == Method::GET
        && !path.starts_with("/api/")
        && !path.starts_with("/sso/")
        && !is_link_page(&path);
    match actor {
        Some(actor) => {
            if is_page && is_public_page(&path) {
                return Redirect::to("/").into_response();
            }
            req.extensions_mut().insert(actor);
        }
        None if is_page && !is_public_page(&path) => return Redirect::to("/signin").into_response(),
        None => {}
    }
    next.run(req).await
}
