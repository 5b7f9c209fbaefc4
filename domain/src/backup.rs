//! Backup and restore of the embedded SQLite database, for `scimpad backup` and `scimpad restore`.
//!
//! A backup is taken while the server keeps serving, with SQLite's online backup API
//! (<https://sqlite.org/backup.html>) on a connection of its own that holds one read transaction
//! for the whole copy: under WAL that transaction sees a single snapshot, so the copy is
//! consistent (every write committed before it began, none after) and never restarts however
//! busy the writer is, while the server's writes go on beside it. The copy is written under a
//! temporary name, switched to the rollback journal (one self-contained file), synced, and only
//! then renamed to the name asked for, so a crash never leaves a half backup that looks whole.
//!
//! A restore checks the backup first (`PRAGMA integrity_check`, and that its schema is one this
//! binary knows: a backup from a newer version is refused, an older one is migrated at the next
//! start), copies it beside the database, and swaps it in. The database it replaces is kept next
//! to it (`<name>.before-restore-<time>`), after its WAL was folded in, and the stale `-wal` and
//! `-shm` files are removed before the swap: SQLite would otherwise replay the old WAL onto the
//! restored file. A running server and a restore exclude each other through [`DatabaseLock`].

use std::{
    collections::BTreeSet,
    fs::File,
    path::{Path, PathBuf},
    time::Duration,
};

use migrations::MigratorTrait;
use rusqlite::{Connection, OpenFlags, backup::StepResult};

/// Pages copied per backup step: 4 MiB at the default page size, so progress moves often and
/// each step is short.
const PAGES_PER_STEP: i32 = 1024;

/// Why a backup or restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Io(String),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0} exists: choose another name or remove it")]
    Exists(PathBuf),
    #[error("no database at {0}")]
    NoDatabase(PathBuf),
    #[error("{0} is not a Scimpad database (it has no migration history)")]
    NotScimpad(PathBuf),
    #[error("{file} fails SQLite's integrity check: {problems}")]
    Corrupt { file: PathBuf, problems: String },
    #[error(
        "{file} was made by a newer Scimpad (schema changes unknown to this version: {unknown}); restore it with that version"
    )]
    Newer { file: PathBuf, unknown: String },
    #[error("a Scimpad server is using {0}: stop it first")]
    InUse(PathBuf),
}

fn io(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let context = format!("{what} {}", path.display());
    move |e| BackupError::Io(format!("{context}: {e}"))
}

/// How far a copy is, in pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub copied: u64,
    pub total: u64,
}

/// What a finished copy holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copied {
    pub bytes: u64,
    pub summary: Summary,
}

/// A backup's contents, as a person checks them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub organisations: u64,
    pub users: u64,
    pub groups: u64,
    pub memberships: u64,
    pub api_keys: u64,
    /// Migrations this binary knows that the file has not had yet (run at the next start).
    pub pending_migrations: usize,
}

/// Copies the live database `database` to `target` (which must not exist), reporting progress.
pub fn backup(database: &Path, target: &Path, progress: impl FnMut(Progress)) -> Result<Copied, BackupError> {
    if target.exists() {
        return Err(BackupError::Exists(target.to_owned()));
    }
    if !database.is_file() {
        return Err(BackupError::NoDatabase(database.to_owned()));
    }
    // Read-write flags (a read-only connection cannot always open a WAL database), but it only reads.
    let source = Connection::open(database)?;
    source.pragma_update(None, "query_only", true)?;
    source.busy_timeout(Duration::from_secs(5))?;
    // One read transaction for the whole copy: one snapshot, whatever the server commits meanwhile.
    source.execute_batch("BEGIN")?;
    source.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
    let partial = sibling(target, ".partial");
    let copied = copy_into(&source, &partial, progress).and_then(|()| finish_copy(&partial, target));
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    source.execute_batch("COMMIT")?;
    copied?;
    let summary = check(target)?;
    let bytes = std::fs::metadata(target).map_err(io("reading", target))?.len();
    Ok(Copied { bytes, summary })
}

