//! The IdP signing certificates a SAML connection pins. An admin pastes one or more PEM blocks
//! (Entra's "Certificate (Base64)" download, or the bare base64 body); during a certificate
//! rollover both the old and the new certificate are pinned. Only RSA keys are accepted because
//! only RSA-SHA256 signatures are (OWASP SAML Security Cheat Sheet: pin, don't negotiate).

use x509_cert::{
    Certificate,
    der::{Decode, Encode, oid::ObjectIdentifier},
};

use crate::{DomainError, DomainResult};

/// rsaEncryption (RFC 8017 appendix C).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// More certificates than any rollover needs.
const MAX_CERTIFICATES: usize = 4;

/// One pinned certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinnedCertificate {
    /// DER bytes, as the signature check wants them.
    pub der: Vec<u8>,
    /// The subject, for the settings page.
    pub subject: String,
    /// End of validity, Unix ms.
    pub not_after_ms: i64,
}

fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::invalid("certificates", message)
}

/// Parses the pasted certificates, refusing anything that cannot verify an RSA-SHA256 signature
/// today. `now_ms` decides what has expired.
pub fn parse(pasted: &str, now_ms: i64) -> DomainResult<Vec<PinnedCertificate>> {
    let pasted = pasted.trim();
    if pasted.is_empty() {
        return Err(invalid(
            "Paste the IdP's signing certificate: a connection without one would accept forged sign-ins.",
        ));
    }
    let certs = if pasted.contains("-----BEGIN") {
        Certificate::load_pem_chain(pasted.as_bytes())
            .map_err(|_| invalid("This is not a valid PEM certificate (-----BEGIN CERTIFICATE----- …)."))?
    } else {
        use base64::{Engine, engine::general_purpose::STANDARD};
        let compact: String = pasted.chars().filter(|c| !c.is_whitespace()).collect();
        let der = STANDARD.decode(compact).map_err(|_| invalid("This is neither PEM nor base64."))?;
        vec![Certificate::from_der(&der).map_err(|_| invalid("This base64 is not an X.509 certificate."))?]
    };
    if certs.len() > MAX_CERTIFICATES {
        return Err(invalid(format!("Pin at most {MAX_CERTIFICATES} certificates.")));
    }
    certs.into_iter().map(|cert| pin(cert, now_ms)).collect()
}

fn pin(cert: Certificate, now_ms: i64) -> DomainResult<PinnedCertificate> {
    let tbs = &cert.tbs_certificate;
    let subject = tbs.subject.to_string();
    if tbs.subject_public_key_info.algorithm.oid != RSA_ENCRYPTION {
        return Err(invalid(format!(
            "The certificate {subject} has no RSA key; only RSA-SHA256 is accepted."
        )));
    }
    let not_after_ms =
        i64::try_from(tbs.validity.not_after.to_unix_duration().as_millis()).unwrap_or(i64::MAX);
    if not_after_ms <= now_ms {
        return Err(invalid(format!(
            "The certificate {subject} has expired; download the current one from Entra."
        )));
    }
    let der = cert.to_der().map_err(|_| invalid("The certificate cannot be re-encoded."))?;
    Ok(PinnedCertificate { der, subject, not_after_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA: &str = include_str!("testdata/rsa.pem");
    const RSA_NEXT: &str = include_str!("testdata/rsa-next.pem");
    const EC: &str = include_str!("testdata/ec.pem");
    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn pins_one_or_several_rsa_certificates() {
        let one = parse(RSA, NOW).unwrap();
        assert_eq!(one.len(), 1);
        assert!(one[0].subject.contains("test-idp-rsa"), "{}", one[0].subject);
        assert!(one[0].not_after_ms > NOW);
        let both = parse(&format!("{RSA}\n{RSA_NEXT}"), NOW).unwrap();
        assert_eq!(both.len(), 2, "rollover keeps the old and the new certificate");
        assert_ne!(both[0].der, both[1].der);
    }

    #[test]
    fn accepts_the_bare_base64_body() {
        let body: String = RSA.lines().filter(|l| !l.starts_with("-----")).collect();
        assert_eq!(parse(&body, NOW).unwrap(), parse(RSA, NOW).unwrap());
    }

    #[test]
    fn refuses_what_cannot_verify_rsa_sha256_today() {
        let message = |pasted: &str, now: i64| parse(pasted, now).unwrap_err().to_string();
        assert!(message("", NOW).contains("forged"));
        assert!(message("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----", NOW).contains("PEM"));
        assert!(message("not base64 !!", NOW).contains("neither PEM nor base64"));
        assert!(message(EC, NOW).contains("no RSA key"));
        assert!(message(RSA, i64::MAX - 1).contains("expired"));
        assert!(message(&[RSA; 5].join("\n"), NOW).contains("at most 4"));
    }
}
