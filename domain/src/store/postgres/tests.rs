//! A read connection goes back to its pool untested, so whatever could leave one unusable must
//! keep it out: a read dropped mid-statement, or a connection the server closed while it sat
//! idle. A statement PostgreSQL refused leaves it ready, and it is kept. These run in the
//! PostgreSQL pass of `cargo xtask test`: on SQLite there are no such connections.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, FromQueryResult, Statement};
use tokio::sync::oneshot;

use crate::{
    db::{connect, readers},
    store::{Reader, Rows, StoreResult},
    testing::test_database_url,
};

#[derive(Debug, FromQueryResult)]
struct Pid {
    pid: i32,
}
crate::from_sqlite!(Pid { pid });

fn statement(sql: &str) -> Statement {
    Statement::from_string(DbBackend::Postgres, sql.to_owned())
}

/// A PostgreSQL reader whose connections are told apart from every other test's by their
/// application name, and a separate connection to watch and close them with; `None` on SQLite.
async fn postgres_reader() -> Option<(Reader, String, DatabaseConnection)> {
    let url = test_database_url();
    if !url.starts_with("postgres") {
        return None;
    }
    let name = format!("pg-reads-{}", uuid::Uuid::new_v4().simple());
    let separator = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{separator}application_name={name}");
    let db = connect(&url).await.unwrap();
    let reader = readers(&db, &url).unwrap();
    assert!(matches!(reader, Reader::Postgres(_)), "PostgreSQL reads on connections of their own");
    Some((reader, name, Database::connect(&test_database_url()).await.unwrap()))
}

/// The backend process of the connection one read runs on, or the error its statement got.
async fn read_pid(reader: &Reader, sql: &'static str) -> StoreResult<i32> {
    let rows =
        reader.run(move |c| Box::pin(async move { c.rows::<Pid>(statement(sql)).await })).await.unwrap()?;
    Ok(rows[0].pid)
}

const PID: &str = "SELECT pg_backend_pid() AS pid";

async fn count(admin: &DatabaseConnection, sql: String) -> i64 {
    let row = admin.query_one_raw(statement(&sql)).await.unwrap().unwrap();
    row.try_get_by_index(0).unwrap()
}

#[tokio::test]
async fn a_read_dropped_mid_statement_never_lends_its_connection_again() {
    let Some((reader, _, admin)) = postgres_reader().await else { return };
    let (started, on_its_way) = oneshot::channel();
    let stuck = {
        let reader = reader.clone();
        tokio::spawn(async move {
            reader
                .run(move |c| {
                    Box::pin(async move {
                        let pid = c.rows::<Pid>(statement(PID)).await.unwrap()[0].pid;
                        started.send(pid).unwrap();
                        c.rows::<Pid>(statement("SELECT pg_backend_pid() AS pid FROM pg_sleep(60)")).await
                    })
                })
                .await
        })
    };
    let pid = on_its_way.await.unwrap();
    // Dropped once PostgreSQL is running the statement, as when a client goes away.
    let running =
        format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {pid} AND query LIKE '%pg_sleep(60)%'");
    while count(&admin, running.clone()).await == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stuck.abort();
    assert!(stuck.await.unwrap_err().is_cancelled());

    for _ in 0..4 {
        let next = read_pid(&reader, PID).await.unwrap();
        assert_ne!(next, pid, "the interrupted read's connection was lent again");
    }
    count(&admin, format!("SELECT count(pg_terminate_backend({pid}))")).await;
}

#[tokio::test]
async fn a_refused_statement_leaves_its_connection_in_use() {
    let Some((reader, _, _admin)) = postgres_reader().await else { return };
    let before = read_pid(&reader, PID).await.unwrap();
    assert!(read_pid(&reader, "SELECT (1 / 0) AS pid").await.is_err(), "division by zero is refused");
    assert_eq!(read_pid(&reader, PID).await.unwrap(), before, "the one connection goes on serving");
}

#[tokio::test]
async fn connections_the_server_closed_while_idle_are_replaced_before_use() {
    let Some((reader, name, admin)) = postgres_reader().await else { return };
    let sleep = "SELECT pg_backend_pid() AS pid FROM pg_sleep(0.05)";
    let (a, b, c) =
        tokio::join!(read_pid(&reader, sleep), read_pid(&reader, sleep), read_pid(&reader, sleep));
    let opened = [a.unwrap(), b.unwrap(), c.unwrap()];
    let killed = count(
        &admin,
        format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{name}'"
        ),
    )
    .await;
    assert!(killed >= 3, "the read connections were found and closed by the server");

    // Past the idle window, so each is pinged before it is lent.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for _ in 0..6 {
        let pid = read_pid(&reader, PID).await.expect("a closed connection was lent");
        assert!(!opened.contains(&pid));
    }
}
