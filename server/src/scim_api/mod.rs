//! The SCIM 2.0 service provider at `/scim/v2` (RFC 7644), driven by Microsoft Entra ID's
//! provisioning service with an API key as bearer token.
//!
//! Every request passes [`gate`]: it authenticates the key (401 with `WWW-Authenticate: Bearer`
//! otherwise), scopes the request to the key's organisation — other organisations' ids behave as
//! nonexistent — and, once the handler has answered, queues one provisioning-log event.

mod bulk;
mod discovery;
pub mod limits_page;
pub mod rate_limit;
mod resources;
mod search;
pub mod wire;

use std::time::Instant;

use axum::{
    Router,
    extract::{DefaultBodyLimit, OriginalUri, Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::{any, get, post},
};
use domain::{
    api_keys::{self, KeyPrincipal},
    directory::Scope,
    group_commit::Writer,
    provisioning_log::Event,
};
use scim::ScimError;

use self::{
    rate_limit::Refusal,
    resources::{Groups, Users},
    wire::{MAX_PAYLOAD, ScimFailure},
};
use crate::{state::AppState, telemetry::RequestSpan};

/// Where the SCIM API is mounted; the Tenant URL is the public URL plus this (defined with the
/// console's other displayed URLs in [`app::routes`]).
pub const BASE_PATH: &str = app::routes::SCIM_BASE;

/// The authenticated caller of a SCIM request.
#[derive(Clone, Debug)]
pub struct Principal {
    pub key: KeyPrincipal,
    pub scope: Scope,
    /// The SCIM writer, queueing in this organisation's lane (fair group commit).
    pub writer: Writer,
}

/// What a handler tells the provisioning log about its request.
#[derive(Clone, Debug, Default)]
pub struct LogNote {
    pub resource_id: Option<String>,
    pub summary: String,
}

/// The SCIM router (mounted at [`BASE_PATH`]).
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(resources::routes::<Users>())
        .merge(resources::routes::<Groups>())
        .route("/.search", post(search::root))
        .route("/Bulk", post(bulk::bulk))
        .route("/ServiceProviderConfig", get(discovery::service_provider_config))
        .route("/ResourceTypes", get(discovery::resource_types))
        .route("/ResourceTypes/{id}", get(discovery::resource_type))
        .route("/Schemas", get(discovery::schemas))
        .route("/Schemas/{id}", get(discovery::schema))
        .route("/Me", any(me))
        .fallback(unknown_endpoint)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_PAYLOAD))
        .layer(from_fn_with_state(state, gate))
}

async fn me() -> ScimFailure {
    ScimError::not_implemented(
        "/Me is not supported: requests are made with an organisation's API key, not as a user",
    )
    .into()
}

async fn unknown_endpoint() -> ScimFailure {
    ScimError::not_found("no such SCIM endpoint").into()
}

async fn method_not_allowed() -> ScimFailure {
    ScimError::new(405, None, "this endpoint does not support that method").into()
}

fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn unauthorized() -> Response {
    let mut response =
        ScimFailure(ScimError::unauthorized("a valid API key is required as bearer token")).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"scimpad\", error=\"invalid_token\""),
    );
    response
}

/// 429 with `Retry-After` (RFC 6585 §4) and a SCIM error body, sent once the refusal has been
/// held (`rate_limit::HOLD`).
pub(crate) async fn too_many_requests(refusal: Refusal) -> Response {
    metrics::counter!(crate::metrics::SCIM_THROTTLED).increment(1);
    tokio::time::sleep(refusal.hold).await;
    let detail = format!(
        "this organisation is sending more SCIM requests than its limit; retry after {} s",
        refusal.retry_after_secs
    );
    let mut response = ScimFailure(ScimError::too_many_requests(detail)).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(refusal.retry_after_secs));
    response
}

/// The operation a request performs, from its method and path (below [`BASE_PATH`]).
fn classify(method: &Method, path: &str) -> (Option<&'static str>, Option<String>, &'static str) {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let kind = match segments.first().copied() {
        Some("Users") => Some("User"),
        Some("Groups") => Some("Group"),
        _ => None,
    };
    let id = match segments.as_slice() {
        [_, id] if kind.is_some() && *id != ".search" => Some((*id).to_owned()),
        _ => None,
    };
    let operation = match (method.as_str(), segments.as_slice()) {
        (_, [.., ".search"]) => "search",
        (_, ["Bulk"]) => "bulk",
        (_, ["ServiceProviderConfig" | "ResourceTypes" | "Schemas", ..]) => "discovery",
        ("GET", [_]) if kind.is_some() => "list",
        ("GET", _) => "get",
        ("POST", _) => "create",
        ("PUT", _) => "replace",
        ("PATCH", _) => "patch",
        ("DELETE", _) => "delete",
        _ => "other",
    };
    (kind, id, operation)
}

