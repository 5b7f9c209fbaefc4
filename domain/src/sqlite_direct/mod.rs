//! SQLite for the SCIM hot path: rusqlite connections that run SeaORM's statements on the calling
//! thread, behind SeaORM's own [`ConnectionTrait`], so the directory code is the same code on
//! every backend.
//!
//! Why: sqlx runs each SQLite connection on a thread of its own and sends every statement, and
//! every row, across channels. A statement on an index takes microseconds; the hand-offs cost far
//! more. Profiling 2,000 `userName` lookups/s on this 2-core machine showed 53 % of the server's
//! CPU in the kernel (31 % in context switches alone) and under 1 % in SQLite. Here a statement is
//! prepared once per connection (rusqlite's statement cache) and run where the request already
//! runs.
//!
//! Used for: the SCIM read pool ([`ReadPool`], `query_only` connections). Every write — the
//! group-commit writer's batches, the console, sessions, the provisioning log — and all of
//! PostgreSQL stay on sqlx.
//!
//! Rows reach SeaORM as name → value maps typed from the entities (`columns`). SeaORM 2.0.4 has
//! no public constructor for its `QueryResult` and `ExecResult` besides its mock database (the
//! `proxy` feature, meant for this, does not compile beside `sqlx-sqlite`), so [`results`] hands
//! the maps through `MockDatabaseTrait`, which returns what it is given, synchronously. Such rows
//! are addressed by column name; positional access (`try_get_by_index`, `into_tuple`) is only
//! meaningful for single-column results, so multi-column reads that may run here use named
//! models (`FromQueryResult`).

mod columns;

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use rusqlite::types::{Value as Cell, ValueRef};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, ExecResult, MockDatabase, MockDatabaseTrait, MockExecResult,
    QueryResult, RuntimeErr, Statement, sea_query::Value,
};

use self::columns::Kind;

/// How long a statement waits for a lock held by another connection before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection (the SCIM path uses a few dozen distinct ones).
const STATEMENT_CACHE: usize = 128;
/// Result shapes kept per connection; SQL texts vary with `IN` lists and page sizes.
const SHAPE_CACHE: usize = 256;
/// Idle read connections kept; more are opened while more threads read at once.
const IDLE_READERS: usize = 8;

/// A result column: its name and how its values decode.
#[derive(Debug)]
struct Column {
    name: String,
    kind: Kind,
}

/// One rusqlite connection and what it learnt about the statements it ran.
struct Conn {
    sqlite: rusqlite::Connection,
    shapes: HashMap<String, Arc<[Column]>>,
}

impl Conn {
    fn open(path: &Path) -> Result<Self, DbErr> {
        let sqlite = rusqlite::Connection::open(path).map_err(|e| failure(DbErr::Conn, &e))?;
        sqlite.busy_timeout(BUSY_TIMEOUT).map_err(|e| failure(DbErr::Conn, &e))?;
        sqlite.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        sqlite.execute_batch("PRAGMA query_only = ON;").map_err(|e| failure(DbErr::Conn, &e))?;
        Ok(Self { sqlite, shapes: HashMap::new() })
    }

