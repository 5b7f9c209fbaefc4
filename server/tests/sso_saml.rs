//! SAML single sign-on end to end over HTTP against a real server and database: SP- and
//! IdP-initiated sign-in of a SCIM-provisioned person, and a refusal for every way a response can
//! be wrong (sso.md §4, OWASP SAML Security Cheat Sheet): tampered, unsigned, wrong certificate,
//! wrong algorithm, wrong audience, expired, replayed, unsolicited-with-InResponseTo, wrong
//! tenant; unprovisioned, deactivated and deleted people.

mod support;

use std::io::Read;

use base64::{Engine, engine::general_purpose::STANDARD};
use domain::{
    sea_orm::EntityTrait,
    sso::connections::{self, SamlInput},
};
use reqwest::Client;
use serde_json::json;
use support::{
    METRICS_TOKEN, ScimOrg, TestApp, create_user, location,
    saml_idp::{Claims, SamlIdp, TENANT},
    sso_refusal, unique_user,
};

struct Fixture {
    app: TestApp,
    org: ScimOrg,
    idp: SamlIdp,
    slug: String,
    entity_id: String,
    acs: String,
}

/// An Entra-shaped SAML connection pinning `certificates`.
fn saml_input(certificates: String, enabled: bool) -> SamlInput {
    SamlInput {
        enabled,
        idp_entity_id: format!("https://sts.windows.net/{TENANT}/"),
        sso_url: format!("https://login.microsoftonline.com/{TENANT}/saml2"),
        certificates,
    }
}

async fn fixture() -> Fixture {
    fixture_with(TestApp::spawn().await).await
}

async fn fixture_with(app: TestApp) -> Fixture {
    let org = app.scim_org().await;
    let idp = SamlIdp::new();
    connections::save_saml(&app.db, &org.admin, saml_input(idp.cert_pem(), true)).await.unwrap();
    let slug = connections::settings(&app.db, &org.admin).await.unwrap().org_slug;
    let entity_id = app.at(&format!("/sso/saml/{slug}/metadata"));
    let acs = app.at(&format!("/sso/saml/{slug}/acs"));
    Fixture { app, org, idp, slug, entity_id, acs }
}

impl Fixture {
    fn claims(&self, name_id: &str, oid: &str) -> Claims {
        Claims::new(&self.entity_id, &self.acs, name_id, oid)
    }

    /// Posts `response` to the ACS the way the IdP's auto-submitting form does (cross-site).
    async fn post_acs(
        &self,
        client: &Client,
        response: &str,
        relay_state: Option<&str>,
    ) -> reqwest::Response {
        let mut form = vec![("SAMLResponse", response.to_owned())];
        if let Some(relay) = relay_state {
            form.push(("RelayState", relay.to_owned()));
        }
        client
            .post(&self.acs)
            .header("origin", "https://login.microsoftonline.com")
            .header("sec-fetch-site", "cross-site")
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Provisions `user_name` through SCIM and returns its id.
    async fn provision(&self, user_name: &str) -> String {
        create_user(&self.app.scim(&self.org.key), user_name).await
    }
}

/// Signed in: the console home answers 200 instead of redirecting to the sign-in page.
async fn assert_signed_in(app: &TestApp, client: &Client) {
    let home = client.get(app.at("/")).send().await.unwrap();
    assert_eq!(home.status(), 200, "signed in: the console renders");
}

#[tokio::test]
async fn idp_initiated_sign_in_lands_a_provisioned_person_in_the_console() {
    let f = fixture().await;
    let upn = unique_user("alice");
    let alice = f.provision(&upn).await;
    let client = f.app.client();
    let res = f.post_acs(&client, &f.idp.response(&f.claims(&upn, "oid-alice")), None).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res).as_deref(), Some("/"));
    assert_signed_in(&f.app, &client).await;
    let bound = domain::entities::user::Entity::find_by_id(alice).one(&f.app.db).await.unwrap().unwrap();
    assert_eq!(
        (bound.entra_tenant_id.as_deref(), bound.entra_object_id.as_deref()),
        (Some(TENANT), Some("oid-alice")),
        "first login stores the (tenant, object id) binding"
    );
}

fn inflate_request_id(redirect: &str) -> (String, String) {
    let url = url::Url::parse(redirect).unwrap();
    let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap();
    let deflated = STANDARD.decode(param("SAMLRequest")).unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice()).read_to_string(&mut xml).unwrap();
    let id = xml.split("ID=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(id.len() >= 33, "request ids carry 128 random bits: {id}");
    (id, param("RelayState"))
}

