//! Verified SSO domains against a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL) and
//! real DNS: each test runs its own DNS server on loopback (`domain::testing::dns`) and publishes
//! or withdraws TXT records on it, so the resolver, its timeouts and its reading of NXDOMAIN and
//! SERVFAIL are the production ones.

use domain::{
    DomainError,
    accounts::{self, Actor, Role, SignUp},
    audit::Kind,
    entities::{audit_event, sso_domain},
    sea_orm::{
        ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    },
    sso::{
        connections::{self, SamlInput},
        domains::{self, ClaimState, DomainClaim, MAX_CLAIMS_PER_ORG, RecheckPlan, RecheckReport},
    },
    testing::{
        self,
        dns::{Behaviour, TestDns},
        test_db, unique_email,
    },
};
use migrations::MigratorTrait;

const CERT: &str = include_str!("../src/sso/testdata/rsa.pem");
const TENANT: &str = "7f3c1e52-9a4b-4d6e-8f21-0c5b3a9d7e10";
const DAY_MS: i64 = 24 * 3600 * 1000;

/// A new organisation's admin, with an enabled SAML connection (so a routed email finds a target).
async fn admin(db: &DatabaseConnection) -> Actor {
    let ada = accounts::sign_up(
        db,
        &domain::testing::no_mail(),
        testing::origin(),
        SignUp {
            organization: "Contoso".into(),
            name: "Ada".into(),
            email: unique_email("ada"),
            password: "correct horse battery".into(),
        },
    )
    .await
    .unwrap();
    let saml = SamlInput {
        enabled: true,
        idp_entity_id: format!("https://sts.windows.net/{TENANT}/"),
        sso_url: format!("https://login.microsoftonline.com/{TENANT}/saml2"),
        certificates: CERT.into(),
    };
    connections::save_saml(db, &ada, saml).await.unwrap();
    ada
}

fn unique_domain() -> String {
    format!("{}.example", uuid::Uuid::new_v4().simple())
}

/// The organisation "Sign in with SSO" sends `email` to.
async fn routed(db: &DatabaseConnection, email: &str) -> Option<String> {
    connections::find_target(db, email).await.unwrap().map(|t| t.org_id)
}

/// The claim `id` of `actor`'s organisation as the settings page lists it.
async fn current(db: &DatabaseConnection, actor: &Actor, id: &str) -> DomainClaim {
    domains::list(db, actor).await.unwrap().into_iter().find(|c| c.id == id).expect("the claim is listed")
}

async fn verify(
    db: &DatabaseConnection,
    dns: &TestDns,
    actor: &Actor,
    claim: &DomainClaim,
) -> Result<DomainClaim, DomainError> {
    domains::verify(db, &dns.verifier(), actor, &claim.id, domain::clock::now_ms()).await
}

fn invalid_message(err: DomainError) -> String {
    match err {
        DomainError::Invalid { field: "verify", message } => message,
        other => panic!("expected a verification failure, got {other:?}"),
    }
}

fn verified(claim: &DomainClaim) -> bool {
    matches!(claim.state, ClaimState::Verified { .. } | ClaimState::Failing { .. })
}

#[tokio::test]
async fn claims_are_normalised_validated_and_bounded_per_organisation() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let bad = domains::add(&db, &domain::testing::no_mail(), &ada, "not a domain").await.unwrap_err();
    assert!(matches!(bad, DomainError::Invalid { field: "domain", .. }), "{bad:?}");

    let name = unique_domain();
    let claim = domains::add(&db, &domain::testing::no_mail(), &ada, &format!(" @{}. ", name.to_uppercase()))
        .await
        .unwrap();
    assert_eq!(claim.domain, name);
    assert_eq!(claim.state, ClaimState::Pending);
    assert_eq!(claim.record_name, format!("_scimpad-challenge.{name}"));
    let token = claim.record_value.strip_prefix("scimpad-domain-verification=").unwrap();
    assert!(token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    let again = domains::add(&db, &domain::testing::no_mail(), &ada, &name).await.unwrap_err();
    assert!(again.to_string().contains("already on your list"), "{again}");

    let idn = format!("bücher-{}.example", uuid::Uuid::new_v4().simple());
    let unicode = domains::add(&db, &domain::testing::no_mail(), &ada, &idn).await.unwrap();
    assert!(unicode.domain.starts_with("xn--"), "{}", unicode.domain);
    assert_eq!(unicode.unicode.as_deref(), Some(idn.as_str()));

    for _ in 2..MAX_CLAIMS_PER_ORG {
        domains::add(&db, &domain::testing::no_mail(), &ada, &unique_domain()).await.unwrap();
    }
    let over = domains::add(&db, &domain::testing::no_mail(), &ada, &unique_domain()).await.unwrap_err();
    assert!(over.to_string().contains("at most 20 domains"), "{over}");
    domains::remove(&db, &ada, &claim.id).await.unwrap();
    domains::add(&db, &domain::testing::no_mail(), &ada, &unique_domain()).await.unwrap();
    assert_eq!(domains::list(&db, &ada).await.unwrap().len() as u64, MAX_CLAIMS_PER_ORG);

    // Another organisation's claim is not found, let alone removed.
    let other = admin(&db).await;
    assert!(matches!(domains::remove(&db, &other, &unicode.id).await, Err(DomainError::NotFound)));
    let dns = TestDns::start().await;
    assert!(matches!(verify(&db, &dns, &other, &unicode).await, Err(DomainError::NotFound)));
}

