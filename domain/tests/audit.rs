//! The admin audit log against a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL):
//! which actions record which events, with who, from where and with what user agent; what a
//! stranger can and cannot write into an organisation's log; filters, paging, organisation
//! scoping, the admin-only rule, and the retention purge.

use std::net::IpAddr;

use domain::{
    DomainError,
    accounts::{self, Actor, Role, SignUp},
    api_keys,
    audit::{self, AuditFilter, Kind, PAGE_SIZE},
    entities::audit_event,
    origin::{Client, Origin},
    sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder},
    sso::{
        connections::{self, PolicyInput, Protocol, SamlInput},
        linking::{self, IdpIdentity, Refusal},
    },
    testing::{self, test_db, unique_email},
};

const PASSWORD: &str = "correct horse battery";

fn sign_up_input(email: &str) -> SignUp {
    SignUp {
        organization: "Contoso".into(),
        name: "Ada Admin".into(),
        email: email.into(),
        password: PASSWORD.into(),
    }
}

async fn admin(db: &DatabaseConnection) -> Actor {
    accounts::sign_up(
        db,
        &domain::testing::no_mail(),
        testing::origin(),
        sign_up_input(&unique_email("audit")),
    )
    .await
    .unwrap()
}

/// The organisation's events, oldest first.
async fn events(db: &DatabaseConnection, org_id: &str) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::OrgId.eq(org_id))
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await
        .unwrap()
}

/// The organisation's events of `kind`, oldest first.
async fn of_kind(db: &DatabaseConnection, org_id: &str, kind: Kind) -> Vec<audit_event::Model> {
    events(db, org_id).await.into_iter().filter(|e| e.kind == kind.as_str()).collect()
}

fn browser(addr: &str) -> Client {
    Client::new(addr.parse::<IpAddr>().unwrap(), Some("Mozilla/5.0 (X11; Linux x86_64) Chromium/156"))
}

#[tokio::test]
async fn sign_up_records_the_organisation_with_its_origin() {
    let db = test_db().await;
    let from = browser("2001:db8::7");
    let ada = accounts::sign_up(
        &db,
        &domain::testing::no_mail(),
        Origin::Request(from),
        sign_up_input(&unique_email("new")),
    )
    .await
    .unwrap();
    let rows = events(&db, ada.org_id.as_str()).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let created = &rows[0];
    assert_eq!(created.kind, Kind::OrganizationCreated.as_str());
    assert_eq!(created.actor_id.as_deref(), Some(ada.user_id.as_str()));
    assert_eq!(created.actor, format!("Ada Admin <{}>", ada.email));
    assert_eq!((created.via.as_str(), created.client_addr.as_deref()), ("web", Some("2001:db8::7")));
    assert!(created.user_agent.as_deref().unwrap().starts_with("Mozilla/5.0"));
    assert!(created.detail.contains("“Contoso” created"), "{}", created.detail);
}

#[tokio::test]
async fn sign_ins_and_their_failures_are_recorded_in_the_persons_organisation() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let from = browser("192.0.2.10");

    accounts::sign_in(&db, &from, &ada.email.to_uppercase(), PASSWORD).await.unwrap();
    accounts::sign_in(&db, &from, &ada.email, "wrong horse battery").await.unwrap_err();
    let signed_in = of_kind(&db, ada.org_id.as_str(), Kind::SignedIn).await;
    let failed = of_kind(&db, ada.org_id.as_str(), Kind::SignInFailed).await;
    assert_eq!((signed_in.len(), failed.len()), (1, 1));
    for row in [&signed_in[0], &failed[0]] {
        assert_eq!(row.actor_id.as_deref(), Some(ada.user_id.as_str()));
        assert_eq!(row.client_addr.as_deref(), Some("192.0.2.10"));
        assert_eq!(row.user_agent, from.user_agent);
    }
    assert_eq!(failed[0].detail, "wrong password");
}

