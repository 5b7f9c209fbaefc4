//! Fresh planner statistics for the directory tables on PostgreSQL.
//!
//! PostgreSQL chooses plans from the statistics `ANALYZE` gathers, and autovacuum runs it only
//! after a tenth of a table changed, at most once a minute. All organisations share `users`,
//! `groups` and `group_members`, so an organisation that just provisioned thousands of people is
//! unknown to the planner for a while: estimated at a row or a few dozen, its list pages were
//! planned as "read every one of its rows through some `org_id` index, then sort them" instead of
//! a walk of the ordered index that stops after the page — the first page of a fresh 10,000-user
//! organisation took 5.2 ms instead of 0.5 (pgbench), and that cost grows with the organisation.
//! No query shape avoids it: stated as a row-value range, the condition was still split back into
//! an `org_id` range that any index serves.
//!
//! So each instance looks every few seconds (`server::planner_statistics`) and analyzes a directory
//! table once [`MIN_CHANGES`] rows and [`SHARE`] of it changed since its last `ANALYZE`. An
//! `ANALYZE` reads a fixed sample (30,000 rows at the default statistics target): ~0.1 s at a
//! million users, at most every [`MIN_CHANGES`]/[`SHARE`]-th change. Instances sharing the
//! database take turns through a transaction-scoped advisory lock; one that finds it held skips
//! the round. SQLite plans without statistics and prefers the indexes: nothing to do there.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};

/// The tables whose statistics are kept fresh.
const TABLES: [&str; 3] = ["users", "groups", "group_members"];
/// Rows changed (inserted, updated or deleted) since the last `ANALYZE` before one is due...
pub const MIN_CHANGES: i64 = 1_000;
/// ...and at least this share of the table's live rows.
pub const SHARE: f64 = 0.05;
/// The key of the advisory lock instances take turns through ("SCIMSTAT"; schema upgrades use
/// "SCIMPAD1", `db::migrate`).
const LOCK: i64 = 0x5343_494D_5354_4154;

/// Analyzes the directory tables whose statistics are stale by the rule above; returns their
/// names (none on SQLite, or when another instance is analyzing at the moment).
pub async fn refresh(db: &DatabaseConnection) -> Result<Vec<&'static str>, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(Vec::new());
    }
    // The table names are our own constants, written into the statement.
    let names = TABLES.map(|t| format!("'{t}'")).join(", ");
    let stale = Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "SELECT relname::text FROM pg_stat_user_tables \
             WHERE schemaname = current_schema() AND relname IN ({names}) \
             AND n_mod_since_analyze >= GREATEST($1, $2 * n_live_tup)"
        ),
        [MIN_CHANGES.into(), SHARE.into()],
    );
    let rows = db.query_all_raw(stale).await?;
    let stale: Vec<&'static str> = rows
        .iter()
        .filter_map(|row| row.try_get_by_index::<String>(0).ok())
        .filter_map(|name| TABLES.iter().copied().find(|t| *t == name))
        .collect();
    if stale.is_empty() {
        return Ok(stale);
    }
    let txn = db.begin().await?;
    let lock = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_try_advisory_xact_lock($1)",
        [LOCK.into()],
    );
    let taken = txn.query_one_raw(lock).await?.map(|row| row.try_get_by_index::<bool>(0)).transpose()?;
    if taken != Some(true) {
        return Ok(Vec::new());
    }
    for table in &stale {
        txn.execute_unprepared(&format!("ANALYZE {table}")).await?;
    }
    txn.commit().await?;
    Ok(stale)
}