#[tokio::test]
async fn members_cannot_see_or_change_domains() {
    let db = test_db().await;
    let dns = TestDns::start().await;
    let mut member = admin(&db).await;
    let claim = domains::add(&db, &domain::testing::no_mail(), &member, &unique_domain()).await.unwrap();
    member.role = Role::Member;
    assert!(matches!(domains::list(&db, &member).await, Err(DomainError::Forbidden)));
    assert!(matches!(
        domains::add(&db, &domain::testing::no_mail(), &member, &unique_domain()).await,
        Err(DomainError::Forbidden)
    ));
    assert!(matches!(verify(&db, &dns, &member, &claim).await, Err(DomainError::Forbidden)));
    assert!(matches!(domains::remove(&db, &member, &claim.id).await, Err(DomainError::Forbidden)));
}

#[tokio::test]
async fn an_unverified_claim_routes_nobody_and_blocks_nobody() {
    let db = test_db().await;
    let name = unique_domain();
    let (mallory, contoso) = (admin(&db).await, admin(&db).await);
    let squatted = domains::add(&db, &domain::testing::no_mail(), &mallory, &name).await.unwrap();
    let real = domains::add(&db, &domain::testing::no_mail(), &contoso, &name).await.unwrap();
    assert_ne!(squatted.record_value, real.record_value, "each claim has its own token");
    assert_eq!(routed(&db, &format!("alice@{name}")).await, None);

    // Contoso proves control; Mallory's claim stays pending and never routes.
    let dns = TestDns::start().await;
    dns.add_txt(&real.record_name, &real.record_value);
    let proven = verify(&db, &dns, &contoso, &real).await.unwrap();
    assert!(matches!(proven.state, ClaimState::Verified { .. }), "{:?}", proven.state);
    assert_eq!(
        routed(&db, &format!("Alice@{}", name.to_uppercase())).await,
        Some(contoso.org_id.to_string())
    );
    let refused = invalid_message(verify(&db, &dns, &mallory, &squatted).await.unwrap_err());
    assert!(refused.contains("No TXT record"), "{refused}");
    assert_eq!(current(&db, &mallory, &squatted.id).await.state, ClaimState::Pending);
    // Only the exact domain routes.
    assert_eq!(routed(&db, &format!("alice@sub.{name}")).await, None);
}

