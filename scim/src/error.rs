//! SCIM error responses (RFC 7644 §3.12).
//!
//! Every failure this crate reports is a [`ScimError`]: an HTTP status, an optional `scimType`
//! keyword and a human-readable detail. [`ScimError::to_json`] renders the exact body the RFC
//! prescribes (with `status` as a string, which Entra and the RFC examples use).

use serde_json::{Value, json};

use crate::ERROR_SCHEMA;

/// The `scimType` keywords of RFC 7644 §3.12, Table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimType {
    /// The filter syntax was invalid or the attribute/comparison combination is not supported.
    InvalidFilter,
    /// The filter yields more results than the server is willing to process.
    TooMany,
    /// One or more attribute values are already in use or reserved.
    Uniqueness,
    /// The attempted modification is not compatible with the attribute's mutability.
    Mutability,
    /// The request body structure was invalid or did not conform to the schema.
    InvalidSyntax,
    /// The PATCH `path` attribute was invalid or malformed.
    InvalidPath,
    /// The PATCH `path` did not yield an attribute that could be operated on.
    NoTarget,
    /// A required value was missing or the value was not compatible with the attribute type.
    InvalidValue,
    /// The specified SCIM protocol version is not supported.
    InvalidVers,
    /// The request cannot be completed because it carries sensitive information in the URI.
    Sensitive,
}

impl ScimType {
    /// The keyword as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::TooMany => "tooMany",
            Self::Uniqueness => "uniqueness",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::NoTarget => "noTarget",
            Self::InvalidValue => "invalidValue",
            Self::InvalidVers => "invalidVers",
            Self::Sensitive => "sensitive",
        }
    }
}

impl std::fmt::Display for ScimType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SCIM protocol error: what the HTTP layer turns into an RFC 7644 §3.12 response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SCIM error {status}: {detail}")]
pub struct ScimError {
    /// HTTP status code.
    pub status: u16,
    /// The `scimType` keyword, for 400 (and 409 uniqueness) errors.
    pub scim_type: Option<ScimType>,
    /// Human-readable explanation; safe to show to the client.
    pub detail: String,
}

impl ScimError {
    /// An error with any status.
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into() }
    }

    /// 400 Bad Request with a `scimType`.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    /// 400 `invalidFilter`.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidFilter, detail)
    }

    /// 400 `invalidPath`.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidPath, detail)
    }

    /// 400 `invalidValue`.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidValue, detail)
    }

    /// 400 `invalidSyntax`.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidSyntax, detail)
    }

    /// 400 `noTarget`.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::NoTarget, detail)
    }

    /// 400 `mutability`.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::Mutability, detail)
    }

    /// 401 Unauthorized (missing or invalid bearer token).
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, None, detail)
    }

    /// 403 Forbidden.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, None, detail)
    }

    /// 404 Not Found (unknown resource id or endpoint).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    /// 409 Conflict with `scimType: uniqueness` (duplicate `userName`, group `displayName`).
    pub fn conflict_uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some(ScimType::Uniqueness), detail)
    }

    /// 412 Precondition Failed (`If-Match` version mismatch).
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, None, detail)
    }

    /// 413 Payload Too Large.
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(413, None, detail)
    }

    /// 429 Too Many Requests.
    pub fn too_many_requests(detail: impl Into<String>) -> Self {
        Self::new(429, None, detail)
    }

    /// 500 Internal Server Error; keep the detail generic, never leak internals.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, None, detail)
    }

    /// 501 Not Implemented (e.g. an unsupported endpoint or operation).
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(501, None, detail)
    }

    /// The RFC 7644 §3.12 response body. `status` is a string; `scimType` is omitted when absent.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let (Some(scim_type), Some(map)) = (self.scim_type, body.as_object_mut()) {
            map.insert("scimType".into(), Value::from(scim_type.as_str()));
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_body_matches_rfc_shape() {
        let err = ScimError::conflict_uniqueness("userName already exists");
        assert_eq!(
            err.to_json(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "409",
                "scimType": "uniqueness",
                "detail": "userName already exists"
            })
        );
    }

    #[test]
    fn not_found_has_no_scim_type() {
        let body = ScimError::not_found("User 42 not found").to_json();
        assert_eq!(body["status"], "404");
        assert!(body.get("scimType").is_none());
    }

    #[test]
    fn constructors_set_status_and_type() {
        let cases = [
            (ScimError::invalid_filter("x"), 400, Some("invalidFilter")),
            (ScimError::invalid_path("x"), 400, Some("invalidPath")),
            (ScimError::invalid_value("x"), 400, Some("invalidValue")),
            (ScimError::invalid_syntax("x"), 400, Some("invalidSyntax")),
            (ScimError::no_target("x"), 400, Some("noTarget")),
            (ScimError::mutability("x"), 400, Some("mutability")),
            (ScimError::bad_request(ScimType::TooMany, "x"), 400, Some("tooMany")),
            (ScimError::bad_request(ScimType::InvalidVers, "x"), 400, Some("invalidVers")),
            (ScimError::bad_request(ScimType::Sensitive, "x"), 400, Some("sensitive")),
            (ScimError::unauthorized("x"), 401, None),
            (ScimError::forbidden("x"), 403, None),
            (ScimError::precondition_failed("x"), 412, None),
            (ScimError::payload_too_large("x"), 413, None),
            (ScimError::too_many_requests("x"), 429, None),
            (ScimError::internal("x"), 500, None),
            (ScimError::not_implemented("x"), 501, None),
        ];
        for (err, status, scim_type) in cases {
            assert_eq!(err.status, status, "{err}");
            assert_eq!(err.scim_type.map(ScimType::as_str), scim_type, "{err}");
            assert_eq!(err.to_json()["status"], status.to_string());
        }
    }

    #[test]
    fn display_includes_status_and_detail() {
        let err = ScimError::invalid_value("userName is required");
        assert_eq!(err.to_string(), "SCIM error 400: userName is required");
        assert_eq!(ScimType::NoTarget.to_string(), "noTarget");
    }
}
