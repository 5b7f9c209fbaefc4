//! An organisation's SSO connections (one SAML, one OIDC) and its SSO policy, as the settings page
//! edits them and the sign-in handlers read them. Which email domains route to the organisation
//! is in [`super::domains`]: only domains it has proven control of.
//!
//! Saving validates everything a sign-in will rely on, so a broken connection is refused with a
//! clear message instead of failing at the first login: a SAML connection cannot exist without a
//! pinned RSA certificate (samael accepts unsigned responses when it has none — sso.md §2); an
//! OIDC issuer must be tenant-specific (never `common`, openidconnect-rs#216) and on a host the
//! server operator allows, because the server fetches its discovery document and keys (SSRF).
//! Every save is recorded in the audit log, in the save's own transaction.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter,
};
use url::Url;

use super::{
    certificates::{self, PinnedCertificate},
    domains::{self, DomainClaim},
    secret_box::{SecretBox, SecretBoxError},
};
use crate::{
    DomainError, DomainResult,
    accounts::Actor,
    audit::{self, Kind},
    clock::now_ms,
    entities::{organization, sso_connection},
    error::is_unique_violation,
    ids::OrgId,
};

/// The two protocols a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Saml,
    Oidc,
}

impl Protocol {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Saml => "saml",
            Protocol::Oidc => "oidc",
        }
    }
}

/// A SAML connection: what verifies an Entra SAML response for one organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlConnection {
    pub id: String,
    pub org_id: String,
    pub org_slug: String,
    pub enabled: bool,
    /// Entra's "Microsoft Entra Identifier", `https://sts.windows.net/{tenant}/`.
    pub idp_entity_id: String,
    /// Entra's "Login URL", where SP-initiated sign-ins are sent.
    pub sso_url: String,
    /// The pinned signing certificates (at least one).
    pub certificates: Vec<PinnedCertificate>,
    /// The same certificates as pasted, for the settings form.
    pub certificates_pem: String,
}

impl SamlConnection {
    /// The Entra tenant the IdP entity id names, when it has Entra's shape.
    pub fn entra_tenant(&self) -> Option<&str> {
        self.idp_entity_id
            .strip_prefix("https://sts.windows.net/")
            .map(|rest| rest.trim_end_matches('/'))
            .filter(|t| uuid::Uuid::parse_str(t).is_ok())
    }
}

/// An OIDC connection. The client secret stays sealed until the token request needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcConnection {
    pub id: String,
    pub org_id: String,
    pub enabled: bool,
    /// The tenant-specific issuer, e.g. `https://login.microsoftonline.com/{tenant}/v2.0`.
    pub issuer: String,
    /// The tenant id every id_token's `tid` must equal.
    pub tenant_id: String,
    pub client_id: String,
    sealed_secret: Option<String>,
}

impl OidcConnection {
    /// Whether a client secret has been saved (the settings page never shows it).
    pub fn has_secret(&self) -> bool {
        self.sealed_secret.is_some()
    }

    /// The clear client secret, for the token request only.
    pub fn client_secret(&self, secrets: &SecretBox) -> Result<String, SecretBoxError> {
        secrets.open(self.sealed_secret.as_deref().ok_or(SecretBoxError::CannotOpen)?, &self.id)
    }
}

/// The settings page's whole picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoSettings {
    pub org_slug: String,
    pub sso_required: bool,
    /// The email domains the organisation claims, verified or not.
    pub domains: Vec<DomainClaim>,
    pub saml: Option<SamlConnection>,
    pub oidc: Option<OidcConnection>,
}

/// What the SAML form sends.
#[derive(Clone, Debug, Default)]
pub struct SamlInput {
    pub enabled: bool,
    pub idp_entity_id: String,
    pub sso_url: String,
    pub certificates: String,
}

/// What the OIDC form sends. An empty `client_secret` keeps the saved one.
#[derive(Clone, Debug, Default)]
pub struct OidcInput {
    pub enabled: bool,
    /// A tenant id (GUID) or a full tenant-specific issuer URL.
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
}

/// What the policy form sends.
#[derive(Clone, Debug, Default)]
pub struct PolicyInput {
    pub sso_required: bool,
}

/// Hosts an OIDC issuer may live on (the server fetches from it).
#[derive(Clone, Debug)]
pub struct IssuerPolicy {
    pub allowed_hosts: Vec<String>,
}

