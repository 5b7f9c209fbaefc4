//! Verified SSO domains (issue 11 item 1). `organizations.sso_domain` routed an email domain to
//! whichever organisation saved it first, unproven: anyone could sign up, claim `contoso.com`
//! and send every Contoso employee who types their work email under "Sign in with SSO" to a
//! sign-on page of their own, while the real Contoso could no longer claim its domain.
//!
//! Now an organisation claims domains in `sso_domains` (several each) and proves control with a
//! DNS TXT record carrying the claim's random token; only a verified claim routes anyone, and a
//! domain is unique among verified claims alone (a partial unique index, same syntax on SQLite
//! and PostgreSQL), so any number of unproven claims never block the organisation that proves
//! control. The domains saved so far become unverified claims: they were never proven.
//!
//! Expand/contract: `organizations.sso_domain` stays (an older instance sharing the database
//! still reads and writes it during a rolling upgrade) but nothing reads or writes it any more;
//! its unique index is dropped so it can never block anybody. A later migration may drop the
//! column.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Copies every saved domain into an unverified claim with a fresh 128-bit token (32 hex digits,
/// what the domain code generates), from each database's own cryptographic random source.
fn copy_saved_domains(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "INSERT INTO sso_domains (id, org_id, domain, token, created_at, misses) \
             SELECT gen_random_uuid()::text, id, lower(sso_domain), \
                    md5(gen_random_uuid()::text || gen_random_uuid()::text), \
                    (extract(epoch FROM clock_timestamp()) * 1000)::bigint, 0 \
             FROM organizations WHERE sso_domain IS NOT NULL AND sso_domain <> ''"
        }
        _ => {
            "INSERT INTO sso_domains (id, org_id, domain, token, created_at, misses) \
             SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || \
                    substr(lower(hex(randomblob(2))), 2) || '-' || \
                    substr('89ab', 1 + (abs(random()) % 4), 1) || \
                    substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))), \
                    id, lower(sso_domain), lower(hex(randomblob(16))), \
                    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 0 \
             FROM organizations WHERE sso_domain IS NOT NULL AND sso_domain <> ''"
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("sso_domains")
                    .col(string_len("id", 36).primary_key())
                    .col(string_len("org_id", 36))
                    // Lower-case ASCII (IDNA/punycode), at most 253 characters.
                    .col(string_len("domain", 253))
                    // The random value of the TXT record that proves control.
                    .col(string_len("token", 64))
                    .col(big_integer("created_at"))
                    // Set while the claim is proven; only then does it route anyone.
                    .col(big_integer_null("verified_at"))
                    // The last DNS check (a click or the periodic re-check).
                    .col(big_integer_null("last_checked_at"))
                    // Consecutive periodic checks of a verified claim that found no record, and
                    // when the first of them ran.
                    .col(integer("misses").default(0))
                    .col(big_integer_null("failing_since"))
                    // What the last check found, for the console.
                    .col(string_len_null("last_error", 512))
                    .foreign_key(&mut fk("sso_domains", "org_id", "organizations"))
                    .to_owned(),
            )
            .await?;
        index(manager, "ux_sso_domains_org_domain", "sso_domains", &["org_id", "domain"], true).await?;
        // One verified claim per domain: the final guard when two organisations prove it at once.
        manager
            .create_index(
                Index::create()
                    .name("ux_sso_domains_verified_domain")
                    .table("sso_domains")
                    .col("domain")
                    .unique()
                    .and_where(Expr::col("verified_at").is_not_null())
                    .to_owned(),
            )
            .await?;
        // The periodic re-check reads verified claims oldest check first.
        manager
            .create_index(
                Index::create()
                    .name("ix_sso_domains_recheck")
                    .table("sso_domains")
                    .col("last_checked_at")
                    .and_where(Expr::col("verified_at").is_not_null())
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        db.execute_unprepared(copy_saved_domains(manager.get_database_backend())).await?;
        manager
            .drop_index(Index::drop().name("ux_organizations_sso_domain").table("organizations").to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
