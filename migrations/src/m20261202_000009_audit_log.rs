//! The admin audit log (issue 11): one row per security-relevant event of an organisation —
//! sign-ins and their failures, sign-outs, API key and SSO changes, password and sign-in email
//! changes, and what the command line did — with who, when, from which client address and user
//! agent. Kept apart from the provisioning log (which records Entra's SCIM traffic, not people)
//! and retained as long as it.
//!
//! `actor_id` names the person without a foreign key: the row must outlive the person (SCIM may
//! delete them), so `actor` keeps their name and email as they were at the time.

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
                    .table("audit_events")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(string_len("org_id", 36))
                    .col(big_integer("at"))
                    .col(string_len("kind", 32))
                    .col(string_len_null("actor_id", 36))
                    .col(string("actor"))
                    // `web` (a browser or HTTP client, with its address and user agent) or `cli`.
                    .col(string_len("via", 8))
                    .col(string_len_null("client_addr", 45))
                    .col(string_null("user_agent"))
                    .col(text("detail"))
                    .foreign_key(&mut fk("audit_events", "org_id", "organizations"))
                    .to_owned(),
            )
            .await?;
        index(manager, "ix_audit_events_org_at", "audit_events", &["org_id", "at"], false).await?;
        index(manager, "ix_audit_events_org_kind_at", "audit_events", &["org_id", "kind", "at"], false)
            .await?;
        // The retention purge deletes by age across organisations.
        index(manager, "ix_audit_events_at", "audit_events", &["at"], false).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
