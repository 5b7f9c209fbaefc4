//! OIDC single sign-on end to end over HTTP against a real server and database and a provider
//! inside the test: code flow with PKCE, nonce and state; and a refusal for each way an answer
//! can be wrong (sso.md §4): wrong nonce, wrong or replayed state, state from another browser,
//! wrong tenant, wrong audience, expired id_token, forged signature, unknown key id (fetched
//! again, rate limited), a provider error; unprovisioned and deprovisioned people.

mod support;

use domain::{
    sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder},
    sso::connections::{self, IssuerPolicy, OidcInput},
};
use reqwest::Client;
use serde_json::{Value, json};
use support::{
    METRICS_TOKEN, ScimOrg, TestApp, create_user, location,
    oidc_op::{CLIENT_ID, CLIENT_SECRET, OidcOp, SigningKey, TENANT},
    sso_refusal, unique_user,
};

struct Fixture {
    app: TestApp,
    org: ScimOrg,
    op: OidcOp,
    key: SigningKey,
    slug: String,
}

/// What our redirect to the provider asked for.
struct Authorize {
    state: String,
    nonce: String,
    challenge: String,
}

async fn fixture() -> Fixture {
    fixture_with(TestApp::spawn().await).await
}

async fn fixture_with(app: TestApp) -> Fixture {
    let org = app.scim_org().await;
    let key = SigningKey::generate("key-1");
    let op = OidcOp::start(key.clone()).await;
    let input = OidcInput {
        enabled: true,
        tenant: op.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
    };
    let policy = IssuerPolicy { allowed_hosts: vec!["127.0.0.1".into()] };
    let secrets =
        domain::sso::secret_box::SecretBox::from_base64("c2NpbXBhZC10ZXN0LWtleS0zMi1ieXRlcy1sb25nISE=")
            .unwrap();
    connections::save_oidc(&app.db, &secrets, &policy, &org.admin, input).await.unwrap();
    let slug = connections::settings(&app.db, &org.admin).await.unwrap().org_slug;
    Fixture { app, org, op, key, slug }
}

impl Fixture {
    async fn begin(&self, client: &Client) -> Authorize {
        let res = client.get(self.app.at(&format!("/sso/start?who={}", self.slug))).send().await.unwrap();
        assert_eq!(res.status(), 303);
        let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
        let url = url::Url::parse(&location(&res).unwrap()).unwrap();
        assert_eq!(
            url.as_str().split('?').next().unwrap(),
            format!("{}/oauth2/v2.0/authorize", self.op.issuer.trim_end_matches("/v2.0"))
        );
        let q = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        assert_eq!(q("code_challenge_method").as_deref(), Some("S256"));
        assert_eq!(q("client_id").as_deref(), Some(CLIENT_ID));
        assert_eq!(
            q("redirect_uri"),
            Some(self.app.at("/sso/oidc/callback")),
            "the exact registered redirect URI"
        );
        assert!(q("scope").unwrap().split(' ').any(|s| s == "openid"));
        Authorize {
            state: q("state").unwrap(),
            nonce: q("nonce").unwrap(),
            challenge: q("code_challenge").unwrap(),
        }
    }

    /// The provider's redirect back to us with a code for `id_token`.
    async fn callback(&self, client: &Client, authz: &Authorize, id_token: String) -> reqwest::Response {
        let code = self.op.issue_code(&authz.challenge, id_token);
        let url = format!(
            "/sso/oidc/callback?code={code}&state={}&iss={}",
            authz.state,
            support::urlencode(&self.op.issuer)
        );
        client.get(self.app.at(&url)).send().await.unwrap()
    }

    async fn sign_in_with(
        &self,
        client: &Client,
        edit: impl FnOnce(&mut Value),
        key: &SigningKey,
    ) -> reqwest::Response {
        let authz = self.begin(client).await;
        let mut claims = self.op.claims(&authz.nonce, "oid-default", "nobody@contoso.example");
        edit(&mut claims);
        self.callback(client, &authz, key.sign(&claims)).await
    }