impl Default for IssuerPolicy {
    fn default() -> Self {
        Self { allowed_hosts: vec!["login.microsoftonline.com".into()] }
    }
}

fn to_saml(m: sso_connection::Model, org_slug: String) -> DomainResult<SamlConnection> {
    let pem = m.saml_certificates.unwrap_or_default();
    Ok(SamlConnection {
        certificates: certificates::parse(&pem, i64::MIN)?,
        id: m.id,
        org_id: m.org_id,
        org_slug,
        enabled: m.enabled,
        idp_entity_id: m.saml_idp_entity_id.unwrap_or_default(),
        sso_url: m.saml_sso_url.unwrap_or_default(),
        certificates_pem: pem,
    })
}

fn to_oidc(m: sso_connection::Model) -> OidcConnection {
    OidcConnection {
        id: m.id,
        org_id: m.org_id,
        enabled: m.enabled,
        issuer: m.oidc_issuer.unwrap_or_default(),
        tenant_id: m.oidc_tenant_id.unwrap_or_default(),
        client_id: m.oidc_client_id.unwrap_or_default(),
        sealed_secret: m.oidc_client_secret,
    }
}

async fn row(
    db: &impl ConnectionTrait,
    org_id: &str,
    protocol: Protocol,
) -> DomainResult<Option<sso_connection::Model>> {
    Ok(sso_connection::Entity::find()
        .filter(sso_connection::Column::OrgId.eq(org_id))
        .filter(sso_connection::Column::Protocol.eq(protocol.as_str()))
        .one(db)
        .await?)
}

async fn org(db: &impl ConnectionTrait, org_id: &OrgId) -> DomainResult<organization::Model> {
    organization::Entity::find_by_id(org_id.to_owned()).one(db).await?.ok_or(DomainError::NotFound)
}

/// The organisation's SSO settings (admins only).
pub async fn settings(db: &DatabaseConnection, actor: &Actor) -> DomainResult<SsoSettings> {
    actor.require_admin()?;
    let org = org(db, &actor.org_id).await?;
    let saml = match row(db, &org.id, Protocol::Saml).await? {
        Some(m) => Some(to_saml(m, org.slug.clone())?),
        None => None,
    };
    let oidc = row(db, &org.id, Protocol::Oidc).await?.map(to_oidc);
    Ok(SsoSettings {
        org_slug: org.slug,
        sso_required: org.sso_required,
        domains: domains::list(db, actor).await?,
        saml,
        oidc,
    })
}

fn http_url(field: &'static str, value: &str, what: &str) -> DomainResult<Url> {
    let url = Url::parse(value.trim())
        .map_err(|_| DomainError::invalid(field, format!("Enter {what} as a full URL.")))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(DomainError::invalid(field, format!("{what} must use https://."))),
    }
}

/// Writes `actor`'s connection row for `protocol`, creating it on first save, and records the
/// change (`detail`) in the audit log in the same transaction.
async fn upsert(
    db: &DatabaseConnection,
    actor: &Actor,
    protocol: Protocol,
    detail: String,
    fill: impl FnOnce(&str, &mut sso_connection::ActiveModel),
) -> DomainResult<()> {
    let now = now_ms();
    let txn = crate::db::begin_write(db).await?;
    let org_id = actor.org_id.as_str();
    match row(&txn, org_id, protocol).await? {
        Some(existing) => {
            let id = existing.id.clone();
            let mut active: sso_connection::ActiveModel = existing.into();
            fill(&id, &mut active);
            active.updated_at = Set(now);
            active.update(&txn).await?;
        }
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            let mut active = sso_connection::ActiveModel {
                id: Set(id.clone()),
                org_id: Set(org_id.to_owned()),
                protocol: Set(protocol.as_str().to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
            fill(&id, &mut active);
            active.insert(&txn).await.map_err(|e| {
                if is_unique_violation(&e) {
                    DomainError::Conflict(
                        "Someone else saved this connection at the same time; reload.".into(),
                    )
                } else {
                    e.into()
                }
            })?;
        }
    }
    audit::record(&txn, audit::Event::by(actor, Kind::SsoConnectionChanged, detail)).await?;
    txn.commit().await?;
    Ok(())
}

/// "enabled" or "disabled", as the audit log says it.
fn state(enabled: bool) -> &'static str {
    if enabled { "enabled" } else { "disabled" }
}

