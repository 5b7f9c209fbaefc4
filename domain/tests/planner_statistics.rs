//! A PostgreSQL organisation that just grew gets planned from fresh statistics: once enough of a
//! directory table changed, `planner_statistics::refresh` analyzes it, after which a list page of
//! the grown organisation walks the ordered index instead of reading and sorting all of its rows.
//! SQLite keeps no statistics to refresh: there `refresh` does nothing, and the rest of the test
//! runs in the PostgreSQL pass of `cargo xtask test`.

use std::time::{Duration, Instant};

use domain::{
    accounts::{self, SignUp},
    db::connect,
    planner_statistics::refresh,
    sea_orm::{ConnectionTrait, DbBackend, Statement},
    testing::{no_mail, origin, test_database_url, unique_email},
};

#[tokio::test]
async fn a_grown_directory_table_is_analyzed_and_its_pages_walk_the_index() {
    let db = connect(&test_database_url()).await.unwrap();
    if db.get_database_backend() != DbBackend::Postgres {
        assert_eq!(refresh(&db).await.unwrap(), Vec::<&str>::new());
        return;
    }
    let input = SignUp {
        organization: "Fabrikam".into(),
        name: "Ada Admin".into(),
        email: unique_email("statistics"),
        password: "correct horse battery".into(),
    };
    let ada = accounts::sign_up(&db, &no_mail(), origin(), input).await.unwrap();
    let org = ada.org_id.as_str();
    db.execute_unprepared(&format!(
        "INSERT INTO users (id, org_id, user_name, user_name_lower, active, role, source, resource, \
         version, created_at, updated_at) \
         SELECT gen_random_uuid()::text, '{org}', 'p' || n || '@fabrikam.example', \
         'p' || n || '@fabrikam.example', true, 'member', 'scim', '{{}}', 1, n, n \
         FROM generate_series(1, 20000) AS n"
    ))
    .await
    .unwrap();

    // The change counters reach the statistics views within a second or so of the commit.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let analyzed = refresh(&db).await.unwrap();
        if analyzed.contains(&"users") {
            break;
        }
        assert!(Instant::now() < deadline, "users was never analyzed after 20,000 inserts");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let explain =
        format!("EXPLAIN SELECT * FROM users WHERE org_id = '{org}' ORDER BY created_at, id LIMIT 100");
    let rows = db.query_all_raw(Statement::from_string(DbBackend::Postgres, explain)).await.unwrap();
    let plan: Vec<String> = rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect();
    let plan = plan.join("\n");
    assert!(plan.contains("ix_users_org_created") && !plan.contains("Sort"), "{plan}");
}
