//! The reader threads must read exactly what sqlx reads, by column name, without holding up the
//! runtime. These run on a SQLite file even in the PostgreSQL pass: reader threads only exist for
//! SQLite files.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryTrait, Statement};
use serde_json::json;

use super::*;
use crate::{
    accounts::{self, SignUp},
    api_keys,
    directory::{Projection, Scope, groups, users},
    entities::*,
    group_commit::Writer,
    store::{Reader, Row, Rows, StoreError, StoreResult},
    testing::unique_email,
};

async fn sqlite_file() -> (DatabaseConnection, std::path::PathBuf, Reader) {
    let path = std::env::temp_dir().join(format!("scimpad-reads-{}.db", uuid::Uuid::new_v4()));
    let db = crate::db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    let reader = Reader::Direct(ReadPool::open(&path).unwrap());
    (db, path, reader)
}

/// `sql`'s rows, read on a reader thread.
async fn read<M: Row>(reader: &Reader, sql: &str) -> StoreResult<Vec<M>> {
    let statement = Statement::from_string(DbBackend::Sqlite, sql.to_owned());
    reader.run(move |c| Box::pin(async move { c.rows::<M>(statement).await })).await.unwrap()
}

/// Reads every row of `E` through sqlx and on a reader thread and expects the same models.
async fn assert_same<E>(db: &DatabaseConnection, reader: &Reader) -> usize
where
    E: EntityTrait,
    E::Model: Row + PartialEq + std::fmt::Debug,
{
    let through_sqlx = E::find().all(db).await.unwrap();
    let statement = E::find().build(DbBackend::Sqlite);
    let on_thread: Vec<E::Model> =
        reader.run(move |c| Box::pin(async move { c.rows(statement).await })).await.unwrap().unwrap();
    assert_eq!(on_thread, through_sqlx, "{}", E::default().table_name());
    on_thread.len()
}

#[tokio::test]
async fn rows_decode_exactly_as_through_sqlx() {
    let (db, path, reader) = sqlite_file().await;
    let url = format!("sqlite://{}", path.display());
    let admin = accounts::sign_up(
        &db,
        &crate::testing::no_mail(),
        crate::testing::origin(),
        SignUp {
            organization: "Reads".into(),
            name: "Ada".into(),
            email: unique_email("ada"),
            password: "correct horse battery".into(),
        },
    )
    .await
    .unwrap();
    let expires = crate::clock::now_ms() + 86_400_000;
    api_keys::create(&db, &admin, "with expiry", Some(expires)).await.unwrap();
    api_keys::create(&db, &admin, "without", None).await.unwrap();
    let writer = Writer::start(db.clone(), reader.clone(), &url).unwrap();
    let scope = Scope { org_id: admin.org_id.clone(), base_url: "http://x/scim/v2".into() };
    let full = json!({
        "userName": "grace@example.com", "externalId": "ext-1", "displayName": "Grace",
        "name": {"givenName": "Grace", "familyName": "Hopper"},
        "emails": [{"type": "work", "value": "grace@example.com", "primary": true}],
        "active": false,
    });
    let grace = users::create(&writer, &scope, &full, &Projection::default()).await.unwrap();
    users::create(&writer, &scope, &json!({"userName": "sparse@example.com"}), &Projection::default())
        .await
        .unwrap();
    let group = json!({"displayName": "Engineers", "members": [{"value": grace.id}]});
    groups::create(&writer, &scope, &group, &Projection::default()).await.unwrap();

    assert_eq!(assert_same::<user::Entity>(&db, &reader).await, 3);
    assert_eq!(assert_same::<api_key::Entity>(&db, &reader).await, 2);
    assert_eq!(assert_same::<group::Entity>(&db, &reader).await, 1);
    assert_eq!(assert_same::<group_member::Entity>(&db, &reader).await, 1);
    assert_eq!(assert_same::<organization::Entity>(&db, &reader).await, 1);
    assert_eq!(assert_same::<directory_count::Entity>(&db, &reader).await, 1);
}

/// Two text columns, to catch a read by position.
#[derive(Debug, PartialEq, sea_orm::FromQueryResult)]
struct Pair {
    first: String,
    second: String,
}
crate::from_sqlite!(Pair { first, second });

#[tokio::test]
async fn fields_are_read_by_column_name_whatever_the_select_order() {
    let (_db, _path, reader) = sqlite_file().await;
    let rows: Vec<Pair> = read(&reader, "SELECT 'b' AS second, 'a' AS first").await.unwrap();
    assert_eq!(rows, [Pair { first: "a".into(), second: "b".into() }]);
    let missing = read::<Pair>(&reader, "SELECT 'a' AS first").await.unwrap_err();
    assert!(missing.to_string().contains("second"), "{missing}");
}

