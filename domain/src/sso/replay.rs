//! One-time SAML assertions. A bearer assertion is a credential for as long as it is valid, and
//! an IdP-initiated response has no request id to tie it to a browser, so every assertion id is
//! recorded until the assertion expires and a second use is refused (SAML 2.0 Profiles §4.1.4.5,
//! OWASP SAML Security Cheat Sheet). The primary key makes the check atomic across instances.

use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::{DomainResult, clock::now_ms, entities::saml_assertion_seen, error::is_unique_violation};

/// Records assertion `assertion_id` of `connection_id`; false when it was already used.
pub async fn first_use(
    db: &DatabaseConnection,
    connection_id: &str,
    assertion_id: &str,
    expires_at_ms: i64,
) -> DomainResult<bool> {
    let inserted = saml_assertion_seen::Entity::insert(saml_assertion_seen::ActiveModel {
        connection_id: Set(connection_id.to_owned()),
        assertion_id: Set(assertion_id.to_owned()),
        expires_at: Set(expires_at_ms),
    })
    .exec_without_returning(db)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Forgets assertions that can no longer be accepted anyway.
pub async fn purge_expired(db: &DatabaseConnection) -> DomainResult<u64> {
    Ok(saml_assertion_seen::Entity::delete_many()
        .filter(saml_assertion_seen::Column::ExpiresAt.lte(now_ms()))
        .exec(db)
        .await?
        .rows_affected)
}
