//! SSO connections, policy, sign-ins in flight, one-time assertions and login binding against a
//! real database (SQLite, or PostgreSQL with TEST_DATABASE_URL).

use base64::{Engine, engine::general_purpose::STANDARD};
use domain::{
    DomainError, DomainResult,
    accounts::{self, Actor, Role, SignUp},
    directory::{Projection, Scope, users},
    entities::{sso_connection, sso_pending_login, user},
    sea_orm::{DatabaseConnection, EntityTrait},
    sso::{
        connections::{self, IssuerPolicy, OidcInput, PolicyInput, SamlInput},
        linking::{self, IdpIdentity, LinkResult, Refusal},
        pending::{self, Pending},
        replay,
        secret_box::SecretBox,
    },
    testing::{self, test_db, unique_email},
};
use serde_json::json;

const CERT: &str = include_str!("../src/sso/testdata/rsa.pem");
const TENANT: &str = "7f3c1e52-9a4b-4d6e-8f21-0c5b3a9d7e10";
const PUBLIC_URL: &str = "https://scimpad.example";

async fn admin(db: &DatabaseConnection) -> Actor {
    accounts::sign_up(
        db,
        &domain::testing::no_mail(),
        domain::testing::origin(),
        SignUp {
            organization: "Contoso".into(),
            name: "Ada".into(),
            email: unique_email("ada"),
            password: "correct horse battery".into(),
        },
    )
    .await
    .unwrap()
}

fn secrets() -> SecretBox {
    SecretBox::from_base64(&STANDARD.encode([3u8; 32])).unwrap()
}

fn saml_input() -> SamlInput {
    SamlInput {
        enabled: true,
        idp_entity_id: format!("https://sts.windows.net/{TENANT}/"),
        sso_url: format!("https://login.microsoftonline.com/{TENANT}/saml2"),
        certificates: CERT.into(),
    }
}

fn field_of(err: DomainError) -> &'static str {
    match err {
        DomainError::Invalid { field, .. } => field,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_saml_connection_needs_a_pinned_certificate_and_https() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let no_cert = SamlInput { certificates: String::new(), ..saml_input() };
    assert_eq!(field_of(connections::save_saml(&db, &ada, no_cert).await.unwrap_err()), "certificates");
    let plain = SamlInput { sso_url: "http://idp.example/saml2".into(), ..saml_input() };
    assert_eq!(field_of(connections::save_saml(&db, &ada, plain).await.unwrap_err()), "sso_url");

    connections::save_saml(&db, &ada, saml_input()).await.unwrap();
    let saved = connections::settings(&db, &ada).await.unwrap().saml.unwrap();
    assert_eq!(saved.entra_tenant(), Some(TENANT));
    assert_eq!(saved.certificates.len(), 1);
    assert!(saved.enabled);

    // Saving again updates the same connection (one per protocol).
    connections::save_saml(&db, &ada, SamlInput { enabled: false, ..saml_input() }).await.unwrap();
    let again = connections::settings(&db, &ada).await.unwrap().saml.unwrap();
    assert_eq!((again.id, again.enabled), (saved.id, false));
}

#[tokio::test]
async fn an_oidc_secret_is_sealed_and_kept_when_left_blank() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let policy = IssuerPolicy::default();
    let input = OidcInput {
        enabled: true,
        tenant: TENANT.into(),
        client_id: "client-1".into(),
        client_secret: "s3cret-value".into(),
    };
    let no_secret = OidcInput { client_secret: String::new(), ..input.clone() };
    assert_eq!(
        field_of(
            connections::save_oidc(&db, &secrets(), &policy, &ada, no_secret.clone()).await.unwrap_err()
        ),
        "client_secret"
    );
    connections::save_oidc(&db, &secrets(), &policy, &ada, input).await.unwrap();
    let oidc = connections::settings(&db, &ada).await.unwrap().oidc.unwrap();
    assert_eq!(oidc.issuer, format!("https://login.microsoftonline.com/{TENANT}/v2.0"));
    assert_eq!(oidc.tenant_id, TENANT);
    assert_eq!(oidc.client_secret(&secrets()).unwrap(), "s3cret-value");
    let row = sso_connection::Entity::find_by_id(oidc.id.clone()).one(&db).await.unwrap().unwrap();
    assert!(!row.oidc_client_secret.unwrap().contains("s3cret"), "never stored in clear");

    connections::save_oidc(&db, &secrets(), &policy, &ada, no_secret).await.unwrap();
    let kept = connections::oidc_by_id(&db, &oidc.id).await.unwrap().unwrap();
    assert_eq!(kept.client_secret(&secrets()).unwrap(), "s3cret-value", "blank keeps the saved secret");
}

