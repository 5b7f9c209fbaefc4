//! Sign-up and sign-in against a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL).

use domain::{
    DomainError,
    accounts::{self, Role, SignUp},
    entities::{credential, user},
    sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait},
    testing::{self, test_db, unique_email},
    throttle,
};

const PASSWORD: &str = "correct horse battery";

fn sign_up_input(email: &str) -> SignUp {
    SignUp {
        organization: "Contoso Ltd".into(),
        name: "Ada Admin".into(),
        email: email.into(),
        password: PASSWORD.into(),
    }
}

#[tokio::test]
async fn sign_up_creates_an_admin_whose_password_is_hashed() {
    let db = test_db().await;
    let email = unique_email("Ada");
    let actor =
        accounts::sign_up(&db, &domain::testing::no_mail(), domain::testing::origin(), sign_up_input(&email))
            .await
            .unwrap();
    assert_eq!(
        (actor.role, actor.org_name.as_str(), actor.email.as_str()),
        (Role::Admin, "Contoso Ltd", email.as_str())
    );

    let cred = credential::Entity::find_by_id(actor.user_id.clone()).one(&db).await.unwrap().unwrap();
    assert_eq!(cred.email_lower, email.to_lowercase());
    assert!(cred.password_hash.starts_with("$argon2id$"));
    assert!(!cred.password_hash.contains(PASSWORD));
    let person = user::Entity::find_by_id(actor.user_id.clone()).one(&db).await.unwrap().unwrap();
    assert_eq!(
        (person.source, person.active, person.user_name.as_str()),
        (domain::accounts::Source::Local, true, email.as_str())
    );
    assert_eq!(person.resource["userName"], email);
}

#[tokio::test]
async fn an_email_owns_one_account_whatever_its_case() {
    let db = test_db().await;
    let email = unique_email("dup");
    accounts::sign_up(&db, &domain::testing::no_mail(), domain::testing::origin(), sign_up_input(&email))
        .await
        .unwrap();
    let err = accounts::sign_up(
        &db,
        &domain::testing::no_mail(),
        domain::testing::origin(),
        sign_up_input(&email.to_uppercase()),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(ref m) if m.contains("already exists")), "{err:?}");
}

#[tokio::test]
async fn sign_up_validates_every_field() {
    let db = test_db().await;
    let field = |input: SignUp| {
        let db = db.clone();
        async move {
            match accounts::sign_up(&db, &domain::testing::no_mail(), domain::testing::origin(), input).await
            {
                Err(DomainError::Invalid { field, .. }) => field,
                other => panic!("expected a validation error, got {other:?}"),
            }
        }
    };
    let ok = sign_up_input(&unique_email("v"));
    assert_eq!(field(SignUp { organization: "  ".into(), ..ok.clone() }).await, "organization");
    assert_eq!(field(SignUp { name: "".into(), ..ok.clone() }).await, "name");
    assert_eq!(field(SignUp { email: "nope".into(), ..ok.clone() }).await, "email");
    assert_eq!(field(SignUp { password: "short".into(), ..ok }).await, "password");
}

#[tokio::test]
async fn sign_in_accepts_the_right_password_only_and_never_says_which_part_was_wrong() {
    let db = test_db().await;
    let email = unique_email("signin");
    let created =
        accounts::sign_up(&db, &domain::testing::no_mail(), domain::testing::origin(), sign_up_input(&email))
            .await
            .unwrap();

    let from = testing::client();
    let actor =
        accounts::sign_in(&db, &from, &format!("  {}  ", email.to_uppercase()), PASSWORD).await.unwrap();
    assert_eq!(actor.origin, domain::origin::Origin::Request(from), "the actor acts from where it signed in");
    assert_eq!(accounts::Actor { origin: created.origin.clone(), ..actor }, created);
    let wrong_password =
        accounts::sign_in(&db, &testing::client(), &email, "wrong horse battery").await.unwrap_err();
    let unknown_email =
        accounts::sign_in(&db, &testing::client(), &unique_email("ghost"), PASSWORD).await.unwrap_err();
    assert!(matches!(wrong_password, DomainError::InvalidCredentials));
    assert!(matches!(unknown_email, DomainError::InvalidCredentials));
}