#[tokio::test]
async fn verify_needs_the_exact_record_and_says_which_one() {
    let db = test_db().await;
    let dns = TestDns::start().await;
    let ada = admin(&db).await;
    let claim = domains::add(&db, &domain::testing::no_mail(), &ada, &unique_domain()).await.unwrap();

    // NXDOMAIN: nothing published at the name.
    let nothing = invalid_message(verify(&db, &dns, &ada, &claim).await.unwrap_err());
    assert_eq!(
        nothing,
        format!(
            "No TXT record {} found at {} yet. DNS changes can take a while to appear.",
            claim.record_value, claim.record_name
        )
    );
    let noted = current(&db, &ada, &claim.id).await;
    assert_eq!(noted.state, ClaimState::Pending);
    assert_eq!(noted.last_error.as_deref(), Some(nothing.as_str()));
    assert!(noted.last_checked_at.is_some());

    // Other TXT records at the name, and another token, prove nothing.
    dns.add_txt(&claim.record_name, "v=spf1 -all");
    dns.add_txt(&claim.record_name, "scimpad-domain-verification=00000000000000000000000000000000");
    let wrong = invalid_message(verify(&db, &dns, &ada, &claim).await.unwrap_err());
    assert!(wrong.starts_with("No TXT record"), "{wrong}");
    // The record at the domain itself instead of under _scimpad-challenge proves nothing either.
    dns.add_txt(&claim.domain, &claim.record_value);
    assert!(verify(&db, &dns, &ada, &claim).await.is_err());
    assert_eq!(routed(&db, &format!("alice@{}", claim.domain)).await, None);

    dns.add_txt(&claim.record_name, &claim.record_value);
    let proven = verify(&db, &dns, &ada, &claim).await.unwrap();
    assert!(matches!(proven.state, ClaimState::Verified { .. }), "{:?}", proven.state);
    assert_eq!(proven.last_error, None);
    assert_eq!(routed(&db, &format!("alice@{}", claim.domain)).await, Some(ada.org_id.to_string()));
}

#[tokio::test]
async fn dns_errors_change_nothing() {
    let db = test_db().await;
    let dns = TestDns::start().await;
    let ada = admin(&db).await;
    let (pending, held) = (
        domains::add(&db, &domain::testing::no_mail(), &ada, &unique_domain()).await.unwrap(),
        domains::add(&db, &domain::testing::no_mail(), &ada, &unique_domain()).await.unwrap(),
    );
    dns.add_txt(&held.record_name, &held.record_value);
    dns.add_txt(&pending.record_name, &pending.record_value);
    verify(&db, &dns, &ada, &held).await.unwrap();

    for (behaviour, says) in
        [(Behaviour::ServFail, "Server Failure"), (Behaviour::Silent, "did not answer in time")]
    {
        dns.behave(behaviour);
        for claim in [&pending, &held] {
            let err = invalid_message(verify(&db, &dns, &ada, claim).await.unwrap_err());
            assert!(err.starts_with(&format!("Could not check {}", claim.record_name)), "{err}");
            assert!(err.contains(says) && err.contains("Nothing changed"), "{err}");
        }
        assert_eq!(current(&db, &ada, &pending.id).await.state, ClaimState::Pending);
        assert!(matches!(current(&db, &ada, &held.id).await.state, ClaimState::Verified { .. }));
        assert_eq!(routed(&db, &format!("bob@{}", held.domain)).await, Some(ada.org_id.to_string()));
    }
}

#[tokio::test]
async fn a_domain_changes_hands_only_once_the_holders_record_is_gone() {
    let db = test_db().await;
    let dns = TestDns::start().await;
    let name = unique_domain();
    let (old, new) = (admin(&db).await, admin(&db).await);
    let old_claim = domains::add(&db, &domain::testing::no_mail(), &old, &name).await.unwrap();
    dns.add_txt(&old_claim.record_name, &old_claim.record_value);
    verify(&db, &dns, &old, &old_claim).await.unwrap();

    // Both records published: the newcomer is refused, the holder keeps the domain.
    let new_claim = domains::add(&db, &domain::testing::no_mail(), &new, &name).await.unwrap();
    dns.add_txt(&new_claim.record_name, &new_claim.record_value);
    let both = verify(&db, &dns, &new, &new_claim).await.unwrap_err();
    let DomainError::Conflict(message) = both else { panic!("expected a conflict, got {both:?}") };
    assert!(message.contains("both records exist") && message.contains("must remove"), "{message}");
    assert_eq!(routed(&db, &format!("alice@{name}")).await, Some(old.org_id.to_string()));
    assert_eq!(current(&db, &new, &new_claim.id).await.last_error.as_deref(), Some(message.as_str()));

    // The DNS owner withdraws the old record: the domain changes hands at the newcomer's check.
    dns.remove(&old_claim.record_name);
    dns.add_txt(&new_claim.record_name, &new_claim.record_value);
    let taken = verify(&db, &dns, &new, &new_claim).await.unwrap();
    assert!(matches!(taken.state, ClaimState::Verified { .. }));
    assert_eq!(routed(&db, &format!("alice@{name}")).await, Some(new.org_id.to_string()));
    let lost = current(&db, &old, &old_claim.id).await;
    assert_eq!(lost.state, ClaimState::Pending);
    assert!(lost.last_error.unwrap().contains("another organisation proved control"));
    // The organisation that lost the domain finds out in its own audit log.
    let (kind, detail, via) = domain_events(&db, old.org_id.as_str()).await.pop().unwrap();
    assert_eq!((kind, via.as_str()), (Kind::SsoDomainUnverified, "server"));
    assert!(detail.starts_with(&format!("{name}: another organisation proved control")), "{detail}");
}