    async fn provision(&self, upn: &str) -> String {
        create_user(&self.app.scim(&self.org.key), upn).await
    }
}

fn person(oid: &'static str, upn: String) -> impl FnOnce(&mut Value) {
    move |c| {
        c["oid"] = json!(oid);
        c["preferred_username"] = json!(upn);
    }
}

#[tokio::test]
async fn a_provisioned_person_signs_in_and_deprovisioning_locks_them_out() {
    let f = fixture_with(TestApp::spawn_configured(false, &["--metrics-token", METRICS_TOKEN]).await).await;
    let upn = unique_user("alice");
    let alice = f.provision(&upn).await;
    let client = f.app.client();
    let res = f.sign_in_with(&client, person("oid-alice", upn.clone()), &f.key).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res).as_deref(), Some("/"));
    let cleared = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("scimpad_sso_state=;"));
    assert!(cleared, "the state cookie is spent");
    assert_eq!(client.get(f.app.at("/")).send().await.unwrap().status(), 200, "in the console");
    let bound =
        domain::entities::user::Entity::find_by_id(alice.clone()).one(&f.app.db).await.unwrap().unwrap();
    assert_eq!(
        (bound.entra_tenant_id.as_deref(), bound.entra_object_id.as_deref()),
        (Some(TENANT), Some("oid-alice"))
    );

    let scim = f.app.scim(&f.org.key);
    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "replace", "value": {"active": false}}]});
    assert_eq!(scim.patch(&format!("/Users/{alice}"), off).await.status, 200);
    let next = client.get(f.app.at("/")).send().await.unwrap();
    assert_eq!(location(&next).as_deref(), Some("/signin"), "signed out on the next request");
    let again = f.sign_in_with(&client, person("oid-alice", upn.clone()), &f.key).await;
    assert!(sso_refusal(again, 403).await.contains("deactivated"));

    // The organisation's audit log has both: the sign-in (Alice, from this client) and the refusal.
    let audited: Vec<_> = domain::entities::audit_event::Entity::find()
        .filter(domain::entities::audit_event::Column::OrgId.eq(f.org.admin.org_id.as_str()))
        .filter(domain::entities::audit_event::Column::Kind.is_in(["sso_sign_in", "sso_sign_in_refused"]))
        .order_by_asc(domain::entities::audit_event::Column::Id)
        .all(&f.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.actor_id, e.client_addr, e.detail))
        .collect();
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert_eq!(audited[0].0, "sso_sign_in");
    assert_eq!((audited[0].1.as_deref(), audited[0].2.as_deref()), (Some(alice.as_str()), Some("127.0.0.1")));
    assert_eq!(audited[0].3, "with OIDC");
    assert_eq!(
        (audited[1].0.as_str(), audited[1].1.as_deref()),
        ("sso_sign_in_refused", Some(alice.as_str()))
    );
    assert!(audited[1].3.contains("the person is deactivated"), "{}", audited[1].3);

    // And on /metrics (at least these: other tests of this binary count beside them).
    for (outcome, at_least) in [("success", 1.0), ("refused", 1.0)] {
        let count =
            f.app.counter("scimpad_sign_ins_total", &[("method", "oidc"), ("outcome", outcome)]).await;
        assert!(count >= at_least, "{outcome}: {count}");
    }
    assert!(f.app.counter("scimpad_sso_refusals_total", &[("reason", "deactivated")]).await >= 1.0);
}

#[tokio::test]
async fn unprovisioned_and_foreign_tenant_people_are_refused() {
    let f = fixture().await;
    let client = f.app.client();
    let stranger = f.sign_in_with(&client, person("oid-eve", unique_user("eve")), &f.key).await;
    assert!(sso_refusal(stranger, 403).await.contains("has not given you access"));
    let upn = unique_user("frank");
    f.provision(&upn).await;
    let foreign = f
        .sign_in_with(
            &client,
            |c| {
                c["preferred_username"] = json!(upn);
                c["tid"] = json!("00000000-1111-4222-8333-444444444444");
            },
            &f.key,
        )
        .await;
    assert!(sso_refusal(foreign, 403).await.contains("another directory"));
}

