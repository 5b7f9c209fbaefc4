//! The direct driver must read and write exactly as sqlx does. These run on a SQLite file even in
//! the PostgreSQL pass: the driver only exists for SQLite.

use sea_orm::{DatabaseConnection, EntityTrait, Statement};
use serde_json::json;

use super::*;
use crate::{
    accounts::{self, SignUp},
    api_keys,
    directory::{Projection, Scope, groups, users},
    entities::*,
    group_commit::Writer,
    provisioning_log::{self, Event},
    testing::{self, unique_email},
};

async fn sqlite_file() -> (DatabaseConnection, PathBuf) {
    let path = std::env::temp_dir().join(format!("scimpad-direct-{}.db", uuid::Uuid::new_v4()));
    let db = crate::db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    (db, path)
}

fn sql(text: &str) -> Statement {
    Statement::from_string(DbBackend::Sqlite, text.to_owned())
}

#[tokio::test]
async fn every_table_of_the_schema_has_its_column_types() {
    let (db, path) = sqlite_file().await;
    let reader = ReadPool::open(&path).unwrap();
    let rows = reader
        .query_all_raw(sql("SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations'"))
        .await
        .unwrap();
    let tables: std::collections::BTreeSet<String> =
        rows.iter().map(|r| r.try_get::<String>("", "name").unwrap()).collect();
    assert!(tables.contains("users") && tables.len() > 10, "{tables:?}");
    assert_eq!(tables, columns::tables(), "a table without an entity in sqlite_direct::columns");
    drop(db);
}

/// Reads every entity through sqlx and through the read pool and expects the same models.
async fn assert_same<E>(db: &DatabaseConnection, reader: &ReadPool) -> usize
where
    E: EntityTrait,
    E::Model: PartialEq + std::fmt::Debug,
{
    let through_sqlx = E::find().all(db).await.unwrap();
    let direct = E::find().all(reader).await.unwrap();
    assert_eq!(direct, through_sqlx, "{}", E::default().table_name());
    direct.len()
}

#[tokio::test]
async fn rows_decode_exactly_as_through_sqlx() {
    let (db, path) = sqlite_file().await;
    let url = format!("sqlite://{}", path.display());
    let admin = accounts::sign_up(
        &db,
        crate::testing::origin(),
        SignUp {
            organization: "Direct".into(),
            name: "Ada".into(),
            email: unique_email("ada"),
            password: "correct horse battery".into(),
        },
    )
    .await
    .unwrap();
    // A failed sign-in leaves throttle rows (an i32 column): its (email, client) pair and client.
    assert!(
        accounts::sign_in(&db, &testing::client(), &unique_email("nobody"), "wrong password").await.is_err()
    );
    let expires = crate::clock::now_ms() + 86_400_000;
    api_keys::create(&db, &admin, "with expiry", Some(expires)).await.unwrap();
    api_keys::create(&db, &admin, "without", None).await.unwrap();

    // Through the group-commit writer, i.e. written by this driver.
    let writer = Writer::start(db.clone(), crate::db::readers(&db, &url).unwrap(), &url).unwrap();
    let scope = Scope { org_id: admin.org_id.clone(), base_url: "http://x/scim/v2".into() };
    let full = json!({
        "userName": "grace@example.com", "externalId": "ext-1", "displayName": "Grace",
        "name": {"givenName": "Grace", "familyName": "Hopper"},
        "emails": [{"type": "work", "value": "grace@example.com", "primary": true}],
        "active": false,
    });
    let grace = users::create(&writer, &scope, &full, &Projection::default()).await.unwrap();
    let sparse = json!({"userName": "sparse@example.com"});
    users::create(&writer, &scope, &sparse, &Projection::default()).await.unwrap();
    let group = json!({"displayName": "Engineers", "members": [{"value": grace.id}]});
    groups::create(&writer, &scope, &group, &Projection::default()).await.unwrap();
    provisioning_log::store(
        &writer,
        vec![Event {
            org_id: admin.org_id.clone(),
            at: crate::clock::now_ms(),
            api_key_id: None,
            method: "PATCH".into(),
            path: "/scim/v2/Users/x".into(),
            resource_type: Some("User".into()),
            resource_id: Some("x".into()),
            operation: "patch".into(),
            summary: "s".into(),
            status: 409,
            scim_type: Some("uniqueness".into()),
            detail: Some("d".into()),
            duration_ms: 70_000,
        }],
    )
    .await
    .unwrap();

    let reader = ReadPool::open(&path).unwrap();
    assert_eq!(assert_same::<user::Entity>(&db, &reader).await, 3);
    assert_eq!(assert_same::<api_key::Entity>(&db, &reader).await, 2);
    assert_eq!(assert_same::<sign_in_throttle::Entity>(&db, &reader).await, 2);
    assert_eq!(assert_same::<provisioning_event::Entity>(&db, &reader).await, 1);
    assert_eq!(assert_same::<group::Entity>(&db, &reader).await, 1);
    assert_eq!(assert_same::<group_member::Entity>(&db, &reader).await, 1);
    assert_eq!(assert_same::<organization::Entity>(&db, &reader).await, 1);
    assert_eq!(assert_same::<credential::Entity>(&db, &reader).await, 1);
    assert_eq!(assert_same::<directory_count::Entity>(&db, &reader).await, 1);
    assert_same::<provisioning_hourly::Entity>(&db, &reader).await;
    assert_same::<session::Entity>(&db, &reader).await;

    // Computed columns come back as what SQLite produced.
    let counted = "SELECT COUNT(*) AS n, 1.5 AS r, NULL AS z FROM users";
    let row = reader.query_one_raw(sql(counted)).await.unwrap().unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 3);
    assert_eq!(row.try_get::<f64>("", "r").unwrap(), 1.5);
    assert_eq!(row.try_get::<Option<i64>>("", "z").unwrap(), None);
}

#[tokio::test]
async fn readers_see_commits_and_cannot_write() {
    let (db, path) = sqlite_file().await;
    db.execute_unprepared("CREATE TABLE probe (k TEXT PRIMARY KEY)").await.unwrap();
    db.execute_unprepared("INSERT INTO probe VALUES ('a'), ('b')").await.unwrap();
    let reader = ReadPool::open(&path).unwrap();
    let refused = reader.execute_unprepared("INSERT INTO probe VALUES ('c')").await;
    assert!(refused.is_err(), "query_only");
    let written = reader.query_all_raw(sql("SELECT k FROM probe ORDER BY k")).await.unwrap();
    assert_eq!(written.len(), 2, "the reader sees the writer's commits");
}

#[test]
fn only_sqlite_files_are_opened_directly() {
    assert_eq!(file_of("sqlite://data/scimpad.db?mode=rwc"), Some(PathBuf::from("data/scimpad.db")));
    assert_eq!(file_of("sqlite:///tmp/x.db"), Some(PathBuf::from("/tmp/x.db")));
    assert_eq!(file_of("sqlite::memory:"), None);
    assert_eq!(file_of("sqlite://x.db?mode=memory"), None);
    assert_eq!(file_of("postgres://u@h/db"), None);
}
