//! Single sign-on for provisioned people (sso.md): the organisation's SAML and OIDC connections,
//! the email domains it has proven control of, sign-ins in flight, one-time SAML assertions, and
//! binding an IdP login to a person. The protocols themselves (samael, openidconnect) live in the
//! server; this module only stores and decides.

pub mod certificates;
pub mod connections;
pub mod domains;
pub mod linking;
pub mod pending;
pub mod replay;
pub mod secret_box;
