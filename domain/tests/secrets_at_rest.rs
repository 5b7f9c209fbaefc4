//! What a copy of the database gives away: no live session ids (rows are keyed by their SHA-256),
//! and on SQLite no file other local users can read (the database and its `-wal`/`-shm` are
//! 0600). Sessions run on SQLite, or PostgreSQL with TEST_DATABASE_URL; the file modes always on
//! a SQLite file of their own.

use std::sync::Arc;

use domain::{
    accounts::{self, SignUp},
    entities::session,
    sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter},
    session_store::{self, DbSessionStore},
    testing::{test_db, unique_email},
};
use sha2::{Digest, Sha256};
use tower_sessions::Session;

#[tokio::test]
async fn a_signed_in_sessions_row_holds_the_hash_of_its_cookie_not_the_cookie() {
    let db = test_db().await;
    let input = SignUp {
        organization: "Org".into(),
        name: "Hashed Session".into(),
        email: unique_email("hs"),
        password: "correct horse battery".into(),
    };
    let uid = accounts::sign_up(&db, &domain::testing::no_mail(), domain::testing::origin(), input)
        .await
        .unwrap()
        .user_id;
    let store = Arc::new(DbSessionStore::new(db.clone()));
    let session = Session::new(None, store.clone(), None);
    session_store::begin_signed_in(&session, &uid).await.unwrap();
    session.save().await.unwrap();
    // tower-sessions' cookie value is the id's text.
    let cookie = session.id().unwrap().to_string();

    let hashed: String = Sha256::digest(cookie.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert!(session::Entity::find_by_id(cookie.clone()).one(&db).await.unwrap().is_none());
    let row = session::Entity::find_by_id(hashed).one(&db).await.unwrap().expect("stored under the hash");
    assert_eq!(row.user_id.as_deref(), Some(uid.as_str()));
    assert!(!row.data.contains(&cookie), "nor anywhere in the data");

    // The cookie still finds its session, and signing out deletes the row.
    let again = Session::new(session.id(), store, None);
    assert_eq!(again.get::<String>(session_store::USER_ID_KEY).await.unwrap(), Some(uid.to_string()));
    again.flush().await.unwrap();
    let left = session::Entity::find().filter(session::Column::UserId.eq(uid.as_str())).count(&db).await;
    assert_eq!(left.unwrap(), 0, "signed out");
}

#[cfg(unix)]
#[tokio::test]
async fn a_sqlite_database_and_its_wal_and_shm_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    let mode = |path: &str| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = std::env::temp_dir().join(format!("scimpad-private-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();

    // A fresh database (migrations have written to it, so its -wal and -shm exist).
    let fresh = dir.join("fresh.db").display().to_string();
    let db = domain::db::connect(&format!("sqlite://{fresh}?mode=rwc")).await.unwrap();
    for path in [fresh.clone(), format!("{fresh}-wal"), format!("{fresh}-shm")] {
        assert_eq!(mode(&path), 0o600, "{path}");
    }
    drop(db);

    // Files an earlier version left readable by everyone (empty, as SQLite accepts them).
    let old = dir.join("old.db").display().to_string();
    for path in [old.clone(), format!("{old}-wal"), format!("{old}-shm")] {
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let db = domain::db::connect(&format!("sqlite://{old}?mode=rwc")).await.unwrap();
    for path in [old.clone(), format!("{old}-wal"), format!("{old}-shm")] {
        assert_eq!(mode(&path), 0o600, "{path} tightened at start");
    }
    drop(db);
    std::fs::remove_dir_all(dir).unwrap();
}
