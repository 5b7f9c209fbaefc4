//! SCIM provisioning: groups and their memberships, the API keys Entra uses as its Secret Token,
//! and the provisioning log of every SCIM request.

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
                    .table("groups")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("org_id", 36))
                    .col(string("display_name"))
                    // Entra requires displayName to be unique; compared case-insensitively.
                    .col(string("display_name_lower"))
                    .col(string_null("external_id"))
                    .col(json("resource"))
                    .col(big_integer("version"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut fk("groups", "org_id", "organizations"))
                    .to_owned(),
            )
            .await?;
        index(manager, "ux_groups_org_display_name", "groups", &["org_id", "display_name_lower"], true)
            .await?;
        index(manager, "ix_groups_org_external_id", "groups", &["org_id", "external_id"], false).await?;
        index(manager, "ix_groups_org_created", "groups", &["org_id", "created_at", "id"], false).await?;
        // The default order of SCIM user lists.
        index(manager, "ix_users_org_created", "users", &["org_id", "created_at", "id"], false).await?;

        // Memberships are rows, so adding and removing members are set operations whose cost is
        // the number of members in the request, never the size of the group.
        manager
            .create_table(
                Table::create()
                    .table("group_members")
                    .col(string_len("group_id", 36))
                    .col(string_len("user_id", 36))
                    .col(big_integer("created_at"))
                    .primary_key(Index::create().col("group_id").col("user_id"))
                    .foreign_key(&mut fk("group_members", "group_id", "groups"))
                    .foreign_key(&mut fk("group_members", "user_id", "users"))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_group_members_user", "group_members", &["user_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("api_keys")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("org_id", 36))
                    .col(string_len("owner_id", 36))
                    .col(string("name"))
                    // The public part of the key, shown in the console and used for lookup.
                    .col(string_len_uniq("public_id", 32))
                    // SHA-256 of the whole key, hex: the secret itself is never stored.
                    .col(string_len("secret_hash", 64))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("last_used_at"))
                    .col(big_integer_null("expires_at"))
                    .col(big_integer_null("revoked_at"))
                    .foreign_key(&mut fk("api_keys", "org_id", "organizations"))
                    .foreign_key(&mut fk("api_keys", "owner_id", "users"))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_api_keys_org", "api_keys", &["org_id", "created_at"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("provisioning_events")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(string_len("org_id", 36))
                    .col(big_integer("at"))
                    .col(string_len_null("api_key_id", 36))
                    .col(string_len("method", 8))
                    .col(string("path"))
                    .col(string_len_null("resource_type", 16))
                    .col(string_len_null("resource_id", 36))
                    .col(string_len("operation", 32))
                    .col(text("summary"))
                    .col(small_integer("status"))
                    .col(string_len_null("scim_type", 32))
                    .col(text_null("detail"))
                    .col(integer("duration_ms"))
                    .foreign_key(&mut fk("provisioning_events", "org_id", "organizations"))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_provisioning_events_org_at", "provisioning_events", &["org_id", "at"], false)
            .await?;
        index(
            manager,
            "ix_provisioning_events_resource",
            "provisioning_events",
            &["org_id", "resource_id"],
            false,
        )
        .await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
