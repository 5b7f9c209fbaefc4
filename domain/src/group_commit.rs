//! Group commit: several requests' writes in one SQLite transaction, each answered only after
//! that transaction has committed.
//!
//! Why: SQLite has one writer and we keep `synchronous = FULL`, so every commit waits for the
//! disk. Committing each SCIM write on its own makes the fsync and the transaction's fixed cost
//! the ceiling of creates and PATCHes per second. Here a single thread owns the SCIM write side,
//! with a rusqlite connection of its own (`store::sqlite`): it takes every write queued while the
//! previous batch was committing, runs them one after the other in one transaction, each inside
//! its own `SAVEPOINT` (a write that fails — a uniqueness 409, a 412 — rolls back only its own
//! changes, exactly as its own transaction would), commits once, and only then hands each caller
//! its result. A write arrives whole (a closure over [`WriteConn`]) and runs on that thread to its
//! end, statements and all, so none of it runs on a tokio worker and no statement crosses threads.
//! Durability is unchanged: no caller learns of success before the commit that contains its write
//! is on disk, and if that commit fails every caller of the batch gets the error. Later writes in
//! a batch see earlier ones (one connection, one transaction), so uniqueness and membership set
//! semantics are those of serial execution.
//!
//! One write at a time: the console, sessions and SSO write through sqlx's single connection
//! (`db::connect`). The writer holds that connection — the write turn — while its thread runs a
//! batch ([`hand_over`]), so those writes wait for the batch in the pool's fair, asynchronous
//! queue and the writer waits for them in turn; no write ever waits in SQLite's polling busy
//! handler.
//!
//! Fair between organisations: every organisation shares this one writer, so writes wait in a
//! lane per organisation ([`Writer::for_org`]; writes of no organisation, such as the
//! provisioning log's batches, have a lane of their own) and each batch takes them round-robin,
//! one lane at a time. However long one organisation's backlog, another's write waits at most for
//! the batch being committed and its own turn in the next one. The lanes are filled while a batch
//! commits, so the bounded queue in front of them stays short.
//!
//! PostgreSQL needs none of this (many connections, MVCC, row locks): there, and on any plain
//! [`DatabaseConnection`], [`Writes::write`] is simply a transaction of its own.

use std::{
    collections::{HashMap, VecDeque},
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use sea_orm::{DatabaseConnection, DbErr, Statement};
use tokio::sync::{mpsc, oneshot};

use crate::{
    ids::OrgId,
    store::{
        Exec, Reader, StoreError, StoreResult, WriteConn,
        sqlite::{Access, SqliteConn, finish},
    },
};

/// A boxed future borrowing the transaction it runs in.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Writes waiting for the writer task at most; callers beyond that wait for room.
const QUEUE: usize = 1024;
/// Writes per transaction at most (bounds how long one commit keeps its callers waiting, and how
/// long a write outside the queue waits for its turn).
const BATCH: usize = 128;

/// The histogram of writes per committed batch.
pub const BATCH_METRIC: &str = "scimpad_group_commit_batch_writes";
/// Times the writer started the WAL over (see `WalRestart`).
pub const WAL_RESTART_METRIC: &str = "scimpad_sqlite_wal_restarts_total";
/// The histogram of how long a write waits from its queueing to its batch's commit, in seconds.
pub const WAIT_METRIC: &str = "scimpad_group_commit_wait_seconds";

/// Delivers a write's result once the batch's commit outcome is known.
type Deliver = Box<dyn FnOnce(Result<(), &DbErr>) + Send>;
/// A queued write's work: runs in the batch's transaction on the writer thread, returns how to
/// deliver its result.
type Work = Box<dyn for<'t> FnOnce(&'t SqliteConn) -> BoxFuture<'t, Deliver> + Send>;
/// Whose write it is: an organisation, or `None` for writes on nobody's behalf.
type Lane = Option<Arc<str>>;

/// A queued write and its lane.
struct Job {
    lane: Lane,
    work: Work,
}

