//! A PostgreSQL organisation that just grew is kept up: once enough of a directory table changed,
//! `table_maintenance::run` analyzes it, after which a list page of the grown organisation walks
//! the ordered index instead of reading and sorting all of its rows, and vacuums it, after which a
//! page counted from the end of the list steps over the new rows' index entries without visiting
//! the rows. SQLite keeps no statistics nor visibility map: there `run` does nothing, and the rest
//! of the test runs in the PostgreSQL pass of `cargo xtask test`.

use std::time::{Duration, Instant};

use domain::{
    accounts::{self, SignUp},
    db::connect,
    sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement},
    table_maintenance::{Upkeep, run},
    testing::{no_mail, origin, test_database_url, unique_email},
};

/// Rows the test's organisation grows by.
const GROWTH: i64 = 20_000;

/// The lines of `EXPLAIN {options} {query}`.
async fn explain(db: &DatabaseConnection, options: &str, query: &str) -> String {
    let statement = Statement::from_string(DbBackend::Postgres, format!("EXPLAIN {options} {query}"));
    let rows = db.query_all_raw(statement).await.unwrap();
    let lines: Vec<String> = rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect();
    lines.join("\n")
}

#[tokio::test]
async fn a_grown_directory_table_is_analyzed_and_vacuumed() {
    let db = connect(&test_database_url()).await.unwrap();
    if db.get_database_backend() != DbBackend::Postgres {
        assert_eq!(run(&db).await.unwrap(), Vec::<Upkeep>::new());
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
         FROM generate_series(1, {GROWTH}) AS n"
    ))
    .await
    .unwrap();

    // The change counters reach the statistics views within a second or so of the commit.
    let deadline = Instant::now() + Duration::from_secs(20);
    let users = loop {
        let done = run(&db).await.unwrap();
        if let Some(users) = done.into_iter().find(|u| u.table == "users") {
            break users;
        }
        assert!(Instant::now() < deadline, "users was never kept up after {GROWTH} inserts");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(users, Upkeep { table: "users", vacuum: true, analyze: true });

    let first_page = format!("SELECT * FROM users WHERE org_id = '{org}' ORDER BY created_at, id LIMIT 100");
    let plan = explain(&db, "", &first_page).await;
    assert!(plan.contains("ix_users_org_created") && !plan.contains("Sort"), "{plan}");

    // A page near the end, read backwards as `paging::Window` does: every entry stepped over is
    // answered from the index. Other tests' rows may share a page with ours since, so a few heap
    // visits are allowed, not one per row.
    let near_end = format!(
        "SELECT id FROM users WHERE org_id = '{org}' ORDER BY created_at DESC, id DESC LIMIT 100 OFFSET {}",
        GROWTH / 2
    );
    let plan = explain(&db, "(ANALYZE, COSTS OFF)", &near_end).await;
    let heap_fetches: i64 = plan
        .lines()
        .find_map(|line| line.trim().strip_prefix("Heap Fetches: "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no index-only scan:\n{plan}"));
    assert!(heap_fetches <= GROWTH / 100, "{heap_fetches} heap visits for {} entries:\n{plan}", GROWTH / 2);
}
