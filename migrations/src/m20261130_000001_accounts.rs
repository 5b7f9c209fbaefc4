//! Organisations, the people in them (console admins and SCIM-provisioned users share one table,
//! see ARCHITECTURE.md), their password credentials, server-side sessions and sign-in throttling.

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
                    .table("organizations")
                    .col(string_len("id", 36).primary_key())
                    .col(string("name"))
                    .col(string_len_uniq("slug", 64))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("org_id", 36))
                    // SCIM userName as sent, and its lower-case copy for the case-insensitive
                    // uniqueness RFC 7643 §4.1.1 gives it (caseExact = false).
                    .col(string("user_name"))
                    .col(string("user_name_lower"))
                    .col(string_null("external_id"))
                    .col(string_null("display_name"))
                    .col(string_null("given_name"))
                    .col(string_null("family_name"))
                    .col(string_null("email"))
                    .col(string_null("email_lower"))
                    .col(boolean("active"))
                    .col(string_len("role", 16))
                    .col(string_len("source", 16))
                    .col(string_null("entra_tenant_id"))
                    .col(string_null("entra_object_id"))
                    // Everything SCIM knows about the person, as the resource JSON.
                    .col(json("resource"))
                    .col(big_integer("version"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut fk("users", "org_id", "organizations"))
                    .to_owned(),
            )
            .await?;
        index(manager, "ux_users_org_user_name", "users", &["org_id", "user_name_lower"], true).await?;
        index(manager, "ix_users_org_external_id", "users", &["org_id", "external_id"], false).await?;
        index(manager, "ix_users_org_email", "users", &["org_id", "email_lower"], false).await?;
        index(manager, "ix_users_org_updated", "users", &["org_id", "updated_at"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("credentials")
                    .col(string_len("user_id", 36).primary_key())
                    // Sign-in identifier: globally unique, so an email names one account.
                    .col(string_uniq("email_lower"))
                    .col(string("password_hash"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut fk("credentials", "user_id", "users"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .col(string_len("id", 64).primary_key())
                    // Set while signed in; deleting the user deletes their sessions.
                    .col(string_len_null("user_id", 36))
                    .col(text("data"))
                    .col(big_integer("expires_at"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk("sessions", "user_id", "users"))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_sessions_expires", "sessions", &["expires_at"], false).await?;
        index(manager, "ix_sessions_user", "sessions", &["user_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("sign_in_throttle")
                    .col(string("key").primary_key())
                    .col(integer("failures"))
                    .col(big_integer("window_start"))
                    .col(big_integer("locked_until"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
