//! Bringing the schema up to date (`db::connect`) on a real database: instances that start at
//! once on one empty database (a scale-out deployment's first start, or every pod of a rollout)
//! must all come up, with every migration applied exactly once.

use domain::{
    db,
    sea_orm::{ConnectionTrait, DbBackend, Statement},
    testing::EmptyDatabase,
};
use migrations::MigratorTrait;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_at_once_on_an_empty_database_all_come_up() {
    let empty = EmptyDatabase::new().await;
    let starts: Vec<_> = (0..8)
        .map(|_| {
            let url = empty.url.clone();
            tokio::spawn(async move { db::connect(&url).await })
        })
        .collect();
    let mut instances = Vec::new();
    for start in starts {
        instances.push(start.await.unwrap().expect("every instance starts"));
    }

    let db = &instances[0];
    let applied = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations",
        ))
        .await
        .unwrap();
    assert_eq!(applied.len(), migrations::Migrator::migrations().len(), "each migration once");
    // The schema works for all of them: each sees the tables the others created.
    for instance in &instances {
        let count = instance
            .query_one_raw(Statement::from_string(
                instance.get_database_backend(),
                "SELECT COUNT(*) FROM users",
            ))
            .await
            .unwrap()
            .unwrap();
        let users: i64 = count.try_get_by_index(0).unwrap();
        assert_eq!(users, 0);
    }
    for instance in instances {
        instance.close().await.unwrap();
    }
    empty.drop().await;
}

/// The console walks its Users pages in userName order for the ids alone (`paging::read`): on
/// PostgreSQL the unique userName index holds the id besides its keys, so that walk reads no table
/// row; on SQLite every index entry carries the rowid instead. Either way the index stays unique.
#[tokio::test]
async fn the_user_name_index_is_unique_and_on_postgresql_holds_the_id() {
    let empty = EmptyDatabase::new().await;
    let db = db::connect(&empty.url).await.unwrap();
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT (i.indisunique::int::text || ' ' || pg_get_indexdef(i.indexrelid)) AS d FROM pg_index i \
             WHERE i.indexrelid = 'ux_users_org_user_name'::regclass"
        }
        _ => "SELECT sql AS d FROM sqlite_master WHERE name = 'ux_users_org_user_name'",
    };
    let row =
        db.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().expect("the index exists");
    let definition: String = row.try_get("", "d").unwrap();
    match backend {
        DbBackend::Postgres => assert!(
            definition.starts_with("1 ") && definition.ends_with("(org_id, user_name_lower) INCLUDE (id)"),
            "{definition}"
        ),
        _ => assert!(
            definition.contains("UNIQUE INDEX") && definition.contains("user_name_lower"),
            "{definition}"
        ),
    }
    drop(db);
    empty.drop().await;
}
