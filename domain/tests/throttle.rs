//! Sign-in throttling against a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL):
//! atomic counting under parallel guesses, the (email, client) and client-wide limits, and the
//! sweep of stale counters.

use std::time::Duration;

use domain::{
    DomainError,
    accounts::{self, SignUp},
    clock::now_ms,
    entities::sign_in_throttle,
    sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait},
    testing::{self, test_db, unique_email},
    throttle,
};

const PASSWORD: &str = "correct horse battery";

/// Hashing slots are not what these tests are about: enough that none is ever refused one.
fn plenty_of_hashing_slots() {
    let _ = domain::password::limit_concurrency(64, Duration::from_secs(120));
}

async fn account(db: &DatabaseConnection) -> String {
    let email = unique_email("throttle");
    let input = SignUp {
        organization: "Contoso Ltd".into(),
        name: "Ada Admin".into(),
        email: email.clone(),
        password: PASSWORD.into(),
    };
    accounts::sign_up(db, &domain::testing::no_mail(), domain::testing::origin(), input).await.unwrap();
    email
}

async fn failures(db: &DatabaseConnection, key: &str) -> Option<i32> {
    sign_in_throttle::Entity::find_by_id(key.to_owned()).one(db).await.unwrap().map(|row| row.failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_get_no_more_password_checks_than_the_limit() {
    plenty_of_hashing_slots();
    let db = test_db().await;
    let email = account(&db).await;
    let attacker = testing::client();

    let guesses = (0..20).map(|i| {
        let (db, email, attacker) = (db.clone(), email.clone(), attacker.clone());
        tokio::spawn(
            async move { accounts::sign_in(&db, &attacker, &email, &format!("guess number {i}")).await },
        )
    });
    let (mut checked, mut throttled) = (0, 0);
    for guess in guesses.collect::<Vec<_>>() {
        match guess.await.unwrap() {
            Err(DomainError::InvalidCredentials) => checked += 1,
            Err(DomainError::Throttled { retry_after_secs }) => {
                assert!(retry_after_secs > 0 && retry_after_secs <= throttle::LOCK_MS / 1000);
                throttled += 1;
            }
            other => panic!("a wrong password got {other:?}"),
        }
    }
    assert_eq!((checked, throttled), (throttle::MAX_FAILURES, 20 - throttle::MAX_FAILURES));

    // The pair is locked, even for the right password ...
    let locked = accounts::sign_in(&db, &attacker, &email, PASSWORD).await;
    assert!(matches!(locked, Err(DomainError::Throttled { .. })), "{locked:?}");
    // ... but the email is not: its owner, elsewhere, signs in.
    accounts::sign_in(&db, &testing::client(), &email, PASSWORD).await.unwrap();
}

#[tokio::test]
async fn a_client_is_locked_after_many_failures_across_emails() {
    plenty_of_hashing_slots();
    let db = test_db().await;
    let email = account(&db).await;
    let sprayer = testing::client();
    let address = throttle::address_key(sprayer.addr.0);
    // One short of the limit, as if that many other emails had been guessed.
    for _ in 0..throttle::MAX_ADDRESS_FAILURES - 1 {
        throttle::reserve(&db, &address, throttle::MAX_ADDRESS_FAILURES).await.unwrap();
    }

    // A right password counts no failure: its reservation is given back.
    accounts::sign_in(&db, &sprayer, &email, PASSWORD).await.unwrap();
    assert_eq!(failures(&db, &address).await, Some(throttle::MAX_ADDRESS_FAILURES - 1));
    // The last failure the client is allowed ...
    let last = accounts::sign_in(&db, &sprayer, &unique_email("ghost"), "a wrong password").await;
    assert!(matches!(last, Err(DomainError::InvalidCredentials)), "{last:?}");
    // ... then nothing from it, not even the right password of an unlocked pair,
    let pair = throttle::pair_key(&email.to_lowercase(), sprayer.addr.0);
    let refused = accounts::sign_in(&db, &sprayer, &email, PASSWORD).await;
    assert!(matches!(refused, Err(DomainError::Throttled { .. })), "{refused:?}");
    assert_eq!(failures(&db, &pair).await, Some(0), "the refused attempt counts against no pair");
    // while the same account signs in from elsewhere.
    accounts::sign_in(&db, &testing::client(), &email, PASSWORD).await.unwrap();
}

#[tokio::test]
async fn a_right_password_clears_its_pair() {
    plenty_of_hashing_slots();
    let db = test_db().await;
    let email = account(&db).await;
    let client = testing::client();
    for _ in 0..throttle::MAX_FAILURES - 1 {
        let wrong = accounts::sign_in(&db, &client, &email, "wrong horse battery").await;
        assert!(matches!(wrong, Err(DomainError::InvalidCredentials)), "{wrong:?}");
    }
    accounts::sign_in(&db, &client, &email, PASSWORD).await.unwrap();
    let pair = throttle::pair_key(&email.to_lowercase(), client.addr.0);
    assert_eq!(failures(&db, &pair).await, None);
    assert_eq!(
        failures(&db, &throttle::address_key(client.addr.0)).await,
        Some(throttle::MAX_FAILURES - 1),
        "the client keeps its failures"
    );
}

#[tokio::test]
async fn stale_counters_are_swept_and_live_ones_kept() {
    let db = test_db().await;
    let now = now_ms();
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let rows = [
        ("window-over", 3, now - throttle::WINDOW_MS - 1, 0),
        ("lock-over", 0, now - 2 * throttle::WINDOW_MS, now - 1),
        ("in-window", 3, now - 1_000, 0),
        ("locked", 0, now - 2 * throttle::WINDOW_MS, now + 60_000),
    ];
    for (name, failures, window_start, locked_until) in rows {
        let row = sign_in_throttle::ActiveModel {
            key: Set(format!("test:{tag}:{name}")),
            failures: Set(failures),
            window_start: Set(window_start),
            locked_until: Set(locked_until),
        };
        sign_in_throttle::Entity::insert(row).exec(&db).await.unwrap();
    }

    assert!(throttle::purge_expired(&db).await.unwrap() >= 2);
    let left = |name: &str| {
        let db = db.clone();
        let key = format!("test:{tag}:{name}");
        async move { sign_in_throttle::Entity::find_by_id(key).one(&db).await.unwrap().is_some() }
    };
    assert!(!left("window-over").await && !left("lock-over").await);
    assert!(left("in-window").await && left("locked").await);
}
