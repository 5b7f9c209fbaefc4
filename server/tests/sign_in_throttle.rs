//! Sign-in throttling over HTTP: parallel guesses, the client address behind a trusted proxy, and
//! no lock on an email by itself.

mod support;

use std::{
    net::{IpAddr, Ipv6Addr},
    time::Duration,
};

use domain::testing::unique_email;
use support::{PASSWORD, TestApp};

/// The test server runs behind a "proxy" on loopback, so each test (and each run, on a shared
/// PostgreSQL database) is a client of its own, named in `X-Forwarded-For`.
async fn behind_a_proxy() -> TestApp {
    // Hashing slots are not what these tests are about: enough that none is ever refused one.
    let _ = domain::password::limit_concurrency(64, Duration::from_secs(120));
    TestApp::spawn_configured(false, &["--trusted-proxies", "127.0.0.1,::1"]).await
}

fn fresh_client() -> String {
    let bits = uuid::Uuid::new_v4().as_u128();
    IpAddr::V6(Ipv6Addr::from((0x2001_0db8_u128 << 96) | (bits >> 32))).to_string()
}

/// A sign-in from `forwarded_for` (as the proxy on loopback reports it); owns everything it needs,
/// so it can be spawned.
fn sign_in_from(
    app: &TestApp,
    forwarded_for: &str,
    email: &str,
    password: &str,
) -> impl Future<Output = u16> + Send + 'static {
    let request = app
        .client()
        .post(app.at("/api/sign_in"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[("email", email), ("password", password)]);
    async move { request.send().await.unwrap().status().as_u16() }
}

#[tokio::test]
async fn parallel_guesses_get_no_more_password_checks_than_the_limit() {
    let app = behind_a_proxy().await;
    let email = unique_email("parallel");
    assert_eq!(app.sign_up(&app.client(), &email).await.status(), 200);
    let attacker = fresh_client();

    let guesses: Vec<_> = (0..20)
        .map(|i| tokio::spawn(sign_in_from(&app, &attacker, &email, &format!("guess number {i}"))))
        .collect();
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }
    let checked = statuses.iter().filter(|&&s| s == 401).count();
    let throttled = statuses.iter().filter(|&&s| s == 429).count();
    let limit = domain::throttle::MAX_FAILURES as usize;
    assert_eq!((checked, throttled), (limit, 20 - limit), "{statuses:?}");

    assert_eq!(sign_in_from(&app, &attacker, &email, PASSWORD).await, 429, "the pair is locked");
    // Someone else's guesses do not lock the owner out.
    assert_eq!(sign_in_from(&app, &fresh_client(), &email, PASSWORD).await, 200);
}

#[tokio::test]
async fn the_right_most_untrusted_forwarded_address_is_the_client() {
    let app = behind_a_proxy().await;
    let email = unique_email("forwarded");
    assert_eq!(app.sign_up(&app.client(), &email).await.status(), 200);
    let attacker = fresh_client();
    // The attacker writes a new left-most entry each time; the proxy appends the real address.
    for _ in 0..domain::throttle::MAX_FAILURES {
        let spoofed = format!("{}, {attacker}", fresh_client());
        assert_eq!(sign_in_from(&app, &spoofed, &email, "wrong horse battery").await, 401);
    }
    let spoofed = format!("{}, {attacker}, 127.0.0.1", fresh_client());
    assert_eq!(sign_in_from(&app, &spoofed, &email, PASSWORD).await, 429);
}