#[tokio::test]
async fn sp_initiated_sign_in_answers_our_request_and_returns_where_it_started() {
    let f = fixture().await;
    let upn = unique_user("bob");
    f.provision(&upn).await;
    let client = f.app.client();
    let start =
        client.get(f.app.at(&format!("/sso/start?who={}&return_to=/users", f.slug))).send().await.unwrap();
    assert_eq!(start.status(), 303);
    let redirect = location(&start).unwrap();
    assert!(redirect.starts_with(&format!("https://login.microsoftonline.com/{TENANT}/saml2?SAMLRequest=")));
    let (request_id, relay_state) = inflate_request_id(&redirect);
    assert!(!relay_state.contains('/'), "RelayState is an opaque key, never a URL");

    // A response to some other request is refused, and the RelayState is spent.
    let mut wrong = f.claims(&upn, "oid-bob");
    wrong.in_response_to = Some("_someone-elses-request".into());
    let res = f.post_acs(&client, &f.idp.response(&wrong), Some(&relay_state)).await;
    assert!(sso_refusal(res, 400).await.contains("could not be verified"));

    let start =
        client.get(f.app.at(&format!("/sso/start?who={}&return_to=/users", f.slug))).send().await.unwrap();
    let (request_id2, relay_state) = inflate_request_id(&location(&start).unwrap());
    assert_ne!(request_id, request_id2);
    let mut answer = f.claims(&upn, "oid-bob");
    answer.in_response_to = Some(request_id2);
    let res = f.post_acs(&client, &f.idp.response(&answer), Some(&relay_state)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res).as_deref(), Some("/users"));
    assert_signed_in(&f.app, &client).await;
}

#[tokio::test]
async fn every_forged_or_stale_response_is_refused() {
    let f = fixture().await;
    let upn = unique_user("carol");
    f.provision(&upn).await;
    let good = f.claims(&upn, "oid-carol");
    let client = f.app.client();

    let tampered = f.idp.response_xml(&good).replace(&upn, "someone.else@contoso.example");
    let unsigned = Claims { signed: false, ..good.clone() };
    let other_idp = SamlIdp::new();
    let wrong_audience =
        Claims { audience: Some("https://other-sp.example/metadata".into()), ..good.clone() };
    let no_audience = Claims { audience: None, ..good.clone() };
    let expired = Claims {
        issue_instant: chrono::Utc::now() - chrono::Duration::minutes(20),
        not_on_or_after: chrono::Utc::now() - chrono::Duration::minutes(10),
        ..good.clone()
    };
    let sha1 = Claims {
        signature_algorithm: samael::signature::SignatureAlgorithm::Unsupported(
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1".into(),
        ),
        ..good.clone()
    };
    let unsolicited_answer = Claims { in_response_to: Some("_never-asked".into()), ..good.clone() };
    let wrong_recipient = Claims { acs_url: f.app.at("/sso/saml/other-org/acs"), ..good.clone() };
    let cases = [
        ("tampered after signing", STANDARD.encode(tampered)),
        ("unsigned", f.idp.response(&unsigned)),
        ("signed by another certificate", other_idp.response(&good)),
        ("RSA-SHA1", f.idp.response(&sha1)),
        ("wrong audience", f.idp.response(&wrong_audience)),
        ("no audience", f.idp.response(&no_audience)),
        ("expired", f.idp.response(&expired)),
        ("unsolicited but claims to answer a request", f.idp.response(&unsolicited_answer)),
        ("for another recipient", f.idp.response(&wrong_recipient)),
        ("not base64", "%%%".to_owned()),
        ("not XML", STANDARD.encode("{\"json\": true}")),
    ];
    for (what, response) in cases {
        let res = f.post_acs(&client, &response, None).await;
        let text = sso_refusal(res, 400).await;
        assert!(text.contains("could not be verified"), "{what}: {text}");
    }
    let home = client.get(f.app.at("/")).send().await.unwrap();
    assert_eq!(location(&home).as_deref(), Some("/signin"), "no refused response signed anyone in");
}

#[tokio::test]
async fn an_assertion_works_once() {
    let f = fixture().await;
    let upn = unique_user("dave");
    f.provision(&upn).await;
    let response = f.idp.response(&f.claims(&upn, "oid-dave"));
    let first = f.post_acs(&f.app.client(), &response, None).await;
    assert_eq!(first.status(), 303);
    let replay = f.post_acs(&f.app.client(), &response, None).await;
    assert!(sso_refusal(replay, 400).await.contains("already used"));
}

