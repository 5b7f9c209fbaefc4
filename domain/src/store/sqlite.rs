//! The SCIM path on a SQLite file with rusqlite, as its authors intend: connections owned by
//! threads made for them — reader threads with `query_only` connections ([`ReadPool`]), and the
//! group-commit writer's thread (`group_commit`) — each with a statement cache, and rows read
//! field by field by column name.
//!
//! Work arrives whole (a read from [`super::Reader::run`], a batch of writes from the writer) and
//! runs to its end on the thread that takes it: its statements execute synchronously, so its
//! future completes on its first poll, on the thread's own single-threaded runtime ([`finish`]).
//! WAL lets readers run beside the writer, and each statement sees the last commit, so a client
//! reads its own 2xx write.

use std::{
    path::Path,
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use rusqlite::types::{FromSql, Value as Cell, ValueRef};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, IdenStatic, Iterable, RuntimeErr, Statement,
    TryIntoModel, sea_query::Value,
};
use tokio::sync::oneshot;

use super::{ReadConn, ReadOp, StoreError, StoreResult, columns::Kind};

/// Reader threads: reads queue for the first free one. More than the cores, so a slow filter
/// occupies one thread and the others go on answering lookups.
const READERS: usize = 4;
/// Prepared statements kept per connection (the SCIM reads use a few dozen distinct ones).
const STATEMENT_CACHE: usize = 128;
/// Statements with more parameters than this are prepared for their one use, not cached. A cached
/// statement holds its compiled program and parameter cells, about 100 bytes a parameter (665 KB
/// for 500 rows of 14 columns), until [`STATEMENT_CACHE`] others push it out, and a statement's
/// text varies with what it carries (log events, a PATCH's members, a page's ids, a filter's
/// values): before this bound and `store::fixed_runs`, the benchmark's writer thread held 64 MiB
/// of such statements at a million users (issue 14, item 5). With it a connection's cache holds at
/// most about 1.6 MB, and what repeats stays cached: single-row writes, lookups, a page's ids.
const CACHED_PARAMETERS: usize = 128;
/// How long a statement waits for a lock. Readers wait for none; the writer's `BEGIN IMMEDIATE`
/// finds the lock free (it holds the write turn, see `group_commit`) unless another process
/// writes to the file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A row type read from rusqlite rows by column name.
pub trait FromSqlite: Sized {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> StoreResult<Self>;
}

/// Column `name` of `row` as a `T`.
pub fn field<T: FromSql>(row: &rusqlite::Row<'_>, name: &str) -> StoreResult<T> {
    row.get(name).map_err(failure)
}

/// Implements [`FromSqlite`] for a struct whose fields are named as the columns it is read from.
#[macro_export]
#[doc(hidden)]
macro_rules! from_sqlite {
    ($row:ident { $($field:ident),+ $(,)? }) => {
        impl $crate::store::sqlite::FromSqlite for $row {
            fn from_sqlite(row: &rusqlite::Row<'_>) -> $crate::store::StoreResult<Self> {
                Ok(Self { $($field: $crate::store::sqlite::field(row, stringify!($field))?),+ })
            }
        }
    };
}

