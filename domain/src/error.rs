//! The domain's one error type. Each edge maps these variants to its own wire format and is the
//! only place that does: `server` to RFC 7644 §3.12 SCIM errors, the console to `AppError`.
//! Database error text never leaves the server; the edge logs it and answers a generic 500.

use scim::{ScimError, ScimType};
use sea_orm::DbErr;

/// What can go wrong in a domain service.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Input failed validation; `field` names the offending input for form errors.
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    /// A request breaks a rule of the SCIM protocol or schema; `rule` is the RFC 7644 §3.12
    /// `scimType` that names it (a PATCH path with no target, a missing `userName`, …).
    #[error("{detail}")]
    Rejected { rule: ScimType, detail: String },
    /// A uniqueness rule was broken (e.g. an email already has an account).
    #[error("{0}")]
    Conflict(String),
    /// The resource changed since the version the request names (`If-Match`, RFC 7644 §3.14).
    #[error("{0}")]
    PreconditionFailed(String),
    /// Wrong email or password. Deliberately does not say which.
    #[error("wrong email or password")]
    InvalidCredentials,
    /// Too many failed sign-ins for this account; try again later.
    #[error("too many failed sign-in attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: i64 },
    /// The actor may not do this.
    #[error("not allowed")]
    Forbidden,
    /// The thing asked for does not exist (or belongs to another organisation).
    #[error("not found")]
    NotFound,
    /// The database failed; details are logged, never shown.
    #[error("database error")]
    Database(#[from] DbErr),
    /// Something else failed inside the server (e.g. a worker thread panicked).
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    /// An [`DomainError::Invalid`] for `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }

    /// A [`DomainError::Rejected`] by `rule`.
    pub fn rejected(rule: ScimType, detail: impl Into<String>) -> Self {
        Self::Rejected { rule, detail: detail.into() }
    }
}

/// What the SCIM protocol library refuses: its errors are all 400s with a `scimType`, except the
/// 500 of a broken invariant (a stored resource that is not an object).
impl From<ScimError> for DomainError {
    fn from(e: ScimError) -> Self {
        match e.scim_type {
            Some(rule) => Self::Rejected { rule, detail: e.detail },
            None => Self::Internal(e.detail),
        }
    }
}

impl From<crate::store::StoreError> for DomainError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Unique => Self::Conflict("it already exists".into()),
            crate::store::StoreError::Failed(e) => Self::Database(e),
        }
    }
}

/// Result of a domain service.
pub type DomainResult<T> = Result<T, DomainError>;

/// True when `err` is a unique-constraint violation (SQLite or PostgreSQL, as sqlx reports it).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}
