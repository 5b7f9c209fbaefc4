//! Sign-ins in flight: what we must remember between sending a browser to the IdP and its answer
//! (OIDC nonce and PKCE verifier, SAML AuthnRequest id, where to go afterwards).
//!
//! The browser carries only an opaque 256-bit key (OIDC `state`, SAML `RelayState`); the row is
//! stored under the key's SHA-256 and taken exactly once, so a replayed or forged `state` finds
//! nothing (RFC 9700 §4.7, OWASP SAML Security Cheat Sheet: RelayState is not a redirect URL).
//! Rows live ten minutes, and an organisation has at most [`MAX_PENDING_PER_CONNECTION`] at once:
//! starting a sign-in needs no account, so a flood of starts must not grow the table unbounded.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{RngCore, rngs::OsRng};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use sha2::{Digest, Sha256};

use crate::{DomainError, DomainResult, clock::now_ms, entities::sso_pending_login};

/// How long a sign-in may take at the IdP.
pub const PENDING_TTL_MS: i64 = 10 * 60 * 1000;

/// Sign-ins in flight per connection at most; more are refused until some finish or expire.
pub const MAX_PENDING_PER_CONNECTION: u64 = 10_000;

/// What a sign-in remembers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    pub connection_id: String,
    /// The SAML AuthnRequest id the response must answer (`InResponseTo`).
    pub request_id: Option<String>,
    pub nonce: Option<String>,
    pub pkce_verifier: Option<String>,
    /// A same-site path to land on after sign-in.
    pub return_to: String,
}

fn row_id(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh random 256-bit value, base64url: state, nonce, RelayState.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Only a same-site absolute path may be a landing page (no `//host`, no scheme): never an open
/// redirect.
pub fn safe_return_to(candidate: Option<&str>) -> String {
    match candidate {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && p.len() <= 512 => {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Remembers `pending` under the browser-carried `key`; `Throttled` when the connection already
/// has [`MAX_PENDING_PER_CONNECTION`] sign-ins in flight.
pub async fn remember(db: &DatabaseConnection, key: &str, pending: Pending) -> DomainResult<()> {
    let in_flight = sso_pending_login::Entity::find()
        .filter(sso_pending_login::Column::ConnectionId.eq(pending.connection_id.as_str()))
        .filter(sso_pending_login::Column::ExpiresAt.gt(now_ms()))
        .count(db)
        .await?;
    if in_flight >= MAX_PENDING_PER_CONNECTION {
        return Err(DomainError::Throttled { retry_after_secs: PENDING_TTL_MS / 1000 });
    }
    sso_pending_login::Entity::insert(sso_pending_login::ActiveModel {
        id: Set(row_id(key)),
        connection_id: Set(pending.connection_id),
        request_id: Set(pending.request_id),
        nonce: Set(pending.nonce),
        pkce_verifier: Set(pending.pkce_verifier),
        return_to: Set(safe_return_to(Some(&pending.return_to))),
        expires_at: Set(now_ms() + PENDING_TTL_MS),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Takes the sign-in remembered under `key`, once: a second take, an unknown key or an expired
/// one gives `None`.
pub async fn take(db: &DatabaseConnection, key: &str) -> DomainResult<Option<Pending>> {
    let id = row_id(key);
    let Some(found) = sso_pending_login::Entity::find_by_id(id.clone()).one(db).await? else {
        return Ok(None);
    };
    // Whoever deletes the row owns the sign-in; a concurrent duplicate deletes nothing.
    let deleted = sso_pending_login::Entity::delete_by_id(id).exec(db).await?.rows_affected;
    if deleted != 1 || found.expires_at <= now_ms() {
        return Ok(None);
    }
    Ok(Some(Pending {
        connection_id: found.connection_id,
        request_id: found.request_id,
        nonce: found.nonce,
        pkce_verifier: found.pkce_verifier,
        return_to: found.return_to,
    }))
}

/// Deletes sign-ins that were never finished.
pub async fn purge_expired(db: &DatabaseConnection) -> DomainResult<u64> {
    Ok(sso_pending_login::Entity::delete_many()
        .filter(sso_pending_login::Column::ExpiresAt.lte(now_ms()))
        .exec(db)
        .await?
        .rows_affected)
}
