//! The last active admin cannot be provisioned away: SCIM refuses to delete or deactivate the
//! organisation's last active admin (400 `mutability`), in every way Entra can ask — PATCH in both
//! dialects, PUT, DELETE, and each of those inside `/Bulk` — because the API key Entra uses works
//! only while an admin is active. Other changes still apply, and the console marks the person.

mod support;

use domain::{
    entities::user,
    sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr},
};
use serde_json::{Value, json};
use support::{PASSWORD, Reply, Scim, TestApp, create_user, unique_user};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn patch(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// Entra's deactivations (entra-scim.md §2.4): the default dialect's string boolean, the RFC
/// form, and the `aadOptscim062020` dialect's path-less replace.
fn deactivations() -> [Value; 3] {
    [
        patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
        patch(json!([{"op": "replace", "path": "active", "value": false}])),
        patch(json!([{"op": "replace", "value": {"active": false}}])),
    ]
}

/// The admin's SCIM id, found the way Entra matches people: by `userName` (the sign-up email).
async fn admin_id(scim: &Scim, email: &str) -> String {
    let found = scim.find_user(email).await;
    assert_eq!(found.len(), 1, "the admin is a SCIM-visible user");
    found[0]["id"].as_str().unwrap().to_owned()
}

/// Checks `r` is the refusal: 400 `mutability`, naming the person and how to fix it.
fn assert_refused(r: &Reply, user_name: &str) {
    assert_eq!(r.status, 400, "{}", r.body);
    assert_refusal_body(&r.body, user_name);
}

fn assert_refusal_body(body: &Value, user_name: &str) {
    assert_eq!(body["status"], "400", "{body}");
    assert_eq!(body["scimType"], "mutability", "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!("{user_name} is the organisation's last active Scimpad admin")),
        "{detail}"
    );
    assert!(detail.contains("make another person an admin in Scimpad first"), "{detail}");
}

/// How many of `ids` are still active.
async fn active_among(app: &TestApp, ids: [&String; 2]) -> usize {
    let found = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .filter(user::Column::Active.eq(true))
        .all(&app.db)
        .await
        .unwrap();
    found.len()
}

/// Gives user `id` the admin role directly in the database (what `domain::roles` does, minus audit).
async fn make_admin(app: &TestApp, id: &str) {
    user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value("admin"))
        .filter(user::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
}

/// A SCIM-provisioned person made an active admin of `scim`'s organisation; returns their id.
async fn second_admin(app: &TestApp, scim: &Scim) -> String {
    let id = create_user(scim, &unique_user("second-admin")).await;
    make_admin(app, &id).await;
    id
}

async fn is_active(scim: &Scim, id: &str) -> bool {
    let r = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["active"].as_bool().unwrap()
}

#[tokio::test]
async fn deleting_the_last_admin_is_refused_and_the_key_keeps_working() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);
    let id = admin_id(&scim, &org.admin.email).await;
    assert_eq!(id, org.admin.user_id.as_str());

    assert_refused(&scim.delete(&format!("/Users/{id}")).await, &org.admin.email);
    assert!(is_active(&scim, &id).await, "still there and active");
    assert_eq!(scim.get("/Users").await.status, 200, "Entra's key still works");
}

#[tokio::test]
async fn deactivating_the_last_admin_is_refused_in_both_dialects_and_by_put() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);
    let id = admin_id(&scim, &org.admin.email).await;
    let path = format!("/Users/{id}");
    let before = scim.get(&path).await.body;

    for body in deactivations() {
        assert_refused(&scim.patch(&path, body.clone()).await, &org.admin.email);
        assert!(is_active(&scim, &id).await, "{body}");
    }
    // PATCH is atomic (RFC 7644 §3.5.2): the rename beside the refused deactivation is not applied.
    let both = patch(json!([
        {"op": "Replace", "path": "displayName", "value": "Renamed"},
        {"op": "Replace", "path": "active", "value": "False"}
    ]));
    assert_refused(&scim.patch(&path, both).await, &org.admin.email);
    let mut put = before.clone();
    put["active"] = json!(false);
    assert_refused(&scim.put(&path, put).await, &org.admin.email);

    let after = scim.get(&path).await.body;
    assert_eq!(after, before, "nothing changed, not even the version");
    assert_eq!(scim.get("/Users").await.status, 200, "Entra's key still works");
}

