//! Schema migrations, run by the server at start-up.
//!
//! Every migration is written with the portable `sea-query` builders so the same statements
//! create the same schema on SQLite and PostgreSQL. Timestamps are integer Unix milliseconds
//! (identical ordering and arithmetic on both backends); identifiers are UUID strings. Migrations
//! only ever add (expand/contract): a running older instance must keep working while a newer one
//! migrates the shared PostgreSQL database.

pub use sea_orm_migration::prelude::*;

mod m20261130_000001_accounts;
mod m20261130_000002_scim;
mod m20261201_000003_key_activity;
mod m20261201_000004_hourly_activity;
mod m20261201_000005_sso;
mod m20261201_000006_directory_counts;
mod m20261202_000007_member_replace;
mod m20261202_000008_admin_index;
mod m20261202_000009_audit_log;
mod m20261202_000010_sso_domains;
mod m20261202_000011_entra_roles;
mod m20261202_000012_email_links;
mod m20261203_000013_directory_count_shards;
mod m20261203_000014_key_notifications;
mod m20261204_000015_user_name_index_holds_id;

/// All migrations in the order they are applied.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261130_000001_accounts::Migration),
            Box::new(m20261130_000002_scim::Migration),
            Box::new(m20261201_000003_key_activity::Migration),
            Box::new(m20261201_000004_hourly_activity::Migration),
            Box::new(m20261201_000005_sso::Migration),
            Box::new(m20261201_000006_directory_counts::Migration),
            Box::new(m20261202_000007_member_replace::Migration),
            Box::new(m20261202_000008_admin_index::Migration),
            Box::new(m20261202_000009_audit_log::Migration),
            Box::new(m20261202_000010_sso_domains::Migration),
            Box::new(m20261202_000011_entra_roles::Migration),
            Box::new(m20261202_000012_email_links::Migration),
            Box::new(m20261203_000013_directory_count_shards::Migration),
            Box::new(m20261203_000014_key_notifications::Migration),
            Box::new(m20261204_000015_user_name_index_holds_id::Migration),
        ]
    }
}

/// A foreign key from `from.col` to `to.id` that deletes the row with its parent.
fn fk(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from, col).to(to, "id").on_delete(ForeignKeyAction::Cascade).to_owned()
}

/// Creates index `name` on `table(cols)`.
async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create().name(name).table(table).to_owned();
    for col in cols {
        index.col(*col);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index).await
}
