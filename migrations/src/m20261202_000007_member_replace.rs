//! How a SCIM `replace` of a group's `members` is applied, per organisation: `additive` (the
//! default; Entra's provisioning service sends `replace` carrying only the member being added,
//! entra-scim.md §2.8) or `exact` (RFC 7644 §3.5.2.3, for identity providers that send the
//! whole list). Existing organisations become `additive`: under Entra they were losing members.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("organizations")
                    .add_column(string_len("members_replace", 16).default("additive"))
                    .to_owned(),
            )
            .await
    }
}
