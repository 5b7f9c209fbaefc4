//! Unfiltered lists take `totalResults` from per-organisation counts the database keeps with
//! triggers (migration `directory_counts`); they must equal a real count through every way
//! people and groups come and go, on SQLite and PostgreSQL (TEST_DATABASE_URL).

use domain::{
    accounts::{self, SignUp},
    directory::{Projection, Scope, groups, users},
    entities::{group, user},
    sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter},
    testing::{test_db, unique_email},
};
use scim::ListQuery;

#[tokio::test]
async fn kept_directory_counts_equal_real_counts() {
    let db = test_db().await;
    let admin = accounts::sign_up(
        &db,
        &domain::testing::no_mail(),
        domain::testing::origin(),
        SignUp {
            organization: "Counted".into(),
            name: "Ada".into(),
            email: unique_email("ada"),
            password: "correct horse battery".into(),
        },
    )
    .await
    .unwrap();
    let scope = Scope { org_id: admin.org_id.clone(), base_url: "http://x/scim/v2".into() };
    let totals = |db: domain::sea_orm::DatabaseConnection, scope: Scope| async move {
        let users =
            users::list(&db, &scope, &ListQuery { count: Some(1), ..ListQuery::default() }).await.unwrap();
        let groups =
            groups::list(&db, &scope, &ListQuery { count: Some(1), ..ListQuery::default() }).await.unwrap();
        let real_users =
            user::Entity::find().filter(user::Column::OrgId.eq(&scope.org_id)).count(&db).await.unwrap();
        let real_groups =
            group::Entity::find().filter(group::Column::OrgId.eq(&scope.org_id)).count(&db).await.unwrap();
        assert_eq!(users["totalResults"], real_users, "users");
        assert_eq!(groups["totalResults"], real_groups, "groups");
        (real_users, real_groups)
    };
    assert_eq!(totals(db.clone(), scope.clone()).await, (1, 0), "the admin from sign-up is counted");
    let mut ids = Vec::new();
    for i in 0..3 {
        let body = serde_json::json!({"userName": format!("p{i}.{}", unique_email("c")), "active": true});
        ids.push(users::create(&db, &scope, &body, &Projection::default()).await.unwrap().id);
    }
    let duplicate = serde_json::json!({"userName": users::get(&db, &scope, &ids[0], &Projection::default()).await.unwrap().resource["userName"]});
    assert!(
        users::create(&db, &scope, &duplicate, &Projection::default()).await.is_err(),
        "a refused create counts nothing"
    );
    let group = groups::create(
        &db,
        &scope,
        &serde_json::json!({"displayName": "Counted group"}),
        &Projection::default(),
    )
    .await
    .unwrap();
    assert_eq!(totals(db.clone(), scope.clone()).await, (4, 1));
    users::delete(&db, &scope, &ids[1], None).await.unwrap();
    groups::delete(&db, &scope, &group.id, None).await.unwrap();
    assert_eq!(totals(db.clone(), scope.clone()).await, (3, 0));
}