#[tokio::test]
async fn readers_see_commits_and_cannot_write() {
    let (db, _path, reader) = sqlite_file().await;
    db.execute_unprepared("CREATE TABLE probe (first TEXT, second TEXT)").await.unwrap();
    db.execute_unprepared("INSERT INTO probe VALUES ('a', 'b')").await.unwrap();
    let seen: Vec<Pair> = read(&reader, "SELECT first, second FROM probe").await.unwrap();
    assert_eq!(seen.len(), 1, "the reader sees the writer's commit");
    let refused = read::<Pair>(&reader, "INSERT INTO probe VALUES ('c', 'd') RETURNING first, second").await;
    assert!(refused.is_err(), "query_only");
}

#[tokio::test]
async fn a_read_that_panics_is_reported_and_the_readers_go_on() {
    let (_db, _path, reader) = sqlite_file().await;
    for _ in 0..2 * READERS {
        let failed =
            reader.run(|_| -> crate::group_commit::BoxFuture<'_, ()> { panic!("a bug in a read") }).await;
        assert!(failed.is_err());
    }
    let rows: Vec<Pair> = read(&reader, "SELECT 'a' AS first, 'b' AS second").await.unwrap();
    assert_eq!(rows.len(), 1);
}

/// On a single-threaded runtime, a read that runs on the runtime's thread would stall every other
/// task until it ended. Here a long scan runs on a reader thread while a quick read and a timer on
/// the runtime complete.
#[tokio::test(flavor = "current_thread")]
async fn a_slow_read_holds_up_neither_the_runtime_nor_other_reads() {
    let (_db, _path, reader) = sqlite_file().await;
    let slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) \
                SELECT CAST(COUNT(*) AS TEXT) AS first, 'slow' AS second FROM n";
    let slow = tokio::spawn({
        let reader = reader.clone();
        async move { read::<Pair>(&reader, slow).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let quick: Vec<Pair> = read(&reader, "SELECT 'a' AS first, 'b' AS second").await.unwrap();
    assert_eq!(quick.len(), 1);
    assert!(!slow.is_finished(), "the slow read is still running on its thread");
    let counted = slow.await.unwrap().unwrap();
    assert_eq!(counted[0].first, "3000000");
}

#[tokio::test]
async fn unique_violations_are_told_apart_by_sqlites_result_code() {
    let (_db, path, _reader) = sqlite_file().await;
    let conn = SqliteConn::open(&path, Access::ReadWrite).unwrap();
    let run = |sql: &str| conn.execute(&Statement::from_string(DbBackend::Sqlite, sql.to_owned()));
    conn.batch("CREATE TABLE probe (k TEXT PRIMARY KEY, u TEXT UNIQUE)").unwrap();
    assert_eq!(run("INSERT INTO probe VALUES ('a', 'x')").unwrap(), 1);
    assert!(matches!(run("INSERT INTO probe VALUES ('a', 'y')"), Err(StoreError::Unique)), "primary key");
    assert!(matches!(run("INSERT INTO probe VALUES ('b', 'x')"), Err(StoreError::Unique)), "unique index");
    assert!(matches!(run("INSERT INTO nowhere VALUES (1)"), Err(StoreError::Failed(_))));
    assert_eq!(run("UPDATE probe SET u = 'z'").unwrap(), 1);
}

/// A statement with many parameters (a batch of rows, a page's ids) is prepared for its one use;
/// one with few is cached. Both kinds give the same answers, used once or again.
#[tokio::test]
async fn statements_of_every_size_run_cached_or_not() {
    let (_db, path, _reader) = sqlite_file().await;
    let conn = SqliteConn::open(&path, Access::ReadWrite).unwrap();
    conn.batch("CREATE TABLE probe (first TEXT PRIMARY KEY, second TEXT)").unwrap();
    let with = |sql: String, values: Vec<String>| {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values.into_iter().map(Value::from))
    };
    let insert = |from: usize, rows: usize| {
        let tuples = vec!["(?, ?)"; rows].join(", ");
        let values = (from..from + rows).flat_map(|k| [format!("k{k}"), format!("v{k}")]).collect();
        with(format!("INSERT INTO probe (first, second) VALUES {tuples}"), values)
    };
    let select = |keys: Vec<String>| {
        let marks = vec!["?"; keys.len()].join(", ");
        with(format!("SELECT first, second FROM probe WHERE first IN ({marks}) ORDER BY second"), keys)
    };

    for (from, rows) in [(0, 1), (1, 64), (65, 65), (130, 500), (630, 500)] {
        let statement = insert(from, rows);
        assert_eq!(is_cached(&params(&statement).unwrap()), 2 * rows <= CACHED_PARAMETERS);
        assert_eq!(conn.execute(&statement).unwrap(), rows as u64);
    }
    for keys in [1, CACHED_PARAMETERS, CACHED_PARAMETERS + 1, 1000] {
        for again in [0, 1] {
            let wanted: Vec<String> = (again..keys + again).map(|k| format!("k{k}")).collect();
            let found: Vec<Pair> = conn.rows(&select(wanted.clone())).unwrap();
            let mut found: Vec<String> = found.into_iter().map(|p| p.first).collect();
            found.sort();
            let mut wanted = wanted;
            wanted.sort();
            assert_eq!(found, wanted, "{keys} keys");
        }
    }
}
