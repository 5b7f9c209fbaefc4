//! Reads that need no transaction — a SCIM GET or list, the API-key lookup — and the one seam they
//! are written against: [`Rows`], "run this SELECT and give me these rows, by column name".
//!
//! Why a seam of our own rather than SeaORM's `ConnectionTrait`: on a SQLite file these reads run
//! on rusqlite, on reader threads made for them ([`sqlite::ReadPool`]), and SeaORM 2 offers no
//! public way to hand it rows besides its mock database, whose rows are maps in alphabetical order
//! (so positional reads silently swap columns). Here every row type names its columns: on
//! PostgreSQL and inside write transactions it is a SeaORM `FromQueryResult`; on the reader
//! threads it is [`sqlite::FromSqlite`], which reads each field by its column name. The queries
//! themselves are built once, with SeaORM's query builder, for both.
//!
//! Why whole reads on reader threads: a statement on an index takes microseconds, and crossing
//! to another thread costs more; sqlx crosses twice per statement and once per row (profiling
//! 2,000 lookups/s through it showed 53 % of the CPU in the kernel). [`Reader::run`] sends the
//! whole read — every statement of a GET — to a reader thread at once, and nothing blocks a tokio
//! worker, however slow a filter (a `json_each` scan over 100,000 users takes a reader thread,
//! not the runtime).

mod columns;
pub mod sqlite;

use std::future::Future;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, FromQueryResult, Statement};

use crate::group_commit::BoxFuture;

/// A row type that can be read on every backend: by SeaORM, and on the reader threads by column
/// name.
pub trait Row: FromQueryResult + sqlite::FromSqlite + Send + 'static {}

impl<T: FromQueryResult + sqlite::FromSqlite + Send + 'static> Row for T {}

/// Where a read's statements run.
pub trait Rows: Send + Sync {
    /// The SQL dialect statements must be built for.
    fn backend(&self) -> DbBackend;

    /// The rows `statement` selects.
    fn rows<M: Row>(&self, statement: Statement) -> impl Future<Output = Result<Vec<M>, DbErr>> + Send;
}

impl<C: ConnectionTrait + Send + Sync> Rows for C {
    fn backend(&self) -> DbBackend {
        self.get_database_backend()
    }

    async fn rows<M: Row>(&self, statement: Statement) -> Result<Vec<M>, DbErr> {
        M::find_by_statement(statement).all(self).await
    }
}

/// A connection a whole read runs on: the pool (PostgreSQL, in-memory SQLite), or a reader
/// thread's SQLite connection.
pub enum ReadConn {
    Shared(DatabaseConnection),
    Sqlite(sqlite::SqliteConn),
}

impl Rows for ReadConn {
    fn backend(&self) -> DbBackend {
        match self {
            Self::Shared(db) => db.get_database_backend(),
            Self::Sqlite(_) => DbBackend::Sqlite,
        }
    }

    async fn rows<M: Row>(&self, statement: Statement) -> Result<Vec<M>, DbErr> {
        match self {
            Self::Shared(db) => db.rows(statement).await,
            Self::Sqlite(conn) => conn.rows(&statement),
        }
    }
}

/// A whole read, run where its reader runs reads.
pub type ReadOp<T> = Box<dyn for<'c> FnOnce(&'c ReadConn) -> BoxFuture<'c, T> + Send>;

/// Where reads that need no transaction run; it sees every committed write.
#[derive(Clone, Debug)]
pub enum Reader {
    /// The connection pool itself (PostgreSQL, in-memory SQLite).
    Shared(DatabaseConnection),
    /// Reader threads over a SQLite file.
    Direct(sqlite::ReadPool),
}

impl Reader {
    /// Runs the read `op` and returns what it returned: on the pool, in this task; on a SQLite
    /// file, on a reader thread. `Err` only when the reader threads have stopped.
    pub async fn run<T, F>(&self, op: F) -> Result<T, DbErr>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c ReadConn) -> BoxFuture<'c, T> + Send + 'static,
    {
        match self {
            Self::Shared(db) => Ok(op(&ReadConn::Shared(db.clone())).await),
            Self::Direct(pool) => pool.run(Box::new(op)).await,
        }
    }
}
