//! The verified-key cache against a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL):
//! on PostgreSQL a verified key is served from the cache, and whatever makes it invalid — a change
//! through this process, or one made behind its back (another instance, `psql`) — stops it, at
//! once or within the time a notification takes; on SQLite nothing is cached.

use std::time::{Duration, Instant};

use domain::{
    accounts::{self, Actor, SignUp},
    api_keys::{self, KeyCache, KeyRefusal, NewKey},
    db::backend,
    sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend},
    testing::{key_cache, test_db, unique_email},
};

async fn admin(db: &DatabaseConnection) -> Actor {
    let input = SignUp {
        organization: "Contoso".into(),
        name: "Ada Admin".into(),
        email: unique_email("key-cache"),
        password: "correct horse battery".into(),
    };
    accounts::sign_up(db, &domain::testing::no_mail(), domain::testing::origin(), input).await.unwrap()
}

/// An admin, their key, and the key verified once through `keys`.
async fn verified_key(db: &DatabaseConnection, keys: &KeyCache) -> (Actor, NewKey) {
    let ada = admin(db).await;
    let key = api_keys::create(db, &ada, "Entra", None).await.unwrap();
    assert!(api_keys::authenticate(db, keys, &key.secret).await.unwrap().is_ok());
    let cached = backend(db) == DbBackend::Postgres;
    assert_eq!(keys.holds(&key.secret), cached, "kept on PostgreSQL only");
    (ada, key)
}

/// Why `secret` is refused, once it is (within 5 s: another instance's change arrives as a
/// notification).
async fn refusal_within_seconds(db: &DatabaseConnection, keys: &KeyCache, secret: &str) -> KeyRefusal {
    let started = Instant::now();
    loop {
        match api_keys::authenticate(db, keys, secret).await.unwrap() {
            Err(refused) => return refused.reason,
            Ok(_) if started.elapsed() < Duration::from_secs(5) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok(_) => panic!("the key still authenticates 5 s after it was made invalid"),
        }
    }
}

/// A statement run as another instance or an operator in `psql` would: nothing in this process
/// hears of it except through the database.
async fn behind_the_back(db: &DatabaseConnection, sql: String) {
    db.execute_unprepared(&sql).await.unwrap();
}

#[tokio::test]
async fn a_cached_key_still_refuses_a_wrong_secret_and_serves_the_right_one() {
    let db = test_db().await;
    let keys = key_cache(&db).await;
    let (ada, key) = verified_key(&db, &keys).await;
    let forged = format!("{}{}", &key.secret[..key.secret.len() - 4], "AAAA");
    let refused = api_keys::authenticate(&db, &keys, &forged).await.unwrap().unwrap_err();
    assert_eq!(refused.reason, KeyRefusal::WrongSecret);
    let principal = api_keys::authenticate(&db, &keys, &key.secret).await.unwrap().unwrap();
    assert_eq!(principal.org_id, ada.org_id);
}

#[tokio::test]
async fn revoking_or_regenerating_through_this_process_stops_the_key_at_once() {
    let db = test_db().await;
    let keys = key_cache(&db).await;
    let (ada, key) = verified_key(&db, &keys).await;
    let new = api_keys::regenerate(&db, &ada, &key.info.id).await.unwrap();
    let refused = api_keys::authenticate(&db, &keys, &key.secret).await.unwrap().unwrap_err();
    assert_eq!(refused.reason, KeyRefusal::Revoked);
    assert!(!keys.holds(&key.secret));

    assert!(api_keys::authenticate(&db, &keys, &new.secret).await.unwrap().is_ok());
    api_keys::revoke(&db, &ada, &new.info.id).await.unwrap();
    let refused = api_keys::authenticate(&db, &keys, &new.secret).await.unwrap().unwrap_err();
    assert_eq!(refused.reason, KeyRefusal::Revoked);
}

#[tokio::test]
async fn a_key_revoked_behind_the_instances_back_stops_working() {
    let db = test_db().await;
    let keys = key_cache(&db).await;
    let (_, key) = verified_key(&db, &keys).await;
    behind_the_back(&db, format!("UPDATE api_keys SET revoked_at = 1 WHERE id = '{}'", key.info.id)).await;
    assert_eq!(refusal_within_seconds(&db, &keys, &key.secret).await, KeyRefusal::Revoked);
    assert!(!keys.holds(&key.secret));
}

#[tokio::test]
async fn a_key_whose_owner_is_demoted_deactivated_or_deleted_behind_the_instances_back_stops_working() {
    let db = test_db().await;
    let keys = key_cache(&db).await;
    let changes = [
        "UPDATE users SET role = 'member' WHERE id = '{owner}'",
        "UPDATE users SET active = false WHERE id = '{owner}'",
        "DELETE FROM users WHERE id = '{owner}'",
    ];
    for change in changes {
        let (ada, key) = verified_key(&db, &keys).await;
        behind_the_back(&db, change.replace("{owner}", ada.user_id.as_str())).await;
        let refusal = refusal_within_seconds(&db, &keys, &key.secret).await;
        // A deleted owner takes their keys with them.
        assert!(matches!(refusal, KeyRefusal::OwnerNotAdmin | KeyRefusal::Unknown), "{change}: {refusal:?}");
    }
}

#[tokio::test]
async fn an_expired_key_is_refused_even_from_the_cache() {
    let db = test_db().await;
    let keys = key_cache(&db).await;
    let ada = admin(&db).await;
    let soon = domain::clock::now_ms() + 1_500;
    let key = api_keys::create(&db, &ada, "Short-lived", Some(soon)).await.unwrap();
    assert!(api_keys::authenticate(&db, &keys, &key.secret).await.unwrap().is_ok());
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let refused = api_keys::authenticate(&db, &keys, &key.secret).await.unwrap().unwrap_err();
    assert_eq!(refused.reason, KeyRefusal::Expired);
}
