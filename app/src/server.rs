//! Server-side glue for the server functions: the shared context the server provides, the
//! request's actor (put there by the server's authentication middleware), the session, and the
//! mapping from domain errors to console errors (with a matching HTTP status).

use domain::sea_orm::DatabaseConnection;
use domain::{DomainError, accounts::Actor};
use http::{StatusCode, request::Parts};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use crate::error::AppError;

/// What the server shares with every server function.
#[derive(Clone, Debug)]
pub struct AppContext {
    pub db: DatabaseConnection,
    /// The public base URL (scheme, host, port), e.g. for the SCIM Tenant URL.
    pub public_url: String,
    /// Seals SSO client secrets.
    pub secrets: domain::sso::secret_box::SecretBox,
    /// Where OIDC issuers may live.
    pub issuer_policy: domain::sso::connections::IssuerPolicy,
    /// Looks up the DNS records that prove an organisation controls an SSO email domain.
    pub domains: domain::sso::domains::DomainVerifier,
    /// Sends email (off without an SMTP relay).
    pub outbox: domain::mail::Outbox,
}

fn fail(status: StatusCode, err: AppError) -> AppError {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(status);
    }
    err
}

/// The server's shared context.
pub fn app_context() -> Result<AppContext, AppError> {
    use_context::<AppContext>().ok_or_else(|| internal("AppContext missing"))
}

/// The signed-in actor of this request, or `Unauthorized`.
pub fn actor() -> Result<Actor, AppError> {
    use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<Actor>().cloned())
        .ok_or_else(|| fail(StatusCode::UNAUTHORIZED, AppError::Unauthorized))
}

/// The client behind this request (put there by the server's client-address middleware); without
/// it the request is refused, never attributed to nobody.
pub fn client() -> Result<domain::origin::Client, AppError> {
    use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<domain::origin::Client>().cloned())
        .ok_or_else(|| internal("the request carries no client address"))
}

/// This request's session.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(internal)
}

/// Starts a signed-in session for `actor` (new session id: no fixation) and goes to the console.
pub async fn finish_sign_in(actor: &Actor) -> Result<(), AppError> {
    let session = session().await?;
    domain::session_store::begin_signed_in(&session, &actor.user_id).await.map_err(internal)?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Logs `err` and returns the generic internal error.
pub fn internal(err: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %err, "server function failed");
    fail(StatusCode::INTERNAL_SERVER_ERROR, AppError::Internal)
}

/// Maps a domain error to what the console shows, setting the response status to match.
pub fn into_app_error(err: DomainError) -> AppError {
    match err {
        DomainError::Invalid { field, message } => {
            fail(StatusCode::BAD_REQUEST, AppError::Invalid { field: field.to_owned(), message })
        }
        DomainError::Rejected { detail, .. } => {
            fail(StatusCode::BAD_REQUEST, AppError::Invalid { field: String::new(), message: detail })
        }
        DomainError::Conflict(m) | DomainError::PreconditionFailed(m) => {
            fail(StatusCode::CONFLICT, AppError::Conflict(m))
        }
        DomainError::InvalidCredentials => fail(StatusCode::UNAUTHORIZED, AppError::InvalidCredentials),
        DomainError::Throttled { retry_after_secs } => {
            fail(StatusCode::TOO_MANY_REQUESTS, AppError::Throttled { minutes: (retry_after_secs + 59) / 60 })
        }
        DomainError::Forbidden => fail(StatusCode::FORBIDDEN, AppError::Forbidden),
        DomainError::NotFound => fail(StatusCode::NOT_FOUND, AppError::NotFound),
        DomainError::Database(e) => internal(e),
        DomainError::Internal(e) => internal(e),
    }
}
