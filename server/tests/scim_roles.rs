//! Roles from Entra over SCIM (issue 13): the app role assignment Entra sends in `roles` sets the
//! person's console role — the organisation's admin role value (default `Admin`, configurable)
//! makes an admin, any other role a member — on create and on PATCH in both dialects, in the
//! shapes Entra's mappings send (`SingleAppRoleAssignment`'s plain value, `AppRoleAssignmentsComplex`'s
//! JSON text in `value`). No role sent leaves the role alone; the last active admin cannot be
//! demoted; the console refuses to change a role Entra sends.

mod support;

use domain::{DomainError, accounts::Role, entities::user, ids::UserId, roles, sea_orm::EntityTrait};
use serde_json::{Value, json};
use support::{Scim, TestApp, entra_user, unique_user};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn patch(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// Entra's `AppRoleAssignmentsComplex` element: the assignment as JSON text (entra-scim.md §3.12).
fn complex(value: &str) -> Value {
    let inner = json!({"id": "a8d5f8b2-0000-4000-8000-000000000001", "value": value, "displayName": value});
    json!({"primary": false, "type": "WindowsAzureActiveDirectoryRole", "value": inner.to_string()})
}

async fn role_of(app: &TestApp, id: &str) -> Role {
    user::Entity::find_by_id(id.to_owned()).one(&app.db).await.unwrap().unwrap().role
}

/// Creates a user carrying `roles`; returns its id.
async fn create_with_roles(scim: &Scim, roles: Value) -> String {
    let mut body = entra_user(&unique_user("roles"));
    body["roles"] = roles;
    let r = scim.post("/Users", body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn patched(scim: &Scim, id: &str, operations: Value) -> Value {
    let r = scim.patch(&format!("/Users/{id}"), patch(operations)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test]
async fn the_admin_app_role_makes_an_admin_on_create_and_other_roles_a_member() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);

    let plain = create_with_roles(
        &scim,
        json!([{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "admin"}]),
    )
    .await;
    assert_eq!(role_of(&app, &plain).await, Role::Admin, "values compare without case");
    let from_complex = create_with_roles(&scim, json!([complex("Admin")])).await;
    assert_eq!(role_of(&app, &from_complex).await, Role::Admin);
    let user_role = create_with_roles(&scim, json!([complex("User")])).await;
    assert_eq!(role_of(&app, &user_role).await, Role::Member);
    let no_role = create_with_roles(&scim, json!([])).await;
    assert_eq!(role_of(&app, &no_role).await, Role::Member);

    let stored = scim.get(&format!("/Users/{plain}")).await;
    assert_eq!(stored.body["roles"][0]["value"], "admin", "the resource keeps what Entra sent");
}

#[tokio::test]
async fn patches_in_both_dialects_move_the_role_and_no_role_leaves_it() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);
    let id = create_with_roles(&scim, json!([])).await;

    // Default dialect: the filtered path Entra's `SingleAppRoleAssignment` mapping writes.
    patched(&scim, &id, json!([{"op": "Add", "path": "roles[primary eq \"True\"].value", "value": "Admin"}]))
        .await;
    assert_eq!(role_of(&app, &id).await, Role::Admin);

    // `aadOptscim062020` dialect: a path-less replace with the complex mapping's JSON text.
    patched(&scim, &id, json!([{"op": "replace", "value": {"roles": [complex("Reader")]}}])).await;
    assert_eq!(role_of(&app, &id).await, Role::Member);

    // An unrelated change keeps the role Entra gave; so does a body without `roles` at all.
    patched(&scim, &id, json!([{"op": "replace", "path": "roles", "value": [complex("Admin")]}])).await;
    patched(&scim, &id, json!([{"op": "Replace", "path": "displayName", "value": "Renamed"}])).await;
    assert_eq!(role_of(&app, &id).await, Role::Admin);
}

#[tokio::test]
async fn the_configured_admin_role_value_decides_and_the_last_admin_is_never_demoted() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);
    roles::set_entra_admin_role(&app.db, &org.admin, "Scimpad.Administrator").await.unwrap();

    let admin = create_with_roles(&scim, json!([complex("Admin")])).await;
    assert_eq!(role_of(&app, &admin).await, Role::Member, "\"Admin\" is not this organisation's admin role");
    patched(
        &scim,
        &admin,
        json!([{"op": "replace", "path": "roles", "value": [complex("Scimpad.Administrator")]}]),
    )
    .await;
    assert_eq!(role_of(&app, &admin).await, Role::Admin);

    // The sign-up admin is demoted while another admin remains (Entra moves to that admin's key,
    // since a key works only while its owner is an admin) ...
    let new_admin =
        domain::accounts::load_actor(&app.db, &admin, domain::testing::origin()).await.unwrap().unwrap();
    let new_key = domain::api_keys::create(&app.db, &new_admin, "Entra ID", None).await.unwrap();
    let ada = org.admin.user_id.as_str();
    patched(&scim, ada, json!([{"op": "replace", "path": "roles", "value": [complex("User")]}])).await;
    assert_eq!(role_of(&app, ada).await, Role::Member);
    assert_eq!(scim.get("/Users").await.status, 401, "Ada's key stopped working with her admin role");
    // ... but the last active admin is not: 400 mutability, nothing applied.
    let scim = app.scim(&new_key.secret);
    let r = scim
        .patch(
            &format!("/Users/{admin}"),
            patch(json!([{"op": "replace", "path": "roles", "value": [complex("User")]}])),
        )
        .await;
    assert_eq!((r.status, r.body["scimType"].as_str()), (400, Some("mutability")), "{}", r.body);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("last active Scimpad admin") && detail.contains("app role assignment"),
        "{detail}"
    );
    assert_eq!(role_of(&app, &admin).await, Role::Admin);
}

#[tokio::test]
async fn the_console_refuses_to_change_a_role_entra_sends() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);
    let managed = create_with_roles(&scim, json!([complex("User")])).await;
    let refused =
        roles::set_role(&app.db, &org.admin, &UserId::new(&managed), Role::Admin).await.unwrap_err();
    let DomainError::Conflict(message) = refused else { panic!("{refused:?}") };
    assert!(message.contains("Entra manages"), "{message}");
    assert_eq!(role_of(&app, &managed).await, Role::Member);

    let unmanaged = create_with_roles(&scim, json!([])).await;
    roles::set_role(&app.db, &org.admin, &UserId::new(&unmanaged), Role::Admin).await.unwrap();
    assert_eq!(role_of(&app, &unmanaged).await, Role::Admin, "no role from Entra: the console decides");
}