/// An entity's model from a row holding its columns by name, each decoded as the entity declares
/// it (so a `bool` column stored as an integer reads as `bool`, JSON text as JSON).
fn entity_model<E>(row: &rusqlite::Row<'_>) -> StoreResult<E::Model>
where
    E: EntityTrait,
    E::ActiveModel: TryIntoModel<E::Model>,
{
    let mut model = <E::ActiveModel as ActiveModelTrait>::default();
    for column in E::Column::iter() {
        let cell = row.get_ref(column.as_str()).map_err(failure)?;
        let value = decode(cell, Kind::of(column.def().get_column_type())).map_err(StoreError::Failed)?;
        model.set(column, value);
    }
    model.try_into_model().map_err(StoreError::Failed)
}

macro_rules! entity_rows {
    ($($entity:ident),+ $(,)?) => {$(
        impl FromSqlite for crate::entities::$entity::Model {
            fn from_sqlite(row: &rusqlite::Row<'_>) -> StoreResult<Self> {
                entity_model::<crate::entities::$entity::Entity>(row)
            }
        }
    )+};
}

entity_rows!(api_key, directory_count, group, group_member, organization, provisioning_event, user);

/// A rusqlite error on the seam: unique and primary-key violations by SQLite's extended result
/// code, anything else as a failure.
fn failure(e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi::{SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
    match &e {
        rusqlite::Error::SqliteFailure(code, _)
            if [SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY].contains(&code.extended_code) =>
        {
            StoreError::Unique
        }
        _ => StoreError::Failed(DbErr::Query(RuntimeErr::Internal(e.to_string()))),
    }
}

/// Whether a connection may write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    ReadOnly,
    ReadWrite,
}

/// A SQLite thread's connection.
pub struct SqliteConn(Mutex<rusqlite::Connection>);

impl SqliteConn {
    /// A connection to the SQLite file at `path`. A writing one has the durability of sqlx's
    /// (`db::connect`): WAL, every commit on disk, foreign keys; no checkpoint inside a commit (the
    /// writer's checkpointer copies the WAL back beside the writes), a reset WAL cut to 64 MiB.
    pub(crate) fn open(path: &Path, access: Access) -> StoreResult<Self> {
        let conn = rusqlite::Connection::open(path).map_err(failure)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(failure)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let pragmas = match access {
            Access::ReadOnly => "PRAGMA query_only = ON;",
            Access::ReadWrite => {
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                 PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;"
            }
        };
        conn.execute_batch(pragmas).map_err(failure)?;
        Ok(Self(Mutex::new(conn)))
    }

    /// This thread's connection (only its thread uses it: the lock is never contended).
    fn conn(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The rows `statement` selects.
    pub fn rows<M: FromSqlite>(&self, statement: &Statement) -> StoreResult<Vec<M>> {
        self.prepared(statement, |prepared, params| {
            let mut rows = prepared.query(rusqlite::params_from_iter(params)).map_err(failure)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(failure)? {
                out.push(M::from_sqlite(row)?);
            }
            Ok(out)
        })
    }

    /// Runs the write `statement`; how many rows it changed.
    pub fn execute(&self, statement: &Statement) -> StoreResult<u64> {
        self.prepared(statement, |prepared, params| {
            let changed = prepared.execute(rusqlite::params_from_iter(params)).map_err(failure)?;
            Ok(changed as u64)
        })
    }

    /// `run` with `statement` prepared and its parameters: from the statement cache when it
    /// [`is_cached`], else prepared for this one use.
    fn prepared<T>(
        &self,
        statement: &Statement,
        run: impl FnOnce(&mut rusqlite::Statement<'_>, Vec<Cell>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let params = params(statement)?;
        let conn = self.conn();
        if is_cached(&params) {
            let mut cached = conn.prepare_cached(&statement.sql).map_err(failure)?;
            run(&mut cached, params)
        } else {
            run(&mut conn.prepare(&statement.sql).map_err(failure)?, params)
        }
    }

    /// Runs `sql`, statements without parameters (transaction control).
    pub(crate) fn batch(&self, sql: &str) -> StoreResult<()> {
        self.conn().execute_batch(sql).map_err(failure)
    }

    /// Copies what is left of the WAL into the database file and waits, at most `patience`, for
    /// the readers still using it, so the next commit starts the WAL over (`PRAGMA
    /// wal_checkpoint(RESTART)`; the writer thread's, between batches). Whether it got there:
    /// `false` when a reader outlasted `patience` (nothing is lost; the WAL keeps growing until a
    /// later try).
    pub(crate) fn restart_wal(&self, patience: Duration) -> StoreResult<bool> {
        let conn = self.conn();
        conn.busy_timeout(patience).map_err(failure)?;
        let busy = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |row| row.get::<_, i64>(0));
        conn.busy_timeout(BUSY_TIMEOUT).map_err(failure)?;
        Ok(busy.map_err(failure)? == 0)
    }

    /// Whether a transaction is open: SQLite ends one by itself on some errors (disk full, I/O).
    pub(crate) fn in_transaction(&self) -> bool {
        !self.conn().is_autocommit()
    }
}

/// Whether a statement with `params` is kept in its connection's statement cache: one whose shape
/// repeats (at most [`CACHED_PARAMETERS`] parameters).
fn is_cached(params: &[Cell]) -> bool {
    params.len() <= CACHED_PARAMETERS
}

/// A statement's parameters as SQLite values.
fn params(statement: &Statement) -> StoreResult<Vec<Cell>> {
    let Some(values) = &statement.values else { return Ok(Vec::new()) };
    values.0.iter().map(bind).collect::<Result<_, _>>().map_err(StoreError::Failed)
}

/// A parameter as SQLite stores it, bound as sqlx binds it (booleans as integers, JSON as text).
fn bind(value: &Value) -> Result<Cell, DbErr> {
    fn int<T: Into<i64> + Copy>(v: &Option<T>) -> Cell {
        v.map_or(Cell::Null, |v| Cell::Integer(v.into()))
    }
    Ok(match value {
        Value::Bool(v) => int(v),
        Value::TinyInt(v) => int(v),
        Value::SmallInt(v) => int(v),
        Value::Int(v) => int(v),
        Value::BigInt(v) => int(v),
        Value::TinyUnsigned(v) => int(v),
        Value::SmallUnsigned(v) => int(v),
        Value::Unsigned(v) => int(v),
        Value::BigUnsigned(v) => match v {
            None => Cell::Null,
            Some(v) => Cell::Integer(
                i64::try_from(*v)
                    .map_err(|_| DbErr::Custom(format!("{v} does not fit SQLite's integers")))?,
            ),
        },
        Value::Float(v) => v.map_or(Cell::Null, |v| Cell::Real(v.into())),
        Value::Double(v) => v.map_or(Cell::Null, Cell::Real),
        Value::String(v) => v.clone().map_or(Cell::Null, Cell::Text),
        Value::Char(v) => v.map_or(Cell::Null, |c| Cell::Text(c.to_string())),
        Value::Bytes(v) => v.clone().map_or(Cell::Null, Cell::Blob),
        Value::Json(v) => v.as_ref().map_or(Cell::Null, |j| Cell::Text(j.to_string())),
        other => return Err(DbErr::Custom(format!("unsupported SQLite parameter {other:?}"))),
    })
}

/// A cell as the value of a column of kind `kind`.
fn decode(cell: ValueRef<'_>, kind: Kind) -> Result<Value, DbErr> {
    let mismatch = || DbErr::Type(format!("a {} cell in a column of kind {kind:?}", cell.data_type()));
    Ok(match (cell, kind) {
        (ValueRef::Null, kind) => kind.null(),
        (ValueRef::Integer(i), Kind::Bool) => Value::Bool(Some(i != 0)),
        (ValueRef::Integer(i), Kind::SmallInt) => {
            Value::SmallInt(Some(i16::try_from(i).map_err(|_| mismatch())?))
        }
        (ValueRef::Integer(i), Kind::Int) => Value::Int(Some(i32::try_from(i).map_err(|_| mismatch())?)),
        (ValueRef::Integer(i), Kind::BigInt) => Value::BigInt(Some(i)),
        (ValueRef::Integer(i), Kind::Double) => Value::Double(Some(i as f64)),
        (ValueRef::Real(r), Kind::Double) => Value::Double(Some(r)),
        (ValueRef::Text(t), Kind::Json) => {
            let json = serde_json::from_slice(t).map_err(|e| DbErr::Json(e.to_string()))?;
            Value::Json(Some(Box::new(json)))
        }
        (ValueRef::Text(t), Kind::Text) => {
            Value::String(Some(std::str::from_utf8(t).map_err(|_| mismatch())?.to_owned()))
        }
        (ValueRef::Blob(b), Kind::Bytes) => Value::Bytes(Some(b.to_vec())),
        _ => return Err(mismatch()),
    })
}

/// A read queued for the reader threads.
type Job = Box<dyn FnOnce(&ReadConn) + Send>;

/// The reader threads of a SQLite file. They end when the last handle is dropped.
#[derive(Clone)]
pub struct ReadPool {
    queue: mpsc::Sender<Job>,
}

impl std::fmt::Debug for ReadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadPool").finish_non_exhaustive()
    }
}