/// A batch handed to the writer thread, and how it tells that it is done.
struct Batch {
    jobs: Vec<Work>,
    done: oneshot::Sender<()>,
}

/// Somewhere writes run transactionally: a plain connection (one transaction per write) or the
/// [`Writer`] (group commit on SQLite).
pub trait Writes: Send + Sync {
    /// Where reads that need no transaction run (e.g. what a response shows beside the written
    /// row, so it takes no time of the writer); it sees every committed write.
    fn reader(&self) -> Reader;

    /// Runs `work` in a transaction and returns its result once that transaction has committed.
    /// When `work` returns `Err`, its changes are rolled back and the error returned; a
    /// transaction that could not be begun or committed is an `E` made of that [`StoreError`].
    fn write<T, E, F>(&self, work: F) -> impl Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t> FnOnce(&'t WriteConn<'t>) -> BoxFuture<'t, Result<T, E>> + Send + 'static;

    /// Runs `statement`, a write complete in itself, and returns how many rows it changed once it
    /// has committed. On a pool it runs alone: one statement is atomic, and a transaction around it
    /// would cost two more round trips (`BEGIN`, `COMMIT`) on PostgreSQL. Under group commit it is
    /// one more write of the batch.
    fn write_statement(&self, statement: Statement) -> impl Future<Output = StoreResult<u64>> + Send;
}

impl Writes for DatabaseConnection {
    fn reader(&self) -> Reader {
        Reader::Shared(self.clone())
    }

    async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t> FnOnce(&'t WriteConn<'t>) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
    {
        let failed = |e: DbErr| E::from(StoreError::from(e));
        let txn = crate::db::begin_write(self).await.map_err(failed)?;
        let result = work(&WriteConn::Shared(&txn)).await;
        match result {
            Ok(_) => txn.commit().await.map_err(failed)?,
            Err(_) => txn.rollback().await.map_err(failed)?,
        }
        result
    }

    async fn write_statement(&self, statement: Statement) -> StoreResult<u64> {
        self.apply(statement).await
    }
}

/// The write side of the database: group commit on a SQLite file, a transaction per write
/// otherwise.
#[derive(Clone, Debug)]
pub struct Writer {
    db: DatabaseConnection,
    /// The writer task's queue, on a SQLite file.
    grouped: Option<mpsc::Sender<Job>>,
    read: Reader,
    /// The lane this handle's writes queue in (see [`Writer::for_org`]).
    lane: Lane,
}

impl Writer {
    /// The writer for the database `db` was opened on (`url`). On a SQLite file this opens the
    /// writer thread's connection, starts the thread and the task that batches writes for it
    /// (both end when the last `Writer` clone is dropped), and the WAL checkpointer; elsewhere
    /// writes run as transactions on `db`. Reads go to `read` (see [`crate::db::readers`]).
    pub fn start(db: DatabaseConnection, read: Reader, url: &str) -> Result<Self, DbErr> {
        Self::start_with(db, read, url, WAL_RESTART_FRAMES)
    }

    /// [`Writer::start`], the WAL started over past `wal_limit` frames.
    fn start_with(db: DatabaseConnection, read: Reader, url: &str, wal_limit: i64) -> Result<Self, DbErr> {
        let file = (crate::db::backend(&db) == sea_orm::DbBackend::Sqlite)
            .then(|| crate::db::file_of(url))
            .flatten();
        let Some(file) = file else { return Ok(Self::pooled(db, read)) };
        let opened = SqliteConn::open(&file, Access::ReadWrite);
        let conn = opened.map_err(|e| DbErr::Custom(format!("cannot open the SQLite writer: {e}")))?;
        let checkpointer = checkpoint_connection(&file)?;
        let (batches, to_thread) = std::sync::mpsc::channel();
        let wal = WalRestart::new(wal_limit);
        let restarts = wal.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_batches(&conn, &to_thread, &restarts))
            .map_err(|e| DbErr::Custom(format!("cannot start the SQLite writer thread: {e}")))?;
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(db.clone(), rx, batches));
        tokio::spawn(checkpoints(checkpointer, tx.downgrade(), wal));
        Ok(Self { db, grouped: Some(tx), read, lane: None })
    }

    /// A writer that runs each write as a transaction of its own on `db`.
    pub fn pooled(db: DatabaseConnection, read: Reader) -> Self {
        Self { db, grouped: None, read, lane: None }
    }

    /// This writer, with writes queued in organisation `org_id`'s lane: under group commit each
    /// organisation gets its turn in every batch, whatever another's backlog.
    pub fn for_org(&self, org_id: &OrgId) -> Self {
        Self { lane: Some(Arc::from(org_id.as_str())), ..self.clone() }
    }

    /// Whether writes can be taken: the group-commit thread, where there is one, still runs.
    pub fn is_running(&self) -> bool {
        self.grouped.as_ref().is_none_or(|queue| !queue.is_closed())
    }
}

