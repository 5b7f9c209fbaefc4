//! Opening the database and bringing its schema up to date.
//!
//! SQLite (the embedded default) is opened in WAL mode with `synchronous = FULL`, so every commit
//! that returned is on disk before we answer 2xx; foreign keys are enforced. sqlx's pool is a
//! single connection, and it is the only one that writes: the group-commit writer's batches and
//! every other write take turns on it (`group_commit`), so no write waits in SQLite's busy
//! handler. SCIM reads have their own connections ([`readers`], `query_only`, `store::sqlite`):
//! in WAL mode readers never wait for the writer (each statement reads the last committed state).
//! Nothing that writes may use the readers, and `query_only` makes any attempt an error instead of
//! a race. Every write transaction begins `IMMEDIATE` ([`begin_write`]): it takes the write lock
//! up front instead of failing with SQLITE_BUSY_SNAPSHOT when a read snapshot taken earlier in the
//! transaction cannot be upgraded. PostgreSQL (`postgres://…`) uses one pool of 16 for everything
//! but SCIM reads, which have 4 connections of their own (`store::postgres`), and its own
//! durability.
//!
//! A SQLite file and its `-wal`/`-shm` files are readable by their owner only (mode 0600; see
//! `keep_private`): they hold password and API-key hashes, sessions and sealed client secrets.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

use crate::store::{Reader, postgres, sqlite::ReadPool};

/// The database URL used when none is configured: a file under `./data`, created on first start.
pub const DEFAULT_URL: &str = "sqlite://data/scimpad.db?mode=rwc";

/// How long a PostgreSQL connection may sit idle before it is pinged on its next use (the pool's,
/// and the SCIM read connections of `store::postgres`).
pub(crate) const IDLE_PING: Duration = Duration::from_secs(1);
/// How long a statement waits for a connection (the pool's, or a SCIM read connection).
pub(crate) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `url` (sqlite: or postgres:) and runs pending migrations.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).acquire_timeout(ACQUIRE_TIMEOUT);
    let file = file_of(url);
    if url.starts_with("sqlite:") {
        create_parent_dir(url)?;
        if let Some(file) = &file {
            create_private(file)?;
        }
        options.max_connections(1).min_connections(1).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .create_if_missing(true)
                // No checkpoint inside a commit: the group-commit writer's checkpointer copies
                // the WAL back beside the writes (`group_commit`); a reset WAL is cut to 64 MiB.
                .pragma("wal_autocheckpoint", "0")
                .pragma("journal_size_limit", "67108864")
        });
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        // A pooled connection is pinged (a round trip) before it is handed out only when it has
        // been idle for a second: sqlx pings on every acquire by default, which added a round trip
        // to every statement outside a transaction (a lookup took two). A connection used within
        // the second is live as far as a ping could tell (HikariCP's bypass window is 500 ms).
        options.max_connections(16).min_connections(1).test_before_acquire_if_idle_for(IDLE_PING);
    } else {
        return Err(DbErr::Custom(format!(
            "unsupported database URL scheme in {:?}: use sqlite:// or postgres://",
            redact(url)
        )));
    }
    let db = open_and_migrate(options).await?;
    if let Some(file) = &file {
        // Fresh `-wal`/`-shm` files already are 0600 (SQLite creates them with the database
        // file's permissions); ones left by an earlier version or another tool may not be.
        for companion in ["-wal", "-shm"] {
            let mut path = file.clone().into_os_string();
            path.push(companion);
            keep_private(Path::new(&path));
        }
    }
    Ok(db)
}

/// How many times a start that SQLite refused at once is tried again, and the pause before each.
const BUSY_RETRIES: u32 = 20;
const BUSY_PAUSE: Duration = Duration::from_millis(50);

/// Opens the pool and brings the schema up to date. SQLite answers "database is locked" at once,
/// without waiting out the busy timeout, where waiting could deadlock: a connection that read the
/// file asks to write (here `PRAGMA journal_mode = WAL` on a new file) while another connection
/// writes (another instance's migrations). Its documented remedy is to start over, so such a
/// start is tried again, a bounded number of times; any other error ends it.
async fn open_and_migrate(options: ConnectOptions) -> Result<DatabaseConnection, DbErr> {
    let mut retries = 0;
    loop {
        let started = async {
            let db = Database::connect(options.clone()).await?;
            migrate(&db).await?;
            Ok(db)
        }
        .await;
        match started {
            Err(e) if retries < BUSY_RETRIES && is_sqlite_busy(&e) => {
                retries += 1;
                tokio::time::sleep(BUSY_PAUSE * retries.min(4)).await;
            }
            started => return started,
        }
    }
}

