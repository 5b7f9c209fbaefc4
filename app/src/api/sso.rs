//! Settings → Single sign-on server functions: the organisation's SAML and OIDC connections, its
//! SSO policy and the email domains it claims (add, verify by DNS, remove), plus what to paste
//! into Entra (admins only; the domain refuses anyone else). The OIDC client secret goes in and
//! never comes back out.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One pinned IdP certificate, as the settings page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedCert {
    pub subject: String,
    pub expires_at: String,
}

/// The SAML connection as saved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlView {
    pub enabled: bool,
    pub idp_entity_id: String,
    pub sso_url: String,
    pub certificates_pem: String,
    pub certificates: Vec<PinnedCert>,
}

/// The OIDC connection as saved (no secret).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcView {
    pub enabled: bool,
    pub issuer: String,
    pub client_id: String,
    pub has_secret: bool,
}

/// Where a domain claim stands, with times as RFC 3339 strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DomainState {
    /// Not proven: routes nobody.
    Pending,
    /// Proven at `since`, found at every check after.
    Verified { since: String },
    /// Proven at `since`, but the last `misses` re-checks (from `failing_since`) found no record.
    Failing { since: String, failing_since: String, misses: i32 },
}

/// One claimed email domain and the DNS record that proves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainView {
    pub id: String,
    /// As people type it (Unicode for an internationalised domain).
    pub domain: String,
    pub record_name: String,
    pub record_value: String,
    pub state: DomainState,
    pub last_checked_at: Option<String>,
    pub last_error: Option<String>,
}

/// Everything the SSO settings page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoView {
    /// The organisation's sign-in name (what people type under "Sign in with SSO").
    pub org_slug: String,
    pub sso_required: bool,
    /// The email domains the organisation claims, verified or not.
    pub domains: Vec<DomainView>,
    /// At most this many may be claimed.
    pub max_domains: u64,
    /// SAML: Identifier (Entity ID), also our metadata URL.
    pub sp_entity_id: String,
    /// SAML: Reply URL (Assertion Consumer Service URL).
    pub acs_url: String,
    /// Sign-on URL (SP-initiated start), for Entra's optional "Sign on URL".
    pub sign_on_url: String,
    /// OIDC: the redirect URI to register on the Entra app.
    pub redirect_uri: String,
    pub saml: Option<SamlView>,
    pub oidc: Option<OidcView>,
}

/// The organisation's SSO settings.
#[server(prefix = "/api", endpoint = "sso_settings")]
pub async fn sso_settings() -> Result<SsoView, AppError> {
    use crate::server::{actor, app_context, into_app_error};
    use domain::clock::to_rfc3339;
    let (ctx, actor) = (app_context()?, actor()?);
    let s = domain::sso::connections::settings(&ctx.db, &actor).await.map_err(into_app_error)?;
    use crate::routes;
    let public = ctx.public_url.as_str();
    Ok(SsoView {
        sp_entity_id: routes::saml_entity_id(public, &s.org_slug),
        acs_url: routes::saml_acs_url(public, &s.org_slug),
        sign_on_url: routes::sso_start_url(public, &s.org_slug),
        redirect_uri: routes::oidc_redirect_uri(public),
        saml: s.saml.map(|c| SamlView {
            enabled: c.enabled,
            certificates: c
                .certificates
                .iter()
                .map(|p| PinnedCert { subject: p.subject.clone(), expires_at: to_rfc3339(p.not_after_ms) })
                .collect(),
            idp_entity_id: c.idp_entity_id,
            sso_url: c.sso_url,
            certificates_pem: c.certificates_pem,
        }),
        oidc: s.oidc.map(|c| OidcView {
            enabled: c.enabled,
            has_secret: c.has_secret(),
            issuer: c.issuer,
            client_id: c.client_id,
        }),
        org_slug: s.org_slug,
        sso_required: s.sso_required,
        domains: s.domains.into_iter().map(domain_view).collect(),
        max_domains: domain::sso::domains::MAX_CLAIMS_PER_ORG,
    })
}

#[cfg(feature = "ssr")]
fn domain_view(c: domain::sso::domains::DomainClaim) -> DomainView {
    use domain::{clock::to_rfc3339, sso::domains::ClaimState};
    DomainView {
        state: match c.state {
            ClaimState::Pending => DomainState::Pending,
            ClaimState::Verified { since } => DomainState::Verified { since: to_rfc3339(since) },
            ClaimState::Failing { since, failing_since, misses } => DomainState::Failing {
                since: to_rfc3339(since),
                failing_since: to_rfc3339(failing_since),
                misses,
            },
        },
        id: c.id,
        domain: c.unicode.unwrap_or(c.domain),
        record_name: c.record_name,
        record_value: c.record_value,
        last_checked_at: c.last_checked_at.map(to_rfc3339),
        last_error: c.last_error,
    }
}

/// Saves the SAML connection (a checkbox sends `enabled` only when ticked).
#[server(prefix = "/api", endpoint = "save_saml_connection")]
pub async fn save_saml_connection(
    enabled: Option<String>,
    idp_entity_id: String,
    sso_url: String,
    certificates: String,
) -> Result<(), AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let input = domain::sso::connections::SamlInput {
        enabled: enabled.is_some(),
        idp_entity_id,
        sso_url,
        certificates,
    };
    domain::sso::connections::save_saml(&ctx.db, &actor, input).await.map_err(into_app_error)
}

/// Saves the OIDC connection; an empty `client_secret` keeps the saved one.
#[server(prefix = "/api", endpoint = "save_oidc_connection")]
pub async fn save_oidc_connection(
    enabled: Option<String>,
    tenant: String,
    client_id: String,
    client_secret: String,
) -> Result<(), AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let input =
        domain::sso::connections::OidcInput { enabled: enabled.is_some(), tenant, client_id, client_secret };
    domain::sso::connections::save_oidc(&ctx.db, &ctx.secrets, &ctx.issuer_policy, &actor, input)
        .await
        .map_err(into_app_error)
}

/// Saves the SSO policy: whether password sign-in is off for everyone but admins.
#[server(prefix = "/api", endpoint = "save_sso_policy")]
pub async fn save_sso_policy(sso_required: Option<String>) -> Result<(), AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let input = domain::sso::connections::PolicyInput { sso_required: sso_required.is_some() };
    domain::sso::connections::save_policy(&ctx.db, &actor, input).await.map_err(into_app_error)
}

/// Claims an email domain for "Sign in with SSO"; it routes nobody until verified.
#[server(prefix = "/api", endpoint = "add_sso_domain")]
pub async fn add_sso_domain(domain: String) -> Result<(), AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    domain::sso::domains::add(&ctx.db, &ctx.outbox, &actor, &domain).await.map_err(into_app_error)?;
    Ok(())
}

/// Looks up the claim's TXT record now; verified when it is there.
#[server(prefix = "/api", endpoint = "verify_sso_domain")]
pub async fn verify_sso_domain(id: String) -> Result<(), AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let now = domain::clock::now_ms();
    domain::sso::domains::verify(&ctx.db, &ctx.domains, &actor, &id, now).await.map_err(into_app_error)?;
    Ok(())
}

/// Removes a claimed domain; a verified one stops routing at once.
#[server(prefix = "/api", endpoint = "remove_sso_domain")]
pub async fn remove_sso_domain(id: String) -> Result<(), AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    domain::sso::domains::remove(&ctx.db, &actor, &id).await.map_err(into_app_error)
}