#[tokio::test]
async fn a_stranger_cannot_fill_a_log_beyond_the_sign_in_throttle() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let attacker = testing::client();
    for _ in 0..domain::throttle::MAX_FAILURES + 5 {
        let refused = accounts::sign_in(&db, &attacker, &ada.email, "a wrong guess").await.unwrap_err();
        assert!(matches!(refused, DomainError::InvalidCredentials | DomainError::Throttled { .. }));
    }
    let failed = of_kind(&db, ada.org_id.as_str(), Kind::SignInFailed).await;
    assert_eq!(failed.len(), domain::throttle::MAX_FAILURES as usize, "throttled attempts are not recorded");

    // An unknown email belongs to no organisation: nothing is recorded anywhere.
    let ghost = unique_email("ghost");
    accounts::sign_in(&db, &testing::client(), &ghost, PASSWORD).await.unwrap_err();
    let anywhere =
        audit_event::Entity::find().filter(audit_event::Column::Actor.contains(&ghost)).all(&db).await;
    assert!(anywhere.unwrap().is_empty());
}

#[tokio::test]
async fn api_key_changes_say_which_key_and_who_when_from_where() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let ada = Actor { origin: Origin::Request(browser("198.51.100.4")), ..ada };
    let key = api_keys::create(&db, &ada, "Entra ID provisioning", None).await.unwrap();
    let renewed = api_keys::regenerate(&db, &ada, &key.info.id).await.unwrap();
    api_keys::revoke(&db, &ada, &renewed.info.id).await.unwrap();

    let created = of_kind(&db, ada.org_id.as_str(), Kind::ApiKeyCreated).await;
    let regenerated = of_kind(&db, ada.org_id.as_str(), Kind::ApiKeyRegenerated).await;
    let revoked = of_kind(&db, ada.org_id.as_str(), Kind::ApiKeyRevoked).await;
    assert_eq!((created.len(), regenerated.len(), revoked.len()), (1, 1, 1));
    assert_eq!(created[0].detail, format!("“Entra ID provisioning” ({}); never expires", key.info.prefix));
    assert!(regenerated[0].detail.contains(&key.info.prefix), "{}", regenerated[0].detail);
    assert!(regenerated[0].detail.contains(&renewed.info.prefix), "{}", regenerated[0].detail);
    assert!(revoked[0].detail.contains(&renewed.info.prefix), "{}", revoked[0].detail);
    for row in created.iter().chain(&regenerated).chain(&revoked) {
        assert_eq!(row.actor, format!("Ada Admin <{}>", ada.email));
        assert_eq!(row.client_addr.as_deref(), Some("198.51.100.4"));
    }
    // "Who regenerated the key that broke provisioning, and when?"
    let filter = AuditFilter::parse(Some(Kind::ApiKeyRegenerated.as_str()), None).unwrap();
    let answer = audit::page(&db, &ada, &filter, 1).await.unwrap();
    assert_eq!(answer.events, regenerated);
}

#[tokio::test]
async fn a_refused_change_records_nothing() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let before = events(&db, ada.org_id.as_str()).await.len();
    api_keys::create(&db, &ada, "   ", None).await.unwrap_err();
    api_keys::revoke(&db, &ada, &uuid::Uuid::new_v4().to_string()).await.unwrap_err();
    let member = Actor { role: Role::Member, ..ada.clone() };
    api_keys::create(&db, &member, "not allowed", None).await.unwrap_err();
    assert_eq!(events(&db, ada.org_id.as_str()).await.len(), before);
}

#[tokio::test]
async fn the_command_line_is_recorded_as_such() {
    let db = test_db().await;
    let email = unique_email("cli");
    let ada = accounts::sign_up(&db, &domain::testing::no_mail(), Origin::CommandLine, sign_up_input(&email))
        .await
        .unwrap();
    let operator = accounts::command_line_actor(&db, &email).await.unwrap().unwrap();
    assert_eq!(operator.origin, Origin::CommandLine);
    api_keys::create(&db, &operator, "made on the server", Some(domain::clock::now_ms() + 86_400_000))
        .await
        .unwrap();
    let rows = events(&db, ada.org_id.as_str()).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in &rows {
        assert_eq!(audit::from(row), "command line");
        assert_eq!((row.client_addr.as_ref(), row.user_agent.as_ref()), (None, None));
    }
    assert!(rows[1].detail.ends_with("expires in 1 day"), "{}", rows[1].detail);
}

