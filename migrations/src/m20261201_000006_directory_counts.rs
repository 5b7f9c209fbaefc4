//! How many users and groups each organisation has, kept by triggers in the same transaction as
//! every insert and delete, so an unfiltered SCIM list answers `totalResults` (RFC 7644 §3.4.2)
//! from one row instead of counting the whole directory on every page (the cost of a page would
//! otherwise grow with the directory). Triggers rather than application code: every path that
//! adds or removes a person (SCIM, Bulk, sign-up, cascades) is counted, on both backends.
//! Backfilled from the rows already there.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER users_counted_insert AFTER INSERT ON users BEGIN \
       INSERT INTO directory_counts (org_id, users, groups) VALUES (NEW.org_id, 1, 0) \
       ON CONFLICT (org_id) DO UPDATE SET users = users + 1; END",
    "CREATE TRIGGER users_counted_delete AFTER DELETE ON users BEGIN \
       UPDATE directory_counts SET users = users - 1 WHERE org_id = OLD.org_id; END",
    "CREATE TRIGGER groups_counted_insert AFTER INSERT ON groups BEGIN \
       INSERT INTO directory_counts (org_id, users, groups) VALUES (NEW.org_id, 0, 1) \
       ON CONFLICT (org_id) DO UPDATE SET groups = groups + 1; END",
    "CREATE TRIGGER groups_counted_delete AFTER DELETE ON groups BEGIN \
       UPDATE directory_counts SET groups = groups - 1 WHERE org_id = OLD.org_id; END",
];

const POSTGRES_TRIGGERS: &[&str] = &[
    "CREATE FUNCTION count_directory() RETURNS trigger LANGUAGE plpgsql AS $$ \
     DECLARE u BIGINT := CASE WHEN TG_TABLE_NAME = 'users' THEN 1 ELSE 0 END; \
             g BIGINT := CASE WHEN TG_TABLE_NAME = 'groups' THEN 1 ELSE 0 END; \
     BEGIN \
       IF TG_OP = 'INSERT' THEN \
         INSERT INTO directory_counts (org_id, users, groups) VALUES (NEW.org_id, u, g) \
         ON CONFLICT (org_id) DO UPDATE SET users = directory_counts.users + u, groups = directory_counts.groups + g; \
         RETURN NEW; \
       END IF; \
       UPDATE directory_counts SET users = users - u, groups = groups - g WHERE org_id = OLD.org_id; \
       RETURN OLD; \
     END $$",
    "CREATE TRIGGER users_counted AFTER INSERT OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION count_directory()",
    "CREATE TRIGGER groups_counted AFTER INSERT OR DELETE ON groups FOR EACH ROW EXECUTE FUNCTION count_directory()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("directory_counts")
                    .col(string_len("org_id", 36).primary_key())
                    .col(big_integer("users"))
                    .col(big_integer("groups"))
                    .foreign_key(&mut fk("directory_counts", "org_id", "organizations"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO directory_counts (org_id, users, groups) SELECT o.id, \
             (SELECT COUNT(*) FROM users u WHERE u.org_id = o.id), \
             (SELECT COUNT(*) FROM groups g WHERE g.org_id = o.id) FROM organizations o",
        )
        .await?;
        let triggers = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_TRIGGERS,
            _ => SQLITE_TRIGGERS,
        };
        for trigger in triggers {
            db.execute_unprepared(trigger).await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