/// Restores `backup` as the database `database` (the server must be stopped), reporting progress;
/// what it restored, and where the database it replaced was kept (if there was one).
pub fn restore(
    backup: &Path,
    database: &Path,
    progress: impl FnMut(Progress),
) -> Result<(Summary, Option<PathBuf>), BackupError> {
    let _lock = DatabaseLock::take(database)?;
    let summary = check(backup)?;
    let source = Connection::open_with_flags(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let incoming = sibling(database, ".restoring");
    let _ = std::fs::remove_file(&incoming);
    let copied = copy_into(&source, &incoming, progress);
    drop(source);
    if let Err(e) = copied.and_then(|()| sync(&incoming)) {
        let _ = std::fs::remove_file(&incoming);
        return Err(e);
    }
    let kept = match database.is_file() {
        true => Some(set_aside(database)?),
        false => None,
    };
    std::fs::rename(&incoming, database).map_err(io("renaming the restored copy to", database))?;
    sync_dir(database)?;
    Ok((summary, kept))
}

/// Checks that `file` is a sound Scimpad database this binary can open; what it holds.
pub fn check(file: &Path) -> Result<Summary, BackupError> {
    if !file.is_file() {
        return Err(BackupError::NoDatabase(file.to_owned()));
    }
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut statement = conn.prepare("PRAGMA integrity_check(20)")?;
    let problems: Vec<String> = statement.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
    if problems != ["ok"] {
        return Err(BackupError::Corrupt { file: file.to_owned(), problems: problems.join("; ") });
    }
    let history: Result<BTreeSet<String>, _> = conn
        .prepare("SELECT version FROM seaql_migrations")
        .and_then(|mut s| s.query_map([], |row| row.get(0))?.collect());
    let Ok(applied) = history else { return Err(BackupError::NotScimpad(file.to_owned())) };
    let known: BTreeSet<String> =
        migrations::Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
    let unknown: Vec<&str> = applied.difference(&known).map(String::as_str).collect();
    if !unknown.is_empty() {
        return Err(BackupError::Newer { file: file.to_owned(), unknown: unknown.join(", ") });
    }
    let count = |table: &str| -> Result<u64, BackupError> {
        // Tables of migrations the file has not had yet are missing: nothing of them to count.
        let exists: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [table],
            |row| row.get(0),
        )?;
        if !exists {
            return Ok(0);
        }
        let rows: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |row| row.get(0))?;
        Ok(u64::try_from(rows).unwrap_or(0))
    };
    Ok(Summary {
        organisations: count("organizations")?,
        users: count("users")?,
        groups: count("groups")?,
        memberships: count("group_members")?,
        api_keys: count("api_keys")?,
        pending_migrations: known.difference(&applied).count(),
    })
}

/// Copies `source`'s main database into a new file at `target`, page batch by page batch.
fn copy_into(
    source: &Connection,
    target: &Path,
    mut progress: impl FnMut(Progress),
) -> Result<(), BackupError> {
    create_owner_only(target)?;
    let mut copy = Connection::open(target)?;
    {
        let backup = rusqlite::backup::Backup::new(source, &mut copy)?;
        loop {
            let step = backup.step(PAGES_PER_STEP)?;
            let at = backup.progress();
            let total = u64::try_from(at.pagecount).unwrap_or(0);
            let remaining = u64::try_from(at.remaining).unwrap_or(0);
            progress(Progress { copied: total.saturating_sub(remaining), total });
            match step {
                StepResult::Done => break,
                StepResult::More => {}
                // Another connection of this process holds a lock: wait a little.
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
    // One self-contained file: the copied header still says WAL.
    copy.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}

/// Syncs the finished copy `partial` and gives it its name `target`.
fn finish_copy(partial: &Path, target: &Path) -> Result<(), BackupError> {
    sync(partial)?;
    std::fs::rename(partial, target).map_err(io("renaming the backup to", target))?;
    sync_dir(target)
}

/// Moves the current database aside, its WAL folded in first, and removes its `-wal` and `-shm`.
fn set_aside(database: &Path) -> Result<PathBuf, BackupError> {
    {
        let conn = Connection::open(database)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    let kept = sibling(database, &format!(".before-restore-{}", crate::clock::now_ms() / 1000));
    std::fs::rename(database, &kept).map_err(io("moving aside", database))?;
    for companion in ["-wal", "-shm"] {
        let stale = sibling(database, companion);
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("removing", &stale)(e)),
        }
    }
    Ok(kept)
}

/// `file` with `suffix` appended to its name.
fn sibling(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn create_owner_only(file: &Path) -> Result<(), BackupError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file).map(drop).map_err(io("creating", file))
}

fn sync(file: &Path) -> Result<(), BackupError> {
    File::open(file).and_then(|f| f.sync_all()).map_err(io("syncing", file))
}

/// Syncs the directory holding `file`, so a rename in it survives a crash.
fn sync_dir(file: &Path) -> Result<(), BackupError> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    File::open(dir).and_then(|d| d.sync_all()).map_err(io("syncing", dir))
}