    fn query(&mut self, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        let params = params(stmt)?;
        let mut prepared = self.sqlite.prepare_cached(&stmt.sql).map_err(|e| failure(DbErr::Query, &e))?;
        let shape = match self.shapes.get(&stmt.sql) {
            Some(shape) => shape.clone(),
            None => {
                let shape: Arc<[Column]> = prepared
                    .columns_with_metadata()
                    .iter()
                    .map(|c| Column {
                        name: c.name().to_owned(),
                        kind: columns::kind(c.table_name().zip(c.origin_name())),
                    })
                    .collect();
                if self.shapes.len() >= SHAPE_CACHE {
                    self.shapes.clear();
                }
                self.shapes.insert(stmt.sql.clone(), shape.clone());
                shape
            }
        };
        let mut rows =
            prepared.query(rusqlite::params_from_iter(params)).map_err(|e| failure(DbErr::Query, &e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| failure(DbErr::Query, &e))? {
            let mut values = BTreeMap::new();
            for (i, column) in shape.iter().enumerate() {
                let cell = row.get_ref(i).map_err(|e| failure(DbErr::Query, &e))?;
                values.insert(column.name.clone(), decode(cell, column.kind)?);
            }
            out.push(values);
        }
        results(out)
    }

    fn execute(&mut self, stmt: &Statement) -> Result<ExecResult, DbErr> {
        let params = params(stmt)?;
        let mut prepared = self.sqlite.prepare_cached(&stmt.sql).map_err(|e| failure(DbErr::Exec, &e))?;
        let affected =
            prepared.execute(rusqlite::params_from_iter(params)).map_err(|e| failure(DbErr::Exec, &e))?;
        self.exec_result(affected)
    }

    fn execute_batch(&mut self, sql: &str) -> Result<ExecResult, DbErr> {
        self.sqlite.execute_batch(sql).map_err(|e| failure(DbErr::Exec, &e))?;
        self.exec_result(self.sqlite.changes() as usize)
    }

    fn exec_result(&self, affected: usize) -> Result<ExecResult, DbErr> {
        let last_insert_id = u64::try_from(self.sqlite.last_insert_rowid()).unwrap_or(0);
        let outcome = MockExecResult { last_insert_id, rows_affected: affected as u64 };
        MockDatabase::new(DbBackend::Sqlite).append_exec_results([outcome]).execute(0, carrier())
    }
}

/// The statement the mock database is asked to "run" to hand back a result: it only logs it.
fn carrier() -> Statement {
    Statement::from_string(DbBackend::Sqlite, String::new())
}

/// Rows as SeaORM query results (see the module header for why through the mock database).
fn results(rows: Vec<BTreeMap<String, Value>>) -> Result<Vec<QueryResult>, DbErr> {
    MockDatabase::new(DbBackend::Sqlite).append_query_results([rows]).query(0, carrier())
}

/// A rusqlite error as a SeaORM error.
fn failure(wrap: fn(RuntimeErr) -> DbErr, e: &rusqlite::Error) -> DbErr {
    wrap(RuntimeErr::Internal(e.to_string()))
}

/// A statement's parameters as SQLite values, bound as sqlx binds them (booleans as integers,
/// JSON as its text).
fn params(stmt: &Statement) -> Result<Vec<Cell>, DbErr> {
    let Some(values) = &stmt.values else { return Ok(Vec::new()) };
    values.0.iter().map(bind).collect()
}

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

/// A cell as the SeaORM value its column's field decodes.
fn decode(cell: ValueRef<'_>, kind: Kind) -> Result<Value, DbErr> {
    let mismatch = || DbErr::Type(format!("a {} cell in a column of kind {kind:?}", cell.data_type()));
    Ok(match (cell, kind) {
        (ValueRef::Null, kind) => kind.null(),
        (ValueRef::Integer(i), Kind::Bool) => Value::Bool(Some(i != 0)),
        (ValueRef::Integer(i), Kind::SmallInt) => {
            Value::SmallInt(Some(i16::try_from(i).map_err(|_| mismatch())?))
        }
        (ValueRef::Integer(i), Kind::Int) => Value::Int(Some(i32::try_from(i).map_err(|_| mismatch())?)),
        (ValueRef::Integer(i), Kind::BigInt | Kind::Computed) => Value::BigInt(Some(i)),
        (ValueRef::Integer(i), Kind::Double) => Value::Double(Some(i as f64)),
        (ValueRef::Real(r), Kind::Double | Kind::Computed) => Value::Double(Some(r)),
        (ValueRef::Text(t), Kind::Json) => {
            let json = serde_json::from_slice(t).map_err(|e| DbErr::Json(e.to_string()))?;
            Value::Json(Some(Box::new(json)))
        }
        (ValueRef::Text(t), Kind::Text | Kind::Computed) => {
            Value::String(Some(std::str::from_utf8(t).map_err(|_| mismatch())?.to_owned()))
        }
        (ValueRef::Blob(b), Kind::Bytes | Kind::Computed) => Value::Bytes(Some(b.to_vec())),
        _ => return Err(mismatch()),
    })
}

/// The path of the SQLite file a `sqlite://` URL names (`None` for in-memory databases, which
/// other connections cannot share).
pub fn file_of(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?.trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    let memory = path.is_empty() || path.starts_with(":memory:") || url.contains("mode=memory");
    (!memory).then(|| PathBuf::from(path))
}

/// `query_only` connections for reads that need no transaction, opened as more threads read at
/// once and kept for reuse. Each statement sees the last commit (WAL).
#[derive(Clone)]
pub struct ReadPool {
    path: Arc<PathBuf>,
    idle: Arc<Mutex<Vec<Conn>>>,
}

impl std::fmt::Debug for ReadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadPool").field("path", &self.path).finish_non_exhaustive()
    }
}

