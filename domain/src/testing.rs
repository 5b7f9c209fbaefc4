//! Test support shared by this crate's and the server's integration tests: a migrated database
//! per test — a fresh SQLite file by default, or the PostgreSQL at `TEST_DATABASE_URL` (the
//! `cargo xtask test` PostgreSQL pass), where tests isolate themselves by using unique data.

use sea_orm::DatabaseConnection;

/// The database URL a test should use.
pub fn test_database_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join(format!("scimpad-test-{}.db", uuid::Uuid::new_v4()));
        format!("sqlite://{}?mode=rwc", path.display())
    })
}

/// A migrated database for one test.
pub async fn test_db() -> DatabaseConnection {
    crate::db::connect(&test_database_url()).await.expect("test database")
}

/// A unique email address for test data.
pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}.{}@example.com", uuid::Uuid::new_v4().simple())
}