/// Saves the SAML connection after checking it can verify sign-ins.
pub async fn save_saml(db: &DatabaseConnection, actor: &Actor, input: SamlInput) -> DomainResult<()> {
    actor.require_admin()?;
    let entity_id = input.idp_entity_id.trim().to_owned();
    if entity_id.is_empty() || entity_id.len() > 1024 {
        return Err(DomainError::invalid(
            "idp_entity_id",
            "Enter the IdP entity ID (Entra: Microsoft Entra Identifier, https://sts.windows.net/…/).",
        ));
    }
    let sso_url = http_url("sso_url", &input.sso_url, "the IdP sign-on URL (Entra: Login URL)")?;
    let pinned = certificates::parse(&input.certificates, now_ms())?;
    let pem = pinned_pem(&pinned);
    let detail = format!(
        "SAML connection saved, {}: IdP {entity_id}, sign-on URL {sso_url}, {} pinned certificate(s)",
        state(input.enabled),
        pinned.len()
    );
    upsert(db, actor, Protocol::Saml, detail, |_, row| {
        row.enabled = Set(input.enabled);
        row.saml_idp_entity_id = Set(Some(entity_id));
        row.saml_sso_url = Set(Some(sso_url.to_string()));
        row.saml_certificates = Set(Some(pem));
    })
    .await
}

/// The pinned certificates in a normalised PEM bundle.
fn pinned_pem(pinned: &[PinnedCertificate]) -> String {
    use base64::{Engine, engine::general_purpose::STANDARD};
    pinned
        .iter()
        .map(|c| {
            let body = STANDARD.encode(&c.der);
            let lines: Vec<&str> =
                body.as_bytes().chunks(64).map(|l| std::str::from_utf8(l).unwrap_or_default()).collect();
            format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
        })
        .collect()
}

/// The tenant-specific issuer and tenant id for what the admin typed.
fn resolve_issuer(tenant: &str, policy: &IssuerPolicy) -> DomainResult<(String, String)> {
    let tenant = tenant.trim();
    if let Ok(id) = uuid::Uuid::parse_str(tenant) {
        let id = id.hyphenated().to_string();
        return Ok((format!("https://login.microsoftonline.com/{id}/v2.0"), id));
    }
    let url = http_url("tenant", tenant, "the tenant ID or issuer")?;
    let host = url.host_str().unwrap_or_default().to_owned();
    if !policy.allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        return Err(DomainError::invalid(
            "tenant",
            format!(
                "Issuers on {host} are not allowed on this server (allowed: {}).",
                policy.allowed_hosts.join(", ")
            ),
        ));
    }
    let tenant_id = url
        .path_segments()
        .into_iter()
        .flatten()
        .find_map(|s| uuid::Uuid::parse_str(s).ok())
        .map(|id| id.hyphenated().to_string())
        .ok_or_else(|| {
            DomainError::invalid(
                "tenant",
                "Use your tenant-specific issuer (it contains the tenant ID), never common or organizations.",
            )
        })?;
    Ok((url.as_str().trim_end_matches('/').to_owned(), tenant_id))
}

/// Saves the OIDC connection; the client secret is sealed with the server key.
pub async fn save_oidc(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    policy: &IssuerPolicy,
    actor: &Actor,
    input: OidcInput,
) -> DomainResult<()> {
    actor.require_admin()?;
    let (issuer, tenant_id) = resolve_issuer(&input.tenant, policy)?;
    let client_id = input.client_id.trim().to_owned();
    if client_id.is_empty() || client_id.len() > 255 {
        return Err(DomainError::invalid("client_id", "Enter the application (client) ID."));
    }
    let secret = input.client_secret.trim().to_owned();
    let existing = row(db, actor.org_id.as_str(), Protocol::Oidc).await?;
    if secret.is_empty() && existing.as_ref().and_then(|e| e.oidc_client_secret.as_ref()).is_none() {
        return Err(DomainError::invalid(
            "client_secret",
            "Enter the client secret (its Value, not its ID).",
        ));
    }
    if secret.len() > 1024 {
        return Err(DomainError::invalid("client_secret", "This client secret is too long."));
    }
    let detail = format!(
        "OIDC connection saved, {}: issuer {issuer}, client {client_id}{}",
        state(input.enabled),
        if secret.is_empty() { "" } else { ", new client secret" }
    );
    upsert(db, actor, Protocol::Oidc, detail, |id, row| {
        row.enabled = Set(input.enabled);
        row.oidc_issuer = Set(Some(issuer));
        row.oidc_tenant_id = Set(Some(tenant_id));
        row.oidc_client_id = Set(Some(client_id));
        if !secret.is_empty() {
            row.oidc_client_secret = Set(Some(secrets.seal(&secret, id)));
        }
    })
    .await
}

