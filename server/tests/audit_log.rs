//! The admin audit log over HTTP: the client address (behind a trusted proxy, the forwarded one;
//! otherwise the TCP peer, whatever `X-Forwarded-For` says) and the user agent of real requests
//! reach the log; sign-out is recorded; the `audit_log` server function serves admins only and
//! only their organisation's events.

mod support;

use domain::{
    audit::Kind,
    entities::audit_event,
    sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder},
    testing::unique_email,
};
use support::{PASSWORD, TestApp};

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36";

async fn org_of(app: &TestApp, email: &str) -> String {
    app.person(email).await.org_id
}

async fn kinds(app: &TestApp, org_id: &str) -> Vec<(String, Option<String>, Option<String>)> {
    audit_event::Entity::find()
        .filter(audit_event::Column::OrgId.eq(org_id))
        .order_by_asc(audit_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.client_addr, e.user_agent))
        .collect()
}

/// A browser-like client (cookies, no redirects, our Origin) that names itself [`BROWSER`].
fn browser(app: &TestApp) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", app.at("").parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .user_agent(BROWSER)
        .build()
        .unwrap()
}

/// The audit page's server function, filtered by `kind` ("" for any), as `client`.
async fn audit_log(app: &TestApp, client: &reqwest::Client, kind: &str) -> reqwest::Response {
    client.post(app.at("/api/audit_log")).form(&[("kind", kind)]).send().await.unwrap()
}

#[tokio::test]
async fn sign_in_and_sign_out_are_recorded_with_the_peer_and_its_user_agent() {
    let app = TestApp::spawn().await;
    let email = unique_email("audited");
    let client = browser(&app);
    assert_eq!(app.sign_up(&client, &email).await.status(), 200);
    let org = org_of(&app, &email).await;

    // Without --trusted-proxies a forwarded address is the client's to invent: ignored.
    let wrong = client
        .post(app.at("/api/sign_in"))
        .header("x-forwarded-for", "203.0.113.66")
        .form(&[("email", email.as_str()), ("password", "not the password")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(app.sign_in(&client, &email, PASSWORD).await.status(), 200);
    assert_eq!(client.post(app.at("/api/sign_out")).send().await.unwrap().status(), 200);

    let seen =
        |kind: Kind| (kind.as_str().to_owned(), Some("127.0.0.1".to_owned()), Some(BROWSER.to_owned()));
    assert_eq!(
        kinds(&app, &org).await,
        vec![
            seen(Kind::OrganizationCreated),
            seen(Kind::SignInFailed),
            seen(Kind::SignedIn),
            seen(Kind::SignedOut),
        ]
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_recorded() {
    let app = TestApp::spawn_configured(false, &["--trusted-proxies", "127.0.0.1"]).await;
    let email = unique_email("proxied");
    let client = browser(&app);
    assert_eq!(app.sign_up(&client, &email).await.status(), 200);
    let signed_in = client
        .post(app.at("/api/sign_in"))
        .header("x-forwarded-for", "198.51.100.23")
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let rows = kinds(&app, &org_of(&app, &email).await).await;
    assert_eq!(rows.last().unwrap().0, Kind::SignedIn.as_str());
    assert_eq!(rows.last().unwrap().1.as_deref(), Some("198.51.100.23"));
}

#[tokio::test]
async fn the_audit_page_serves_an_admin_their_organisations_events_only() {
    let app = TestApp::spawn().await;
    let (ada, eve) = (unique_email("ada"), unique_email("eve"));
    let (ada_client, eve_client) = (browser(&app), browser(&app));
    assert_eq!(app.sign_up(&ada_client, &ada).await.status(), 200);
    assert_eq!(app.sign_up(&eve_client, &eve).await.status(), 200);
    let created = ada_client
        .post(app.at("/api/create_api_key"))
        .form(&[("name", "Entra ID provisioning")])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200, "{:?}", created.text().await);

    let page: serde_json::Value = audit_log(&app, &ada_client, "").await.json().await.unwrap();
    let entries = page["entries"].as_array().unwrap();
    let shown: Vec<&str> = entries.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(shown, ["api_key_created", "organization_created"], "newest first");
    assert_eq!(entries[0]["kind_label"], "API key created");
    assert_eq!(entries[0]["from"], "127.0.0.1");
    assert!(entries[0]["actor"].as_str().unwrap().contains(&ada));
    assert!(entries.iter().all(|e| !e.to_string().contains(&eve)), "nothing of another organisation");

    let filtered: serde_json::Value =
        audit_log(&app, &ada_client, "sign_in_failed").await.json().await.unwrap();
    assert_eq!(filtered["total"], 0);
    assert_eq!(audit_log(&app, &ada_client, "nonsense").await.status(), 400);

    let anonymous = audit_log(&app, &app.client(), "").await;
    assert_eq!(anonymous.status(), 401);
}
