//! Entra's user sequences (entra-scim.md §2.1–§2.6) replayed over HTTP, in both PATCH dialects.

mod support;

use serde_json::json;
use support::{TestApp, create_user, entra_user, unique_user, urlencode};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[tokio::test]
async fn test_connection_probe_answers_an_empty_list_and_bad_keys_get_401() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);
    // Entra's probe: a random GUID, `+` for spaces and %22 for quotes.
    let probe = scim.get("/Users?filter=userName+eq+%2279f1a8d2-6c4c-4e0b-9a8e-2f0c5d1e7b31%22").await;
    assert_eq!((probe.status, probe.header("content-type")), (200, Some("application/scim+json")));
    assert_eq!(probe.body["totalResults"], 0);
    assert_eq!(probe.body["Resources"], json!([]));
    let groups = scim.get("/Groups?excludedAttributes=members&filter=displayName+eq+%22a1b2c3%22").await;
    assert_eq!((groups.status, groups.body["totalResults"].clone()), (200, json!(0)));

    for token in [
        "",
        "nonsense",
        "scimpad_aaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        &format!("{}x", org.key),
    ] {
        let r = app.scim(token).get("/Users").await;
        assert_eq!(r.status, 401, "{token:?}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"scimpad\", error=\"invalid_token\""));
        assert_eq!(r.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
        assert_eq!(r.body["status"], "401");
    }
}

#[tokio::test]
async fn create_then_match_case_insensitively_then_conflict() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let name = unique_user("Alice");
    assert!(scim.find_user(&name).await.is_empty());

    let created = scim.post("/Users", entra_user(&name)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let location = format!("{}/Users/{id}", scim.base);
    assert_eq!(created.header("location"), Some(location.as_str()));
    assert_eq!(created.body["meta"]["location"], location);
    assert_eq!(created.body["meta"]["resourceType"], "User");
    assert_eq!(created.header("etag"), Some("W/\"1\""));
    assert_eq!(created.body["userName"], name);
    assert_eq!(created.body["active"], true);
    assert_eq!(created.body["name"]["givenName"], "Alice");
    assert!(
        created.body.get("addresses").is_none() && created.body.get("manager").is_none(),
        "nulls are dropped"
    );

    let found = scim.find_user(&name.to_uppercase()).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], id);

    let dup = scim.post("/Users", entra_user(&name.to_uppercase())).await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.body["scimType"], "uniqueness");

    let by_external =
        scim.get(&format!("/Users?filter={}", urlencode(&format!("externalId eq \"ext-{name}\"")))).await;
    assert_eq!(by_external.body["totalResults"], 1);
    let wrong_case =
        scim.get(&format!("/Users?filter={}", urlencode(&format!("externalId eq \"EXT-{name}\"")))).await;
    assert_eq!(wrong_case.body["totalResults"], 0, "externalId is caseExact");
}

#[tokio::test]
async fn string_booleans_in_post_are_accepted() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let mut body = entra_user(&unique_user("str"));
    body["active"] = json!("False");
    body["roles"] = json!([{"primary": "True", "value": "Admin", "type": "WindowsAzureActiveDirectoryRole"}]);
    let r = scim.post("/Users", body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["roles"][0]["primary"], true);
}

#[tokio::test]
async fn default_dialect_updates_with_capitalised_ops_and_paths() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let id = create_user(&scim, &unique_user("upd")).await;
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"},
                {"op": "Replace", "path": "name.familyName", "value": "Jones"},
                {"op": "Replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "42"},
                {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"}
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    let got = scim.get(&format!("/Users/{id}")).await.body;
    assert_eq!(got["emails"], json!([{"primary": true, "type": "work", "value": "new@contoso.com"}]));
    assert_eq!(got["name"]["familyName"], "Jones");
    assert_eq!(got[ENTERPRISE]["employeeNumber"], "42");
    assert_eq!(got["phoneNumbers"], json!([{"type": "mobile", "value": "+1 555 0100"}]));
    let by_mail = scim
        .get(&format!("/Users?filter={}", urlencode("emails[type eq \"work\"].value eq \"NEW@contoso.com\"")))
        .await;
    assert_eq!(by_mail.body["totalResults"], 1, "emails are matched case-insensitively");
}

#[tokio::test]
async fn flag_dialect_updates_with_one_no_path_op_of_dotted_and_urn_keys() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let id = create_user(&scim, &unique_user("flag")).await;
    let renamed = unique_user("renamed");
    let r = scim
        .patch(
            &format!("/Users/{id}?aadOptscim062020"),
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "flag@contoso.com"},
                {"op": "replace", "value": {
                    "displayName": "A J", "name.givenName": "Alicia", "name.familyName": "Jones",
                    format!("{ENTERPRISE}:department"): "Research", "userName": renamed
                }}
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["displayName"], "A J");
    assert_eq!(r.body["name"]["givenName"], "Alicia");
    assert_eq!(r.body[ENTERPRISE]["department"], "Research");
    assert_eq!(r.body["emails"][0]["value"], "flag@contoso.com");
    assert_eq!(scim.find_user(&renamed).await.len(), 1, "renamed user found by its new userName");
}

