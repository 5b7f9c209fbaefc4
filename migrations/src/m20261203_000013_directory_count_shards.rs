//! Splits each organisation's `directory_counts` row into shards on PostgreSQL, so concurrent
//! creates in one organisation stop queueing on one row.
//!
//! Why: the count triggers (`m20261201_000006_directory_counts`) update the organisation's one
//! counter row in every transaction that adds or removes a user or group. On PostgreSQL that row
//! lock is held until commit, so every create of an organisation waited for the previous one's
//! commit (its WAL flush included): measured, a user `INSERT` spent 16.6 ms on average waiting
//! for it with 16 creates in flight, which held one organisation to ~720 creates/s however many
//! connections or instances served it (issue 14). Now a transaction counts in the shard of its
//! database session (`pg_backend_pid() % 32`): sessions run one transaction at a time, so
//! concurrent creates mostly hit different rows, and one transaction only ever locks one counter
//! row (deleting falls back to another shard of the organisation when its own has none), so the
//! counters cannot deadlock transactions that touch many rows. Readers add up the shards
//! (`SUM`, at most 32 rows on the primary key).
//!
//! SQLite has one writer, so contention cannot arise: its triggers keep counting in shard 0, but
//! the table gets the same shape (rebuilt, since SQLite cannot change a primary key) so the code
//! reads both alike. An older instance still running during a rolling upgrade reads one shard
//! and may under-report an unfiltered list's `totalResults` until it is replaced.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Counter rows per organisation on PostgreSQL.
const SHARDS: i32 = 32;

const SQLITE_OLD_TRIGGERS: &[&str] =
    &["users_counted_insert", "users_counted_delete", "groups_counted_insert", "groups_counted_delete"];

const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER users_counted_insert AFTER INSERT ON users BEGIN \
       INSERT INTO directory_counts (org_id, shard, users, groups) VALUES (NEW.org_id, 0, 1, 0) \
       ON CONFLICT (org_id, shard) DO UPDATE SET users = users + 1; END",
    "CREATE TRIGGER users_counted_delete AFTER DELETE ON users BEGIN \
       UPDATE directory_counts SET users = users - 1 WHERE org_id = OLD.org_id AND shard = 0; END",
    "CREATE TRIGGER groups_counted_insert AFTER INSERT ON groups BEGIN \
       INSERT INTO directory_counts (org_id, shard, users, groups) VALUES (NEW.org_id, 0, 0, 1) \
       ON CONFLICT (org_id, shard) DO UPDATE SET groups = groups + 1; END",
    "CREATE TRIGGER groups_counted_delete AFTER DELETE ON groups BEGIN \
       UPDATE directory_counts SET groups = groups - 1 WHERE org_id = OLD.org_id AND shard = 0; END",
];

fn postgres_statements() -> Vec<String> {
    vec![
        "ALTER TABLE directory_counts ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0".into(),
        "ALTER TABLE directory_counts DROP CONSTRAINT directory_counts_pkey".into(),
        "ALTER TABLE directory_counts ADD PRIMARY KEY (org_id, shard)".into(),
        // A delete never inserts: during an organisation's cascade its counter rows may already
        // be gone, and a new row would then break the foreign key.
        format!(
            "CREATE OR REPLACE FUNCTION count_directory() RETURNS trigger LANGUAGE plpgsql AS $$ \
             DECLARE u BIGINT := CASE WHEN TG_TABLE_NAME = 'users' THEN 1 ELSE 0 END; \
                     g BIGINT := CASE WHEN TG_TABLE_NAME = 'groups' THEN 1 ELSE 0 END; \
                     s SMALLINT := (pg_backend_pid() % {SHARDS})::smallint; \
             BEGIN \
               IF TG_OP = 'INSERT' THEN \
                 INSERT INTO directory_counts (org_id, shard, users, groups) VALUES (NEW.org_id, s, u, g) \
                 ON CONFLICT (org_id, shard) DO UPDATE SET users = directory_counts.users + u, \
                   groups = directory_counts.groups + g; \
                 RETURN NEW; \
               END IF; \
               UPDATE directory_counts SET users = users - u, groups = groups - g \
                 WHERE org_id = OLD.org_id AND shard = s; \
               IF NOT FOUND THEN \
                 UPDATE directory_counts SET users = users - u, groups = groups - g \
                   WHERE org_id = OLD.org_id \
                     AND shard = (SELECT min(shard) FROM directory_counts WHERE org_id = OLD.org_id); \
               END IF; \
               RETURN OLD; \
             END $$"
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            for statement in postgres_statements() {
                db.execute_unprepared(&statement).await?;
            }
            return Ok(());
        }
        for trigger in SQLITE_OLD_TRIGGERS {
            db.execute_unprepared(&format!("DROP TRIGGER {trigger}")).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("directory_counts_sharded")
                    .col(string_len("org_id", 36))
                    .col(small_integer("shard"))
                    .col(big_integer("users"))
                    .col(big_integer("groups"))
                    .primary_key(Index::create().col("org_id").col("shard"))
                    .foreign_key(&mut fk("directory_counts_sharded", "org_id", "organizations"))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "INSERT INTO directory_counts_sharded (org_id, shard, users, groups) \
             SELECT org_id, 0, users, groups FROM directory_counts",
        )
        .await?;
        manager.drop_table(Table::drop().table("directory_counts").to_owned()).await?;
        manager
            .rename_table(Table::rename().table("directory_counts_sharded", "directory_counts").to_owned())
            .await?;
        for trigger in SQLITE_TRIGGERS {
            db.execute_unprepared(trigger).await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