#[tokio::test]
async fn two_organisations_proving_a_domain_at_once_end_with_one_verified() {
    let db = test_db().await;
    let dns = TestDns::start().await;
    let verifier = dns.verifier();
    for _ in 0..5 {
        let name = unique_domain();
        let (a, b) = (admin(&db).await, admin(&db).await);
        let (ca, cb) = (
            domains::add(&db, &domain::testing::no_mail(), &a, &name).await.unwrap(),
            domains::add(&db, &domain::testing::no_mail(), &b, &name).await.unwrap(),
        );
        dns.add_txt(&ca.record_name, &ca.record_value);
        dns.add_txt(&cb.record_name, &cb.record_value);
        let now = domain::clock::now_ms();
        let (ra, rb) = tokio::join!(
            domains::verify(&db, &verifier, &a, &ca.id, now),
            domains::verify(&db, &verifier, &b, &cb.id, now)
        );
        let refused = match (ra, rb) {
            (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
            other => panic!("expected exactly one verified, got {other:?}"),
        };
        assert!(matches!(refused, DomainError::Conflict(_)), "{refused:?}");
        let holders = sso_domain::Entity::find()
            .filter(sso_domain::Column::Domain.eq(name.as_str()))
            .filter(sso_domain::Column::VerifiedAt.is_not_null())
            .all(&db)
            .await
            .unwrap();
        assert_eq!(holders.len(), 1);
        assert_eq!(routed(&db, &format!("alice@{name}")).await, Some(holders[0].org_id.clone()));
    }
}

#[tokio::test]
async fn what_admins_change_is_in_the_audit_log() {
    let db = test_db().await;
    let dns = TestDns::start().await;
    let ada = admin(&db).await;
    let claim = domains::add(&db, &domain::testing::no_mail(), &ada, &unique_domain()).await.unwrap();
    verify(&db, &dns, &ada, &claim).await.unwrap_err();
    dns.add_txt(&claim.record_name, &claim.record_value);
    verify(&db, &dns, &ada, &claim).await.unwrap();
    domains::remove(&db, &ada, &claim.id).await.unwrap();
    let d = &claim.domain;
    assert_eq!(
        domain_events(&db, ada.org_id.as_str()).await,
        [
            (Kind::SsoDomainAdded, format!("{d}, pending verification"), "web".to_owned()),
            (Kind::SsoDomainVerified, d.clone(), "web".to_owned()),
            (Kind::SsoDomainRemoved, format!("{d} (verified)"), "web".to_owned()),
        ],
        "a failed check changes nothing and records nothing"
    );
}

/// The organisation's domain events, oldest first: kind, detail, and where they came from.
async fn domain_events(db: &DatabaseConnection, org_id: &str) -> Vec<(Kind, String, String)> {
    audit_event::Entity::find()
        .filter(audit_event::Column::OrgId.eq(org_id))
        .filter(audit_event::Column::Kind.starts_with("sso_domain_"))
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (Kind::parse(&e.kind).unwrap(), e.detail, e.via))
        .collect()
}

#[tokio::test]
async fn checks_started_by_people_are_budgeted_per_organisation() {
    let db = test_db().await;
    let dns = TestDns::start().await;
    let ada = admin(&db).await;
    let claim = domains::add(&db, &domain::testing::no_mail(), &ada, &unique_domain()).await.unwrap();
    for _ in 0..domains::CHECKS_PER_WINDOW {
        assert!(matches!(verify(&db, &dns, &ada, &claim).await, Err(DomainError::Invalid { .. })));
    }
    // Removing and adding the claim again does not buy more checks.
    domains::remove(&db, &ada, &claim.id).await.unwrap();
    let again = domains::add(&db, &domain::testing::no_mail(), &ada, &claim.domain).await.unwrap();
    dns.add_txt(&again.record_name, &again.record_value);
    assert!(matches!(verify(&db, &dns, &ada, &again).await, Err(DomainError::Throttled { .. })));
    // Another organisation has its own budget.
    let other = admin(&db).await;
    let theirs = domains::add(&db, &domain::testing::no_mail(), &other, &unique_domain()).await.unwrap();
    assert!(matches!(verify(&db, &dns, &other, &theirs).await, Err(DomainError::Invalid { .. })));
}

