//! The database-backed session store, as tower-sessions drives it.

use std::collections::HashMap;

use domain::{
    accounts::{self, SignUp},
    entities::session,
    sea_orm::EntityTrait,
    session_store::{DbSessionStore, USER_ID_KEY, stored_id},
    testing::{test_db, unique_email},
};
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store::ExpiredDeletion,
};

fn record(user_id: Option<&str>, expires_in: time::Duration) -> Record {
    let mut data = HashMap::new();
    if let Some(uid) = user_id {
        data.insert(USER_ID_KEY.to_owned(), serde_json::json!(uid));
    }
    data.insert("theme".to_owned(), serde_json::json!("dark"));
    Record { id: Id::default(), data, expiry_date: time::OffsetDateTime::now_utc() + expires_in }
}

async fn person(db: &domain::sea_orm::DatabaseConnection) -> String {
    let input = SignUp {
        organization: "Org".into(),
        name: "Session Person".into(),
        email: unique_email("s"),
        password: "correct horse battery".into(),
    };
    accounts::sign_up(db, &domain::testing::no_mail(), domain::testing::origin(), input)
        .await
        .unwrap()
        .user_id
        .to_string()
}

#[tokio::test]
async fn records_round_trip_and_are_indexed_by_user() {
    let db = test_db().await;
    let store = DbSessionStore::new(db.clone());
    let uid = person(&db).await;
    let mut rec = record(Some(&uid), time::Duration::hours(1));
    store.create(&mut rec).await.unwrap();

    let loaded = store.load(&rec.id).await.unwrap().unwrap();
    assert_eq!(loaded.data, rec.data);
    assert_eq!(loaded.expiry_date.unix_timestamp(), rec.expiry_date.unix_timestamp());
    let row = session::Entity::find_by_id(stored_id(&rec.id)).one(&db).await.unwrap().unwrap();
    assert_eq!(row.user_id.as_deref(), Some(uid.as_str()));

    rec.data.insert("theme".into(), serde_json::json!("light"));
    store.save(&rec).await.unwrap();
    assert_eq!(store.load(&rec.id).await.unwrap().unwrap().data["theme"], "light");

    store.delete(&rec.id).await.unwrap();
    assert!(store.load(&rec.id).await.unwrap().is_none());
}

#[tokio::test]
async fn expired_records_do_not_load_and_are_cleaned_up() {
    let db = test_db().await;
    let store = DbSessionStore::new(db.clone());
    let mut old = record(None, time::Duration::seconds(-5));
    let mut live = record(None, time::Duration::hours(1));
    store.create(&mut old).await.unwrap();
    store.create(&mut live).await.unwrap();
    assert!(store.load(&old.id).await.unwrap().is_none());

    store.delete_expired().await.unwrap();
    assert!(session::Entity::find_by_id(stored_id(&old.id)).one(&db).await.unwrap().is_none());
    assert!(store.load(&live.id).await.unwrap().is_some());
}

#[tokio::test]
async fn all_sessions_of_a_person_end_together_except_the_one_kept() {
    let db = test_db().await;
    let store = DbSessionStore::new(db.clone());
    let uid = person(&db).await;
    let other_uid = person(&db).await;
    let mut ids = Vec::new();
    for u in [&uid, &uid, &uid, &other_uid] {
        let mut rec = record(Some(u), time::Duration::hours(1));
        store.create(&mut rec).await.unwrap();
        ids.push(rec.id);
    }
    assert_eq!(store.delete_for_user(&domain::ids::UserId::new(&uid), Some(&ids[0])).await.unwrap(), 2);
    assert!(store.load(&ids[0]).await.unwrap().is_some());
    assert!(store.load(&ids[1]).await.unwrap().is_none());
    assert!(store.load(&ids[3]).await.unwrap().is_some());

    // Deleting the person deletes their sessions (foreign key, ON DELETE CASCADE).
    domain::entities::user::Entity::delete_by_id(other_uid).exec(&db).await.unwrap();
    assert!(store.load(&ids[3]).await.unwrap().is_none());
}
