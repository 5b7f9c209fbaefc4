//! Roles from Entra (issue 13): the app role value that makes a person an admin, per
//! organisation. Entra sends a user's app role assignment in SCIM `roles` and in the SAML/OIDC
//! `roles` claim; the value is whatever the customer named the app role, so it is configurable.
//! Existing organisations get `Admin`, the name Microsoft's own examples use.

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
                    .add_column(string_len("entra_admin_role", 120).default("Admin"))
                    .to_owned(),
            )
            .await
    }
}
