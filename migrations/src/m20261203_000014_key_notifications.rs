//! On PostgreSQL, a notification on channel `scimpad_keys` (payload: the organisation's id) when a
//! change that can stop an API key from authenticating commits: a key's row changing (revoked,
//! regenerated, expiry, owner) or deleted, or a key owner's losing the admin role, being
//! deactivated, moved or deleted. Each instance's verified-key cache listens and forgets that
//! organisation's keys (`domain::api_keys::cache`), so a key revoked through one instance, the
//! command line or `psql` stops working on every instance.
//!
//! Why triggers rather than a `NOTIFY` in the code that makes the change: every path is covered,
//! including ones the code does not know (a manual fix in `psql`, a future feature), and a
//! notification is sent exactly when its transaction commits. `last_used_at` is left out, and so
//! are changes that cannot invalidate a key, so a provisioning burst sends none.
//!
//! SQLite has no notifications and no cache (a key's lookup there is in-process): nothing to do.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE FUNCTION notify_key_change() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN PERFORM pg_notify('scimpad_keys', OLD.org_id); RETURN NULL; END $$",
    "CREATE TRIGGER api_keys_changed AFTER UPDATE OF org_id, owner_id, public_id, secret_hash, \
     expires_at, revoked_at OR DELETE ON api_keys FOR EACH ROW EXECUTE FUNCTION notify_key_change()",
    "CREATE TRIGGER key_owners_changed AFTER UPDATE OF role, active, org_id ON users FOR EACH ROW \
     WHEN (OLD.role = 'admin' AND OLD.active \
           AND (NEW.role <> 'admin' OR NOT NEW.active OR NEW.org_id <> OLD.org_id)) \
     EXECUTE FUNCTION notify_key_change()",
    "CREATE TRIGGER key_owners_deleted AFTER DELETE ON users FOR EACH ROW \
     WHEN (OLD.role = 'admin') EXECUTE FUNCTION notify_key_change()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for statement in UP {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
