//! SeaORM entities, one module per table (see the migrations crate for the DDL).

pub mod api_key;
pub mod audit_event;
pub mod credential;
pub mod directory_count;
pub mod email_link;
pub mod group;
pub mod group_member;
pub mod organization;
pub mod provisioning_event;
pub mod provisioning_hourly;
pub mod saml_assertion_seen;
pub mod session;
pub mod sign_in_throttle;
pub mod sso_connection;
pub mod sso_domain;
pub mod sso_pending_login;
pub mod user;
