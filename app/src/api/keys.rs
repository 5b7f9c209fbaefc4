//! API key server functions for Settings → API keys: the SCIM Tenant URL, the organisation's
//! keys with their last activity, and create / regenerate / revoke (admins only; the domain
//! refuses anyone else).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One key as the table shows it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub status: String,
    /// Latest SCIM request: time and HTTP status.
    pub last_request: Option<(String, u16)>,
    /// Latest Test-Connection probe.
    pub last_probe_at: Option<String>,
}

/// Everything the API keys page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeysView {
    /// What to paste into Entra's "Tenant URL".
    pub tenant_url: String,
    pub keys: Vec<ApiKeyRow>,
}

/// A key just created: the only time its secret leaves the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub id: String,
    pub name: String,
    pub secret: String,
}

#[cfg(feature = "ssr")]
mod ssr {
    use domain::{
        api_keys::{ApiKeyInfo, KeyActivity, NewKey},
        clock::{now_ms, to_rfc3339},
    };

    use super::{ApiKeyRow, NewApiKey};

    pub fn row(key: ApiKeyInfo, activity: Option<&KeyActivity>) -> ApiKeyRow {
        let status = match (key.revoked_at, key.expires_at) {
            (Some(_), _) => "revoked",
            (None, Some(at)) if at <= now_ms() => "expired",
            _ => "active",
        };
        ApiKeyRow {
            status: status.to_owned(),
            created_at: to_rfc3339(key.created_at),
            last_used_at: key.last_used_at.map(to_rfc3339),
            expires_at: key.expires_at.map(to_rfc3339),
            last_request: activity.and_then(|a| a.last_request).map(|(at, status)| (to_rfc3339(at), status)),
            last_probe_at: activity.and_then(|a| a.last_probe_at).map(to_rfc3339),
            id: key.id,
            name: key.name,
            prefix: key.prefix,
        }
    }

    pub fn new_key(key: NewKey) -> NewApiKey {
        NewApiKey { id: key.info.id, name: key.info.name, secret: key.secret }
    }
}

/// The Tenant URL and the organisation's keys, newest first.
#[server(prefix = "/api", endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<ApiKeysView, AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let keys = domain::api_keys::list(&ctx.db, &actor).await.map_err(into_app_error)?;
    let activity = domain::api_keys::activity(&ctx.db, &actor).await.map_err(into_app_error)?;
    Ok(ApiKeysView {
        tenant_url: crate::routes::tenant_url(&ctx.public_url),
        keys: keys.into_iter().map(|k| ssr::row(k.clone(), activity.get(&k.id))).collect(),
    })
}

/// Creates a key; `expires_in_days` empty or 0 means it never expires.
#[server(prefix = "/api", endpoint = "create_api_key")]
pub async fn create_api_key(name: String, expires_in_days: Option<u32>) -> Result<NewApiKey, AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let expires_at = expires_in_days
        .filter(|d| *d > 0)
        .map(|d| domain::clock::now_ms() + i64::from(d.min(3650)) * 24 * 3600 * 1000);
    let key = domain::api_keys::create(&ctx.db, &actor, &name, expires_at).await.map_err(into_app_error)?;
    Ok(ssr::new_key(key))
}

/// Replaces a key: the old one stops working at once.
#[server(prefix = "/api", endpoint = "regenerate_api_key")]
pub async fn regenerate_api_key(id: String) -> Result<NewApiKey, AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let key = domain::api_keys::regenerate(&ctx.db, &actor, &id).await.map_err(into_app_error)?;
    Ok(ssr::new_key(key))
}

/// Revokes a key: it stops working at once.
#[server(prefix = "/api", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: String) -> Result<(), AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    domain::api_keys::revoke(&ctx.db, &actor, &id).await.map_err(into_app_error)?;
    Ok(())
}
