//! The bound on concurrent password hashes (a test binary of its own: the bound is process-wide).
//! A burst of sign-ins for unknown emails, each of which costs a 19 MiB argon2 run, is answered
//! partly with quick refusals instead of queueing, and a refused attempt counts as no failure.

use std::{
    net::{IpAddr, Ipv6Addr},
    sync::Arc,
    time::Duration,
};

use domain::{
    DomainError, accounts,
    entities::sign_in_throttle,
    origin::Client,
    sea_orm::EntityTrait,
    testing::{test_db, unique_email},
    throttle,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_beyond_the_hashing_slots_is_refused_not_queued() {
    assert!(domain::password::limit_concurrency(1, Duration::ZERO), "set before any hash");
    let db = test_db().await;
    let bits = uuid::Uuid::new_v4().as_u128();
    let client = Client::new(IpAddr::V6(Ipv6Addr::from((0x2001_0db8_u128 << 96) | (bits >> 32))), None);
    let start = Arc::new(tokio::sync::Barrier::new(20));

    let burst = (0..20).map(|_| {
        let (db, start, client) = (db.clone(), start.clone(), client.clone());
        tokio::spawn(async move {
            start.wait().await;
            accounts::sign_in(&db, &client, &unique_email("nobody"), "some password").await
        })
    });
    let (mut checked, mut refused) = (0, 0);
    for attempt in burst.collect::<Vec<_>>() {
        match attempt.await.unwrap() {
            Err(DomainError::InvalidCredentials) => checked += 1,
            Err(DomainError::Throttled { .. }) => refused += 1,
            other => panic!("an unknown email got {other:?}"),
        }
    }
    assert!(checked >= 1, "the one slot was used");
    assert!(refused >= 1, "the rest of the burst did not wait for it: {checked} checked");

    // Only the attempts that checked a password count as failures of the client.
    let address =
        sign_in_throttle::Entity::find_by_id(throttle::address_key(client.addr.0)).one(&db).await.unwrap();
    assert_eq!(address.map(|row| row.failures), Some(checked));
}
