//! Roles from the console (issue 13) against a real database (SQLite, or PostgreSQL with
//! TEST_DATABASE_URL): an admin makes people admins or members, never below one active admin,
//! only in their own organisation, each change audited; a demoted admin's API keys stop working.

use domain::{
    DomainError,
    accounts::{self, Actor, Role, SignUp},
    api_keys,
    audit::{self, Kind},
    directory::{Directory, Projection, ResourceKind, Scope},
    entities::user,
    ids::UserId,
    roles::set_role,
    sea_orm::{DatabaseConnection, EntityTrait},
    testing::{test_db, unique_email},
};
use serde_json::json;

async fn admin(db: &DatabaseConnection) -> Actor {
    let input = SignUp {
        organization: "Contoso".into(),
        name: "Ada Admin".into(),
        email: unique_email("roles"),
        password: "correct horse battery".into(),
    };
    accounts::sign_up(db, &domain::testing::no_mail(), domain::testing::origin(), input).await.unwrap()
}

/// A person Entra provisions into `actor`'s organisation (a member, as every provisioned person).
async fn provisioned(db: &DatabaseConnection, actor: &Actor) -> UserId {
    let scope = Scope { org_id: actor.org_id.clone(), base_url: "http://x/scim/v2".into() };
    let body = json!({"userName": unique_email("p"), "active": true});
    let written = db.create(&scope, ResourceKind::User, &body, &Projection::default()).await.unwrap();
    UserId::new(written.id)
}

async fn role_of(db: &DatabaseConnection, id: &UserId) -> Role {
    user::Entity::find_by_id(id.clone()).one(db).await.unwrap().unwrap().role
}

/// The actor `id` signs in as.
async fn as_actor(db: &DatabaseConnection, id: &UserId) -> Actor {
    accounts::load_actor(db, id.as_str(), domain::testing::origin()).await.unwrap().unwrap()
}

async fn role_events(db: &DatabaseConnection, actor: &Actor) -> Vec<String> {
    let filter = audit::AuditFilter::parse(Some(Kind::RoleChanged.as_str()), None).unwrap();
    audit::page(db, actor, &filter, 1).await.unwrap().events.into_iter().map(|e| e.detail).collect()
}

#[tokio::test]
async fn an_admin_makes_a_member_an_admin_and_back_and_each_change_is_audited() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let bob = provisioned(&db, &ada).await;

    assert!(set_role(&db, &ada, &bob, Role::Admin).await.unwrap(), "changed");
    assert_eq!(role_of(&db, &bob).await, Role::Admin);
    let bob_actor = as_actor(&db, &bob).await;
    assert!(bob_actor.is_admin(), "the new role holds on the person's next request");

    assert!(!set_role(&db, &ada, &bob, Role::Admin).await.unwrap(), "the same role again changes nothing");

    set_role(&db, &ada, &bob, Role::Member).await.unwrap();
    assert_eq!(role_of(&db, &bob).await, Role::Member);
    let events = role_events(&db, &ada).await;
    assert_eq!(events.len(), 2, "two changes, not three: {events:?}");
    assert!(events.iter().any(|e| e.ends_with("a member (was an admin)")), "{events:?}");
    assert!(events.iter().any(|e| e.ends_with("an admin (was a member)")), "{events:?}");
}

#[tokio::test]
async fn the_last_active_admin_keeps_their_rights_until_someone_else_is_an_admin() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let ada_id = ada.user_id.clone();
    let refused = set_role(&db, &ada, &ada_id, Role::Member).await.unwrap_err();
    let DomainError::Conflict(message) = refused else { panic!("{refused:?}") };
    assert!(message.contains("last active admin"), "{message}");
    assert_eq!(role_of(&db, &ada_id).await, Role::Admin);

    let bob = provisioned(&db, &ada).await;
    set_role(&db, &ada, &bob, Role::Admin).await.unwrap();
    set_role(&db, &ada, &ada_id, Role::Member).await.unwrap();
    assert_eq!(role_of(&db, &ada_id).await, Role::Member, "with Bob an admin, Ada may step down");

    let bob_actor = as_actor(&db, &bob).await;
    let refused = set_role(&db, &bob_actor, &bob, Role::Member).await.unwrap_err();
    assert!(matches!(refused, DomainError::Conflict(_)), "Bob is now the last: {refused:?}");
}

#[tokio::test]
async fn members_cannot_change_roles_and_other_organisations_people_are_not_found() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let bob = provisioned(&db, &ada).await;
    let bob_actor = as_actor(&db, &bob).await;
    let err = set_role(&db, &bob_actor, &bob, Role::Admin).await.unwrap_err();
    assert!(matches!(err, DomainError::Forbidden), "{err:?}");

    let eve = admin(&db).await;
    let err = set_role(&db, &eve, &bob, Role::Admin).await.unwrap_err();
    assert!(matches!(err, DomainError::NotFound), "{err:?}");
    let err = set_role(&db, &eve, &UserId::new("no-such-person"), Role::Admin).await.unwrap_err();
    assert!(matches!(err, DomainError::NotFound), "{err:?}");
    assert_eq!(role_of(&db, &bob).await, Role::Member);
}

#[tokio::test]
async fn a_demoted_admins_api_keys_stop_working_at_once() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let bob = provisioned(&db, &ada).await;
    set_role(&db, &ada, &bob, Role::Admin).await.unwrap();
    let bob_actor = as_actor(&db, &bob).await;
    let key = api_keys::create(&db, &bob_actor, "Bob's Entra key", None).await.unwrap();
    // Through the cache an instance has (on PostgreSQL it then holds the verified key).
    let keys = domain::testing::key_cache(&db).await;
    assert!(api_keys::authenticate(&db, &keys, &key.secret).await.unwrap().is_ok());

    set_role(&db, &ada, &bob, Role::Member).await.unwrap();
    let refused = api_keys::authenticate(&db, &keys, &key.secret).await.unwrap().unwrap_err();
    assert_eq!(refused.reason, api_keys::KeyRefusal::OwnerNotAdmin, "owner is no admin now");
}
