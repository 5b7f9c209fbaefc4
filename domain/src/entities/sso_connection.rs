//! An organisation's single sign-on connection, one per protocol. SAML columns hold the IdP's
//! entity id, sign-on URL and pinned signing certificates (PEM, several for rollover); OIDC
//! columns the tenant-specific issuer, client id and the client secret sealed with the server key.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_connections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub protocol: String,
    pub enabled: bool,
    pub saml_idp_entity_id: Option<String>,
    pub saml_sso_url: Option<String>,
    pub saml_certificates: Option<String>,
    pub oidc_issuer: Option<String>,
    pub oidc_tenant_id: Option<String>,
    pub oidc_client_id: Option<String>,
    pub oidc_client_secret: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
