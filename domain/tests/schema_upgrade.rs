//! Bringing the schema up to date (`db::connect`) on a real database: instances that start at
//! once on one empty database (a scale-out deployment's first start, or every pod of a rollout)
//! must all come up, with every migration applied exactly once.

use domain::{
    db,
    sea_orm::{ConnectionTrait, Statement},
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