#[tokio::test]
async fn oidc_issuers_must_be_tenant_specific_and_on_allowed_hosts() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let save = |tenant: &str, hosts: &[&str]| {
        let input = OidcInput {
            enabled: true,
            tenant: tenant.into(),
            client_id: "c".into(),
            client_secret: "s".into(),
        };
        let policy = IssuerPolicy { allowed_hosts: hosts.iter().map(|h| h.to_string()).collect() };
        let (db, ada) = (db.clone(), ada.clone());
        async move { connections::save_oidc(&db, &secrets(), &policy, &ada, input).await }
    };
    let ms = ["login.microsoftonline.com"];
    let common = save("https://login.microsoftonline.com/common/v2.0", &ms).await.unwrap_err();
    assert!(common.to_string().contains("never common"), "{common}");
    let other_host = save(&format!("https://evil.example/{TENANT}/v2.0"), &ms).await.unwrap_err();
    assert!(other_host.to_string().contains("not allowed"), "{other_host}");
    assert_eq!(field_of(save("not a tenant", &ms).await.unwrap_err()), "tenant");
    save(&format!("http://localhost:9010/{TENANT}/v2.0/"), &["localhost"]).await.unwrap();
    let oidc = connections::oidc_for_org(&db, ada.org_id.as_str()).await.unwrap().unwrap();
    assert_eq!(oidc.issuer, format!("http://localhost:9010/{TENANT}/v2.0"));
}

#[tokio::test]
async fn requiring_sso_needs_an_enabled_connection_and_the_sign_in_name_routes() {
    // Email domains route only once verified: domain/tests/sso_domains.rs.
    let db = test_db().await;
    let ada = admin(&db).await;
    let require = PolicyInput { sso_required: true };
    assert_eq!(
        field_of(connections::save_policy(&db, &ada, require.clone()).await.unwrap_err()),
        "sso_required"
    );

    connections::save_saml(&db, &ada, saml_input()).await.unwrap();
    connections::save_policy(&db, &ada, require).await.unwrap();
    let settings = connections::settings(&db, &ada).await.unwrap();
    assert!(settings.sso_required);
    let by_slug = connections::find_target(&db, &settings.org_slug.to_uppercase()).await.unwrap().unwrap();
    assert_eq!((by_slug.org_id.as_str(), by_slug.saml, by_slug.oidc), (ada.org_id.as_str(), true, false));
    assert_eq!(connections::find_target(&db, "no-such-org").await.unwrap(), None);
    assert_eq!(connections::find_target(&db, "someone@").await.unwrap(), None);
}

#[tokio::test]
async fn members_cannot_read_or_change_sso() {
    let db = test_db().await;
    let mut member = admin(&db).await;
    member.role = Role::Member;
    assert!(matches!(connections::settings(&db, &member).await, Err(DomainError::Forbidden)));
    assert!(matches!(connections::save_saml(&db, &member, saml_input()).await, Err(DomainError::Forbidden)));
}

#[tokio::test]
async fn a_pending_sign_in_is_taken_once() {
    let db = test_db().await;
    let ada = admin(&db).await;
    connections::save_saml(&db, &ada, saml_input()).await.unwrap();
    let conn = connections::settings(&db, &ada).await.unwrap().saml.unwrap();
    let key = pending::random_token();
    let remembered = Pending {
        connection_id: conn.id.clone(),
        request_id: Some("_req1".into()),
        return_to: pending::safe_return_to(PUBLIC_URL, Some("//evil.example/")),
        ..Default::default()
    };
    pending::remember(&db, &key, remembered).await.unwrap();
    let taken = pending::take(&db, &key).await.unwrap().unwrap();
    assert_eq!(taken.request_id.as_deref(), Some("_req1"));
    assert_eq!(taken.return_to, "/", "never an open redirect");
    assert_eq!(pending::take(&db, &key).await.unwrap(), None, "one time only");
    assert_eq!(pending::take(&db, "forged").await.unwrap(), None);
    assert_eq!(pending::safe_return_to(PUBLIC_URL, Some("/users?q=a")), "/users?q=a");
    assert_eq!(pending::safe_return_to(PUBLIC_URL, Some("https://evil.example")), "/");
}