impl Writes for Writer {
    fn reader(&self) -> Reader {
        self.read.clone()
    }

    async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t> FnOnce(&'t WriteConn<'t>) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
    {
        let Some(queue) = &self.grouped else { return self.db.write(work).await };
        let failed = |why: String| E::from(StoreError::Failed(DbErr::Custom(why)));
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move |conn| {
            Box::pin(async move {
                let outcome = in_savepoint(conn, work).await;
                Box::new(move |committed: Result<(), &DbErr>| {
                    let result = match committed {
                        Ok(()) => outcome,
                        Err(e) => Err(DbErr::Custom(format!("group commit failed: {e}"))),
                    };
                    let _ = reply.send(result);
                }) as Deliver
            })
        });
        let job = Job { lane: self.lane.clone(), work };
        let queued = std::time::Instant::now();
        queue.send(job).await.map_err(|_| failed("the database writer has stopped".into()))?;
        // A dropped reply means the batch was abandoned (a write panicked): it was rolled back.
        let answered =
            answer.await.map_err(|_| failed("the write's batch was abandoned and rolled back".into()))?;
        metrics::histogram!(WAIT_METRIC).record(queued.elapsed().as_secs_f64());
        answered.map_err(|e| E::from(StoreError::Failed(e)))?
    }

    async fn write_statement(&self, statement: Statement) -> StoreResult<u64> {
        if self.grouped.is_none() {
            return self.db.apply(statement).await;
        }
        self.write(move |txn| Box::pin(async move { txn.apply(statement).await })).await
    }
}

/// Runs `work` inside a savepoint of the batch transaction, rolled back when `work` fails.
async fn in_savepoint<T, E, F>(conn: &SqliteConn, work: F) -> Result<Result<T, E>, DbErr>
where
    F: for<'t> FnOnce(&'t WriteConn<'t>) -> BoxFuture<'t, Result<T, E>>,
{
    let failed = |e: crate::store::StoreError| DbErr::Custom(format!("savepoint: {e}"));
    conn.batch("SAVEPOINT write").map_err(failed)?;
    let txn = WriteConn::Sqlite(conn);
    let result = work(&txn).await;
    match result {
        Ok(_) => conn.batch("RELEASE write").map_err(failed)?,
        Err(_) => conn.batch("ROLLBACK TO write; RELEASE write").map_err(failed)?,
    };
    Ok(result)
}

/// Queued writes (`T`) by lane, taken round-robin.
struct Lanes<T> {
    queues: HashMap<Lane, VecDeque<T>>,
    /// Lanes with waiting writes, in turn order.
    turns: VecDeque<Lane>,
}

impl<T> Default for Lanes<T> {
    fn default() -> Self {
        Self { queues: HashMap::new(), turns: VecDeque::new() }
    }
}

impl<T> Lanes<T> {
    fn push(&mut self, lane: Lane, item: T) {
        let queue = self.queues.entry(lane.clone()).or_default();
        if queue.is_empty() {
            self.turns.push_back(lane);
        }
        queue.push_back(item);
    }

    fn is_empty(&self) -> bool {
        self.turns.is_empty()
    }