/// Makes `claims` due a re-check: their last check moves to 0, and a plan with `every_ms` of
/// `now - 1` finds due only claims checked before 1 ms after the epoch, so a pass touches this
/// test's claims only, also on a PostgreSQL database other tests share.
async fn make_due(db: &DatabaseConnection, claims: &[&DomainClaim]) {
    for claim in claims {
        sso_domain::Entity::update_many()
            .col_expr(sso_domain::Column::LastCheckedAt, Some(0_i64).into())
            .filter(sso_domain::Column::Id.eq(claim.id.as_str()))
            .exec(db)
            .await
            .unwrap();
    }
}

fn plan(now: i64, batch: u64) -> RecheckPlan {
    RecheckPlan { now, every_ms: now - 1, batch, concurrency: 2 }
}

#[tokio::test]
async fn verified_domains_are_rechecked_and_stop_routing_after_three_misses_in_a_row() {
    let db = test_db().await;
    let dns = TestDns::start().await;
    let verifier = dns.verifier();
    let ada = admin(&db).await;
    let mut claims = Vec::new();
    for _ in 0..3 {
        let claim = domains::add(&db, &domain::testing::no_mail(), &ada, &unique_domain()).await.unwrap();
        dns.add_txt(&claim.record_name, &claim.record_value);
        verify(&db, &dns, &ada, &claim).await.unwrap();
        claims.push(claim);
    }
    let [kept, dropped, flaky] = [&claims[0], &claims[1], &claims[2]];
    let state = |claim: &DomainClaim| {
        let (db, ada, id) = (db.clone(), ada.clone(), claim.id.clone());
        async move { current(&db, &ada, &id).await }
    };
    let all = [kept, dropped, flaky];
    let start = domain::clock::now_ms();

    // Nothing is due until its last check is old enough.
    let idle = domains::recheck_due(&db, &verifier, plan(start, 50)).await.unwrap();
    assert_eq!(idle, RecheckReport::default());

    // Day 1: two records are gone. Two passes at once (two instances) check each claim once.
    dns.remove(&dropped.record_name);
    dns.remove(&flaky.record_name);
    make_due(&db, &all).await;
    let day1 = start + DAY_MS;
    let (a, b) = tokio::join!(
        domains::recheck_due(&db, &verifier, plan(day1, 50)),
        domains::recheck_due(&db, &verifier, plan(day1, 50))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.checked + b.checked, a.found + b.found, a.missing + b.missing), (3, 1, 2), "{a:?} {b:?}");
    let failing = state(dropped).await;
    assert!(
        matches!(failing.state, ClaimState::Failing { failing_since, misses: 1, .. } if failing_since == day1),
        "{:?}",
        failing.state
    );
    assert!(failing.last_error.unwrap().contains("(1 so far)"));
    assert_eq!(
        routed(&db, &format!("carol@{}", dropped.domain)).await,
        Some(ada.org_id.to_string()),
        "still routing"
    );

    // Days 2 and 3: DNS errors and timeouts count for nothing, either way.
    for (day, behaviour) in [(2, Behaviour::ServFail), (3, Behaviour::Silent)] {
        dns.behave(behaviour);
        make_due(&db, &all).await;
        let report = domains::recheck_due(&db, &verifier, plan(start + day * DAY_MS, 50)).await.unwrap();
        assert_eq!((report.checked, report.failed), (3, 3), "{report:?}");
        assert!(matches!(state(dropped).await.state, ClaimState::Failing { misses: 1, .. }));
        assert!(
            matches!(state(kept).await.state, ClaimState::Verified { .. }),
            "a DNS error never un-verifies"
        );
    }
    dns.behave(Behaviour::Answer);

    // A click on Verify of a failing claim is one more check: it counts, and says so.
    let click = domains::verify(&db, &verifier, &ada, &flaky.id, start + 3 * DAY_MS + 1).await.unwrap_err();
    let click = invalid_message(click);
    assert!(click.starts_with("No TXT record") && click.contains("(2 so far)"), "{click}");
    assert!(matches!(state(flaky).await.state, ClaimState::Failing { misses: 2, .. }));

    // Day 4, in batches of two: the flaky record is back (its misses reset), the other still gone.
    dns.add_txt(&flaky.record_name, &flaky.record_value);
    make_due(&db, &all).await;
    let day4 = start + 4 * DAY_MS;
    let first = domains::recheck_due(&db, &verifier, plan(day4, 2)).await.unwrap();
    let second = domains::recheck_due(&db, &verifier, plan(day4, 2)).await.unwrap();
    assert_eq!((first.checked, second.checked), (2, 1));
    assert_eq!((first.found + second.found, first.missing + second.missing), (2, 1));
    assert!(matches!(state(flaky).await.state, ClaimState::Verified { .. }));
    assert!(matches!(state(dropped).await.state, ClaimState::Failing { misses: 2, .. }));

    // Day 5: the third miss in a row. The domain stops routing; the others still do.
    make_due(&db, &all).await;
    let day5 = domains::recheck_due(&db, &verifier, plan(start + 5 * DAY_MS, 50)).await.unwrap();
    assert_eq!((day5.checked, day5.found, day5.unverified), (3, 2, 1), "{day5:?}");
    let lost = state(dropped).await;
    assert_eq!(lost.state, ClaimState::Pending);
    assert!(lost.last_error.unwrap().contains("in 3 checks in a row since"));
    assert_eq!(routed(&db, &format!("carol@{}", dropped.domain)).await, None);
    assert_eq!(routed(&db, &format!("carol@{}", kept.domain)).await, Some(ada.org_id.to_string()));
    let unverified: Vec<_> = domain_events(&db, ada.org_id.as_str())
        .await
        .into_iter()
        .filter(|e| e.0 == Kind::SsoDomainUnverified)
        .collect();
    assert_eq!(unverified.len(), 1, "the admins learn why the domain stopped routing: {unverified:?}");
    assert_eq!(unverified[0].2, "server");
    assert!(unverified[0].1.starts_with(&format!("{}: its TXT record", dropped.domain)), "{unverified:?}");
    assert!(verified(&state(flaky).await));

    // Unverified claims are not re-checked; publishing the record and verifying brings it back.
    make_due(&db, &all).await;
    let after = domains::recheck_due(&db, &verifier, plan(start + 6 * DAY_MS, 50)).await.unwrap();
    assert_eq!(after.checked, 2);
    dns.add_txt(&dropped.record_name, &dropped.record_value);
    assert!(verified(&verify(&db, &dns, &ada, dropped).await.unwrap()));
}

