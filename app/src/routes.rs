//! The URLs the server routes and the console shows people to paste elsewhere (the SCIM Tenant URL
//! into Entra's provisioning settings, the SAML and OIDC URLs into Entra's app registration, the
//! SSO start into the sign-in form) or links to (the CSV exports), each defined once. The server's
//! router mounts these very patterns and the console formats the same ones, so a moved route cannot
//! leave the console telling Entra a stale URL; `server/tests/console_urls.rs` requests every URL the console shows.
//!
//! Path patterns use axum's `{param}` syntax; the functions fill them in.

/// Where the SCIM API is mounted (RFC 7644 §3.13: the service provider's base URI).
pub const SCIM_BASE: &str = "/scim/v2";
/// "Sign in with SSO": `?who=<sign-in name or email>[&protocol=saml|oidc][&return_to=/path]`.
pub const SSO_START: &str = "/sso/start";
/// The OIDC redirect URI, one for every organisation (`state` names the sign-in).
pub const OIDC_CALLBACK: &str = "/sso/oidc/callback";
/// An organisation's SAML metadata; its URL is also our SAML entity id.
pub const SAML_METADATA: &str = "/sso/saml/{org}/metadata";
/// An organisation's SAML Assertion Consumer Service (the Reply URL).
pub const SAML_ACS: &str = "/sso/saml/{org}/acs";

/// The Users page's CSV export: the users the page's filters [`USER_FILTERS`] select, all pages.
pub const USERS_EXPORT: &str = "/export/users.csv";
/// The Users page's filter parameters, which its export link carries.
pub const USER_FILTERS: &[&str] = &["q", "status", "source", "role"];
/// The provisioning log's CSV export: the events the page's filters [`LOG_FILTERS`] select.
pub const LOG_EXPORT: &str = "/export/log.csv";
/// The provisioning log's filter parameters, which its export link carries.
pub const LOG_FILTERS: &[&str] = &["result", "operation", "resource", "key"];

/// The SCIM Tenant URL of a server reached at `public_url`.
pub fn tenant_url(public_url: &str) -> String {
    format!("{public_url}{SCIM_BASE}")
}

/// The OIDC redirect URI of a server reached at `public_url`.
pub fn oidc_redirect_uri(public_url: &str) -> String {
    format!("{public_url}{OIDC_CALLBACK}")
}

/// The SAML Identifier (Entity ID) of the organisation with sign-in name `slug`.
pub fn saml_entity_id(public_url: &str, slug: &str) -> String {
    format!("{public_url}{}", SAML_METADATA.replace("{org}", slug))
}

/// The SAML Reply URL of the organisation with sign-in name `slug`.
pub fn saml_acs_url(public_url: &str, slug: &str) -> String {
    format!("{public_url}{}", SAML_ACS.replace("{org}", slug))
}

/// The SP-initiated sign-on URL of the organisation with sign-in name `slug`.
pub fn sso_start_url(public_url: &str, slug: &str) -> String {
    format!("{public_url}{SSO_START}?who={slug}")
}

/// Whether `path` is some organisation's [`SAML_ACS`] (the pattern with one path segment for
/// `{org}`).
pub fn is_saml_acs(path: &str) -> bool {
    let Some((before, after)) = SAML_ACS.split_once("{org}") else { return false };
    path.strip_prefix(before)
        .and_then(|rest| rest.strip_suffix(after))
        .is_some_and(|org| !org.is_empty() && !org.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_fill_in_to_the_urls_entra_is_given() {
        let base = "https://scimpad.example";
        assert_eq!(tenant_url(base), "https://scimpad.example/scim/v2");
        assert_eq!(
            saml_entity_id(base, "contoso-1a2b3c"),
            "https://scimpad.example/sso/saml/contoso-1a2b3c/metadata"
        );
        assert_eq!(
            saml_acs_url(base, "contoso-1a2b3c"),
            "https://scimpad.example/sso/saml/contoso-1a2b3c/acs"
        );
        assert_eq!(oidc_redirect_uri(base), "https://scimpad.example/sso/oidc/callback");
        assert_eq!(
            sso_start_url(base, "contoso-1a2b3c"),
            "https://scimpad.example/sso/start?who=contoso-1a2b3c"
        );
    }

    #[test]
    fn saml_acs_paths_are_recognised_by_their_pattern() {
        assert!(is_saml_acs("/sso/saml/contoso-1a2b3c/acs"));
        for other in [
            "/sso/saml//acs",
            "/sso/saml/a/b/acs",
            "/sso/saml/contoso/metadata",
            "/sso/saml/acs",
            "/x/sso/saml/a/acs",
        ] {
            assert!(!is_saml_acs(other), "{other}");
        }
    }
}
