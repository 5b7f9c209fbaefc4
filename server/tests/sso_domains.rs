//! Verified SSO domains over HTTP, as an admin uses the console: "Sign in with SSO" with a work
//! email routes to the organisation's identity provider only once the organisation has proven
//! control of the domain with a DNS TXT record. The server asks a DNS server the test runs on
//! loopback (`--dns-resolver`), never the internet.

mod support;

use domain::testing::{dns::TestDns, unique_email};
use reqwest::{Client, Response};
use serde_json::Value;
use support::{TestApp, location, saml_idp::SamlIdp, sso_refusal};

const TENANT: &str = support::saml_idp::TENANT;

/// An admin's browser: signed up, with an enabled SAML connection saved through the console.
async fn console(app: &TestApp) -> Client {
    let client = app.client();
    assert_eq!(app.sign_up(&client, &unique_email("ada")).await.status(), 200);
    let saml = [
        ("enabled", "on".to_owned()),
        ("idp_entity_id", format!("https://sts.windows.net/{TENANT}/")),
        ("sso_url", format!("https://login.microsoftonline.com/{TENANT}/saml2")),
        ("certificates", SamlIdp::new().cert_pem()),
    ];
    let saved = client.post(app.at("/api/save_saml_connection")).form(&saml).send().await.unwrap();
    assert_eq!(saved.status(), 200, "{}", saved.text().await.unwrap());
    client
}

async fn call(app: &TestApp, client: &Client, function: &str, form: &[(&str, &str)]) -> Response {
    client.post(app.at(&format!("/api/{function}"))).form(form).send().await.unwrap()
}

/// The domains the settings page lists for `client`'s organisation.
async fn claims(app: &TestApp, client: &Client) -> Vec<Value> {
    let settings: Value = call(app, client, "sso_settings", &[]).await.json().await.unwrap();
    settings["domains"].as_array().cloned().unwrap()
}

/// Where "Sign in with SSO" sends `who`: the redirect, or the refusal page's text.
async fn start(app: &TestApp, who: &str) -> Result<String, String> {
    let res = app.client().get(app.at(&format!("/sso/start?who={who}"))).send().await.unwrap();
    match res.status().as_u16() {
        303 => Ok(location(&res).unwrap()),
        _ => Err(sso_refusal(res, 404).await),
    }
}

#[tokio::test]
async fn an_email_domain_routes_to_sso_only_after_its_dns_record_is_verified() {
    let dns = TestDns::start().await;
    let resolver = dns.addr().to_string();
    let app = TestApp::spawn_configured(false, &["--dns-resolver", &resolver]).await;
    let contoso = console(&app).await;
    let domain = format!("{}.example", uuid::Uuid::new_v4().simple());

    assert_eq!(
        call(&app, &contoso, "add_sso_domain", &[("domain", &domain.to_uppercase())]).await.status(),
        200
    );
    let listed = claims(&app, &contoso).await;
    let claim = &listed[0];
    assert_eq!((claim["domain"].as_str(), claim["state"].as_str()), (Some(domain.as_str()), Some("Pending")));
    let (id, record_name, record_value) = (
        claim["id"].as_str().unwrap().to_owned(),
        claim["record_name"].as_str().unwrap().to_owned(),
        claim["record_value"].as_str().unwrap().to_owned(),
    );
    assert_eq!(record_name, format!("_scimpad-challenge.{domain}"));
    assert!(record_value.starts_with("scimpad-domain-verification="), "{record_value}");
    let email = format!("alice@{domain}");
    assert!(start(&app, &email).await.unwrap_err().contains("No organisation signs in with SSO"));

    // Verify before the record exists: a clear 400, nothing routes.
    let early = call(&app, &contoso, "verify_sso_domain", &[("id", &id)]).await;
    assert_eq!(early.status(), 400);
    let body = early.text().await.unwrap();
    assert!(body.contains(&format!("No TXT record {record_value} found at {record_name} yet")), "{body}");
    assert!(start(&app, &email).await.is_err());

    // Another organisation's unproven claim on the same domain blocks nobody.
    let squatter = console(&app).await;
    assert_eq!(call(&app, &squatter, "add_sso_domain", &[("domain", &domain)]).await.status(), 200);
    assert_eq!(call(&app, &squatter, "remove_sso_domain", &[("id", &id)]).await.status(), 404);

    dns.add_txt(&record_name, &record_value);
    let verified = call(&app, &contoso, "verify_sso_domain", &[("id", &id)]).await;
    assert_eq!(verified.status(), 200, "{}", verified.text().await.unwrap());
    assert!(claims(&app, &contoso).await[0]["state"]["Verified"]["since"].is_string());
    let redirect = start(&app, &email.to_uppercase()).await.unwrap();
    assert!(
        redirect.starts_with(&format!("https://login.microsoftonline.com/{TENANT}/saml2?SAMLRequest=")),
        "{redirect}"
    );
    let squatters = claims(&app, &squatter).await;
    assert_eq!(squatters[0]["state"], "Pending");
    let theirs = squatters[0]["id"].as_str().unwrap();
    assert_eq!(call(&app, &squatter, "verify_sso_domain", &[("id", theirs)]).await.status(), 400);

    // Removing the verified domain stops the routing at once.
    assert_eq!(call(&app, &contoso, "remove_sso_domain", &[("id", &id)]).await.status(), 200);
    assert!(start(&app, &email).await.is_err());
}

#[tokio::test]
async fn bad_domains_and_other_peoples_claims_are_refused_cleanly() {
    let dns = TestDns::start().await;
    let resolver = dns.addr().to_string();
    let app = TestApp::spawn_configured(false, &["--dns-resolver", &resolver]).await;
    let admin = console(&app).await;
    for bad in ["", "not a domain", "127.0.0.1", &"a".repeat(300)] {
        let res = call(&app, &admin, "add_sso_domain", &[("domain", bad)]).await;
        assert_eq!(res.status(), 400, "{bad:?}");
        assert!(res.text().await.unwrap().contains("domain"), "{bad:?}");
    }
    for function in ["verify_sso_domain", "remove_sso_domain"] {
        for id in ["no-such-claim", &uuid::Uuid::new_v4().to_string()] {
            let res = call(&app, &admin, function, &[("id", id)]).await;
            assert_eq!(res.status(), 404, "{function} {id:?}");
        }
    }
    // A NUL never reaches these functions (nor the database): the server refuses it up front.
    for (function, field) in
        [("add_sso_domain", "domain"), ("verify_sso_domain", "id"), ("remove_sso_domain", "id")]
    {
        let res = call(&app, &admin, function, &[(field, "contoso\u{0}.com")]).await;
        assert_eq!(res.status(), 400, "{function}");
        assert!(res.text().await.unwrap().contains("NUL"), "{function}");
    }
    let anonymous = call(&app, &app.client(), "add_sso_domain", &[("domain", "contoso.example")]).await;
    assert_eq!(anonymous.status(), 401);
}