/// An exclusive lock on a SQLite database's `<file>.lock`, held by a serving server and by a
/// restore for as long as they run: a restore never swaps the file under a live server, and a
/// server never starts on a half-restored one. The operating system drops it when the process
/// ends, however it ends.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

impl DatabaseLock {
    /// Takes the lock of `database`, or says that a server holds it.
    pub fn take(database: &Path) -> Result<Self, BackupError> {
        let path = sibling(database, ".lock");
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io("opening", &path))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::InUse(database.to_owned())),
            Err(std::fs::TryLockError::Error(e)) => Err(io("locking", &path)(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A migrated database file of its own, and its path.
    async fn database() -> PathBuf {
        let file = std::env::temp_dir().join(format!("scimpad-backup-{}.db", uuid::Uuid::new_v4()));
        crate::db::connect(&format!("sqlite://{}?mode=rwc", file.display())).await.unwrap();
        file
    }

    #[tokio::test]
    async fn a_backup_from_a_newer_version_is_refused_and_an_older_one_is_taken() {
        let file = database().await;
        let summary = check(&file).unwrap();
        assert_eq!(summary.pending_migrations, 0);
        let conn = Connection::open(&file).unwrap();
        conn.execute(
            "DELETE FROM seaql_migrations WHERE version = (SELECT max(version) FROM seaql_migrations)",
            [],
        )
        .unwrap();
        assert_eq!(check(&file).unwrap().pending_migrations, 1, "an older schema is migrated at start");
        conn.execute(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29990101_000001_future', 0)",
            [],
        )
        .unwrap();
        let newer = check(&file).unwrap_err().to_string();
        assert!(newer.contains("newer Scimpad") && newer.contains("m29990101_000001_future"), "{newer}");
    }

    #[tokio::test]
    async fn a_file_that_is_no_scimpad_database_is_refused() {
        let other = std::env::temp_dir().join(format!("scimpad-backup-other-{}.db", uuid::Uuid::new_v4()));
        Connection::open(&other).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
        assert!(matches!(check(&other), Err(BackupError::NotScimpad(_))));
        let missing = other.with_extension("missing");
        assert!(matches!(check(&missing), Err(BackupError::NoDatabase(_))));
    }

    #[tokio::test]
    async fn a_held_lock_keeps_a_restore_out_until_it_is_released() {
        let file = database().await;
        let copy = sibling(&file, ".copy");
        backup(&file, &copy, |_| {}).unwrap();
        let held = DatabaseLock::take(&file).unwrap();
        assert!(matches!(restore(&copy, &file, |_| {}), Err(BackupError::InUse(_))));
        drop(held);
        let mut seen = Vec::new();
        let (_, kept) = restore(&copy, &file, |p| seen.push(p)).unwrap();
        assert!(kept.is_some_and(|k| k.is_file()), "the replaced database is kept");
        let last = seen.last().copied().unwrap();
        assert!(last.total > 0 && last.copied == last.total, "progress reached the end: {seen:?}");
    }
}
