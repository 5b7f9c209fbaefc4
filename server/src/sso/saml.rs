//! The SAML 2.0 service provider (`samael`), one per organisation's connection.
//!
//! What we enforce on top of samael (sso.md §2, OWASP SAML Security Cheat Sheet):
//! - a signature is required: the connection always pins at least one certificate (samael would
//!   accept an unsigned response without one), and only content covered by a valid signature is
//!   read (samael's reduce mode; signature wrapping finds nothing);
//! - RSA-SHA256 only;
//! - the Audience must be present and be our entity id (samael checks it only when present);
//! - an SP-initiated response must answer our request (`InResponseTo`); an unsolicited one
//!   (IdP-initiated) must not claim to answer any request;
//! - Destination, Recipient, NotBefore/NotOnOrAfter with a bounded clock skew;
//! - assertion ids are one-time (the caller records them until they expire).
//!
//! Our AuthnRequest ids are 128 random bits (samael's default has 32).

use chrono::Duration;
use domain::sso::{connections::SamlConnection, linking::IdpIdentity};
use samael::{
    crypto::AllowedSignatureAlgorithm,
    key_info::{KeyInfo, X509Data},
    metadata::{Endpoint, EntityDescriptor, HTTP_REDIRECT_BINDING, IdpSsoDescriptor, KeyDescriptor},
    schema::Assertion,
    service_provider::{ServiceProvider, ServiceProviderBuilder},
};

/// How far our clock and the IdP's may disagree.
pub const MAX_CLOCK_SKEW_SECS: i64 = 120;
const TENANT_CLAIM: &str = "http://schemas.microsoft.com/identity/claims/tenantid";
const OBJECT_ID_CLAIM: &str = "http://schemas.microsoft.com/identity/claims/objectidentifier";
/// Where Entra puts the values of a person's app role assignments (one attribute value each).
const ROLE_CLAIM: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";

/// Why a SAML sign-in failed. Details go to the log; the person sees a short explanation.
#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    #[error("the SAML connection cannot be used: {0}")]
    Config(String),
    #[error("the SAML response was refused: {0}")]
    Refused(String),
    #[error("the assertion has no audience restriction naming this service provider")]
    NoAudience,
    #[error("an unsolicited response claims to answer request {0}")]
    UnexpectedInResponseTo(String),
    #[error("the assertion has no NameID")]
    NoNameId,
}

/// Our side of one organisation's SAML connection: what the admin pastes into Entra.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpUrls {
    /// Identifier (Entity ID); also where our metadata is served.
    pub entity_id: String,
    /// Reply URL (Assertion Consumer Service URL).
    pub acs_url: String,
}

impl SpUrls {
    /// The URLs for the organisation with sign-in name `slug`.
    pub fn new(public_url: &str, slug: &str) -> Self {
        Self {
            entity_id: app::routes::saml_entity_id(public_url, slug),
            acs_url: app::routes::saml_acs_url(public_url, slug),
        }
    }
}

fn idp_metadata(conn: &SamlConnection) -> EntityDescriptor {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let key = KeyDescriptor {
        key_use: Some("signing".into()),
        key_info: KeyInfo {
            id: None,
            x509_data: Some(X509Data {
                certificates: conn.certificates.iter().map(|c| STANDARD.encode(&c.der)).collect(),
            }),
        },
        encryption_methods: None,
    };
    let descriptor = IdpSsoDescriptor {
        id: None,
        valid_until: None,
        cache_duration: None,
        protocol_support_enumeration: Some("urn:oasis:names:tc:SAML:2.0:protocol".into()),
        error_url: None,
        signature: None,
        key_descriptors: vec![key],
        organization: None,
        contact_people: vec![],
        artifact_resolution_service: vec![],
        single_logout_services: vec![],
        manage_name_id_services: vec![],
        name_id_formats: vec![],
        want_authn_requests_signed: None,
        single_sign_on_services: vec![Endpoint {
            binding: HTTP_REDIRECT_BINDING.into(),
            location: conn.sso_url.clone(),
            response_location: None,
        }],
        name_id_mapping_services: vec![],
        assertion_id_request_services: vec![],
        attribute_profiles: vec![],
        attributes: vec![],
    };
    EntityDescriptor {
        entity_id: Some(conn.idp_entity_id.clone()),
        idp_sso_descriptors: Some(vec![descriptor]),
        ..EntityDescriptor::default()
    }
}

fn service_provider(
    conn: &SamlConnection,
    urls: &SpUrls,
    unsolicited: bool,
) -> Result<ServiceProvider, SamlError> {
    if conn.certificates.is_empty() {
        // Never reached through the settings page; refuse rather than fail open (sso.md §2).
        return Err(SamlError::Config("no pinned IdP certificate".into()));
    }
    ServiceProviderBuilder::default()
        .entity_id(Some(urls.entity_id.clone()))
        .metadata_url(Some(urls.entity_id.clone()))
        .acs_url(Some(urls.acs_url.clone()))
        .slo_url(None::<String>)
        .idp_metadata(idp_metadata(conn))
        .allow_idp_initiated(unsolicited)
        .max_issue_delay(Duration::seconds(MAX_CLOCK_SKEW_SECS + 60))
        .max_clock_skew(Duration::seconds(MAX_CLOCK_SKEW_SECS))
        .allowed_signature_algorithms(Some(vec![AllowedSignatureAlgorithm::RsaSha256]))
        .build()
        .map_err(|e| SamlError::Config(e.to_string()))
}

