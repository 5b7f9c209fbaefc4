//! Single sign-on: an organisation's SAML and OIDC connections, the logins in flight between our
//! redirect to the IdP and its answer, the SAML assertion ids already used (replay protection,
//! OWASP SAML Security Cheat Sheet), and the organisation-wide SSO policy. Users gain a unique
//! Entra binding `(tenant id, object id)` so one Entra identity maps to one person per organisation.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("sso_connections")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("org_id", 36))
                    .col(string_len("protocol", 8))
                    .col(boolean("enabled"))
                    .col(string_null("saml_idp_entity_id"))
                    .col(string_null("saml_sso_url"))
                    .col(text_null("saml_certificates"))
                    .col(string_null("oidc_issuer"))
                    .col(string_null("oidc_tenant_id"))
                    .col(string_null("oidc_client_id"))
                    // AES-256-GCM under the server's secret key, never the clear secret.
                    .col(text_null("oidc_client_secret"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut fk("sso_connections", "org_id", "organizations"))
                    .to_owned(),
            )
            .await?;
        index(manager, "ux_sso_connections_org_protocol", "sso_connections", &["org_id", "protocol"], true)
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("sso_pending_logins")
                    // SHA-256 of the opaque `state` / `RelayState` value the browser carries.
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("connection_id", 36))
                    .col(string_null("request_id"))
                    .col(string_null("nonce"))
                    .col(string_null("pkce_verifier"))
                    .col(string("return_to"))
                    .col(big_integer("expires_at"))
                    .foreign_key(&mut fk("sso_pending_logins", "connection_id", "sso_connections"))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_sso_pending_logins_expires", "sso_pending_logins", &["expires_at"], false).await?;
        index(
            manager,
            "ix_sso_pending_logins_connection",
            "sso_pending_logins",
            &["connection_id", "expires_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("saml_assertions_seen")
                    .col(string_len("connection_id", 36))
                    .col(string("assertion_id"))
                    .col(big_integer("expires_at"))
                    .primary_key(Index::create().col("connection_id").col("assertion_id"))
                    .foreign_key(&mut fk("saml_assertions_seen", "connection_id", "sso_connections"))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_saml_assertions_seen_expires", "saml_assertions_seen", &["expires_at"], false)
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table("organizations")
                    .add_column(boolean("sso_required").default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table("organizations").add_column(string_null("sso_domain")).to_owned(),
            )
            .await?;
        index(manager, "ux_organizations_sso_domain", "organizations", &["sso_domain"], true).await?;
        index(
            manager,
            "ux_users_org_entra",
            "users",
            &["org_id", "entra_tenant_id", "entra_object_id"],
            true,
        )
        .await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