#[tokio::test]
async fn replacing_a_missing_work_email_creates_it() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let mut body = entra_user(&unique_user("nomail"));
    body.as_object_mut().unwrap().remove("emails");
    let id = scim.post("/Users", body).await.body["id"].as_str().unwrap().to_owned();
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "made@contoso.com"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["emails"], json!([{"type": "work", "value": "made@contoso.com"}]));
}

#[tokio::test]
async fn disable_and_enable_in_every_spelling_and_inactive_users_stay_visible() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let name = unique_user("dis");
    let id = create_user(&scim, &name).await;
    for (value, expected) in [
        (json!("False"), false),
        (json!("True"), true),
        (json!(false), false),
        (json!(true), true),
        (json!("false"), false),
    ] {
        let op = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": value}]});
        let r = scim.patch(&format!("/Users/{id}"), op).await;
        assert_eq!((r.status, r.body["active"].clone()), (200, json!(expected)), "{value}");
    }
    let found = scim.find_user(&name).await;
    assert_eq!(found[0]["active"], false, "an inactive user is still found by filter");
    assert_eq!(scim.get(&format!("/Users/{id}")).await.status, 200);
    let inactive = scim.get(&format!("/Users?filter={}", urlencode("active eq false"))).await;
    assert!(inactive.body["Resources"].as_array().unwrap().iter().any(|u| u["id"] == id));
}

#[tokio::test]
async fn manager_in_all_three_shapes_and_removal_by_empty_value() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let boss = create_user(&scim, &unique_user("boss")).await;
    let id = create_user(&scim, &unique_user("emp")).await;
    let path = format!("{ENTERPRISE}:manager");
    for value in [
        json!([{"$ref": format!("{}/Users/{boss}", scim.base), "value": boss}]),
        json!(boss),
        json!({"value": boss}),
    ] {
        let op = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": path, "value": value}]});
        let r = scim.patch(&format!("/Users/{id}"), op).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body[ENTERPRISE]["manager"]["value"], boss, "{value}");
    }
    let remove = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": path, "value": {"value": ""}}]});
    let r = scim.patch(&format!("/Users/{id}"), remove).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get(ENTERPRISE).and_then(|e| e.get("manager")).is_none(), "{}", r.body);
}

#[tokio::test]
async fn delete_answers_204_then_404() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let name = unique_user("del");
    let id = create_user(&scim, &name).await;
    assert_eq!(scim.delete(&format!("/Users/{id}")).await.status, 204);
    let again = scim.delete(&format!("/Users/{id}")).await;
    assert_eq!((again.status, again.body["status"].clone()), (404, json!("404")));
    assert_eq!(scim.get(&format!("/Users/{id}")).await.status, 404);
    assert!(scim.find_user(&name).await.is_empty());
}

#[tokio::test]
async fn put_replaces_and_etags_guard_writes() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let name = unique_user("put");
    let id = create_user(&scim, &name).await;
    let got = scim.get(&format!("/Users/{id}")).await;
    let etag = got.header("etag").unwrap().to_owned();
    let not_modified = scim
        .client
        .get(format!("{}/Users/{id}", scim.base))
        .bearer_auth(&scim.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);

    let mut body = entra_user(&name);
    body["displayName"] = json!("Put Person");
    body.as_object_mut().unwrap().remove("name");
    let r = scim.put(&format!("/Users/{id}"), body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["displayName"], "Put Person");
    assert!(r.body.get("name").is_none(), "PUT replaces: omitted attributes are gone");

    let stale = scim
        .client
        .put(format!("{}/Users/{id}", scim.base))
        .bearer_auth(&scim.token)
        .header("if-match", &etag)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
}

#[tokio::test]
async fn deactivating_a_person_ends_their_console_sessions() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);
    let id = create_user(&scim, &unique_user("member")).await;
    let sessions = |uid: String| {
        let db = app.db.clone();
        async move {
            use domain::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            domain::entities::session::Entity::find()
                .filter(domain::entities::session::Column::UserId.eq(uid))
                .all(&db)
                .await
                .unwrap()
                .len()
        }
    };
    // The provisioned person has a live console session.
    let store = domain::session_store::DbSessionStore::new(app.db.clone());
    let mut record = tower_sessions::session::Record {
        id: Default::default(),
        data: [(domain::session_store::USER_ID_KEY.to_owned(), json!(id))].into_iter().collect(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    tower_sessions::SessionStore::create(&store, &mut record).await.unwrap();
    assert_eq!(sessions(id.clone()).await, 1);
    let op =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    assert_eq!(scim.patch(&format!("/Users/{id}"), op).await.status, 200);
    assert_eq!(sessions(id).await, 0);
}