/// Saves the organisation's SSO policy.
pub async fn save_policy(db: &DatabaseConnection, actor: &Actor, input: PolicyInput) -> DomainResult<()> {
    actor.require_admin()?;
    if input.sso_required {
        let enabled = sso_connection::Entity::find()
            .filter(sso_connection::Column::OrgId.eq(actor.org_id.as_str()))
            .filter(sso_connection::Column::Enabled.eq(true))
            .one(db)
            .await?;
        if enabled.is_none() {
            return Err(DomainError::invalid(
                "sso_required",
                "Enable a SAML or OIDC connection before requiring SSO, or nobody but admins could sign in.",
            ));
        }
    }
    let detail = format!("require SSO {}", if input.sso_required { "on" } else { "off" });
    let txn = crate::db::begin_write(db).await?;
    let mut org: organization::ActiveModel = org(&txn, &actor.org_id).await?.into();
    org.sso_required = Set(input.sso_required);
    org.update(&txn).await?;
    audit::record(&txn, audit::Event::by(actor, Kind::SsoPolicyChanged, detail)).await?;
    txn.commit().await?;
    Ok(())
}

/// Where "Sign in with SSO" sends someone who typed `who` (an organisation's sign-in name or an
/// email address on a domain it has verified), with the protocols that organisation has enabled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoTarget {
    pub org_id: String,
    pub org_slug: String,
    pub saml: bool,
    pub oidc: bool,
}

/// Finds the organisation for `who`; `None` when nothing matches or it has no enabled connection.
pub async fn find_target(db: &DatabaseConnection, who: &str) -> DomainResult<Option<SsoTarget>> {
    let who = who.trim().to_lowercase();
    let org = match who.rsplit_once('@') {
        Some((_, domain)) => match domains::routed_org(db, domain).await? {
            Some(org_id) => organization::Entity::find_by_id(org_id).one(db).await?,
            None => None,
        },
        None if !who.is_empty() => {
            organization::Entity::find().filter(organization::Column::Slug.eq(who)).one(db).await?
        }
        None => None,
    };
    let Some(org) = org else { return Ok(None) };
    let enabled: Vec<String> = sso_connection::Entity::find()
        .filter(sso_connection::Column::OrgId.eq(org.id.as_str()))
        .filter(sso_connection::Column::Enabled.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.protocol)
        .collect();
    let has = |p: Protocol| enabled.iter().any(|e| e == p.as_str());
    Ok((!enabled.is_empty()).then(|| SsoTarget {
        org_id: org.id,
        org_slug: org.slug,
        saml: has(Protocol::Saml),
        oidc: has(Protocol::Oidc),
    }))
}

/// The SAML connection of the organisation with sign-in name `slug` (enabled or not).
pub async fn saml_by_slug(db: &DatabaseConnection, slug: &str) -> DomainResult<Option<SamlConnection>> {
    let Some(org) = organization::Entity::find().filter(organization::Column::Slug.eq(slug)).one(db).await?
    else {
        return Ok(None);
    };
    match row(db, &org.id, Protocol::Saml).await? {
        Some(m) => Ok(Some(to_saml(m, org.slug)?)),
        None => Ok(None),
    }
}

/// The OIDC connection of organisation `org_id` (enabled or not).
pub async fn oidc_for_org(db: &DatabaseConnection, org_id: &str) -> DomainResult<Option<OidcConnection>> {
    Ok(row(db, org_id, Protocol::Oidc).await?.map(to_oidc))
}

/// The OIDC connection with id `id`.
pub async fn oidc_by_id(db: &DatabaseConnection, id: &str) -> DomainResult<Option<OidcConnection>> {
    Ok(sso_connection::Entity::find_by_id(id.to_owned())
        .filter(sso_connection::Column::Protocol.eq(Protocol::Oidc.as_str()))
        .one(db)
        .await?
        .map(to_oidc))
}
