//! Settings → Single sign-on server functions: the organisation's SAML and OIDC connections and
//! its SSO policy, plus what to paste into Entra (admins only; the domain refuses anyone else).
//! The OIDC client secret goes in and never comes back out.

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

/// Everything the SSO settings page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoView {
    /// The organisation's sign-in name (what people type under "Sign in with SSO").
    pub org_slug: String,
    pub sso_required: bool,
    pub sso_domain: String,
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
    let base = format!("{}/sso/saml/{}", ctx.public_url, s.org_slug);
    Ok(SsoView {
        sp_entity_id: format!("{base}/metadata"),
        acs_url: format!("{base}/acs"),
        sign_on_url: format!("{}/sso/start?who={}", ctx.public_url, s.org_slug),
        redirect_uri: format!("{}/sso/oidc/callback", ctx.public_url),
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
        sso_domain: s.sso_domain.unwrap_or_default(),
    })
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

/// Saves the SSO policy: the email domain routed to this organisation's SSO, and whether
/// password sign-in is off for everyone but admins.
#[server(prefix = "/api", endpoint = "save_sso_policy")]
pub async fn save_sso_policy(sso_required: Option<String>, sso_domain: String) -> Result<(), AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let input = domain::sso::connections::PolicyInput { sso_required: sso_required.is_some(), sso_domain };
    domain::sso::connections::save_policy(&ctx.db, &actor, input).await.map_err(into_app_error)
}