impl ReadPool {
    /// A pool over the SQLite file at `path`; the first connection is opened now, so a file
    /// that cannot be read is reported at start-up.
    pub fn open(path: &Path) -> Result<Self, DbErr> {
        let first = Conn::open(path)?;
        Ok(Self { path: Arc::new(path.to_owned()), idle: Arc::new(Mutex::new(vec![first])) })
    }

    fn with<T>(&self, run: impl FnOnce(&mut Conn) -> Result<T, DbErr>) -> Result<T, DbErr> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match taken {
            Some(conn) => conn,
            None => Conn::open(&self.path)?,
        };
        let result = run(&mut conn);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

/// Implements [`ConnectionTrait`] for a type with `fn with(&self, impl FnOnce(&mut Conn) -> …)`.
macro_rules! direct_connection {
    ($type:ty) => {
        #[async_trait::async_trait]
        impl ConnectionTrait for $type {
            fn get_database_backend(&self) -> DbBackend {
                DbBackend::Sqlite
            }

            async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
                self.with(|c| c.execute(&stmt))
            }

            async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
                self.with(|c| c.execute_batch(sql))
            }

            async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
                Ok(self.with(|c| c.query(&stmt))?.into_iter().next())
            }

            async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
                self.with(|c| c.query(&stmt))
            }
        }
    };
}

direct_connection!(ReadPool);

/// Implements [`ConnectionTrait`] for an enum whose two variants (`$a`, `$b`) each hold a
/// connection, by delegating to the one it holds.
#[macro_export]
#[doc(hidden)]
macro_rules! either_connection {
    ($type:ty, $a:ident, $b:ident) => {
        #[async_trait::async_trait]
        impl sea_orm::ConnectionTrait for $type {
            fn get_database_backend(&self) -> sea_orm::DbBackend {
                match self {
                    Self::$a(c) => c.get_database_backend(),
                    Self::$b(c) => c.get_database_backend(),
                }
            }

            async fn execute_raw(
                &self,
                stmt: sea_orm::Statement,
            ) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
                match self {
                    Self::$a(c) => c.execute_raw(stmt).await,
                    Self::$b(c) => c.execute_raw(stmt).await,
                }
            }

            async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, sea_orm::DbErr> {
                match self {
                    Self::$a(c) => c.execute_unprepared(sql).await,
                    Self::$b(c) => c.execute_unprepared(sql).await,
                }
            }

            async fn query_one_raw(
                &self,
                stmt: sea_orm::Statement,
            ) -> Result<Option<sea_orm::QueryResult>, sea_orm::DbErr> {
                match self {
                    Self::$a(c) => c.query_one_raw(stmt).await,
                    Self::$b(c) => c.query_one_raw(stmt).await,
                }
            }

            async fn query_all_raw(
                &self,
                stmt: sea_orm::Statement,
            ) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
                match self {
                    Self::$a(c) => c.query_all_raw(stmt).await,
                    Self::$b(c) => c.query_all_raw(stmt).await,
                }
            }
        }
    };
}

#[cfg(test)]
mod tests;
