//! Upkeep of the directory tables on PostgreSQL: fresh planner statistics and a fresh visibility
//! map, seconds after a tenant's burst of writes rather than after autovacuum's next round.
//!
//! **Statistics.** PostgreSQL chooses plans from the statistics `ANALYZE` gathers, and autovacuum
//! runs it only after a tenth of a table changed, at most once a minute. All organisations share
//! `users`, `groups` and `group_members`, so an organisation that just provisioned thousands of
//! people is unknown to the planner for a while: estimated at a row or a few dozen, its list pages
//! were planned as "read every one of its rows through some `org_id` index, then sort them"
//! instead of a walk of the ordered index that stops after the page — the first page of a fresh
//! 10,000-user organisation took 5.2 ms instead of 0.5 (pgbench), and that cost grows with the
//! organisation. No query shape avoids it: stated as a row-value range, the condition was still
//! split back into an `org_id` range that any index serves.
//!
//! **Visibility map.** A deep list page steps over index entries without reading their rows (an
//! index-only scan), but only where `VACUUM` has marked the heap page all-visible; elsewhere each
//! entry costs a heap visit. Autovacuum vacuums for inserts only after a fifth of the table, so
//! after a million users the newest ~100,000 were unmarked, and a page counted from the end of
//! the list (`paging::Window`) visited 100,002 heap rows: 42 ms instead of 20 (EXPLAIN ANALYZE).
//! Updated rows (10,000 PATCHes: `updated_at` is indexed, so no update is HOT) leave dead index
//! entries and unmarked pages the same way.
//!
//! So each instance looks every few seconds (`server::table_maintenance`) at the tables' change
//! counters and, per table:
//! - `VACUUM`s once [`MIN_CHANGES`] rows were inserted since the last vacuum (it reads only the
//!   unmarked pages, and with no dead rows skips the indexes: cost in proportion to the inserts),
//!   or once [`MIN_CHANGES`] and [`SHARE`] of the live rows are dead (removing them reads every
//!   index of the table, so it waits for a share of it, as autovacuum does with a fifth);
//! - `ANALYZE`s once [`MIN_CHANGES`] rows and [`SHARE`] of it changed since the last `ANALYZE` (a
//!   fixed 30,000-row sample: ~0.1 s at a million users).
//!
//! Instances sharing the database take turns through a transaction-scoped advisory lock; one that
//! finds it held skips the round. `VACUUM` cannot run inside a transaction, so the statements run
//! on other pooled connections while the transaction holding the lock waits: it holds no snapshot
//! between statements (read committed), so it keeps no row from being vacuumed. SQLite plans
//! without statistics and its indexes hold no visibility question: nothing to do there.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};

/// The tables kept up.
const TABLES: [&str; 3] = ["users", "groups", "group_members"];
/// Rows changed since the last `ANALYZE` (or inserted, or dead, since the last `VACUUM`) before
/// one is due...
pub const MIN_CHANGES: i64 = 1_000;
/// ...and, for an `ANALYZE` or for dead rows, at least this share of the table's live rows.
pub const SHARE: f64 = 0.05;
/// The key of the advisory lock instances take turns through ("SCIMSTAT"; schema upgrades use
/// "SCIMPAD1", `db::migrate`).
const LOCK: i64 = 0x5343_494D_5354_4154;

/// What one table was due for, and got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upkeep {
    pub table: &'static str,
    pub vacuum: bool,
    pub analyze: bool,
}

impl Upkeep {
    /// The statement doing it (the table name is one of our constants).
    fn statement(&self) -> String {
        let Upkeep { table, vacuum, analyze } = *self;
        match (vacuum, analyze) {
            (true, true) => format!("VACUUM (ANALYZE) {table}"),
            (true, false) => format!("VACUUM {table}"),
            (false, _) => format!("ANALYZE {table}"),
        }
    }
}

/// Vacuums and analyzes the directory tables that are due by the rules above; returns what was
/// done (nothing on SQLite, or when another instance holds the turn).
pub async fn run(db: &DatabaseConnection) -> Result<Vec<Upkeep>, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(Vec::new());
    }
    let due = due(db).await?;
    if due.is_empty() {
        return Ok(due);
    }
    let turn = db.begin().await?;
    let lock = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_try_advisory_xact_lock($1)",
        [LOCK.into()],
    );
    let taken = turn.query_one_raw(lock).await?.map(|row| row.try_get_by_index::<bool>(0)).transpose()?;
    if taken != Some(true) {
        return Ok(Vec::new());
    }
    for upkeep in &due {
        db.execute_unprepared(&upkeep.statement()).await?;
    }
    turn.commit().await?;
    Ok(due)
}

/// The tables due for a `VACUUM` or an `ANALYZE`, from the statistics collector's counters.
async fn due(db: &DatabaseConnection) -> Result<Vec<Upkeep>, DbErr> {
    let names = TABLES.map(|t| format!("'{t}'")).join(", ");
    let counters = Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "SELECT relname::text, \
             n_ins_since_vacuum >= $1 OR n_dead_tup >= GREATEST($1, $2 * n_live_tup), \
             n_mod_since_analyze >= GREATEST($1, $2 * n_live_tup) \
             FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname IN ({names})"
        ),
        [MIN_CHANGES.into(), SHARE.into()],
    );
    let mut due = Vec::new();
    for row in db.query_all_raw(counters).await? {
        let name: String = row.try_get_by_index(0)?;
        let Some(table) = TABLES.into_iter().find(|t| *t == name) else { continue };
        let upkeep = Upkeep { table, vacuum: row.try_get_by_index(1)?, analyze: row.try_get_by_index(2)? };
        if upkeep.vacuum || upkeep.analyze {
            due.push(upkeep);
        }
    }
    // A stable order: the counters' row order is the catalogue's.
    due.sort_by_key(|u| TABLES.iter().position(|t| *t == u.table));
    Ok(due)
}