#[tokio::test]
async fn an_assertion_id_is_accepted_once() {
    let db = test_db().await;
    let ada = admin(&db).await;
    connections::save_saml(&db, &ada, saml_input()).await.unwrap();
    let conn = connections::settings(&db, &ada).await.unwrap().saml.unwrap();
    let later = domain::clock::now_ms() + 60_000;
    assert!(replay::first_use(&db, &conn.id, "_a1", later).await.unwrap());
    assert!(!replay::first_use(&db, &conn.id, "_a1", later).await.unwrap());
    assert!(replay::first_use(&db, &conn.id, "_a2", later).await.unwrap());
}

async fn provision(db: &DatabaseConnection, org_id: &str, body: serde_json::Value) -> String {
    let scope = Scope { org_id: domain::ids::OrgId::new(org_id), base_url: "http://x/scim/v2".into() };
    users::create(db, &scope, &body, &Projection::default()).await.unwrap().id
}

fn identity(oid: &str, upn: Option<&str>) -> IdpIdentity {
    IdpIdentity {
        tenant_id: TENANT.into(),
        object_id: oid.into(),
        user_name: upn.map(Into::into),
        roles: Vec::new(),
    }
}

/// A SAML login of `identity` into `org`, from a client of its own.
async fn resolve(
    db: &DatabaseConnection,
    org: &str,
    tenant: Option<&str>,
    identity: &IdpIdentity,
) -> DomainResult<LinkResult> {
    linking::resolve(db, &testing::client(), connections::Protocol::Saml, org, tenant, identity).await
}

#[tokio::test]
async fn logins_bind_by_object_id_never_by_email() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let org = ada.org_id.as_str();
    let alice_upn = unique_email("alice");
    let alice = provision(&db, org, json!({"userName": alice_upn, "active": true})).await;
    let bob = provision(
        &db,
        org,
        json!({"userName": unique_email("bob"), "externalId": "oid-bob", "active": true}),
    )
    .await;
    let tenant = Some(TENANT);

    // First login: by externalId == oid, else by userName == UPN; the binding is stored.
    let by_upn = resolve(&db, org, tenant, &identity("oid-alice", Some(&alice_upn.to_uppercase()))).await;
    assert_eq!(by_upn.unwrap().unwrap().user_id.as_str(), alice);
    let by_external = resolve(&db, org, tenant, &identity("oid-bob", None)).await.unwrap().unwrap();
    assert_eq!(by_external.user_id.as_str(), bob);
    let stored = user::Entity::find_by_id(alice.clone()).one(&db).await.unwrap().unwrap();
    assert_eq!(stored.entra_object_id.as_deref(), Some("oid-alice"));

    // Bound: later logins go by oid, whatever the UPN says; another oid cannot take the UPN over.
    let renamed = resolve(&db, org, tenant, &identity("oid-alice", Some("new@contoso.example"))).await;
    assert_eq!(renamed.unwrap().unwrap().user_id.as_str(), alice);
    let hijack = resolve(&db, org, tenant, &identity("oid-mallory", Some(&alice_upn))).await.unwrap();
    assert_eq!(hijack, Err(Refusal::NotProvisioned));

    // Email never matches, local console accounts never bootstrap, other tenants are refused.
    let ada_login = resolve(&db, org, tenant, &identity("oid-x", Some(&ada.email))).await.unwrap();
    assert_eq!(ada_login, Err(Refusal::NotProvisioned));
    let foreign = IdpIdentity {
        tenant_id: "00000000-0000-4000-8000-000000000000".into(),
        ..identity("oid-alice", None)
    };
    assert_eq!(resolve(&db, org, tenant, &foreign).await.unwrap(), Err(Refusal::WrongTenant));
}