    /// Up to `max` writes, one from each waiting lane in turn. A lane that still has writes goes
    /// to the back of the turns; an emptied lane is forgotten.
    fn take_fair(&mut self, max: usize) -> Vec<T> {
        let mut batch = Vec::with_capacity(max);
        while batch.len() < max {
            let Some(lane) = self.turns.pop_front() else { break };
            let Some(queue) = self.queues.get_mut(&lane) else { continue };
            if let Some(item) = queue.pop_front() {
                batch.push(item);
            }
            if queue.is_empty() {
                self.queues.remove(&lane);
            } else {
                self.turns.push_back(lane);
            }
        }
        batch
    }
}

/// The writer task: takes the queued writes fairly from the lanes, a batch at a time, and has the
/// writer thread run each batch while newly queued writes are sorted into their lanes.
async fn run(db: DatabaseConnection, mut rx: mpsc::Receiver<Job>, thread: std::sync::mpsc::Sender<Batch>) {
    let mut lanes: Lanes<Work> = Lanes::default();
    let mut open = true;
    let mut committing: Option<tokio::task::JoinHandle<()>> = None;
    while open || committing.is_some() || !lanes.is_empty() {
        if committing.is_none() && !lanes.is_empty() {
            let batch = lanes.take_fair(BATCH);
            committing = Some(tokio::spawn(hand_over(db.clone(), thread.clone(), batch)));
        }
        tokio::select! {
            job = rx.recv(), if open => match job {
                Some(job) => lanes.push(job.lane, job.work),
                None => open = false,
            },
            finished = batch_done(&mut committing), if committing.is_some() => {
                committing = None;
                if let Err(e) = finished {
                    tracing::error!(error = %e, "handing a batch to the SQLite writer failed");
                }
            }
        }
    }
}

/// The end of the batch being committed; never, when there is none.
async fn batch_done(
    committing: &mut Option<tokio::task::JoinHandle<()>>,
) -> Result<(), tokio::task::JoinError> {
    match committing {
        Some(batch) => batch.await,
        None => std::future::pending().await,
    }
}

/// Runs `jobs` as one batch on the writer thread, holding the write turn meanwhile: sqlx's one
/// SQLite connection (`db`), on which the console, sessions and SSO write. While the batch holds
/// it they wait in the pool's queue (fairly, asynchronously), and the writer waits there for
/// them in turn — so no write of either ever waits in SQLite's polling busy handler.
async fn hand_over(db: DatabaseConnection, thread: std::sync::mpsc::Sender<Batch>, jobs: Vec<Work>) {
    let turn = match db.get_sqlite_connection_pool().acquire().await {
        Ok(turn) => turn,
        Err(e) => {
            tracing::error!(error = %e, "cannot take the SQLite write turn");
            return; // dropping the jobs answers their callers with an error
        }
    };
    let (done, finished) = oneshot::channel();
    if thread.send(Batch { jobs, done }).is_ok() {
        let _ = finished.await;
    }
    drop(turn);
}

/// The writer thread: commits each batch it is handed, until the writer task ends. A batch
/// whose write panics is rolled back and abandoned (its callers hear so); the thread goes on.
fn write_batches(conn: &SqliteConn, batches: &std::sync::mpsc::Receiver<Batch>, wal: &WalRestart) {
    while let Ok(Batch { jobs, done }) = batches.recv() {
        let committed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commit_batch(conn, jobs)));
        if committed.is_err() {
            tracing::error!("a group-commit batch panicked and was rolled back");
            if conn.in_transaction()
                && let Err(e) = conn.batch("ROLLBACK")
            {
                tracing::error!(error = %e, "rolling back the abandoned batch failed");
            }
        }
        // Still in the write turn, after the batch's callers have their answers.
        if wal.wanted.swap(false, Ordering::Relaxed) {
            match conn.restart_wal(WAL_RESTART_PATIENCE) {
                Ok(true) => metrics::counter!(WAL_RESTART_METRIC).increment(1),
                Ok(false) => tracing::debug!("a reader outlasted the WAL restart; trying again later"),
                Err(e) => tracing::warn!(error = %e, "WAL restart failed"),
            }
        }
        let _ = done.send(());
    }
}