#[tokio::test]
async fn id_tokens_that_do_not_verify_are_refused() {
    let f = fixture().await;
    let upn = unique_user("carol");
    f.provision(&upn).await;
    let client = f.app.client();
    let now = chrono::Utc::now().timestamp();
    type Edit = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("wrong nonce", Box::new(|c| c["nonce"] = json!("another-nonce"))),
        (
            "expired",
            Box::new(move |c| {
                c["iat"] = json!(now - 7200);
                c["nbf"] = json!(now - 7200);
                c["exp"] = json!(now - 3600);
            }),
        ),
        ("wrong audience", Box::new(|c| c["aud"] = json!("someone-elses-client"))),
        ("wrong issuer", Box::new(|c| c["iss"] = json!("https://login.microsoftonline.com/common/v2.0"))),
        (
            "no oid",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("oid");
            }),
        ),
    ];
    for (what, edit) in cases {
        let res = f
            .sign_in_with(
                &client,
                |c| {
                    c["preferred_username"] = json!(upn.clone());
                    edit(c);
                },
                &f.key,
            )
            .await;
        assert!(sso_refusal(res, 400).await.contains("could not be verified"), "{what}");
    }
    // A payload changed after signing.
    let authz = f.begin(&client).await;
    let token = f.key.sign(&f.op.claims(&authz.nonce, "oid-carol", "x@contoso.example"));
    let parts: Vec<&str> = token.split('.').collect();
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
    let forged = B64.encode(f.op.claims(&authz.nonce, "oid-carol", &upn).to_string());
    let res = f.callback(&client, &authz, format!("{}.{forged}.{}", parts[0], parts[2])).await;
    assert!(sso_refusal(res, 400).await.contains("could not be verified"), "forged signature");
    assert_eq!(location(&client.get(f.app.at("/")).send().await.unwrap()).as_deref(), Some("/signin"));
}

#[tokio::test]
async fn state_must_be_this_browsers_and_is_used_once() {
    let f = fixture().await;
    let upn = unique_user("dave");
    f.provision(&upn).await;
    let client = f.app.client();
    let authz = f.begin(&client).await;
    let token = || {
        f.key.sign(&{
            let mut c = f.op.claims(&authz.nonce, "oid-dave", &upn);
            c["preferred_username"] = json!(upn);
            c
        })
    };

    // A callback with another state, or one arriving in another browser (login CSRF).
    let tampered = Authorize {
        state: "forged-state".into(),
        nonce: authz.nonce.clone(),
        challenge: authz.challenge.clone(),
    };
    assert!(sso_refusal(f.callback(&client, &tampered, token()).await, 400).await.contains("Start again"));
    let other_browser = f.app.client();
    assert!(
        sso_refusal(f.callback(&other_browser, &authz, token()).await, 400).await.contains("another browser")
    );

    // The real one works once; its replay is refused.
    assert_eq!(f.callback(&client, &authz, token()).await.status(), 303);
    let replay_client = f.app.client();
    let replay = replay_client
        .get(f.app.at(&format!("/sso/oidc/callback?code=x&state={}", authz.state)))
        .header("cookie", format!("scimpad_sso_state={}", authz.state))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 400);
}

#[tokio::test]
async fn the_provider_saying_no_is_shown() {
    let f = fixture().await;
    let client = f.app.client();
    let authz = f.begin(&client).await;
    let url = format!(
        "/sso/oidc/callback?error=access_denied&error_description=User+is+not+assigned&state={}",
        authz.state
    );
    let text = sso_refusal(client.get(f.app.at(&url)).send().await.unwrap(), 403).await;
    assert!(text.contains("User is not assigned"), "{text}");
}