/// Our SP metadata document (SAML 2.0 Metadata §2.4.4), what Entra's "Upload metadata file"
/// reads: our entity id, the ACS (HTTP-POST), unsigned requests, and that we want signed
/// assertions. No single-logout endpoint is advertised because none is served.
pub fn metadata_xml(urls: &SpUrls) -> String {
    let attr = |v: &str| v.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:AssertionConsumerService Binding="{binding}" Location="{acs}" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"#,
        entity = attr(&urls.entity_id),
        acs = attr(&urls.acs_url),
        binding = samael::metadata::HTTP_POST_BINDING,
    )
}

/// An SP-initiated sign-in: where to send the browser, and the request id to expect back.
pub struct Started {
    pub redirect_url: String,
    pub request_id: String,
}

/// Builds the AuthnRequest (HTTP-Redirect binding) carrying `relay_state`.
pub fn start(conn: &SamlConnection, urls: &SpUrls, relay_state: &str) -> Result<Started, SamlError> {
    let sp = service_provider(conn, urls, false)?;
    let mut request =
        sp.make_authentication_request(&conn.sso_url).map_err(|e| SamlError::Config(e.to_string()))?;
    request.id = format!("_{}", uuid::Uuid::new_v4().simple());
    request.force_authn = None;
    let url = request
        .redirect(relay_state)
        .map_err(|e| SamlError::Config(e.to_string()))?
        .ok_or_else(|| SamlError::Config("the AuthnRequest has no destination".into()))?;
    Ok(Started { redirect_url: url.to_string(), request_id: request.id })
}

/// A verified assertion: who signed in, and until when its id must be remembered.
#[derive(Debug)]
pub struct Verified {
    pub identity: IdpIdentity,
    pub assertion_id: String,
    pub remember_until_ms: i64,
}

/// Verifies a base64 `SAMLResponse`. `expected_request` is the id of our AuthnRequest when the
/// RelayState named a sign-in we started; `None` accepts only an unsolicited response.
pub fn verify(
    conn: &SamlConnection,
    urls: &SpUrls,
    saml_response: &str,
    expected_request: Option<&str>,
) -> Result<Verified, SamlError> {
    let sp = service_provider(conn, urls, expected_request.is_none())?;
    let compact: String = saml_response.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let ids: Vec<&str> = expected_request.into_iter().collect();
    let assertion = sp
        .parse_base64_response(&compact, expected_request.map(|_| ids.as_slice()))
        .map_err(|e| SamlError::Refused(e.to_string()))?;
    check_audience(&assertion, &urls.entity_id)?;
    if expected_request.is_none()
        && let Some(id) = in_response_to(&assertion)
    {
        return Err(SamlError::UnexpectedInResponseTo(id));
    }
    let name_id = assertion
        .subject
        .as_ref()
        .and_then(|s| s.name_id.as_ref())
        .map(|n| n.value.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or(SamlError::NoNameId)?;
    let identity = IdpIdentity {
        tenant_id: attribute(&assertion, TENANT_CLAIM).unwrap_or_else(|| conn.idp_entity_id.clone()),
        object_id: attribute(&assertion, OBJECT_ID_CLAIM).unwrap_or_else(|| name_id.clone()),
        user_name: Some(name_id),
        roles: attributes(&assertion, ROLE_CLAIM),
    };
    Ok(Verified { identity, remember_until_ms: expiry_ms(&assertion), assertion_id: assertion.id })
}

fn check_audience(assertion: &Assertion, entity_id: &str) -> Result<(), SamlError> {
    let named = assertion
        .conditions
        .as_ref()
        .and_then(|c| c.audience_restrictions.as_ref())
        .is_some_and(|rs| rs.iter().any(|r| r.audience.iter().any(|a| a == entity_id)));
    if named { Ok(()) } else { Err(SamlError::NoAudience) }
}

fn confirmations(assertion: &Assertion) -> impl Iterator<Item = &samael::schema::SubjectConfirmationData> {
    assertion
        .subject
        .iter()
        .flat_map(|s| s.subject_confirmations.iter().flatten())
        .filter_map(|c| c.subject_confirmation_data.as_ref())
}

fn in_response_to(assertion: &Assertion) -> Option<String> {
    confirmations(assertion).find_map(|d| d.in_response_to.clone())
}

/// The latest instant the assertion could still be accepted (with skew), in Unix ms.
fn expiry_ms(assertion: &Assertion) -> i64 {
    let condition = assertion.conditions.as_ref().and_then(|c| c.not_on_or_after);
    let latest = confirmations(assertion).filter_map(|d| d.not_on_or_after).chain(condition).max();
    let latest =
        latest.unwrap_or_else(|| assertion.issue_instant + Duration::seconds(MAX_CLOCK_SKEW_SECS + 60));
    (latest + Duration::seconds(MAX_CLOCK_SKEW_SECS)).timestamp_millis()
}

/// The non-blank values of the assertion's attribute `name`, trimmed.
fn attributes(assertion: &Assertion, name: &str) -> Vec<String> {
    assertion
        .attribute_statements
        .iter()
        .flatten()
        .flat_map(|s| s.attributes.iter())
        .filter(|a| a.name.as_deref() == Some(name))
        .flat_map(|a| a.values.iter().filter_map(|v| v.value.as_deref()))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The first non-blank value of the assertion's attribute `name`.
fn attribute(assertion: &Assertion, name: &str) -> Option<String> {
    attributes(assertion, name).into_iter().next()
}
