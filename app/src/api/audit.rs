//! The admin audit log for the console: a filtered page of security-relevant events (see
//! `domain::audit`). The DTOs live here, free of database types (the wasm build never sees
//! `domain`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One event as the audit page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// The stored kind, e.g. `api_key_regenerated`.
    pub kind: String,
    /// What the console calls it, e.g. `API key regenerated`.
    pub kind_label: String,
    /// Name and email of who acted, or what was typed.
    pub actor: String,
    /// The client address, or `command line`.
    pub from: String,
    pub user_agent: Option<String>,
    pub detail: String,
}

/// One page of the audit log, with the kinds the filter offers as (value, label).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
    pub kinds: Vec<(String, String)>,
}

/// A page of the audit log (admins only); blank filters mean "any", `page` is 1-based.
#[server(prefix = "/api", endpoint = "audit_log")]
pub async fn audit_log(
    kind: Option<String>,
    actor: Option<String>,
    page: Option<u64>,
) -> Result<AuditPage, AppError> {
    use domain::audit::{self, AuditFilter, Kind};

    use crate::server::{actor as signed_in, app_context, into_app_error};
    let (ctx, me) = (app_context()?, signed_in()?);
    let filter = AuditFilter::parse(kind.as_deref(), actor.as_deref()).map_err(into_app_error)?;
    let found = audit::page(&ctx.db, &me, &filter, page.unwrap_or(1)).await.map_err(into_app_error)?;
    let entries = found
        .events
        .into_iter()
        .map(|e| AuditEntry {
            at: domain::clock::to_rfc3339(e.at),
            kind_label: Kind::parse(&e.kind).map_or_else(|| e.kind.clone(), |k| k.label().to_owned()),
            from: audit::from(&e),
            id: e.id,
            kind: e.kind,
            actor: e.actor,
            user_agent: e.user_agent,
            detail: e.detail,
        })
        .collect();
    Ok(AuditPage {
        entries,
        total: found.total,
        page: found.page,
        page_size: found.page_size,
        kinds: Kind::ALL.iter().map(|k| (k.as_str().to_owned(), k.label().to_owned())).collect(),
    })
}
