//! A PostgreSQL pool after its server dropped its connections: a connection idle for longer than
//! the pool's ping window (`db::connect`, one second) is pinged before it is handed out, so one
//! the server closed meanwhile (a restart, a failover, an idle-connection reaper) is replaced and
//! the statement runs. Connections in use within the window skip the ping, which saved a round
//! trip per statement under load. On SQLite there is no server to drop a connection: the test
//! runs in the PostgreSQL pass of `cargo xtask test`.

use std::time::Duration;

use domain::{
    db::{backend, connect},
    sea_orm::{ConnectionTrait, Database, DbBackend, Statement},
    testing::test_database_url,
};

async fn one(db: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap().unwrap();
    row.try_get_by_index(0).unwrap()
}

#[tokio::test]
async fn connections_the_server_closed_while_idle_are_replaced_before_use() {
    let url = test_database_url();
    if !url.starts_with("postgres") {
        return;
    }
    // The pool's connections, told apart from every other test's by their application name.
    let name = format!("pool-recovery-{}", uuid::Uuid::new_v4().simple());
    let separator = if url.contains('?') { '&' } else { '?' };
    let db = connect(&format!("{url}{separator}application_name={name}")).await.unwrap();
    assert_eq!(backend(&db), DbBackend::Postgres);
    // Several connections in the pool, all idle afterwards.
    let sleep = "SELECT 1::bigint FROM pg_sleep(0.05)";
    let held = tokio::join!(one(&db, sleep), one(&db, sleep), one(&db, sleep), one(&db, sleep));
    assert_eq!(held, (1, 1, 1, 1));

    let admin = Database::connect(&url).await.unwrap();
    let killed = one(
        &admin,
        &format!(
            "SELECT count(pg_terminate_backend(pid))::bigint FROM pg_stat_activity WHERE application_name = '{name}'"
        ),
    )
    .await;
    assert!(killed >= 1, "the pool's connections were found and closed by the server");

    tokio::time::sleep(Duration::from_millis(1500)).await;
    for _ in 0..8 {
        assert_eq!(one(&db, "SELECT 1::bigint").await, 1, "a closed connection was handed out");
    }
    let live = one(
        &admin,
        &format!("SELECT count(*)::bigint FROM pg_stat_activity WHERE application_name = '{name}'"),
    )
    .await;
    assert!(live >= 1, "the pool opened a new connection");
}