impl ReadPool {
    /// Reader threads over the SQLite file at `path`. Their connections open now, so a file that
    /// cannot be read is reported at start-up.
    pub fn open(path: &Path) -> Result<Self, DbErr> {
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..READERS {
            let conn = ReadConn::Sqlite(SqliteConn::open(path, Access::ReadOnly).map_err(DbErr::from)?);
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{n}"))
                .spawn(move || serve(&conn, &jobs))
                .map_err(|e| DbErr::Custom(format!("cannot start a SQLite reader thread: {e}")))?;
        }
        Ok(Self { queue })
    }

    /// Runs `op` on a reader thread.
    pub(super) async fn run<T: Send + 'static>(&self, op: ReadOp<T>) -> Result<T, DbErr> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = reply.send(finish(op(conn)));
        });
        self.queue.send(job).map_err(|_| DbErr::Custom("the SQLite readers have stopped".into()))?;
        // A dropped reply means the read panicked on its thread (which goes on serving).
        answer.await.map_err(|_| DbErr::Custom("a SQLite read failed on its thread".into()))
    }
}

/// A reader thread: takes the next queued read until every handle is gone. A read that panics
/// is abandoned (its caller hears so); the thread and its connection go on.
fn serve(conn: &ReadConn, jobs: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let job = jobs.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).recv();
        let Ok(job) = job else { return };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(conn)));
    }
}

/// The output of a read's future, which completes on its first poll: its statements run
/// synchronously here. A read that awaited something else would be a bug; it is polled to its
/// end on a runtime of this thread's own all the same.
pub(crate) fn finish<T>(read: crate::group_commit::BoxFuture<'_, T>) -> T {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a single-threaded runtime for a reader thread");
    }
    RUNTIME.with(|runtime| runtime.block_on(read))
}

#[cfg(test)]
mod tests;