#[tokio::test]
async fn keys_are_fetched_again_for_an_unknown_key_id_at_most_once_a_minute() {
    let f = fixture().await;
    let upn = unique_user("gina");
    f.provision(&upn).await;
    let client = f.app.client();

    // The provider rolls its key between our redirect and the callback: one refetch finds it.
    let authz = f.begin(&client).await;
    let fetched = f.op.discovery_fetches();
    let rolled = SigningKey::generate("key-2");
    f.op.roll_to(rolled.clone());
    let mut claims = f.op.claims(&authz.nonce, "oid-gina", &upn);
    claims["preferred_username"] = json!(upn);
    assert_eq!(f.callback(&client, &authz, rolled.sign(&claims)).await.status(), 303);
    assert_eq!(f.op.discovery_fetches(), fetched + 1);

    // A key id the provider never published: refused, and no second refetch within the minute.
    let rogue = SigningKey::generate("rogue");
    for _ in 0..2 {
        let res = f.sign_in_with(&f.app.client(), person("oid-gina", upn.clone()), &rogue).await;
        assert!(sso_refusal(res, 400).await.contains("could not be verified"));
    }
    assert_eq!(f.op.discovery_fetches(), fetched + 1, "rate limited");
}

/// The role changes of organisation `org_id` in the audit log, oldest first.
async fn role_changes(app: &TestApp, org_id: &str) -> Vec<String> {
    use domain::entities::audit_event as event;
    event::Entity::find()
        .filter(event::Column::OrgId.eq(org_id))
        .filter(event::Column::Kind.eq("role_changed"))
        .order_by_asc(event::Column::At)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.detail)
        .collect()
}

async fn role_of(app: &TestApp, id: &str) -> domain::accounts::Role {
    domain::entities::user::Entity::find_by_id(id.to_owned()).one(&app.db).await.unwrap().unwrap().role
}

#[tokio::test]
async fn app_roles_in_the_id_token_set_the_role_at_each_sign_in_but_never_below_one_admin() {
    use domain::accounts::Role;
    let f = fixture().await;
    let upn = unique_user("alice");
    let alice = f.provision(&upn).await;
    let with_roles = |roles: Value| {
        let upn = upn.clone();
        move |c: &mut Value| {
            person("oid-alice", upn)(c);
            c["roles"] = roles;
        }
    };
    let org_id = f.org.admin.org_id.as_str();

    let res = f.sign_in_with(&f.app.client(), with_roles(json!(["Admin"])), &f.key).await;
    assert_eq!(res.status(), 303);
    assert_eq!(role_of(&f.app, &alice).await, Role::Admin);
    let res = f.sign_in_with(&f.app.client(), with_roles(json!(["User"])), &f.key).await;
    assert_eq!(res.status(), 303);
    assert_eq!(role_of(&f.app, &alice).await, Role::Member, "Ada is still an admin");
    // No roles claim: the role stays.
    f.sign_in_with(&f.app.client(), person("oid-alice", upn.clone()), &f.key).await;
    assert_eq!(role_of(&f.app, &alice).await, Role::Member);

    // Alice becomes the only active admin; a member role at sign-in keeps her an admin, and signs her in.
    f.sign_in_with(&f.app.client(), with_roles(json!(["Admin"])), &f.key).await;
    let ada = f.org.admin.user_id.clone();
    let alice_actor =
        domain::accounts::load_actor(&f.app.db, &alice, domain::testing::origin()).await.unwrap().unwrap();
    domain::roles::set_role(&f.app.db, &alice_actor, &ada, Role::Member).await.unwrap();
    let client = f.app.client();
    let res = f.sign_in_with(&client, with_roles(json!(["User"])), &f.key).await;
    assert_eq!(location(&res).as_deref(), Some("/"), "signed in");
    assert_eq!(role_of(&f.app, &alice).await, Role::Admin);

    let changes = role_changes(&f.app, org_id).await;
    assert_eq!(changes.len(), 5, "{changes:?}");
    assert!(changes[0].ends_with("an admin by Entra's app role at sign-in (was a member)"), "{changes:?}");
    assert!(changes[1].ends_with("a member by Entra's app role at sign-in (was an admin)"), "{changes:?}");
    assert!(changes[4].contains("they are the organisation's last active admin"), "{changes:?}");
}
