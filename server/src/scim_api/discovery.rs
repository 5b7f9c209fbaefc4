//! Discovery endpoints (RFC 7644 §4): what this service provider supports, generated from the
//! same schema definitions the protocol code runs on, so they cannot drift from the behaviour.

use axum::{Extension, extract::State, http::StatusCode};
use domain::directory::MAX_PAGE_SIZE;
use scim::{
    ResourceKind, ScimError,
    discovery::{self, ServiceProviderOptions},
};

use super::{
    Principal,
    bulk::MAX_OPERATIONS,
    wire::{MAX_PAYLOAD, ResourceId, ScimReply, ScimResult},
};
use crate::state::AppState;

fn options(p: &Principal) -> ServiceProviderOptions {
    ServiceProviderOptions {
        base_url: p.scope.base_url.clone(),
        documentation_uri: p
            .scope
            .base_url
            .strip_suffix(super::BASE_PATH)
            .map(|public_url| format!("{public_url}{}", super::limits_page::PATH)),
        bulk_supported: true,
        bulk_max_operations: MAX_OPERATIONS as u64,
        bulk_max_payload_size: MAX_PAYLOAD as u64,
        filter_max_results: MAX_PAGE_SIZE,
    }
}

fn list(resources: Vec<serde_json::Value>) -> ScimReply {
    let total = resources.len() as u64;
    ScimReply::json(StatusCode::OK, scim::list_response(total, 1, resources))
}

/// `GET /ServiceProviderConfig` (RFC 7643 §5).
pub async fn service_provider_config(Extension(p): Extension<Principal>) -> ScimResult {
    Ok(ScimReply::json(StatusCode::OK, discovery::service_provider_config(&options(&p))))
}

/// `GET /ResourceTypes` (RFC 7643 §6).
pub async fn resource_types(Extension(p): Extension<Principal>) -> ScimResult {
    Ok(list(discovery::resource_types(&p.scope.base_url)))
}

/// `GET /ResourceTypes/{User|Group}`.
pub async fn resource_type(Extension(p): Extension<Principal>, ResourceId(id): ResourceId) -> ScimResult {
    let kind = [ResourceKind::User, ResourceKind::Group].into_iter().find(|k| k.name() == id);
    let kind = kind.ok_or_else(|| ScimError::not_found(format!("no resource type \"{id}\"")))?;
    Ok(ScimReply::json(StatusCode::OK, discovery::resource_type(kind, &p.scope.base_url)))
}

/// `GET /Schemas` (RFC 7643 §7).
pub async fn schemas(State(_): State<AppState>, Extension(p): Extension<Principal>) -> ScimResult {
    Ok(list(discovery::schemas(&p.scope.base_url)))
}

/// `GET /Schemas/{urn}`.
pub async fn schema(Extension(p): Extension<Principal>, ResourceId(id): ResourceId) -> ScimResult {
    let schema = discovery::schema(&p.scope.base_url, &id)
        .ok_or_else(|| ScimError::not_found(format!("no schema \"{id}\"")))?;
    Ok(ScimReply::json(StatusCode::OK, schema))
}
