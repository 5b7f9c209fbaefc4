//! The seam every SCIM-path statement goes through: [`Rows`] ("run this SELECT, give me these
//! rows, by column name") and [`Exec`] ("run this write, tell me how many rows it changed"), with
//! one error type that says what the directory must tell apart ([`StoreError`]).
//!
//! Why a seam of our own rather than SeaORM's `ConnectionTrait`: on a SQLite file the SCIM path runs
//! on rusqlite, on threads made for it — reader threads and the group-commit writer's thread
//! ([`sqlite`]) — and SeaORM 2 offers no public way to hand it rows besides its mock database,
//! whose rows are maps in alphabetical order (so positional reads silently swap columns). Here
//! statements are still built once, with SeaORM's query builder, for every backend, and every row
//! type names its columns: on PostgreSQL (and in the console's transactions) it is a SeaORM
//! `FromQueryResult`; on the SQLite threads it is [`sqlite::FromSqlite`], which reads each field
//! by its column name.
//!
//! Why whole operations on those threads: a statement on an index takes microseconds, and
//! crossing to another thread costs more; sqlx crosses twice per statement and once per row
//! (profiling 2,000 lookups/s through it showed 53 % of the CPU in the kernel). [`Reader::run`]
//! sends a whole read — every statement of a GET — to a reader thread at once, the group-commit
//! writer a whole batch of writes to its thread, and nothing blocks a tokio worker, however slow a
//! filter (a `json_each` scan over 100,000 users takes a reader thread, not the runtime).

mod columns;
pub mod postgres;
mod runs;
pub mod sqlite;

pub(crate) use runs::fixed_runs;

use std::future::Future;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, FromQueryResult, Statement,
    Values,
};

use crate::{error::is_unique_violation, group_commit::BoxFuture};

/// What a statement on the seam can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule (a unique index or primary key) was broken.
    #[error("a uniqueness rule was broken")]
    Unique,
    /// Anything else; details are logged, never shown.
    #[error(transparent)]
    Failed(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        if is_unique_violation(&e) { Self::Unique } else { Self::Failed(e) }
    }
}

/// A store error where only SeaORM's error type can carry it (start-up, the log writer).
impl From<StoreError> for DbErr {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Failed(e) => e,
            StoreError::Unique => DbErr::Custom(e.to_string()),
        }
    }
}

/// The result of a statement on the seam.
pub type StoreResult<T> = Result<T, StoreError>;

/// A row type that can be read on every backend: by SeaORM, and on the SQLite threads by column
/// name.
pub trait Row: FromQueryResult + sqlite::FromSqlite + Send + 'static {}

impl<T: FromQueryResult + sqlite::FromSqlite + Send + 'static> Row for T {}

/// `statement` (a query without `LIMIT`) limited to `count` rows after `skip`.
///
/// - `LIMIT` is a literal on both: the page size, of which a client uses a handful. SQLite (3.47
///   and later) lets the planner read a bound `LIMIT`, and a statement whose plan read a parameter
///   is prepared again on every execution. PostgreSQL, with a bound `LIMIT`, costs its generic plan
///   above the custom ones and so plans every lookup again (0.3 ms per lookup, measured), where a
///   literal lets it keep one plan after five executions.
/// - `OFFSET` is a literal on SQLite, for the same reason, and a parameter on PostgreSQL: every
///   page of a listing is then one statement text, parsed once per connection. As literals, each
///   page's text was new: parsed and planned every time, and each took a place in the connection's
///   statement cache, pushing out the hot statements (lookups, PATCH) of the same organisation.
pub(crate) fn with_limit(mut statement: Statement, count: u64, skip: u64) -> Statement {
    statement.sql.push_str(&format!(" LIMIT {count}"));
    if skip == 0 {
        return statement;
    }
    if statement.db_backend == DbBackend::Postgres {
        let values = &mut statement.values.get_or_insert_with(|| Values(Vec::new())).0;
        values.push(sea_orm::Value::BigInt(Some(i64::try_from(skip).unwrap_or(i64::MAX))));
        statement.sql.push_str(&format!(" OFFSET ${}", values.len()));
    } else {
        statement.sql.push_str(&format!(" OFFSET {skip}"));
    }
    statement
}

/// Where a read's statements run.
pub trait Rows: Send + Sync {
    /// The SQL dialect statements must be built for.
    fn backend(&self) -> DbBackend;

    /// The rows `statement` selects.
    fn rows<M: Row>(&self, statement: Statement) -> impl Future<Output = StoreResult<Vec<M>>> + Send;
}

/// Where a write's statements run.
pub trait Exec: Rows {
    /// Runs `statement` (an INSERT, UPDATE or DELETE); how many rows it changed.
    fn apply(&self, statement: Statement) -> impl Future<Output = StoreResult<u64>> + Send;
}

impl<C: ConnectionTrait + Send + Sync> Rows for C {
    fn backend(&self) -> DbBackend {
        self.get_database_backend()
    }

    async fn rows<M: Row>(&self, statement: Statement) -> StoreResult<Vec<M>> {
        Ok(M::find_by_statement(statement).all(self).await?)
    }
}

impl<C: ConnectionTrait + Send + Sync> Exec for C {
    async fn apply(&self, statement: Statement) -> StoreResult<u64> {
        Ok(self.execute_raw(statement).await?.rows_affected())
    }
}

/// A connection a whole read runs on: the pool (in-memory SQLite), a read connection of
/// PostgreSQL's, or a reader thread's SQLite connection.
pub enum ReadConn {
    Shared(DatabaseConnection),
    Postgres(postgres::PgReadConn),
    Sqlite(sqlite::SqliteConn),
}