#[tokio::test]
async fn password_and_email_changes_are_recorded() {
    let db = test_db().await;
    let ada = admin(&db).await;
    accounts::change_password(&db, &ada, "not my password", "another good passphrase").await.unwrap_err();
    assert!(of_kind(&db, ada.org_id.as_str(), Kind::PasswordChanged).await.is_empty());
    accounts::change_password(&db, &ada, PASSWORD, "another good passphrase").await.unwrap();
    assert_eq!(of_kind(&db, ada.org_id.as_str(), Kind::PasswordChanged).await.len(), 1);

    // A name-only change is not security-relevant; a new sign-in email is.
    accounts::update_profile(&db, &domain::testing::no_mail(), &ada, "Ada L.", &ada.email).await.unwrap();
    assert!(of_kind(&db, ada.org_id.as_str(), Kind::EmailChanged).await.is_empty());
    let new_email = unique_email("moved");
    accounts::update_profile(&db, &domain::testing::no_mail(), &ada, "Ada L.", &new_email).await.unwrap();
    let moved = of_kind(&db, ada.org_id.as_str(), Kind::EmailChanged).await;
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].detail, format!("from {} to {new_email}", ada.email));
}

#[tokio::test]
async fn sso_refusals_name_the_identity_that_was_refused() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let stranger = IdpIdentity {
        tenant_id: "7f3c1e52-9a4b-4d6e-8f21-0c5b3a9d7e10".into(),
        object_id: "oid-stranger".into(),
        user_name: Some("mallory@contoso.example".into()),
        roles: Vec::new(),
    };
    let from = browser("203.0.113.9");
    let refused = linking::resolve(&db, &from, Protocol::Oidc, ada.org_id.as_str(), None, &stranger)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused, Refusal::NotProvisioned);
    let rows = of_kind(&db, ada.org_id.as_str(), Kind::SsoSignInRefused).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].actor.as_str(), rows[0].actor_id.as_ref()), ("mallory@contoso.example", None));
    assert_eq!(rows[0].client_addr.as_deref(), Some("203.0.113.9"));
    assert!(
        rows[0].detail.starts_with("OIDC: nobody of this organisation is provisioned"),
        "{}",
        rows[0].detail
    );
}

#[tokio::test]
async fn sso_changes_say_what_was_saved() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let saml = SamlInput {
        enabled: true,
        idp_entity_id: "https://sts.windows.net/7f3c1e52-9a4b-4d6e-8f21-0c5b3a9d7e10/".into(),
        sso_url: "https://login.microsoftonline.com/7f3c1e52-9a4b-4d6e-8f21-0c5b3a9d7e10/saml2".into(),
        certificates: include_str!("../src/sso/testdata/rsa.pem").into(),
    };
    connections::save_saml(&db, &ada, saml.clone()).await.unwrap();
    connections::save_saml(&db, &ada, SamlInput { enabled: false, ..saml }).await.unwrap();
    connections::save_policy(&db, &ada, PolicyInput { sso_required: true }).await.unwrap_err();
    let changed = of_kind(&db, ada.org_id.as_str(), Kind::SsoConnectionChanged).await;
    assert_eq!(changed.len(), 2);
    assert!(changed[0].detail.starts_with("SAML connection saved, enabled: IdP https://sts.windows.net/"));
    assert!(changed[0].detail.ends_with("1 pinned certificate(s)"), "{}", changed[0].detail);
    assert!(changed[1].detail.starts_with("SAML connection saved, disabled"), "{}", changed[1].detail);
    assert!(
        of_kind(&db, ada.org_id.as_str(), Kind::SsoPolicyChanged).await.is_empty(),
        "a refused policy records nothing"
    );
    connections::save_policy(&db, &ada, PolicyInput { sso_required: false }).await.unwrap();
    let policy = of_kind(&db, ada.org_id.as_str(), Kind::SsoPolicyChanged).await;
    assert_eq!(policy.len(), 1);
    assert!(policy[0].detail.starts_with("require SSO off"), "{}", policy[0].detail);
}