/// Authenticates, scopes, runs the handler and logs the request.
async fn gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let path_and_query = req
        .extensions()
        .get::<OriginalUri>()
        .map(|u| &u.0)
        .unwrap_or(req.uri())
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| path.clone());
    let token = bearer(&req).unwrap_or_default().to_owned();
    let (resource_type, path_id, operation) = classify(&method, &path);
    let (org_id, key_id, response) = match api_keys::authenticate(&state.writer, &state.keys, &token).await {
        Ok(Ok(key)) => {
            // On the request's span, so every log line of this request names them.
            if let Some(RequestSpan(span)) = req.extensions().get::<RequestSpan>() {
                span.record("org_id", key.org_id.as_str());
                span.record("operation", operation);
            }
            let ids = (Some(key.org_id.clone()), Some(key.key_id.clone()));
            match state.scim_rate.check(&key.org_id) {
                Ok(()) => {
                    let scope = Scope {
                        org_id: key.org_id.clone(),
                        base_url: app::routes::tenant_url(&state.config.public_url),
                    };
                    let writer = state.writer.for_org(&key.org_id);
                    req.extensions_mut().insert(Principal { key, scope, writer });
                    (ids.0, ids.1, next.run(req).await)
                }
                // Only some refusals are logged: a flood must not fill the provisioning log.
                Err(refusal) => (ids.0.filter(|_| refusal.log), ids.1, too_many_requests(refusal).await),
            }
        }
        Ok(Err(refused)) => {
            tracing::info!(reason = %refused.reason, "SCIM request refused");
            (refused.org_id, refused.key_id, unauthorized())
        }
        Err(e) => {
            tracing::error!(error = %e, "API key lookup failed");
            let failure = ScimFailure(ScimError::internal("the server could not check the API key"));
            (None, None, failure.into_response())
        }
    };
    if let Some(org_id) = org_id {
        let note = response.extensions().get::<LogNote>().cloned().unwrap_or_default();
        let error = response.extensions().get::<ScimError>();
        let summary = match (&note.summary, error) {
            (s, _) if !s.is_empty() => s.clone(),
            (_, Some(e)) => e.detail.clone(),
            _ => String::new(),
        };
        state.provisioning_log.record(Event {
            org_id,
            at: domain::clock::now_ms(),
            api_key_id: key_id,
            method: method.to_string(),
            path: path_and_query,
            resource_type: resource_type.map(str::to_owned),
            resource_id: note.resource_id.or(path_id),
            operation: operation.to_owned(),
            summary,
            status: response.status().as_u16(),
            scim_type: error.and_then(|e| e.scim_type).map(|t| t.as_str().to_owned()),
            detail: error.map(|e| e.detail.clone()),
            duration_ms: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
        });
    }
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(%method, %path, "SCIM request failed");
    }
    let status = response.status().as_u16().to_string();
    metrics::counter!(crate::metrics::SCIM_REQUESTS, "operation" => operation, "status" => status)
        .increment(1);
    metrics::histogram!(crate::metrics::SCIM_DURATION, "operation" => operation)
        .record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_classified_for_the_log() {
        assert_eq!(classify(&Method::GET, "/Users"), (Some("User"), None, "list"));
        assert_eq!(classify(&Method::GET, "/Users/abc"), (Some("User"), Some("abc".into()), "get"));
        assert_eq!(classify(&Method::PATCH, "/Groups/g1"), (Some("Group"), Some("g1".into()), "patch"));
        assert_eq!(classify(&Method::POST, "/Users/.search"), (Some("User"), None, "search"));
        assert_eq!(classify(&Method::POST, "/Bulk"), (None, None, "bulk"));
        assert_eq!(classify(&Method::GET, "/Schemas/urn:x"), (None, None, "discovery"));
        assert_eq!(classify(&Method::DELETE, "/Users/u"), (Some("User"), Some("u".into()), "delete"));
    }
}