impl Rows for ReadConn {
    fn backend(&self) -> DbBackend {
        match self {
            Self::Shared(db) => db.get_database_backend(),
            Self::Postgres(_) => DbBackend::Postgres,
            Self::Sqlite(_) => DbBackend::Sqlite,
        }
    }

    async fn rows<M: Row>(&self, statement: Statement) -> StoreResult<Vec<M>> {
        match self {
            Self::Shared(db) => db.rows(statement).await,
            Self::Postgres(conn) => conn.rows(statement).await,
            Self::Sqlite(conn) => conn.rows(&statement),
        }
    }
}

/// The transaction a write runs in: a pooled transaction of its own (PostgreSQL, in-memory
/// SQLite), or the group-commit batch's transaction on the writer thread's SQLite connection.
pub enum WriteConn<'a> {
    Shared(&'a DatabaseTransaction),
    Sqlite(&'a sqlite::SqliteConn),
}

impl Rows for WriteConn<'_> {
    fn backend(&self) -> DbBackend {
        match self {
            Self::Shared(txn) => txn.get_database_backend(),
            Self::Sqlite(_) => DbBackend::Sqlite,
        }
    }

    async fn rows<M: Row>(&self, statement: Statement) -> StoreResult<Vec<M>> {
        match self {
            Self::Shared(txn) => txn.rows(statement).await,
            Self::Sqlite(conn) => conn.rows(&statement),
        }
    }
}

impl Exec for WriteConn<'_> {
    async fn apply(&self, statement: Statement) -> StoreResult<u64> {
        match self {
            Self::Shared(txn) => txn.apply(statement).await,
            Self::Sqlite(conn) => conn.execute(&statement),
        }
    }
}

/// A whole read, run where its reader runs reads.
pub type ReadOp<T> = Box<dyn for<'c> FnOnce(&'c ReadConn) -> BoxFuture<'c, T> + Send>;

/// Where reads that need no transaction run; it sees every committed write.
#[derive(Clone, Debug)]
pub enum Reader {
    /// The connection pool itself (in-memory SQLite, and wherever the others cannot be had).
    Shared(DatabaseConnection),
    /// PostgreSQL's read connections.
    Postgres(postgres::ReadPool),
    /// Reader threads over a SQLite file.
    Direct(sqlite::ReadPool),
}

impl Reader {
    /// The SQL dialect of the database it reads.
    pub fn backend(&self) -> DbBackend {
        match self {
            Self::Shared(db) => db.get_database_backend(),
            Self::Postgres(_) => DbBackend::Postgres,
            Self::Direct(_) => DbBackend::Sqlite,
        }
    }

    /// Runs the read `op` and returns what it returned: on a pool, in this task; on a SQLite
    /// file, on a reader thread. `Err` only when no PostgreSQL connection could be had in time,
    /// or the reader threads have stopped.
    pub async fn run<T, F>(&self, op: F) -> Result<T, DbErr>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c ReadConn) -> BoxFuture<'c, T> + Send + 'static,
    {
        match self {
            Self::Shared(db) => Ok(op(&ReadConn::Shared(db.clone())).await),
            Self::Postgres(pool) => Ok(op(&ReadConn::Postgres(pool.conn().await?)).await),
            Self::Direct(pool) => pool.run(Box::new(op)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, Statement, Value, Values};

    use super::with_limit;

    fn select(backend: DbBackend) -> Statement {
        let sql = match backend {
            DbBackend::Postgres => "SELECT id FROM users WHERE org_id = $1 ORDER BY id",
            _ => "SELECT id FROM users WHERE org_id = ? ORDER BY id",
        };
        Statement::from_sql_and_values(backend, sql, [Value::from("org")])
    }

    #[test]
    fn every_page_of_a_postgres_listing_is_one_statement_text() {
        let pages: Vec<Statement> = [100, 4_900, 999_900]
            .into_iter()
            .map(|skip| with_limit(select(DbBackend::Postgres), 100, skip))
            .collect();
        for page in &pages {
            assert_eq!(page.sql, "SELECT id FROM users WHERE org_id = $1 ORDER BY id LIMIT 100 OFFSET $2");
        }
        let offsets: Vec<&Value> = pages.iter().map(|p| &p.values.as_ref().unwrap().0[1]).collect();
        assert_eq!(
            offsets,
            [&Value::BigInt(Some(100)), &Value::BigInt(Some(4_900)), &Value::BigInt(Some(999_900))]
        );
        let first = with_limit(select(DbBackend::Postgres), 100, 0);
        assert_eq!(
            first.sql, "SELECT id FROM users WHERE org_id = $1 ORDER BY id LIMIT 100",
            "no OFFSET to bind"
        );
        assert_eq!(first.values, Some(Values(vec![Value::from("org")])));
    }

    #[test]
    fn sqlite_pages_carry_their_limits_as_literals() {
        let page = with_limit(select(DbBackend::Sqlite), 50, 150);
        assert_eq!(page.sql, "SELECT id FROM users WHERE org_id = ? ORDER BY id LIMIT 50 OFFSET 150");
        assert_eq!(page.values, Some(Values(vec![Value::from("org")])));
        assert_eq!(
            with_limit(select(DbBackend::Sqlite), 50, 0).sql,
            "SELECT id FROM users WHERE org_id = ? ORDER BY id LIMIT 50"
        );
    }
}