#[tokio::test]
async fn unprovisioned_foreign_and_deprovisioned_people_are_refused() {
    let f = fixture_with(TestApp::spawn_configured(false, &["--metrics-token", METRICS_TOKEN]).await).await;
    let client = f.app.client();
    let stranger =
        f.post_acs(&client, &f.idp.response(&f.claims(&unique_user("eve"), "oid-eve")), None).await;
    assert!(sso_refusal(stranger, 403).await.contains("has not given you access"));

    let upn = unique_user("frank");
    let frank = f.provision(&upn).await;
    let foreign =
        Claims { tenant_id: "00000000-1111-4222-8333-444444444444".into(), ..f.claims(&upn, "oid-frank") };
    assert!(
        sso_refusal(f.post_acs(&client, &f.idp.response(&foreign), None).await, 403)
            .await
            .contains("another directory")
    );

    // Frank signs in; SCIM deactivates him: his open session ends on its next request and SSO
    // refuses him; deleted, he is refused too.
    let res = f.post_acs(&client, &f.idp.response(&f.claims(&upn, "oid-frank")), None).await;
    assert_eq!(res.status(), 303);
    assert_signed_in(&f.app, &client).await;
    let scim = f.app.scim(&f.org.key);
    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "Replace", "path": "active", "value": false}]});
    assert_eq!(scim.patch(&format!("/Users/{frank}"), off).await.status, 200);
    let next = client.get(f.app.at("/")).send().await.unwrap();
    assert_eq!(location(&next).as_deref(), Some("/signin"), "deactivation ends the open session at once");
    let again = f.post_acs(&client, &f.idp.response(&f.claims(&upn, "oid-frank")), None).await;
    assert!(sso_refusal(again, 403).await.contains("deactivated"));
    assert_eq!(scim.delete(&format!("/Users/{frank}")).await.status, 204);
    let deleted = f.post_acs(&client, &f.idp.response(&f.claims(&upn, "oid-frank")), None).await;
    assert!(sso_refusal(deleted, 403).await.contains("has not given you access"));

    // Counted on /metrics (at least these: other tests of this binary count beside them).
    let signed_in = [("method", "saml"), ("outcome", "success")];
    assert!(f.app.counter("scimpad_sign_ins_total", &signed_in).await >= 1.0);
    let refused = [("method", "saml"), ("outcome", "refused")];
    assert!(f.app.counter("scimpad_sign_ins_total", &refused).await >= 4.0);
    for (reason, at_least) in [("not_provisioned", 2.0), ("wrong_tenant", 1.0), ("deactivated", 1.0)] {
        let count = f.app.counter("scimpad_sso_refusals_total", &[("reason", reason)]).await;
        assert!(count >= at_least, "{reason}: {count}");
    }
}

#[tokio::test]
async fn metadata_tells_entra_our_identifier_and_reply_url() {
    let f = fixture().await;
    let res = f.app.client().get(&f.entity_id).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/samlmetadata+xml");
    let xml = res.text().await.unwrap();
    assert!(xml.contains(&format!("entityID=\"{}\"", f.entity_id)), "{xml}");
    assert!(xml.contains(&format!("Location=\"{}\"", f.acs)), "{xml}");
    let unknown = f.app.client().get(f.app.at("/sso/saml/no-such-org/metadata")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let who = f.app.client().get(f.app.at("/sso/start?who=nobody@nowhere.example")).send().await.unwrap();
    assert!(sso_refusal(who, 404).await.contains("No organisation signs in with SSO"));
}

#[tokio::test]
async fn a_disabled_connection_signs_nobody_in() {
    let f = fixture().await;
    let upn = unique_user("gina");
    f.provision(&upn).await;
    connections::save_saml(&f.app.db, &f.org.admin, saml_input(f.idp.cert_pem(), false)).await.unwrap();
    let res = f.post_acs(&f.app.client(), &f.idp.response(&f.claims(&upn, "oid-gina")), None).await;
    assert!(sso_refusal(res, 404).await.contains("not turned on"));
}

#[tokio::test]
async fn during_a_certificate_rollover_both_pinned_certificates_verify() {
    let f = fixture().await;
    let next = SamlIdp::new();
    let both = format!("{}{}", f.idp.cert_pem(), next.cert_pem());
    connections::save_saml(&f.app.db, &f.org.admin, saml_input(both, true)).await.unwrap();
    let upn = unique_user("hana");
    f.provision(&upn).await;
    for (which, idp) in [("current", &f.idp), ("next", &next)] {
        let res = f.post_acs(&f.app.client(), &idp.response(&f.claims(&upn, "oid-hana")), None).await;
        assert_eq!(res.status(), 303, "signed with the {which} certificate");
    }
    let stranger = SamlIdp::new();
    let res = f.post_acs(&f.app.client(), &stranger.response(&f.claims(&upn, "oid-hana")), None).await;
    assert_eq!(res.status(), 400, "a third, unpinned certificate is refused");
}

/// An SP-initiated sign-in started with `/sso/start?who=<org><query>` and answered for `upn`: our
/// answer to the IdP's response.
async fn sp_sign_in(f: &Fixture, client: &Client, upn: &str, oid: &str, query: &str) -> reqwest::Response {
    let start = client.get(f.app.at(&format!("/sso/start?who={}{query}", f.slug))).send().await.unwrap();
    assert_eq!(start.status(), 303, "{query}");
    let (request_id, relay_state) = inflate_request_id(&location(&start).unwrap());
    let mut answer = f.claims(upn, oid);
    answer.in_response_to = Some(request_id);
    f.post_acs(client, &f.idp.response(&answer), Some(&relay_state)).await
}

#[tokio::test]
async fn a_flood_of_sign_in_starts_cannot_shut_an_organisation_out() {
    use domain::{
        entities::sso_pending_login,
        sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter},
    };
    let f = fixture().await;
    let upn = unique_user("ines");
    f.provision(&upn).await;
    let conn = connections::settings(&f.app.db, &f.org.admin).await.unwrap().saml.unwrap();
    let max = domain::sso::pending::MAX_PENDING_PER_CONNECTION;
    domain::testing::fill_pending_sign_ins(&f.app.db, &conn.id, max).await;
    let client = f.app.client();
    let res = sp_sign_in(&f, &client, &upn, "oid-ines", "&return_to=/users").await;
    assert_eq!(res.status(), 303, "the flood's oldest start made room");
    assert_eq!(location(&res).as_deref(), Some("/users"));
    assert_signed_in(&f.app, &client).await;
    let kept = sso_pending_login::Entity::find()
        .filter(sso_pending_login::Column::ConnectionId.eq(conn.id.as_str()))
        .count(&f.app.db)
        .await
        .unwrap();
    assert_eq!(kept, max - 1, "one flood row dropped, ours taken: still bounded");
}