#[tokio::test]
async fn domains_saved_before_the_upgrade_become_pending_claims() {
    let empty = testing::EmptyDatabase::new().await;
    let db = Database::connect(&empty.url).await.unwrap();
    // Every migration before verified domains: what an existing installation has.
    let before =
        migrations::Migrator::migrations().iter().position(|m| m.name().ends_with("_sso_domains")).unwrap();
    migrations::Migrator::up(&db, Some(before as u32)).await.unwrap();
    for (id, slug, domain) in [("org-a", "a", Some("contoso.example")), ("org-b", "b", None)] {
        let domain = domain.map_or("NULL".to_owned(), |d| format!("'{d}'"));
        db.execute_unprepared(&format!(
            "INSERT INTO organizations (id, name, slug, created_at, sso_required, sso_domain, members_replace) \
             VALUES ('{id}', 'Org', '{slug}', 0, false, {domain}, 'additive')"
        ))
        .await
        .unwrap();
    }
    migrations::Migrator::up(&db, None).await.unwrap();

    let claims = sso_domain::Entity::find().all(&db).await.unwrap();
    assert_eq!(claims.len(), 1);
    let claim = &claims[0];
    assert_eq!((claim.org_id.as_str(), claim.domain.as_str()), ("org-a", "contoso.example"));
    assert_eq!((claim.verified_at, claim.misses), (None, 0), "never proven, so pending");
    assert!(uuid::Uuid::parse_str(&claim.id).is_ok(), "{}", claim.id);
    assert!(claim.token.len() == 32 && claim.token.bytes().all(|b| b.is_ascii_hexdigit()), "{}", claim.token);
    assert!(claim.created_at > 1_700_000_000_000, "{}", claim.created_at);
    // The old column's unique index is gone: it can block nobody.
    db.execute_unprepared("UPDATE organizations SET sso_domain = 'contoso.example' WHERE id = 'org-b'")
        .await
        .unwrap();

    db.close().await.unwrap();
    empty.drop().await;
}
