//! Opening the database and bringing its schema up to date.
//!
//! SQLite (the embedded default) is opened in WAL mode with `synchronous = FULL`, so every commit
//! that returned is on disk before we answer 2xx; foreign keys are enforced and a busy timeout
//! absorbs short lock waits. One connection does every write: SQLite allows one writer anyway,
//! and a single writing connection rules out the deferred-transaction upgrade deadlocks
//! (SQLITE_BUSY) that a pool of writers hits. Beside it, [`readers`] opens a small pool of
//! `query_only` connections: in WAL mode readers never wait for the writer (each statement reads
//! the last committed state), so SCIM reads no longer queue behind writes and both cores serve
//! them. Nothing that writes may use the readers — a read transaction that later writes can fail
//! with SQLITE_BUSY_SNAPSHOT — and `query_only` makes any attempt an error instead of a race.
//! PostgreSQL (`postgres://…`) uses one pool for both, and its own durability.

use std::{path::Path, str::FromStr, time::Duration};

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, SqlxSqliteConnector,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

/// The database URL used when none is configured: a file under `./data`, created on first start.
pub const DEFAULT_URL: &str = "sqlite://data/scimpad.db?mode=rwc";

/// Connects to `url` (sqlite: or postgres:) and runs pending migrations.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        create_parent_dir(url)?;
        options.max_connections(1).min_connections(1).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .create_if_missing(true)
        });
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        options.max_connections(16).min_connections(1);
    } else {
        return Err(DbErr::Custom(format!(
            "unsupported database URL scheme in {:?}: use sqlite:// or postgres://",
            redact(url)
        )));
    }
    let db = Database::connect(options).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// Read-only SQLite connections: as many as there are cores to run queries on, plus one.
const SQLITE_READERS: u32 = 4;

/// The connections for reads that need no transaction (a SCIM GET or list, an API-key lookup):
/// on a SQLite file a lazily opened pool of `query_only` connections beside `db`'s writer; on
/// PostgreSQL (or an in-memory SQLite database, which other connections cannot see) `db` itself.
pub fn readers(db: &DatabaseConnection, url: &str) -> Result<DatabaseConnection, DbErr> {
    if backend(db) != DbBackend::Sqlite || url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(db.clone());
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| DbErr::Custom(format!("bad SQLite URL {:?}: {e}", redact(url))))?
        .pragma("query_only", "ON")
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(SQLITE_READERS)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy_with(options);
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

/// The backend `db` talks to, for the few places where SQL differs.
pub fn backend(db: &DatabaseConnection) -> DbBackend {
    db.get_database_backend()
}

/// `url` with any password replaced, safe to log.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn create_parent_dir(url: &str) -> Result<(), DbErr> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return Ok(());
    }
    match Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://data/x.db?mode=rwc"), "sqlite://data/x.db?mode=rwc");
    }

    #[tokio::test]
    async fn sqlite_file_database_is_created_with_wal_and_foreign_keys() {
        use sea_orm::{ConnectionTrait, Statement};
        let dir = std::env::temp_dir().join(format!("scimpad-db-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/nested/t.db?mode=rwc", dir.display());
        let db = connect(&url).await.unwrap();
        let row = |sql: &str| {
            let db = &db;
            let sql = sql.to_owned();
            async move { db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap().unwrap() }
        };
        let mode: String = row("PRAGMA journal_mode").await.try_get_by_index(0).unwrap();
        let fk: i32 = row("PRAGMA foreign_keys").await.try_get_by_index(0).unwrap();
        let sync: i32 = row("PRAGMA synchronous").await.try_get_by_index(0).unwrap();
        assert_eq!((mode.as_str(), fk, sync), ("wal", 1, 2));
        drop(db);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn sqlite_readers_see_commits_and_cannot_write() {
        use sea_orm::{ConnectionTrait, Statement};
        let path = std::env::temp_dir().join(format!("scimpad-readers-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = connect(&url).await.unwrap();
        let read = readers(&db, &url).unwrap();
        db.execute_unprepared("CREATE TABLE r_probe (k TEXT)").await.unwrap();
        db.execute_unprepared("INSERT INTO r_probe VALUES ('a')").await.unwrap();
        let row =
            read.query_one_raw(Statement::from_string(DbBackend::Sqlite, "SELECT k FROM r_probe")).await;
        let k: String = row.unwrap().unwrap().try_get_by_index(0).unwrap();
        assert_eq!(k, "a");
        assert!(read.execute_unprepared("INSERT INTO r_probe VALUES ('b')").await.is_err(), "query_only");
        drop((db, read));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    #[tokio::test]
    async fn unknown_scheme_is_a_clear_error() {
        let err = connect("mysql://x/y").await.unwrap_err().to_string();
        assert!(err.contains("use sqlite:// or postgres://"), "{err}");
    }
}
