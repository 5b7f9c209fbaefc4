//! Every URL the console tells an admin to paste elsewhere is one this server answers: the SCIM
//! Tenant URL (API keys page), and the SAML Identifier, Reply URL, Sign on URL and the OIDC
//! redirect URI (SSO page), read from the same server functions the pages render. A route moved
//! on one side only fails here (`app::routes` defines them once for both sides).

mod support;

use domain::sso::connections::{self, SamlInput};
use serde_json::Value;
use support::TestApp;

const CERT: &str = include_str!("../../domain/src/sso/testdata/rsa.pem");

async fn server_fn(app: &TestApp, client: &reqwest::Client, name: &str) -> Value {
    let res = client.post(app.at(&format!("/api/{name}"))).send().await.unwrap();
    assert_eq!(res.status(), 200, "{name}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn every_url_the_console_shows_is_routed() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let saml = SamlInput {
        enabled: true,
        idp_entity_id: "https://sts.windows.net/7f3c1e52-9a4b-4d6e-8f21-0c5b3a9d7e10/".into(),
        sso_url: "https://login.microsoftonline.com/7f3c1e52-9a4b-4d6e-8f21-0c5b3a9d7e10/saml2".into(),
        certificates: CERT.into(),
    };
    connections::save_saml(&app.db, &org.admin, saml).await.unwrap();
    let console = app.client();
    assert_eq!(app.sign_in(&console, &org.admin.email, support::PASSWORD).await.status(), 200);

    // The Tenant URL: Entra's Test Connection is a filtered list below it.
    let keys = server_fn(&app, &console, "list_api_keys").await;
    let tenant = keys["tenant_url"].as_str().unwrap();
    assert!(tenant.starts_with(&app.at("")), "{tenant}");
    let probe = reqwest::Client::new()
        .get(format!("{tenant}/Users?filter=userName%20eq%20%22nobody%22"))
        .bearer_auth(&org.key)
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200, "the Tenant URL serves SCIM");

    let sso = server_fn(&app, &console, "sso_settings").await;
    let url = |field: &str| sso[field].as_str().unwrap().to_owned();
    let anonymous = app.client();
    // The Identifier is also where our metadata is served, and the metadata names the Reply URL.
    let metadata = anonymous.get(url("sp_entity_id")).send().await.unwrap();
    assert_eq!(metadata.status(), 200);
    let xml = metadata.text().await.unwrap();
    assert!(xml.contains(&format!("entityID=\"{}\"", url("sp_entity_id"))), "{xml}");
    assert!(xml.contains(&format!("Location=\"{}\"", url("acs_url"))), "{xml}");
    // The Reply URL takes Entra's cross-site POST: without a SAMLResponse it is a bad request of
    // that route, not an unknown page and not a CSRF refusal.
    let acs = anonymous.post(url("acs_url")).header("origin", "https://login.microsoftonline.com");
    let acs = acs.form(&[("RelayState", "")]).send().await.unwrap();
    assert!(matches!(acs.status().as_u16(), 400 | 422), "{}", acs.status());
    // The Sign on URL starts a sign-in at Entra.
    let start = anonymous.get(url("sign_on_url")).send().await.unwrap();
    assert_eq!(start.status(), 303);
    assert!(support::location(&start).unwrap().starts_with("https://login.microsoftonline.com/"));
    // The redirect URI is the OIDC callback: without a sign-in in flight it says so.
    let callback = anonymous.get(url("redirect_uri")).send().await.unwrap();
    assert_eq!(callback.status(), 400);
    assert!(callback.text().await.unwrap().contains("Sign-in expired"));
}
