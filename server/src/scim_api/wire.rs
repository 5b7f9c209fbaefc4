//! SCIM on the wire (RFC 7644 §3.1, §3.12): `application/scim+json` bodies in and out, errors as
//! SCIM Error resources with the right status, query strings decoded as Entra sends them (`+` or
//! `%20` for spaces, raw or encoded quotes).
//!
//! Every extractor here rejects with a SCIM error, never axum's plain-text rejections, and refuses
//! the NUL character (U+0000) anywhere in a body, a resource id or a query: PostgreSQL cannot
//! store it in text (it would answer 500) and no SCIM attribute needs it, so both databases
//! answer the same 400 `invalidValue`.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Request},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use domain::{
    DomainError,
    directory::{MAX_PAGE_SIZE, Projection, Written},
};
use scim::{ListQuery, ResourceKind, ScimError};
use serde_json::Value;

use super::LogNote;

/// The largest request body accepted (advertised as `bulk.maxPayloadSize`).
pub const MAX_PAYLOAD: usize = 1024 * 1024;

fn scim_content_type() -> HeaderValue {
    HeaderValue::from_static("application/scim+json")
}

/// A SCIM response: status, body, optional ETag/Location, and what the provisioning log should
/// say about it.
pub struct ScimReply {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub headers: HeaderMap,
    pub note: Option<LogNote>,
}

impl ScimReply {
    /// `status` with `body`.
    pub fn json(status: StatusCode, body: Value) -> Self {
        Self { status, body: Some(body), headers: HeaderMap::new(), note: None }
    }

    /// A single resource, with its ETag (RFC 7644 §3.14).
    pub fn resource(status: StatusCode, written: &Written) -> Self {
        let mut reply = Self::json(status, written.resource.clone());
        if let Ok(tag) = HeaderValue::from_str(&domain::directory::etag(written.version)) {
            reply.headers.insert(header::ETAG, tag);
        }
        reply
    }

    /// A created resource: 201 with `Location` (RFC 7644 §3.3).
    pub fn created(written: &Written) -> Self {
        let mut reply = Self::resource(StatusCode::CREATED, written);
        let location = written.resource.pointer("/meta/location").and_then(Value::as_str);
        if let Some(Ok(location)) = location.map(HeaderValue::from_str) {
            reply.headers.insert(header::LOCATION, location);
        }
        reply
    }

    /// No body.
    pub fn empty(status: StatusCode) -> Self {
        Self { status, body: None, headers: HeaderMap::new(), note: None }
    }
}

impl ScimReply {
    /// Adds a provisioning-log summary.
    pub fn with_summary(mut self, summary: String) -> Self {
        self.note = Some(LogNote { resource_id: None, summary });
        self
    }
}

impl IntoResponse for ScimReply {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            Some(body) => (self.status, body.to_string()).into_response(),
            None => self.status.into_response(),
        };
        response.headers_mut().extend(self.headers);
        if let Some(note) = self.note {
            response.extensions_mut().insert(note);
        }
        if response.status() != StatusCode::NO_CONTENT && response.status() != StatusCode::NOT_MODIFIED {
            response.headers_mut().insert(header::CONTENT_TYPE, scim_content_type());
        }
        response
    }
}

/// A SCIM error as an HTTP response; the error itself rides along in the response extensions for
/// the provisioning log.
pub struct ScimFailure(pub ScimError);

impl From<ScimError> for ScimFailure {
    fn from(e: ScimError) -> Self {
        Self(e)
    }
}

/// The domain's error as SCIM says it (RFC 7644 §3.12): the one place that chooses the status.
/// A failed database is logged here and answered as a 500 without its text.
pub fn scim_error(e: DomainError) -> ScimError {
    match e {
        DomainError::Rejected { rule, detail } => ScimError::bad_request(rule, detail),
        DomainError::Invalid { message, .. } => ScimError::invalid_value(message),
        DomainError::Conflict(detail) => ScimError::conflict_uniqueness(detail),
        DomainError::PreconditionFailed(detail) => ScimError::precondition_failed(detail),
        DomainError::NotFound => ScimError::not_found("no such resource"),
        DomainError::Forbidden => ScimError::forbidden("this API key may not do that"),
        DomainError::InvalidCredentials => ScimError::unauthorized("a valid API key is required"),
        DomainError::Throttled { retry_after_secs } => {
            ScimError::too_many_requests(format!("retry after {retry_after_secs} s"))
        }
        DomainError::Database(e) => {
            tracing::error!(error = %e, "SCIM database operation failed");
            ScimError::internal("the server could not complete the request")
        }
        DomainError::Internal(e) => {
            tracing::error!(error = %e, "SCIM operation failed");
            ScimError::internal("the server could not complete the request")
        }
    }
}

