//! Console accounts over HTTP: sign-up, sign-in, sessions, sign-out, deactivation, CSRF.

mod support;

use domain::{
    entities::{session, user},
    sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter},
    testing::unique_email,
};
use support::{PASSWORD, TestApp, location};

async fn session_rows(app: &TestApp, user_id: &str) -> usize {
    session::Entity::find().filter(session::Column::UserId.eq(user_id)).all(&app.db).await.unwrap().len()
}

async fn user_id(app: &TestApp, email: &str) -> String {
    app.person(email).await.id
}

#[tokio::test]
async fn sign_up_opens_a_session_and_sign_out_deletes_it() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let email = unique_email("ada");

    let res = app.sign_up(&client, &email).await;
    assert_eq!(res.status(), 200);
    assert_eq!(location(&res).as_deref(), Some("/"));
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.starts_with("scimpad="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );

    let uid = user_id(&app, &email).await;
    assert_eq!(session_rows(&app, &uid).await, 1);
    let page = client.get(app.at("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Ada Admin"));

    let out = client.post(app.at("/api/sign_out")).send().await.unwrap();
    assert_eq!(out.status(), 200);
    assert_eq!(session_rows(&app, &uid).await, 0, "the server-side session row is gone");
    let page = client.get(app.at("/")).send().await.unwrap();
    assert_eq!((page.status().as_u16(), location(&page).as_deref()), (303, Some("/signin")));
}

#[tokio::test]
async fn sign_in_cycles_the_session_id() {
    let app = TestApp::spawn().await;
    let email = unique_email("cycle");
    app.sign_up(&app.client(), &email).await;

    let client = app.client();
    let first = app.sign_in(&client, &email, PASSWORD).await;
    let second = app.sign_in(&client, &email, PASSWORD).await;
    let id = |r: &reqwest::Response| {
        r.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned()
    };
    assert_ne!(id(&first), id(&second), "a new session id at every sign-in");
    assert_eq!(session_rows(&app, &user_id(&app, &email).await).await, 2, "the cycled-out id is deleted");
}

#[tokio::test]
async fn wrong_credentials_are_401_and_repeated_failures_429() {
    // Behind a "proxy" on loopback, as a client of its own: the failures must not pile up on
    // 127.0.0.1's client-wide counter, which outlives the run on a shared PostgreSQL database.
    let app = TestApp::spawn_configured(false, &["--trusted-proxies", "127.0.0.1"]).await;
    let email = unique_email("wrong");
    app.sign_up(&app.client(), &email).await;
    let client = app.client();
    let octets = uuid::Uuid::new_v4().into_bytes();
    let from = format!("10.{}.{}.{}", octets[0], octets[1], octets[2]);
    let sign_in = |password: &'static str| {
        client
            .post(app.at("/api/sign_in"))
            .header("x-forwarded-for", &from)
            .form(&[("email", email.as_str()), ("password", password)])
            .send()
    };
    for _ in 0..domain::throttle::MAX_FAILURES {
        let res = sign_in("wrong horse battery").await.unwrap();
        assert_eq!(res.status(), 401);
        assert!(res.text().await.unwrap().contains("InvalidCredentials"));
    }
    let res = sign_in(PASSWORD).await.unwrap();
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn secure_cookie_mode_sets_a_host_prefixed_secure_cookie() {
    let app = TestApp::spawn_with(true).await;
    let res = app.sign_up(&app.client(), &unique_email("secure")).await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("__Host-scimpad=") && cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn a_deactivated_person_loses_their_open_session_on_the_next_request() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let email = unique_email("deact");
    app.sign_up(&client, &email).await;
    let uid = user_id(&app, &email).await;
    assert_eq!(client.get(app.at("/settings/profile")).send().await.unwrap().status(), 200);

    let mut person: user::ActiveModel =
        user::Entity::find_by_id(uid.clone()).one(&app.db).await.unwrap().unwrap().into();
    person.active = Set(false);
    person.update(&app.db).await.unwrap();

    let page = client.get(app.at("/settings/profile")).send().await.unwrap();
    assert_eq!(location(&page).as_deref(), Some("/signin"));
    assert_eq!(session_rows(&app, &uid).await, 0);
    let api = client.post(app.at("/api/current_user")).send().await.unwrap();
    assert_eq!(api.status(), 401);
}

#[tokio::test]
async fn sessions_end_after_their_absolute_lifetime() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let email = unique_email("old");
    app.sign_up(&client, &email).await;
    let uid = user_id(&app, &email).await;
    let row =
        session::Entity::find().filter(session::Column::UserId.eq(&uid)).one(&app.db).await.unwrap().unwrap();
    let mut data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
    let long_ago = domain::clock::now_ms() - server::auth::ABSOLUTE_LIFETIME_MS - 1000;
    data[domain::session_store::SIGNED_IN_AT_KEY] = long_ago.into();
    let mut row: session::ActiveModel = row.into();
    row.data = Set(data.to_string());
    row.update(&app.db).await.unwrap();

    let page = client.get(app.at("/")).send().await.unwrap();
    assert_eq!(location(&page).as_deref(), Some("/signin"));
    assert_eq!(session_rows(&app, &uid).await, 0);
}

#[tokio::test]
async fn unsafe_requests_need_our_origin() {
    let app = TestApp::spawn().await;
    let bare = reqwest::Client::new();
    let form = [("email", "a@b.example"), ("password", PASSWORD)];
    let no_origin = bare.post(app.at("/api/sign_in")).form(&form).send().await.unwrap();
    assert_eq!(no_origin.status(), 403);
    let foreign = bare
        .post(app.at("/api/sign_in"))
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let cross_site = bare
        .post(app.at("/api/sign_in"))
        .header("origin", &app.url)
        .header("sec-fetch-site", "cross-site")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let ours = app.sign_in(&app.client(), "a@b.example", PASSWORD).await;
    assert_eq!(ours.status(), 401);
}

#[tokio::test]
async fn console_pages_redirect_to_sign_in_and_sign_in_redirects_home_when_signed_in() {
    let app = TestApp::spawn().await;
    let client = app.client();
    for path in ["/", "/users", "/groups", "/log", "/settings/profile", "/settings/api-keys"] {
        let res = client.get(app.at(path)).send().await.unwrap();
        assert_eq!((res.status().as_u16(), location(&res).as_deref()), (303, Some("/signin")), "{path}");
    }
    assert_eq!(client.get(app.at("/signin")).send().await.unwrap().status(), 200);
    app.sign_up(&client, &unique_email("home")).await;
    let res = client.get(app.at("/signin")).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/"));
}