/// Whether `e` is SQLite's `SQLITE_BUSY`, in any of its extended forms.
fn is_sqlite_busy(e: &DbErr) -> bool {
    use sea_orm::sqlx::error::DatabaseError;
    const SQLITE_BUSY: i64 = 5;
    let database = match e {
        DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) => e.as_database_error(),
        _ => None,
    };
    database
        .and_then(|d| d.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>())
        .and_then(|d| d.code())
        .and_then(|code| code.parse::<i64>().ok())
        .is_some_and(|code| code & 0xff == SQLITE_BUSY)
}

/// The key of the PostgreSQL advisory lock that serialises schema upgrades ("SCIMPAD1").
const MIGRATION_LOCK: i64 = 0x5343_494D_5041_4431;

/// Brings the schema up to date, in one transaction that no other instance's upgrade can run
/// beside. Several instances started at once on one empty PostgreSQL database would otherwise all
/// create the same tables, and all but one exit with a duplicate-type error: each takes the
/// advisory lock first (released by the commit, or by the end of the session if the process dies),
/// and the next finds nothing pending. On SQLite `BEGIN IMMEDIATE` is the lock. The whole upgrade
/// commits or nothing does, so a failed upgrade leaves the schema the previous version ran on.
async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = begin_write(db).await?;
    if backend(db) == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")).await?;
    }
    Migrator::up(&txn, None).await?;
    txn.commit().await
}

/// The reader for the database `db` was opened on (`url`): on a SQLite file, reader threads with
/// `query_only` connections beside `db`'s writer; on PostgreSQL, read connections of their own
/// (`store::postgres`); on an in-memory SQLite database, which other connections cannot see, `db`
/// itself.
pub fn readers(db: &DatabaseConnection, url: &str) -> Result<Reader, DbErr> {
    match file_of(url) {
        Some(file) if backend(db) == DbBackend::Sqlite => Ok(Reader::Direct(ReadPool::open(&file)?)),
        _ if backend(db) == DbBackend::Postgres => Ok(Reader::Postgres(postgres::ReadPool::of(db)?)),
        _ => Ok(Reader::Shared(db.clone())),
    }
}

/// The path of the SQLite file a `sqlite://` URL names (`None` for in-memory databases, which
/// other connections cannot share).
pub fn file_of(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?.trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    let memory = path.is_empty() || path.starts_with(":memory:") || url.contains("mode=memory");
    (!memory).then(|| PathBuf::from(path))
}

/// Begins a write transaction on `db`; on SQLite `BEGIN IMMEDIATE` (see the module header).
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if backend(db) != DbBackend::Sqlite {
        return db.begin().await;
    }
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

/// How many connections of `db`'s pool are open and how many of those are idle, and its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUse {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// What `db`'s pool is using now (on SQLite its single writing connection).
pub fn pool_use(db: &DatabaseConnection) -> PoolUse {
    fn of<D: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<D>) -> PoolUse {
        PoolUse {
            open: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        }
    }
    match backend(db) {
        DbBackend::Sqlite => of(db.get_sqlite_connection_pool()),
        _ => of(db.get_postgres_connection_pool()),
    }
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

/// Creates the SQLite file `file` with mode 0600 before SQLite opens it, so it is never readable
/// by others, not even for a moment: SQLite itself creates it 0644 (less the umask), and its
/// `-wal`/`-shm` files copy the database file's permissions. An existing file is tightened by
/// [`keep_private`].
fn create_private(file: &Path) -> Result<(), DbErr> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            keep_private(file);
            Ok(())
        }
        Err(e) => Err(DbErr::Custom(format!("cannot create {}: {e}", file.display()))),
    }
}

/// Takes group and other permissions off `file` if it exists (0644 becomes 0600). Failing to is
/// a warning, not an error: a database shared on purpose through a group (and owned by someone
/// else) must still open, and the operator is told.
fn keep_private(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(metadata) = std::fs::metadata(file) else { return };
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            let owner_only = std::fs::Permissions::from_mode(mode & 0o700);
            if let Err(e) = std::fs::set_permissions(file, owner_only) {
                tracing::warn!(file = %file.display(), error = %e, "cannot make the database file owner-only");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = file;
}

fn create_parent_dir(url: &str) -> Result<(), DbErr> {
    match file_of(url).as_deref().and_then(std::path::Path::parent) {
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

    #[test]
    fn only_sqlite_files_get_reader_threads() {
        assert_eq!(file_of("sqlite://data/scimpad.db?mode=rwc"), Some(PathBuf::from("data/scimpad.db")));
        assert_eq!(file_of("sqlite:///tmp/x.db"), Some(PathBuf::from("/tmp/x.db")));
        assert_eq!(file_of("sqlite::memory:"), None);
        assert_eq!(file_of("sqlite://x.db?mode=memory"), None);
        assert_eq!(file_of("postgres://u@h/db"), None);
    }

    #[tokio::test]
    async fn unknown_scheme_is_a_clear_error() {
        let err = connect("mysql://x/y").await.unwrap_err().to_string();
        assert!(err.contains("use sqlite:// or postgres://"), "{err}");
    }
}