#[tokio::test]
async fn repeated_failures_from_one_client_lock_the_email_there_even_for_the_right_password() {
    let db = test_db().await;
    let email = unique_email("throttle");
    accounts::sign_up(&db, &domain::testing::no_mail(), domain::testing::origin(), sign_up_input(&email))
        .await
        .unwrap();
    let client = testing::client();
    for _ in 0..throttle::MAX_FAILURES {
        assert!(matches!(
            accounts::sign_in(&db, &client, &email, "wrong horse battery").await,
            Err(DomainError::InvalidCredentials)
        ));
    }
    match accounts::sign_in(&db, &client, &email, PASSWORD).await {
        Err(DomainError::Throttled { retry_after_secs }) => {
            assert!(retry_after_secs > 0 && retry_after_secs <= throttle::LOCK_MS / 1000)
        }
        other => panic!("expected a lock, got {other:?}"),
    }
    // Another account is unaffected.
    let other = unique_email("free");
    accounts::sign_up(&db, &domain::testing::no_mail(), domain::testing::origin(), sign_up_input(&other))
        .await
        .unwrap();
    accounts::sign_in(&db, &testing::client(), &other, PASSWORD).await.unwrap();
}

#[tokio::test]
async fn a_deactivated_person_cannot_sign_in_or_act() {
    let db = test_db().await;
    let email = unique_email("inactive");
    let actor =
        accounts::sign_up(&db, &domain::testing::no_mail(), domain::testing::origin(), sign_up_input(&email))
            .await
            .unwrap();
    let mut person: user::ActiveModel =
        user::Entity::find_by_id(actor.user_id.clone()).one(&db).await.unwrap().unwrap().into();
    person.active = Set(false);
    person.update(&db).await.unwrap();

    assert!(accounts::load_actor(&db, actor.user_id.as_str(), testing::origin()).await.unwrap().is_none());
    assert!(matches!(
        accounts::sign_in(&db, &testing::client(), &email, PASSWORD).await,
        Err(DomainError::InvalidCredentials)
    ));
}

#[tokio::test]
async fn profile_changes_move_the_sign_in_email_but_keep_the_scim_user_name() {
    let db = test_db().await;
    let email = unique_email("prof");
    let actor =
        accounts::sign_up(&db, &domain::testing::no_mail(), domain::testing::origin(), sign_up_input(&email))
            .await
            .unwrap();
    let taken = unique_email("taken");
    accounts::sign_up(&db, &domain::testing::no_mail(), domain::testing::origin(), sign_up_input(&taken))
        .await
        .unwrap();

    let new_email = unique_email("moved");
    let updated =
        accounts::update_profile(&db, &domain::testing::no_mail(), &actor, "Ada Lovelace", &new_email)
            .await
            .unwrap();
    assert_eq!((updated.display_name.as_str(), updated.email.as_str()), ("Ada Lovelace", new_email.as_str()));
    accounts::sign_in(&db, &testing::client(), &new_email, PASSWORD).await.unwrap();
    assert!(matches!(
        accounts::sign_in(&db, &testing::client(), &email, PASSWORD).await,
        Err(DomainError::InvalidCredentials)
    ));
    let person = user::Entity::find_by_id(actor.user_id.clone()).one(&db).await.unwrap().unwrap();
    assert_eq!(person.user_name, email, "userName is what Entra matches on");
    assert_eq!(person.resource["emails"][0]["value"], new_email);

    let clash =
        accounts::update_profile(&db, &domain::testing::no_mail(), &updated, "Ada", &taken.to_uppercase())
            .await
            .unwrap_err();
    assert!(matches!(clash, DomainError::Invalid { field: "email", .. }), "{clash:?}");
}

#[tokio::test]
async fn password_changes_need_the_current_password_and_a_good_new_one() {
    let db = test_db().await;
    let email = unique_email("pw");
    let actor =
        accounts::sign_up(&db, &domain::testing::no_mail(), domain::testing::origin(), sign_up_input(&email))
            .await
            .unwrap();
    let wrong =
        accounts::change_password(&db, &actor, "not it at all", "another good passphrase").await.unwrap_err();
    assert!(matches!(wrong, DomainError::Invalid { field: "current_password", .. }));
    let weak = accounts::change_password(&db, &actor, PASSWORD, "short").await.unwrap_err();
    assert!(matches!(weak, DomainError::Invalid { field: "new_password", .. }));
    accounts::change_password(&db, &actor, PASSWORD, "another good passphrase").await.unwrap();
    accounts::sign_in(&db, &testing::client(), &email, "another good passphrase").await.unwrap();
    assert!(accounts::sign_in(&db, &testing::client(), &email, PASSWORD).await.is_err());
}
