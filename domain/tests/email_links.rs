//! Emailed links against a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL): a link
//! is spent once even by uses racing each other, and the sweep deletes expired links but keeps
//! expired invitations listed for a week.

use domain::{
    DomainError,
    accounts::{self, Actor, SignUp},
    clock::now_ms,
    email_links::{self, EXPIRED_INVITATIONS_KEPT_MS, NewLink},
    entities::email_link::{self, Purpose},
    password_reset,
    sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr},
    testing::{self, test_db, unique_email},
};

async fn admin(db: &DatabaseConnection) -> Actor {
    let input = SignUp {
        organization: "Contoso".into(),
        name: "Ada Admin".into(),
        email: unique_email("links"),
        password: "correct horse battery".into(),
    };
    accounts::sign_up(db, &testing::no_mail(), testing::origin(), input).await.unwrap()
}

fn link<'a>(ada: &'a Actor, purpose: Purpose, email: &'a str) -> NewLink<'a> {
    let person = (purpose != Purpose::Invitation).then_some(&ada.user_id);
    NewLink { purpose, org_id: &ada.org_id, user_id: person, email, name: None, created_by: None }
}

#[tokio::test]
async fn a_reset_link_is_spent_once_even_by_uses_racing_each_other() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let (_, token) = email_links::issue(&db, link(&ada, Purpose::ResetPassword, &ada.email)).await.unwrap();
    let uses: Vec<_> = (0..4)
        .map(|i| {
            let (db, token) = (db.clone(), token.clone());
            tokio::spawn(async move {
                let password = format!("new passphrase number {i}");
                loop {
                    // A busy machine may have no hashing slot free: a browser would try again.
                    match password_reset::reset(&db, &testing::client(), &token, &password).await {
                        Err(DomainError::Throttled { .. }) => tokio::task::yield_now().await,
                        used => break used,
                    }
                }
            })
        })
        .collect();
    let mut spent = 0;
    for used in uses {
        match used.await.unwrap() {
            Ok(actor) => {
                assert_eq!(actor.user_id, ada.user_id);
                spent += 1;
            }
            Err(DomainError::PreconditionFailed(message)) => assert!(message.contains("no longer works")),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(spent, 1, "exactly one use sets the password");
    let left =
        email_link::Entity::find().filter(email_link::Column::UserId.eq(ada.user_id.as_str())).all(&db).await;
    assert!(left.unwrap().is_empty());
}

#[tokio::test]
async fn the_sweep_deletes_expired_links_but_lists_expired_invitations_for_a_week() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let invitee = unique_email("invitee");
    let (confirm, _) = email_links::issue(&db, link(&ada, Purpose::ConfirmEmail, &ada.email)).await.unwrap();
    let (invitation, _) = email_links::issue(&db, link(&ada, Purpose::Invitation, &invitee)).await.unwrap();
    let expire = |id: String, at: i64| {
        let db = db.clone();
        async move {
            email_link::Entity::update_many()
                .col_expr(email_link::Column::ExpiresAt, Expr::value(at))
                .filter(email_link::Column::Id.eq(id))
                .exec(&db)
                .await
                .unwrap();
        }
    };
    let exists = |id: String| {
        let db = db.clone();
        async move { email_link::Entity::find_by_id(id).one(&db).await.unwrap().is_some() }
    };
    expire(confirm.id.clone(), now_ms() - 1).await;
    expire(invitation.id.clone(), now_ms() - 1).await;
    email_links::purge_expired(&db).await.unwrap();
    assert!(!exists(confirm.id).await, "an expired link is swept");
    assert!(exists(invitation.id.clone()).await, "an expired invitation stays listed");
    expire(invitation.id.clone(), now_ms() - EXPIRED_INVITATIONS_KEPT_MS - 1).await;
    email_links::purge_expired(&db).await.unwrap();
    assert!(!exists(invitation.id).await, "a week later it goes too");
}