#[tokio::test]
async fn bulk_deletes_and_deactivations_of_the_last_admin_fail_inside_the_bulk_response() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);
    let id = admin_id(&scim, &org.admin.email).await;
    let path = format!("/Users/{id}");
    let mut operations = vec![json!({"method": "DELETE", "path": path})];
    for body in deactivations() {
        operations.push(json!({"method": "PATCH", "path": path, "data": body}));
    }

    let r = scim.post("/Bulk", json!({"schemas": [BULK_REQUEST], "Operations": operations})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let results = r.body["Operations"].as_array().unwrap();
    assert_eq!(results.len(), 4, "{}", r.body);
    for result in results {
        assert_eq!(result["status"], "400", "{result}");
        assert_refusal_body(&result["response"], &org.admin.email);
    }
    assert!(is_active(&scim, &id).await);
    assert_eq!(scim.get("/Users").await.status, 200, "Entra's key still works");
}

#[tokio::test]
async fn other_changes_to_admins_still_apply() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);
    let id = admin_id(&scim, &org.admin.email).await;

    let renamed = patch(json!([
        {"op": "Replace", "path": "displayName", "value": "Ada Lovelace"},
        {"op": "Replace", "path": "active", "value": "True"}
    ]));
    let r = scim.patch(&format!("/Users/{id}"), renamed).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["displayName"].clone(), r.body["active"].clone()),
        (json!("Ada Lovelace"), json!(true))
    );

    // An admin who is already deactivated is no active admin: reactivating them is a plain change.
    let other = create_user(&scim, &unique_user("former-admin")).await;
    let off = scim.patch(&format!("/Users/{other}"), deactivations()[0].clone()).await;
    assert_eq!(off.status, 200, "{}", off.body);
    make_admin(&app, &other).await;
    let on = patch(json!([{"op": "Replace", "path": "active", "value": "True"}]));
    let r = scim.patch(&format!("/Users/{other}"), on).await;
    assert_eq!((r.status, r.body["active"].clone()), (200, json!(true)), "{}", r.body);
}

#[tokio::test]
async fn with_a_second_active_admin_either_may_go_but_the_keys_owner_takes_the_key_along() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);
    let first = admin_id(&scim, &org.admin.email).await;

    // Deleting the other admin while the key's owner stays: allowed, and the key keeps working.
    let doomed = second_admin(&app, &scim).await;
    assert_eq!(scim.delete(&format!("/Users/{doomed}")).await.status, 204);
    assert_eq!(scim.get("/Users").await.status, 200);

    // Deactivating the key's owner while another admin stays: allowed, but the key is the
    // owner's, so it stops working with that very request's commit (RFC 6750 401 from the gate).
    let second = second_admin(&app, &scim).await;
    let r = scim.patch(&format!("/Users/{first}"), deactivations()[0].clone()).await;
    assert_eq!((r.status, r.body["active"].clone()), (200, json!(false)), "{}", r.body);
    let r = scim.get("/Users").await;
    assert_eq!(r.status, 401, "the deactivated owner's key no longer authenticates: {}", r.body);

    // The remaining admin is now the last one: a key of theirs works, and cannot remove them.
    let actor =
        domain::accounts::load_actor(&app.db, &second, domain::testing::origin()).await.unwrap().unwrap();
    let key = domain::api_keys::create(&app.db, &actor, "Entra ID (second admin)", None).await.unwrap();
    let scim = app.scim(&key.secret);
    let user_name = scim.get(&format!("/Users/{second}")).await.body["userName"].as_str().unwrap().to_owned();
    assert_refused(&scim.patch(&format!("/Users/{second}"), deactivations()[2].clone()).await, &user_name);
    assert_refused(&scim.delete(&format!("/Users/{second}")).await, &user_name);
    assert_eq!(scim.get("/Users").await.status, 200);
}