#[tokio::test]
async fn the_landing_page_is_always_a_path_on_this_server() {
    let f = fixture().await;
    let upn = unique_user("jo");
    f.provision(&upn).await;
    // `return_to` as sent in the start link's query, and where the signed-in browser is sent.
    let cases = [
        // A newline once made the redirect a 500 after the session had started.
        ("%0A", "/"),
        ("%2Fx%0Ay", "/"),
        // Browsers drop the tab: `//evil.example`.
        ("%2F%09%2Fevil.example", "/"),
        ("%2F%2Fevil.example", "/"),
        ("%2F%5Cevil.example", "/"),
        ("https%3A%2F%2Fevil.example", "/"),
        // An encoded slash stays an encoded slash, in a path on this server.
        ("%2F%252F%2Fevil.example", "/%2F/evil.example"),
        ("%2Fusers%3Fpage%3D2", "/users?page=2"),
    ];
    for (return_to, expected) in cases {
        let client = f.app.client();
        let res = sp_sign_in(&f, &client, &upn, "oid-jo", &format!("&return_to={return_to}")).await;
        assert_eq!(res.status(), 303, "{return_to}");
        assert_eq!(location(&res).as_deref(), Some(expected), "{return_to}");
        assert_signed_in(&f.app, &client).await;
    }
}

#[tokio::test]
async fn the_role_claim_sets_the_role_at_sign_in_with_the_organisations_admin_value() {
    use domain::accounts::Role;
    let f = fixture().await;
    domain::roles::set_entra_admin_role(&f.app.db, &f.org.admin, "Scimpad.Admin").await.unwrap();
    let upn = unique_user("bob");
    let bob = f.provision(&upn).await;
    let role = || async {
        domain::entities::user::Entity::find_by_id(bob.clone()).one(&f.app.db).await.unwrap().unwrap().role
    };

    let mut claims = f.claims(&upn, "oid-bob");
    claims.roles = vec!["Reader".into(), "scimpad.admin".into()];
    let res = f.post_acs(&f.app.client(), &f.idp.response(&claims), None).await;
    assert_eq!(location(&res).as_deref(), Some("/"));
    assert_eq!(role().await, Role::Admin, "one of the values is the admin role, in any case");

    claims.roles = vec!["Admin".into()];
    claims.assertion_id = format!("_{}", uuid::Uuid::new_v4().simple());
    f.post_acs(&f.app.client(), &f.idp.response(&claims), None).await;
    assert_eq!(role().await, Role::Member, "\"Admin\" is not this organisation's admin value");

    claims.roles = Vec::new();
    claims.assertion_id = format!("_{}", uuid::Uuid::new_v4().simple());
    let res = f.post_acs(&f.app.client(), &f.idp.response(&claims), None).await;
    assert_eq!(location(&res).as_deref(), Some("/"));
    assert_eq!(role().await, Role::Member, "no role claim: the role stays");
}
