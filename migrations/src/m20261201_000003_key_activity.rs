//! Lets the console show, per API key, when its last request and last Test-Connection probe
//! arrived without scanning the organisation's whole provisioning log.

use sea_orm_migration::prelude::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(manager, "ix_provisioning_events_key_at", "provisioning_events", &["api_key_id", "at"], false)
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