/// Two admins deactivated at once — the race the organisation's row lock closes on PostgreSQL
/// (SQLite's single writer serialises them anyway): exactly one of the two may succeed. Straight
/// through the domain, so both writes really run side by side on the pool, several rounds.
#[tokio::test]
async fn concurrent_deactivations_of_the_last_two_admins_let_exactly_one_through() {
    use domain::{
        DomainError,
        directory::{Directory, Projection, ResourceKind, Scope, Target},
    };
    let app = TestApp::spawn().await;
    for _ in 0..8 {
        let org = app.scim_org().await;
        let scim = app.scim(&org.key);
        let first = admin_id(&scim, &org.admin.email).await;
        let second = second_admin(&app, &scim).await;
        let scope = Scope { org_id: org.admin.org_id.clone(), base_url: format!("{}/scim/v2", app.url) };
        let body = deactivations()[1].clone();
        let none = Projection::default();
        let (a, b) = tokio::join!(
            app.db.patch(
                &scope,
                Target { kind: ResourceKind::User, id: &first, if_match: None },
                &body,
                &none
            ),
            app.db.patch(
                &scope,
                Target { kind: ResourceKind::User, id: &second, if_match: None },
                &body,
                &none
            ),
        );
        let refused: Vec<_> = [&a, &b].into_iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(refused.len(), 1, "exactly one succeeds: {a:?} / {b:?}");
        assert!(
            matches!(refused[0], DomainError::Rejected { rule: scim::ScimType::Mutability, .. }),
            "{:?}",
            refused[0]
        );
        assert_eq!(active_among(&app, [&first, &second]).await, 1, "one active admin remains");
    }
}

/// The same race over HTTP, as Entra would run it: each admin owns a key, and each key's request
/// deactivates the other admin. One succeeds; the other is refused by the rule (400), or — when
/// the first commit lands before its key is checked — by the gate (401) because its own owner was
/// the one deactivated. Never both: the organisation keeps an active admin.
#[tokio::test]
async fn concurrent_deactivations_over_http_keep_an_active_admin() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim_first = app.scim(&org.key);
    let first = admin_id(&scim_first, &org.admin.email).await;
    let second = second_admin(&app, &scim_first).await;
    let actor =
        domain::accounts::load_actor(&app.db, &second, domain::testing::origin()).await.unwrap().unwrap();
    let scim_second =
        app.scim(&domain::api_keys::create(&app.db, &actor, "second", None).await.unwrap().secret);

    let body = deactivations()[0].clone();
    let (path_first, path_second) = (format!("/Users/{first}"), format!("/Users/{second}"));
    let (a, b) = tokio::join!(
        scim_first.patch(&path_second, body.clone()),
        scim_second.patch(&path_first, body.clone()),
    );
    let statuses = [a.status, b.status];
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}: {} / {}", a.body, b.body);
    assert!(statuses.iter().all(|s| [200, 400, 401].contains(s)), "{statuses:?}");
    assert_eq!(active_among(&app, [&first, &second]).await, 1, "one active admin remains");
}

#[tokio::test]
async fn the_console_marks_the_last_active_admin_and_only_then() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);
    let id = admin_id(&scim, &org.admin.email).await;
    let member = create_user(&scim, &unique_user("member")).await;
    let client = app.client();
    assert_eq!(app.sign_in(&client, &org.admin.email, PASSWORD).await.status(), 200);
    let html = |path: String| {
        let client = client.clone();
        let url = app.at(&path);
        async move {
            let res = client.get(url).send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            res.text().await.unwrap()
        }
    };
    let badge = "data-testid=\"last-admin\"";
    let note = "data-testid=\"last-admin-note\"";

    let list = html("/users".into()).await;
    assert_eq!(list.matches(badge).count(), 1, "one badge, on the admin's row");
    let row = list.split("data-testid=\"user-row\"").find(|r| r.contains(&id)).unwrap();
    assert!(row.contains(badge), "the badge is on the admin's row");
    let detail = html(format!("/users/{id}")).await;
    assert!(detail.contains(note), "the person page says so");
    assert!(detail.contains("Last active admin — provisioning cannot deactivate or delete this person"));
    assert!(!html(format!("/users/{member}")).await.contains(note), "not for a member");

    // With a second active admin, nobody is the last one.
    second_admin(&app, &scim).await;
    assert!(!html("/users".into()).await.contains(badge));
    assert!(!html(format!("/users/{id}")).await.contains(note));
}
