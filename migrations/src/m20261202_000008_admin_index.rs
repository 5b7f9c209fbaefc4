//! Finds an organisation's active admins without reading its whole directory: the last-admin
//! guard of SCIM deactivations and deletions, and the console's "last active admin" note on the
//! Users page, ask for them (`users.role = 'admin' AND active`).

use sea_orm_migration::prelude::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(manager, "ix_users_org_role_active", "users", &["org_id", "role", "active"], false).await
    }
}