#[tokio::test]
async fn pages_filter_by_kind_and_actor_within_the_organisation_only() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let other = admin(&db).await;
    for i in 0..PAGE_SIZE + 3 {
        api_keys::create(&db, &ada, &format!("key {i}"), None).await.unwrap();
        if i % 10 == 9 {
            // Keys are bounded per organisation; revoking keeps the loop creating.
            let keys = api_keys::list(&db, &ada).await.unwrap();
            for k in keys.iter().filter(|k| k.revoked_at.is_none()) {
                api_keys::revoke(&db, &ada, &k.id).await.unwrap();
            }
        }
    }
    api_keys::create(&db, &other, "the other organisation's", None).await.unwrap();

    let all = audit::page(&db, &ada, &AuditFilter::default(), 1).await.unwrap();
    let mine = events(&db, ada.org_id.as_str()).await.len() as u64;
    assert_eq!((all.total, all.events.len() as u64), (mine, PAGE_SIZE));
    assert!(all.events.windows(2).all(|w| (w[0].at, w[0].id) >= (w[1].at, w[1].id)), "newest first");
    // Walking every page visits each of the organisation's events once.
    let mut seen = std::collections::HashSet::new();
    for n in 1..=mine.div_ceil(PAGE_SIZE) {
        for e in audit::page(&db, &ada, &AuditFilter::default(), n).await.unwrap().events {
            assert_eq!(e.org_id, ada.org_id.as_str());
            assert!(seen.insert(e.id), "event {} on two pages", e.id);
        }
    }
    assert_eq!(seen.len() as u64, mine);
    assert!(audit::page(&db, &ada, &AuditFilter::default(), u64::MAX).await.unwrap().events.is_empty());

    let created = AuditFilter::parse(Some("api_key_created"), Some("  ")).unwrap();
    let page = audit::page(&db, &ada, &created, 1).await.unwrap();
    assert_eq!(page.total, PAGE_SIZE + 3);
    assert!(page.events.iter().all(|e| e.kind == "api_key_created"));

    let by_name = AuditFilter::parse(None, Some("ADA admin")).unwrap();
    assert_eq!(audit::page(&db, &ada, &by_name, 1).await.unwrap().total, mine);
    // LIKE's wildcards are taken literally.
    let wildcard = AuditFilter::parse(None, Some("%")).unwrap();
    assert_eq!(audit::page(&db, &ada, &wildcard, 1).await.unwrap().total, 0);

    let unknown = AuditFilter::parse(Some("drop table"), None).unwrap_err();
    assert!(matches!(unknown, DomainError::Invalid { field: "kind", .. }), "{unknown:?}");
    let member = Actor { role: Role::Member, ..ada.clone() };
    let forbidden = audit::page(&db, &member, &AuditFilter::default(), 1).await.unwrap_err();
    assert!(matches!(forbidden, DomainError::Forbidden));
}

#[tokio::test]
async fn events_past_the_retention_period_are_purged() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let day = 24 * 3600 * 1000;
    let old = audit_event::ActiveModel {
        id: Default::default(),
        org_id: Set(ada.org_id.to_string()),
        at: Set(domain::clock::now_ms() - 31 * day),
        kind: Set(Kind::SignedIn.as_str().into()),
        actor_id: Set(Some(ada.user_id.to_string())),
        actor: Set(ada.email.clone()),
        via: Set("web".into()),
        client_addr: Set(None),
        user_agent: Set(None),
        detail: Set(String::new()),
    };
    audit_event::Entity::insert(old).exec(&db).await.unwrap();
    assert_eq!(events(&db, ada.org_id.as_str()).await.len(), 2);
    assert!(audit::purge(&db, 30).await.unwrap() >= 1);
    let kept = events(&db, ada.org_id.as_str()).await;
    assert_eq!(kept.len(), 1, "the recent sign-up stays");
    assert_eq!(kept[0].kind, Kind::OrganizationCreated.as_str());
}
