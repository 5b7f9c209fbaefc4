//! Email that works (issue 13): confirmed sign-in addresses, and the single-use links email
//! carries (confirm an address, reset a password, accept an invitation to administer).
//!
//! A link's secret is never stored: the row is kept under the SHA-256 of the random token the
//! email carries, so a copy of the database opens no account. `credentials.email_verified_at`
//! says when the person last proved they read their sign-in address; it is cleared when the
//! address changes.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("credentials")
                    .add_column(big_integer_null("email_verified_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("email_links")
                    .col(string_len("id", 36).primary_key())
                    // The SHA-256 (hex) of the token in the emailed URL.
                    .col(string_len("token_hash", 64).unique_key())
                    // confirm_email | reset_password | invitation
                    .col(string_len("purpose", 20))
                    .col(string_len("org_id", 36))
                    // The person the link acts for; none for an invitation (they do not exist yet).
                    .col(string_len_null("user_id", 36))
                    // The address the link was sent to, lower-case.
                    .col(string_len("email", 254))
                    // An invitation: the invitee's name as the inviting admin typed it.
                    .col(string_len_null("name", 100))
                    // An invitation: the admin who sent it.
                    .col(string_len_null("created_by", 36))
                    .col(big_integer("created_at"))
                    .col(big_integer("expires_at"))
                    .foreign_key(&mut fk("email_links", "org_id", "organizations"))
                    .foreign_key(&mut fk("email_links", "user_id", "users"))
                    .to_owned(),
            )
            .await?;
        // A person's links of one purpose (a newer link replaces the older), an organisation's
        // invitations, and the sweep of expired links.
        index(manager, "ix_email_links_user", "email_links", &["user_id", "purpose"], false).await?;
        index(manager, "ix_email_links_org", "email_links", &["org_id", "purpose", "email"], false).await?;
        index(manager, "ix_email_links_expiry", "email_links", &["expires_at"], false).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
