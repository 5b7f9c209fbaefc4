//! A SAML identity provider inside the test: its own RSA key and certificate (samael's IdP
//! helpers, OpenSSL underneath) and Entra-shaped responses (sso.md §1b: only the assertion signed,
//! RSA-SHA256, tenantid and objectidentifier claims) that each test bends one way to check the
//! service provider refuses it.

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Duration, Utc};
use samael::{
    attribute::{Attribute, AttributeValue},
    crypto::{CertificateDer, Crypto, CryptoProvider},
    idp::{CertificateParams, IdentityProvider, KeyType, Rsa},
    schema::{
        Assertion, AttributeStatement, AudienceRestriction, Conditions, Issuer, Response, Status, StatusCode,
        Subject, SubjectConfirmation, SubjectConfirmationData, SubjectNameID,
    },
    signature::{DigestAlgorithm, Signature, SignatureAlgorithm},
    traits::ToXml,
};

pub const TENANT: &str = "7f3c1e52-9a4b-4d6e-8f21-0c5b3a9d7e10";

/// One IdP signing key and its self-signed certificate.
pub struct SamlIdp {
    key: IdentityProvider,
    cert: CertificateDer,
}

/// What one response says; each field can be bent by a test.
#[derive(Clone)]
pub struct Claims {
    pub issuer: String,
    pub name_id: String,
    pub object_id: String,
    pub tenant_id: String,
    pub audience: Option<String>,
    pub acs_url: String,
    pub in_response_to: Option<String>,
    pub not_on_or_after: DateTime<Utc>,
    pub issue_instant: DateTime<Utc>,
    pub assertion_id: String,
    pub signature_algorithm: SignatureAlgorithm,
    pub signed: bool,
    /// App role values, sent as Entra does: one role claim with a value each (none when empty).
    pub roles: Vec<String>,
}

impl Claims {
    /// A valid unsolicited response for `name_id` to the SP at `entity_id` / `acs_url`.
    pub fn new(entity_id: &str, acs_url: &str, name_id: &str, object_id: &str) -> Self {
        Self {
            issuer: format!("https://sts.windows.net/{TENANT}/"),
            name_id: name_id.into(),
            object_id: object_id.into(),
            tenant_id: TENANT.into(),
            audience: Some(entity_id.into()),
            acs_url: acs_url.into(),
            in_response_to: None,
            not_on_or_after: Utc::now() + Duration::minutes(5),
            issue_instant: Utc::now(),
            assertion_id: format!("_{}", uuid::Uuid::new_v4().simple()),
            signature_algorithm: SignatureAlgorithm::RsaSha256,
            signed: true,
            roles: Vec::new(),
        }
    }
}

fn attribute(name: &str, value: &str) -> Attribute {
    attribute_values(name, &[value])
}

fn attribute_values(name: &str, values: &[&str]) -> Attribute {
    Attribute {
        friendly_name: None,
        name: Some(name.into()),
        name_format: None,
        values: values
            .iter()
            .map(|v| AttributeValue { attribute_type: Some("xs:string".into()), value: Some((*v).into()) })
            .collect(),
    }
}

impl SamlIdp {
    pub fn new() -> Self {
        let key = IdentityProvider::generate_new(KeyType::Rsa(Rsa::Rsa2048)).unwrap();
        let params =
            CertificateParams { common_name: "test-idp", issuer_name: "test-idp", days_until_expiration: 2 };
        let cert = key.create_certificate(&params).unwrap();
        Self { key, cert }
    }

    /// The certificate as the settings page takes it.
    pub fn cert_pem(&self) -> String {
        let body = STANDARD.encode(self.cert.der_data());
        let lines: Vec<String> =
            body.as_bytes().chunks(64).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
        format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
    }

    /// The response XML for `claims`, signed (assertion only) unless `claims.signed` is false.
    pub fn response_xml(&self, c: &Claims) -> String {
        let issuer = Issuer { value: Some(c.issuer.clone()), ..Issuer::default() };
        let signature = c.signed.then(|| {
            let mut sig = Signature::template(&c.assertion_id, &self.cert);
            sig.signed_info.signature_method.algorithm = c.signature_algorithm.clone();
            for reference in &mut sig.signed_info.reference {
                reference.digest_method.algorithm = DigestAlgorithm::Sha256;
            }
            sig
        });
        let assertion = Assertion {
            id: c.assertion_id.clone(),
            issue_instant: c.issue_instant,
            version: "2.0".into(),
            issuer: issuer.clone(),
            signature,
            subject: Some(Subject {
                name_id: Some(SubjectNameID {
                    format: Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into()),
                    value: c.name_id.clone(),
                }),
                subject_confirmations: Some(vec![SubjectConfirmation {
                    method: Some("urn:oasis:names:tc:SAML:2.0:cm:bearer".into()),
                    name_id: None,
                    subject_confirmation_data: Some(SubjectConfirmationData {
                        not_before: None,
                        not_on_or_after: Some(c.not_on_or_after),
                        recipient: Some(c.acs_url.clone()),
                        in_response_to: c.in_response_to.clone(),
                        address: None,
                        content: None,
                    }),
                }]),
            }),
            conditions: Some(Conditions {
                not_before: Some(c.issue_instant - Duration::minutes(1)),
                not_on_or_after: Some(c.not_on_or_after),
                audience_restrictions: c
                    .audience
                    .clone()
                    .map(|a| vec![AudienceRestriction { audience: vec![a] }]),
                one_time_use: None,
                proxy_restriction: None,
            }),
            authn_statements: None,
            attribute_statements: Some(vec![AttributeStatement {
                attributes: [
                    attribute("http://schemas.microsoft.com/identity/claims/tenantid", &c.tenant_id),
                    attribute("http://schemas.microsoft.com/identity/claims/objectidentifier", &c.object_id),
                    attribute("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", &c.name_id),
                ]
                .into_iter()
                .chain((!c.roles.is_empty()).then(|| {
                    let roles: Vec<&str> = c.roles.iter().map(String::as_str).collect();
                    attribute_values("http://schemas.microsoft.com/ws/2008/06/identity/claims/role", &roles)
                }))
                .collect(),
            }]),
        };
        let response = Response {
            id: format!("_{}", uuid::Uuid::new_v4().simple()),
            in_response_to: c.in_response_to.clone(),
            version: "2.0".into(),
            issue_instant: c.issue_instant,
            destination: Some(c.acs_url.clone()),
            consent: None,
            issuer: Some(issuer),
            signature: None,
            status: Some(Status {
                status_code: StatusCode { value: Some("urn:oasis:names:tc:SAML:2.0:status:Success".into()) },
                status_message: None,
                status_detail: None,
            }),
            encrypted_assertion: None,
            assertion: Some(assertion),
        };
        let xml = response.to_string().unwrap();
        if c.signed {
            Crypto::sign_xml(xml, &self.key.export_private_key_der().unwrap()).unwrap()
        } else {
            xml
        }
    }

    /// The base64 `SAMLResponse` form value for `claims`.
    pub fn response(&self, c: &Claims) -> String {
        STANDARD.encode(self.response_xml(c))
    }
}