fn commit_batch(conn: &SqliteConn, jobs: Vec<Work>) {
    // IMMEDIATE: the write lock now; the write turn makes sure nobody else in this process holds
    // it.
    if let Err(e) = conn.batch("BEGIN IMMEDIATE") {
        tracing::error!(error = %e, "cannot begin a group-commit transaction");
        return; // dropping the jobs answers their callers with an error
    }
    metrics::histogram!(BATCH_METRIC).record(jobs.len() as f64);
    let mut deliveries = Vec::with_capacity(jobs.len());
    for job in jobs {
        if !conn.in_transaction() {
            // SQLite rolled the whole transaction back (disk full, I/O error): the writes so far
            // are gone. Their callers hear so; dropping the rest answers them with an error.
            let lost = DbErr::Custom("SQLite rolled the batch back".into());
            tracing::error!(writes = deliveries.len(), "group commit lost its transaction");
            deliveries.into_iter().for_each(|deliver: Deliver| deliver(Err(&lost)));
            return;
        }
        deliveries.push(finish(job(conn)));
    }
    let committed = conn.batch("COMMIT").map_err(DbErr::from);
    if committed.is_err() && conn.in_transaction() {
        // A failed COMMIT can leave the transaction open (e.g. SQLITE_BUSY): end it.
        let _ = conn.batch("ROLLBACK");
    }
    if let Err(e) = &committed {
        tracing::error!(error = %e, writes = deliveries.len(), "group commit failed");
    }
    for deliver in deliveries {
        deliver(committed.as_ref().map(|_| ()));
    }
}

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// WAL frames (pages; 64 MiB of 4 KiB pages, as `journal_size_limit`) above which the writer
/// starts the WAL over.
const WAL_RESTART_FRAMES: i64 = 16_384;
/// How long the writer waits, at most, for readers still in the WAL when it starts it over.
const WAL_RESTART_PATIENCE: std::time::Duration = std::time::Duration::from_millis(100);

/// Between the checkpointer, which sees the WAL grow, and the writer thread, which starts it
/// over. A passive checkpoint copies frames back but cannot restart the WAL: SQLite restarts it
/// only at a commit that finds every frame copied, and while writes never pause, a commit always
/// finds newer ones. The WAL then grows without end (17 GB in 10 minutes of creates toward a
/// million users, with 1.2 GB of data). So when it passes `limit` frames, the writer, between two
/// batches and still holding the write turn, checkpoints the rest and waits briefly for the
/// readers in it (`SqliteConn::restart_wal`); its next commit writes from the WAL's start, and
/// `journal_size_limit` cuts the file back.
#[derive(Clone)]
struct WalRestart {
    wanted: Arc<AtomicBool>,
    limit: i64,
}

impl WalRestart {
    fn new(limit: i64) -> Self {
        Self { wanted: Arc::new(AtomicBool::new(false)), limit }
    }
}

/// A `PASSIVE` checkpoint on `conn`: copies what it can of the WAL back, waiting for nobody;
/// how many frames the WAL holds.
fn passive_checkpoint(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    // (busy, frames in the WAL, frames copied back)
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get::<_, i64>(1))
}

/// The checkpointer's own connection to the SQLite file at `path`.
fn checkpoint_connection(path: &std::path::Path) -> Result<rusqlite::Connection, DbErr> {
    rusqlite::Connection::open(path)
        .map_err(|e| DbErr::Custom(format!("cannot open {} to checkpoint it: {e}", path.display())))
}