impl From<DomainError> for ScimFailure {
    fn from(e: DomainError) -> Self {
        Self(scim_error(e))
    }
}

/// Maps a domain error of a request that names resource `id` of `kind`: "not found" says which.
pub fn about(kind: ResourceKind, id: &str) -> impl FnOnce(DomainError) -> ScimError + '_ {
    move |e| match e {
        DomainError::NotFound => ScimError::not_found(format!("no {} with id \"{id}\"", kind.name())),
        other => scim_error(other),
    }
}

impl IntoResponse for ScimFailure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = ScimReply::json(status, self.0.to_json()).into_response();
        response.extensions_mut().insert(self.0);
        response
    }
}

/// Handler result.
pub type ScimResult = Result<ScimReply, ScimFailure>;

/// A JSON request body, any media type (Entra sends `application/scim+json`, some clients
/// `application/json`). Malformed JSON is 400 `invalidSyntax`; too large is 413.
pub struct ScimBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for ScimBody {
    type Rejection = ScimFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ScimError::payload_too_large(format!("the request body is larger than {MAX_PAYLOAD} bytes"))
            } else {
                ScimError::invalid_syntax(format!("the request body could not be read: {rejection}"))
            }
        })?;
        if bytes.is_empty() {
            return Err(
                ScimError::invalid_syntax("the request body is empty; a JSON object is required").into()
            );
        }
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ScimError::invalid_syntax(format!("the request body is not valid JSON: {e}")))?;
        if holds_nul(&value) {
            return Err(nul_refused("the request body").into());
        }
        Ok(Self(value))
    }
}

fn nul_refused(place: &str) -> ScimError {
    ScimError::invalid_value(format!(
        "{place} contains a NUL character (U+0000), which no SCIM value may hold"
    ))
}

/// Whether any string or member name in `value` contains U+0000. Iterative, so its cost is linear
/// in the body whatever its nesting.
fn holds_nul(value: &Value) -> bool {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::String(s) if s.contains('\0') => return true,
            Value::Array(items) => pending.extend(items),
            Value::Object(map) => {
                if map.keys().any(|k| k.contains('\0')) {
                    return true;
                }
                pending.extend(map.values());
            }
            _ => {}
        }
    }
    false
}

/// The `{id}` of a resource URL (`/Users/{id}`, `/Schemas/{urn}`), percent-decoded. Not UTF-8: 400
/// `invalidSyntax`; a NUL: 400 `invalidValue` — as SCIM errors, where axum's own `Path` would
/// answer plain text.
pub struct ResourceId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ResourceId {
    type Rejection = ScimFailure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(id) = Path::<String>::from_request_parts(parts, state).await.map_err(|rejection| {
            ScimError::invalid_syntax(format!(
                "the resource id in the URL cannot be read: {}",
                rejection.body_text()
            ))
        })?;
        if id.contains('\0') {
            return Err(nul_refused("the resource id").into());
        }
        Ok(Self(id))
    }
}

/// The decoded query pairs of a request; a NUL in any of them is 400 `invalidValue`.
pub fn query_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, ScimFailure> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    if pairs.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
        return Err(nul_refused("the query string").into());
    }
    Ok(pairs)
}

/// List parameters from the query string (RFC 7644 §3.4.2).
pub fn list_query(query: Option<&str>) -> Result<ListQuery, ScimFailure> {
    Ok(ListQuery::from_query_pairs(query_pairs(query)?, MAX_PAGE_SIZE)?)
}

/// `attributes`/`excludedAttributes` of a single-resource request.
pub fn projection(query: Option<&str>) -> Result<Projection, ScimFailure> {
    let list = list_query(query)?;
    Ok(Projection { attributes: list.attributes, excluded: list.excluded_attributes })
}

/// The `If-Match` header, if any.
pub fn if_match(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok())
}

/// Whether `If-None-Match` names the current version (then GET answers 304).
pub fn not_modified(headers: &HeaderMap, version: i64) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| domain::directory::check_if_match(Some(h), version).is_ok())
}
