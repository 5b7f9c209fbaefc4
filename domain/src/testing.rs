//! Test support shared by this crate's and the server's integration tests: a migrated database
//! per test — a fresh SQLite file by default, or the PostgreSQL at `TEST_DATABASE_URL` (the
//! `cargo xtask test` PostgreSQL pass), where tests isolate themselves by using unique data.

use sea_orm::DatabaseConnection;

pub mod dns;

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

/// A database of its own for a migration test, not yet migrated: a fresh SQLite file, or a new
/// schema of the PostgreSQL database at `TEST_DATABASE_URL` (the test role may not create
/// databases; a schema on the connection's `search_path` isolates as well).
pub struct EmptyDatabase {
    pub url: String,
    schema: Option<String>,
}

impl EmptyDatabase {
    pub async fn new() -> Self {
        let url = test_database_url();
        if !url.starts_with("postgres") {
            return Self { url, schema: None };
        }
        let schema = format!("migration_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(&url).await.expect("test database");
        sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("CREATE SCHEMA {schema}"))
            .await
            .expect("a schema of its own");
        let separator = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{separator}options[search_path]={schema}");
        let own = sea_orm::Database::connect(&url).await.expect("test database");
        let current = sea_orm::ConnectionTrait::query_one_raw(
            &own,
            sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, "SELECT current_schema()::text"),
        )
        .await
        .expect("current schema")
        .expect("a row");
        let current: String = current.try_get_by_index(0).expect("current schema");
        assert_eq!(current, schema, "connections to {url} use their own schema");
        own.close().await.expect("close");
        Self { url, schema: Some(schema) }
    }

    /// Drops the PostgreSQL schema and everything in it (nothing to do for a SQLite file).
    pub async fn drop(self) {
        if let Some(schema) = self.schema {
            let admin = sea_orm::Database::connect(&test_database_url()).await.expect("test database");
            sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .expect("drop the test's schema");
        }
    }
}

/// The verified-key cache of an instance serving `db`, once it is on (PostgreSQL: listening for
/// key changes, within 10 s), so a test's lookups go through it; off on SQLite.
pub async fn key_cache(db: &DatabaseConnection) -> crate::api_keys::KeyCache {
    let keys = crate::api_keys::KeyCache::for_database(db);
    if crate::db::backend(db) == sea_orm::DbBackend::Postgres {
        for _ in 0..100 {
            if keys.is_on() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(keys.is_on(), "the key cache does not listen for key changes");
    }
    keys
}

/// A client address of its own for a test's sign-ins: a random /64 of the documentation prefix
/// (RFC 3849), so throttling counters never carry over between tests sharing a database.
pub fn client() -> crate::origin::Client {
    let net = u128::from(uuid::Uuid::new_v4().as_u64_pair().0);
    let addr = (0x2001_0db8_u128 << 96) | (net >> 32 << 64) | 1;
    crate::origin::Client::new(std::net::IpAddr::V6(std::net::Ipv6Addr::from(addr)), Some("scimpad-tests"))
}

/// A request from a [`client`] of its own, as a test's sign-up or actor comes from.
pub fn origin() -> crate::origin::Origin {
    crate::origin::Origin::Request(client())
}

/// A unique email address for test data.
/// An outbox for a server without email (what tests that send none use).
pub fn no_mail() -> crate::mail::Outbox {
    crate::mail::Outbox::off("http://127.0.0.1:3000")
}

pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}.{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Fills `connection_id` with `count` unexpired sign-ins in flight (in chunks, one transaction),
/// for tests of the bound on them.
pub async fn fill_pending_sign_ins(db: &DatabaseConnection, connection_id: &str, count: u64) {
    use sea_orm::{ActiveValue::Set, EntityTrait, TransactionTrait};

    use crate::entities::sso_pending_login;
    let later = crate::clock::now_ms() + 60_000;
    let txn = db.begin().await.expect("begin");
    for chunk in 0..count.div_ceil(1000) {
        let rows = (0..1000.min(count - chunk * 1000)).map(|_| sso_pending_login::ActiveModel {
            id: Set(uuid::Uuid::new_v4().simple().to_string()),
            connection_id: Set(connection_id.to_owned()),
            request_id: Set(None),
            nonce: Set(None),
            pkce_verifier: Set(None),
            return_to: Set("/".into()),
            expires_at: Set(later),
        });
        sso_pending_login::Entity::insert_many(rows).exec_without_returning(&txn).await.expect("insert");
    }
    txn.commit().await.expect("commit");
}

/// A provisioning-log event of organisation `org_id`: a `POST /Users` that did `operation` at
/// `at` and answered `status`, with no key, resource or error.
pub fn log_event(org_id: &str, at: i64, operation: &str, status: u16) -> crate::provisioning_log::Event {
    crate::provisioning_log::Event {
        org_id: crate::ids::OrgId::new(org_id),
        at,
        api_key_id: None,
        method: "POST".into(),
        path: "/scim/v2/Users".into(),
        resource_type: Some("User".into()),
        resource_id: None,
        operation: operation.into(),
        summary: format!("{operation} at {at}"),
        status,
        scim_type: None,
        detail: None,
        duration_ms: 3,
    }
}