#[tokio::test]
async fn deactivated_and_deleted_people_are_refused() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let org = ada.org_id.as_str();
    let scope = Scope { org_id: domain::ids::OrgId::new(org), base_url: "http://x/scim/v2".into() };
    let upn = unique_email("carol");
    let carol =
        provision(&db, org, json!({"userName": upn, "externalId": "oid-carol", "active": true})).await;
    assert!(resolve(&db, org, None, &identity("oid-carol", None)).await.unwrap().is_ok());

    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    users::patch(&db, &scope, &carol, &off, None, &Projection::default()).await.unwrap();
    assert_eq!(
        resolve(&db, org, None, &identity("oid-carol", None)).await.unwrap(),
        Err(Refusal::Deactivated)
    );

    users::delete(&db, &scope, &carol, None).await.unwrap();
    assert_eq!(
        resolve(&db, org, None, &identity("oid-carol", Some(&upn))).await.unwrap(),
        Err(Refusal::NotProvisioned)
    );
}

#[tokio::test]
async fn requiring_sso_turns_password_sign_in_off_for_everyone_but_admins() {
    use domain::{
        entities::credential,
        sea_orm::{ActiveModelTrait, ActiveValue::Set},
    };
    let db = test_db().await;
    let ada = admin(&db).await;
    let member_email = unique_email("member");
    let member = provision(&db, ada.org_id.as_str(), json!({"userName": member_email, "active": true})).await;
    credential::ActiveModel {
        user_id: Set(member),
        email_lower: Set(member_email.to_lowercase()),
        password_hash: Set(domain::password::hash("member password 1".into()).await.unwrap()),
        updated_at: Set(0),
        email_verified_at: Set(None),
    }
    .insert(&db)
    .await
    .unwrap();
    assert!(
        accounts::sign_in(&db, &testing::client(), &member_email, "member password 1").await.is_ok(),
        "allowed before"
    );

    connections::save_saml(&db, &ada, saml_input()).await.unwrap();
    connections::save_policy(&db, &ada, PolicyInput { sso_required: true }).await.unwrap();
    let refused =
        accounts::sign_in(&db, &testing::client(), &member_email, "member password 1").await.unwrap_err();
    assert_eq!(field_of(refused), "email");
    assert!(
        accounts::sign_in(&db, &testing::client(), &ada.email, "correct horse battery").await.is_ok(),
        "admins keep break-glass"
    );
}

#[tokio::test]
async fn an_sso_persons_name_and_email_stay_the_identity_providers() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let upn = unique_email("ivy");
    provision(&db, ada.org_id.as_str(), json!({"userName": upn, "externalId": "oid-ivy", "active": true}))
        .await;
    let ivy = resolve(&db, ada.org_id.as_str(), None, &identity("oid-ivy", None)).await.unwrap().unwrap();
    assert!(ivy.managed_by_idp && !ada.managed_by_idp);
    let err =
        accounts::update_profile(&db, &domain::testing::no_mail(), &ivy, "Ivy", "ivy@elsewhere.example")
            .await
            .unwrap_err();
    assert!(err.to_string().contains("identity provider"), "{err}");
}

async fn sign_ins_kept(db: &DatabaseConnection, connection_id: &str) -> u64 {
    use domain::sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    sso_pending_login::Entity::find()
        .filter(sso_pending_login::Column::ConnectionId.eq(connection_id))
        .count(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_flood_of_sign_in_starts_drops_the_oldest_and_stays_bounded() {
    use domain::sso::pending::MAX_PENDING_PER_CONNECTION as MAX;
    let db = test_db().await;
    let ada = admin(&db).await;
    connections::save_saml(&db, &ada, saml_input()).await.unwrap();
    let conn = connections::settings(&db, &ada).await.unwrap().saml.unwrap();
    // An anonymous flood got there first, a few rows past the bound (as starts running at the
    // same moment on PostgreSQL may leave it).
    domain::testing::fill_pending_sign_ins(&db, &conn.id, MAX + 3).await;
    let next = |return_to: &str| Pending {
        connection_id: conn.id.clone(),
        return_to: return_to.into(),
        ..Default::default()
    };
    let real = pending::random_token();
    pending::remember(&db, &real, next("/users")).await.expect("a real start is never refused");
    assert_eq!(sign_ins_kept(&db, &conn.id).await, MAX, "back at the bound");
    for _ in 0..3 {
        pending::remember(&db, &pending::random_token(), next("/")).await.unwrap();
    }
    assert_eq!(sign_ins_kept(&db, &conn.id).await, MAX, "still at the bound");
    let taken = pending::take(&db, &real).await.unwrap().expect("the flood's older starts went first");
    assert_eq!(taken.return_to, "/users");
}