/// Copies committed WAL frames back into the database file, on a connection and a blocking thread
/// of its own, while the writer goes on committing: done inside a commit (SQLite's default, every
/// 1,000 pages; `db::connect` turns it off) it would hold up every write of the batch. `PASSIVE`
/// never waits for readers or writers and writes no rows; SQLite starts the WAL over at the next
/// commit once everything in it has been copied; when writes never pause, that moment never comes,
/// and past `wal.limit` frames the writer is asked to start it over ([`WalRestart`]). Ends with
/// the writer (`writer` is its queue).
async fn checkpoints(conn: rusqlite::Connection, writer: mpsc::WeakSender<Job>, wal: WalRestart) {
    let conn = Arc::new(std::sync::Mutex::new(conn));
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if writer.upgrade().is_none() {
            return;
        }
        let conn = conn.clone();
        let done = tokio::task::spawn_blocking(move || {
            passive_checkpoint(&conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
        })
        .await;
        match done {
            Ok(Ok(frames)) => {
                if frames >= wal.limit {
                    wal.wanted.store(true, Ordering::Relaxed);
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "WAL checkpoint failed; retrying in a second"),
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint did not finish; retrying in a second"),
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    use crate::store::{Exec, Rows, StoreResult};

    use super::*;

    /// A writer over a fresh table of its own (tests may share a PostgreSQL database); on SQLite
    /// the group-commit writer.
    async fn scratch() -> (DatabaseConnection, Writer, String) {
        let url = crate::testing::test_database_url();
        let db = crate::db::connect(&url).await.unwrap();
        let table = format!("gc_probe_{}", uuid::Uuid::new_v4().simple());
        db.execute_unprepared(&format!("CREATE TABLE {table} (k TEXT PRIMARY KEY)")).await.unwrap();
        let writer = Writer::start(db.clone(), crate::db::readers(&db, &url).unwrap(), &url).unwrap();
        let grouped = writer.grouped.is_some();
        assert_eq!(grouped, crate::db::backend(&db) == sea_orm::DbBackend::Sqlite);
        (db, writer, table)
    }

    type Work = Box<dyn for<'t> FnOnce(&'t WriteConn<'t>) -> BoxFuture<'t, StoreResult<u64>> + Send>;

    /// A write of one statement without parameters.
    fn sql(sql: String) -> Work {
        Box::new(move |txn| {
            Box::pin(async move { txn.apply(Statement::from_string(txn.backend(), sql)).await })
        })
    }

    fn insert(table: &str, k: &str) -> Work {
        sql(format!("INSERT INTO {table} (k) VALUES ('{k}')"))
    }

    async fn keys(db: &DatabaseConnection, table: &str) -> Vec<String> {
        let sql =
            Statement::from_string(db.get_database_backend(), format!("SELECT k FROM {table} ORDER BY k"));
        db.query_all_raw(sql).await.unwrap().iter().map(|r| r.try_get_by_index(0).unwrap()).collect()
    }

    #[tokio::test]
    async fn concurrent_writes_commit_and_a_failing_one_rolls_back_alone() {
        let (db, writer, t) = scratch().await;
        let (a, b, dup, c) = tokio::join!(
            writer.write(insert(&t, "a")),
            writer.write(insert(&t, "b")),
            writer.write(insert(&t, "a")),
            writer.write(insert(&t, "c")),
        );
        let failed = [a, b, dup, c].into_iter().filter(Result::is_err).count();
        assert_eq!(failed, 1, "exactly the duplicate fails");
        assert_eq!(keys(&db, &t).await, ["a", "b", "c"]);
    }

    #[tokio::test]
    async fn a_write_that_errors_leaves_nothing_behind() {
        let (db, writer, t) = scratch().await;
        let sql = format!("INSERT INTO {t} (k) VALUES ('x')");
        let failed: StoreResult<()> = writer
            .write(move |txn| {
                Box::pin(async move {
                    txn.apply(Statement::from_string(txn.backend(), sql)).await.unwrap();
                    Err(StoreError::Unique)
                })
            })
            .await;
        assert!(matches!(failed, Err(StoreError::Unique)), "the work's own error: {failed:?}");
        writer.write(insert(&t, "y")).await.unwrap();
        assert_eq!(keys(&db, &t).await, ["y"]);
    }

    #[tokio::test]
    async fn the_checkpointer_copies_committed_writes_into_the_database_file() {
        let path = std::env::temp_dir().join(format!("scimpad-ckpt-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = crate::db::connect(&url).await.unwrap();
        let writer = Writer::start(db.clone(), crate::db::readers(&db, &url).unwrap(), &url).unwrap();
        let file_size = || std::fs::metadata(&path).unwrap().len();
        let before = file_size();
        let rows = (0..2000).map(|i| format!("('{i}', zeroblob(512))")).collect::<Vec<_>>().join(",");
        db.execute_unprepared("CREATE TABLE ckpt (k TEXT PRIMARY KEY, v BLOB)").await.unwrap();
        let written = writer.write(sql(format!("INSERT INTO ckpt VALUES {rows}"))).await;
        assert_eq!(written.unwrap(), 2000);
        let row =
            db.query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA wal_autocheckpoint")).await;
        let pages: i64 = row.unwrap().unwrap().try_get_by_index(0).unwrap();
        assert_eq!(pages, 0, "writing connections never checkpoint inside a commit");
        let deadline = std::time::Instant::now() + 3 * CHECKPOINT_EVERY;
        while file_size() < before + 1_000_000 {
            assert!(std::time::Instant::now() < deadline, "the checkpointer copied nothing back");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        drop((writer, db));
    }

    /// Frames in the WAL of the SQLite file at `path`, sampled every 50 ms for `samples` times
    /// (on a thread and a connection of its own).
    fn watch_wal(path: std::path::PathBuf, samples: usize) -> std::thread::JoinHandle<Vec<i64>> {
        std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(path).unwrap();
            (0..samples)
                .map(|_| {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    passive_checkpoint(&conn).unwrap()
                })
                .collect()
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn under_writes_that_never_pause_the_wal_still_starts_over() {
        let path = std::env::temp_dir().join(format!("scimpad-wal-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = crate::db::connect(&url).await.unwrap();
        db.execute_unprepared("CREATE TABLE wal (k INTEGER PRIMARY KEY, v BLOB)").await.unwrap();
        let limit = 256;
        let writer =
            Writer::start_with(db.clone(), crate::db::readers(&db, &url).unwrap(), &url, limit).unwrap();
        // Eight writers back to back, 16 KiB (4 pages) a write: the WAL never stops growing.
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let (writer, stop) = (writer.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut written = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        written += writer
                            .write(sql("INSERT INTO wal (v) VALUES (zeroblob(16384))".into()))
                            .await
                            .unwrap();
                    }
                    written
                })
            })
            .collect();
        let frames = tokio::task::spawn_blocking({
            let watch = watch_wal(path.clone(), 80);
            move || watch.join().unwrap()
        })
        .await
        .unwrap();
        stop.store(true, Ordering::Relaxed);
        let mut written = 0;
        for w in writers {
            written += w.await.unwrap();
        }

        let largest = frames.iter().copied().max().unwrap();
        assert!(written > limit as u64, "the writes filled the WAL several times: {written} rows");
        assert!(
            frames.windows(2).any(|pair| pair[1] < pair[0]),
            "the WAL started over while writes went on: {frames:?}"
        );
        assert!((largest as u64) < written * 4, "the WAL never held every write: {largest} frames");
        drop((writer, db));
    }

    #[test]
    fn lanes_take_one_write_per_organisation_in_turn() {
        let mut lanes = Lanes::default();
        let lane = |name: &str| Some(Arc::<str>::from(name));
        for i in 0..10 {
            lanes.push(lane("flood"), format!("flood{i}"));
        }
        lanes.push(lane("a"), "a0".to_owned());
        lanes.push(None, "log0".to_owned());
        lanes.push(lane("a"), "a1".to_owned());
        assert_eq!(lanes.take_fair(5), ["flood0", "a0", "log0", "flood1", "a1"]);
        assert_eq!(lanes.take_fair(3), ["flood2", "flood3", "flood4"]);
        lanes.push(lane("b"), "b0".to_owned());
        assert_eq!(lanes.take_fair(2), ["flood5", "b0"]);
        assert_eq!(lanes.take_fair(100).len(), 4);
        assert!(lanes.is_empty());
    }

    #[tokio::test]
    async fn one_organisations_backlog_does_not_hold_up_another() {
        let path = std::env::temp_dir().join(format!("scimpad-fair-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = crate::db::connect(&url).await.unwrap();
        db.execute_unprepared("CREATE TABLE arrivals (seq INTEGER PRIMARY KEY, who TEXT)").await.unwrap();
        let writer = Writer::start(db.clone(), crate::db::readers(&db, &url).unwrap(), &url).unwrap();
        let (flooder, neighbour) =
            (writer.for_org(&OrgId::new("flooder")), writer.for_org(&OrgId::new("neighbour")));
        let arrive = |w: &Writer, who: &'static str| {
            let w = w.clone();
            async move {
                let done = w.write(sql(format!("INSERT INTO arrivals (who) VALUES ('{who}')"))).await;
                done.unwrap();
            }
        };
        // Ten batches' worth of the flooder's writes are queued before the neighbour's one.
        let flood: Vec<_> = (0..10 * BATCH).map(|_| tokio::spawn(arrive(&flooder, "flooder"))).collect();
        tokio::task::yield_now().await;
        arrive(&neighbour, "neighbour").await;
        for write in flood {
            write.await.unwrap();
        }
        let sql =
            Statement::from_string(DbBackend::Sqlite, "SELECT seq FROM arrivals WHERE who = 'neighbour'");
        let row = db.query_one_raw(sql).await.unwrap().unwrap();
        let seq: i64 = row.try_get_by_index(0).unwrap();
        // In FIFO order it would have been written last (10 × BATCH + 1).
        assert!(seq <= 2 * BATCH as i64 + 1, "the neighbour's write came {seq}th");
        drop((writer, db));
    }

    /// A write on sqlx's connection (the console's) while a batch runs waits for the batch in
    /// the pool's queue: with SQLite's busy handler turned off on that connection it would fail
    /// at once with SQLITE_BUSY if it reached SQLite while the batch held the write lock.
    #[tokio::test]
    async fn a_console_write_waits_for_the_batch_its_turn_not_in_the_busy_handler() {
        let path = std::env::temp_dir().join(format!("scimpad-turn-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = crate::db::connect(&url).await.unwrap();
        db.execute_unprepared("CREATE TABLE arrivals (seq INTEGER PRIMARY KEY, who TEXT)").await.unwrap();
        db.execute_unprepared("PRAGMA busy_timeout = 0").await.unwrap();
        let writer = Writer::start(db.clone(), crate::db::readers(&db, &url).unwrap(), &url).unwrap();
        let (started, batch_running) = oneshot::channel();
        let batch = tokio::spawn({
            let writer = writer.clone();
            async move {
                let held: StoreResult<u64> = writer
                    .write(move |txn| {
                        Box::pin(async move {
                            let first = Statement::from_string(
                                txn.backend(),
                                "INSERT INTO arrivals (who) VALUES ('batch')",
                            );
                            let written = txn.apply(first).await;
                            let _ = started.send(());
                            // The batch keeps the write lock a while, on the writer thread.
                            std::thread::sleep(std::time::Duration::from_millis(300));
                            written
                        })
                    })
                    .await;
                held.unwrap()
            }
        });
        batch_running.await.unwrap();
        db.execute_unprepared("INSERT INTO arrivals (who) VALUES ('console')").await.unwrap();
        assert_eq!(batch.await.unwrap(), 1);
        let sql = "SELECT who FROM arrivals ORDER BY seq";
        let rows = db.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap();
        let order: Vec<String> = rows.iter().map(|r| r.try_get("", "who").unwrap()).collect();
        assert_eq!(order, ["batch", "console"], "the console's write came after the batch it waited for");
        drop((writer, db));
    }
}
