//! SCIM reads on PostgreSQL, on a few connections of their own that go back to their pool
//! untested.
//!
//! Why not the sqlx pool every other statement uses: sqlx tests each connection as it returns to
//! its pool (a `Sync` round trip, `PoolConnection::return_to_pool`) and has no switch to turn that
//! off, so every statement outside a transaction cost two round trips, and a lookup is one
//! statement. Profiled at 4,500 lookups/s, returning connections took 9 % of the server's CPU, and
//! each test woke a PostgreSQL backend for nothing. Here a read's connection goes back as it is,
//! and is tested only before a use that follows a second of idleness, as the shared pool's are
//! (`db::connect`).
//!
//! Why a few: the SCIM reads are short and PostgreSQL runs on the same cores as the server, so
//! more backends than cores only take turns (interleaved runs of 60,000 lookups on two cores: a
//! 16-connection pool 3,600–4,100/s, 4 connections 4,800–5,200/s). [`READERS`] is what the SQLite
//! file's reader threads number: a slow filter holds one and the others go on answering lookups.
//! Writes keep the shared pool, so no read ever waits behind a write's commit, nor a write behind
//! a slow read.
//!
//! Why it is safe to skip the test: a statement that completed, or that PostgreSQL refused,
//! leaves the connection ready for the next. A read dropped mid-statement (its client went away)
//! or cut by an I/O error does not: its connection is marked before each statement and unmarked
//! after, and a marked connection is closed instead of reused ([`Connector::recycle`]).

use std::sync::Arc;

use deadpool::managed::{Manager, Metrics, Object, Pool, RecycleError, RecycleResult};
use sea_orm::{
    DatabaseConnection, DbErr, QueryResult, RuntimeErr, Statement, Values,
    sqlx::{self, Connection, PgConnection, postgres::PgConnectOptions},
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Mutex;

use super::{Row, StoreError, StoreResult};
use crate::db::{ACQUIRE_TIMEOUT, IDLE_PING};

/// Connections for SCIM reads.
const READERS: usize = 4;

/// Opens PostgreSQL connections for reads, with the shared pool's options.
#[derive(Debug)]
struct Connector {
    options: PgConnectOptions,
}

/// A read connection, marked while a statement runs on it.
#[derive(Debug)]
struct Held {
    conn: PgConnection,
    mid_statement: bool,
}

impl Manager for Connector {
    type Type = Held;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<Held, sqlx::Error> {
        Ok(Held { conn: PgConnection::connect_with(&self.options).await?, mid_statement: false })
    }

    async fn recycle(&self, held: &mut Held, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if held.mid_statement {
            return Err(RecycleError::message("a read stopped mid-statement"));
        }
        if metrics.last_used() >= IDLE_PING {
            held.conn.ping().await?;
        }
        Ok(())
    }
}

/// The read connections of a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct ReadPool(Pool<Connector>);

impl ReadPool {
    /// Read connections to the database of `db` (a PostgreSQL pool), opened as reads need them.
    pub fn of(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let options = (*db.get_postgres_connection_pool().connect_options()).clone();
        Pool::builder(Connector { options })
            .max_size(READERS)
            .wait_timeout(Some(ACQUIRE_TIMEOUT))
            .create_timeout(Some(ACQUIRE_TIMEOUT))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map(Self)
            .map_err(|e| DbErr::Custom(format!("cannot set up the PostgreSQL read connections: {e}")))
    }

    /// A connection for one read.
    pub(super) async fn conn(&self) -> Result<PgReadConn, DbErr> {
        let held = self.0.get().await.map_err(|e| DbErr::Conn(RuntimeErr::Internal(e.to_string())))?;
        Ok(PgReadConn(Mutex::new(held)))
    }
}

/// The connection a read runs its statements on, one after the other.
pub struct PgReadConn(Mutex<Object<Connector>>);

impl PgReadConn {
    /// The rows `statement` selects.
    pub(super) async fn rows<M: Row>(&self, statement: Statement) -> StoreResult<Vec<M>> {
        let mut held = self.0.lock().await;
        held.mid_statement = true;
        let values = SqlxValues(statement.values.unwrap_or_else(|| Values(Vec::new())));
        let fetched =
            sqlx::query_with(sqlx::AssertSqlSafe(statement.sql), values).fetch_all(&mut held.conn).await;
        // PostgreSQL's refusals (a bad cast, a division by zero) end with the connection ready; an I/O or
        // protocol error may not.
        held.mid_statement = matches!(&fetched, Err(e) if !matches!(e, sqlx::Error::Database(_)));
        drop(held);
        let rows = fetched.map_err(|e| StoreError::from(DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))))?;
        rows.into_iter().map(|row| Ok(M::from_query_result(&QueryResult::from(row), "")?)).collect()
    }
}

#[cfg(test)]
mod tests;
