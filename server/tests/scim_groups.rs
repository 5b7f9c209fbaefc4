//! Entra's group sequences (entra-scim.md §2.7–§2.10) and membership semantics.

mod support;

use serde_json::{Value, json};
use support::{Scim, TestApp, create_user, member_ids, unique_user, urlencode};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async fn create_group(scim: &Scim, name: &str) -> String {
    let r = scim
        .post(
            "/Groups",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                "externalId": format!("obj-{name}"), "displayName": name, "meta": {"resourceType": "Group"}
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["members"], json!([]));
    r.body["id"].as_str().unwrap().to_owned()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

async fn patch(scim: &Scim, group: &str, ops: Value) -> u16 {
    let r = scim.patch(&format!("/Groups/{group}"), json!({"schemas": [PATCH_OP], "Operations": ops})).await;
    assert!(r.status == 204 || r.status == 200, "{} {}", r.status, r.body);
    r.status
}

#[tokio::test]
async fn create_find_rename_and_delete_a_group() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let name = format!("Eng {}", uuid::Uuid::new_v4());
    let filter = |n: &str| {
        format!("/Groups?excludedAttributes=members&filter={}", urlencode(&format!("displayName eq \"{n}\"")))
    };
    let probe = scim.get(&filter(&name)).await;
    assert_eq!(probe.body["totalResults"], 0, "{}", probe.body);
    let id = create_group(&scim, &name).await;

    let found = scim.get(&filter(&name.to_lowercase())).await;
    assert_eq!(found.body["totalResults"], 1, "displayName matches case-insensitively");
    assert!(found.body["Resources"][0].get("members").is_none(), "members excluded");
    let one = scim.get(&format!("/Groups/{id}?excludedAttributes=members")).await;
    assert!(one.body.get("members").is_none() && one.body["displayName"] == name);

    let dup = scim.post("/Groups", json!({"displayName": name.to_uppercase()})).await;
    assert_eq!((dup.status, dup.body["scimType"].clone()), (409, json!("uniqueness")));

    let renamed = format!("{name} renamed");
    assert_eq!(
        patch(&scim, &id, json!([{"op": "Replace", "path": "displayName", "value": renamed}])).await,
        204
    );
    assert_eq!(scim.get(&filter(&renamed)).await.body["totalResults"], 1);
    let again = format!("{name} again");
    patch(&scim, &id, json!([{"op": "replace", "value": {"displayName": again}}])).await;
    patch(&scim, &id, json!([{"op": "replace", "value": {"externalId": "new-ext"}}])).await;
    let got = scim.get(&format!("/Groups/{id}")).await.body;
    assert_eq!((got["displayName"].clone(), got["externalId"].clone()), (json!(again), json!("new-ext")));

    let member = create_user(&scim, &unique_user("stays")).await;
    patch(&scim, &id, json!([{"op": "Add", "path": "members", "value": [{"value": member}]}])).await;
    assert_eq!(scim.delete(&format!("/Groups/{id}")).await.status, 204);
    assert_eq!(scim.delete(&format!("/Groups/{id}")).await.status, 404);
    assert_eq!(scim.get(&format!("/Users/{member}")).await.status, 200, "users stay when their group goes");
}

#[tokio::test]
async fn membership_changes_in_both_dialects() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let group = create_group(&scim, &format!("Team {}", uuid::Uuid::new_v4())).await;
    let mut users = Vec::new();
    for i in 0..4 {
        users.push(create_user(&scim, &unique_user(&format!("m{i}"))).await);
    }
    let (a, b, c, d) = (&users[0], &users[1], &users[2], &users[3]);

    // Default dialect: Add with a value array and `$ref: null`, several ops in one request.
    patch(
        &scim,
        &group,
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": a}, {"$ref": null, "value": b}]},
               {"op": "Add", "path": "members", "value": [{"value": c}]}]),
    )
    .await;
    assert_eq!(member_ids(&scim, &group).await, sorted(vec![a.clone(), b.clone(), c.clone()]));

    // Adding an existing member and removing a non-member both succeed.
    patch(&scim, &group, json!([{"op": "Add", "path": "members", "value": [{"value": a}]}])).await;
    patch(&scim, &group, json!([{"op": "Remove", "path": "members", "value": [{"value": d}]}])).await;
    assert_eq!(member_ids(&scim, &group).await.len(), 3);

    // Default dialect removal: value array in the body.
    patch(&scim, &group, json!([{"op": "Remove", "path": "members", "value": [{"value": a}]}])).await;
    // Flag dialect removal: a filtered path.
    patch(&scim, &group, json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}])).await;
    assert_eq!(member_ids(&scim, &group).await, vec![c.clone()]);

    // replace adds by default, as Entra means it (entra-scim.md §2.8; scim_member_replace.rs has
    // both settings in both dialects).
    patch(
        &scim,
        &group,
        json!([{"op": "replace", "path": "members", "value": [{"value": d}, {"value": a}]}]),
    )
    .await;
    assert_eq!(member_ids(&scim, &group).await, sorted(vec![a.clone(), c.clone(), d.clone()]));
    patch(&scim, &group, json!([{"op": "Remove", "path": "members", "value": [{"value": c}]}])).await;

    // add then remove of the same member in one request (validator preview).
    patch(
        &scim,
        &group,
        json!([{"op": "add", "path": "members", "value": [{"value": b}]},
               {"op": "remove", "path": format!("members[value eq \"{b}\"]")}]),
    )
    .await;
    assert_eq!(member_ids(&scim, &group).await, sorted(vec![a.clone(), d.clone()]));

    // The user shows the group; members filter finds it.
    let user = scim.get(&format!("/Users/{a}")).await.body;
    assert_eq!(user["groups"][0]["value"], group);
    let by_member =
        scim.get(&format!("/Groups?filter={}", urlencode(&format!("members.value eq \"{a}\"")))).await;
    assert_eq!(by_member.body["totalResults"], 1);

    // remove with no value removes everyone.
    patch(&scim, &group, json!([{"op": "Remove", "path": "members"}])).await;
    assert!(member_ids(&scim, &group).await.is_empty());
}

/// A user's `groups` (RFC 7643 §4.1.2) as list pages show them: the lookup Entra makes, a deeper
/// page, and a page without them; read in the page's one statement (`memberships::folded`).
#[tokio::test]
async fn list_pages_show_each_users_groups() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let (in_two, in_none) = (unique_user("two"), unique_user("none"));
    let (a, b) = (create_user(&scim, &in_two).await, create_user(&scim, &in_none).await);
    let (sales, staff) = (create_group(&scim, "Sales \"EU\"").await, create_group(&scim, "Staff").await);
    for group in [&sales, &staff] {
        patch(&scim, group, json!([{"op": "add", "path": "members", "value": [{"value": a}]}])).await;
    }
    let groups_of = |user: &Value| {
        let mut shown: Vec<(String, String)> = user["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                assert_eq!(g["type"], "direct");
                let value = g["value"].as_str().unwrap().to_owned();
                assert!(g["$ref"].as_str().unwrap().ends_with(&format!("/Groups/{value}")), "{g}");
                (value, g["display"].as_str().unwrap().to_owned())
            })
            .collect();
        shown.sort();
        shown
    };
    let mut expected = vec![(sales.clone(), "Sales \"EU\"".to_owned()), (staff.clone(), "Staff".to_owned())];
    expected.sort();

    let found = scim.find_user(&in_two).await;
    assert_eq!(groups_of(&found[0]), expected, "the lookup by userName");
    let found = scim.find_user(&in_none).await;
    assert!(found[0].get("groups").is_none(), "no group, no attribute: {}", found[0]);

    // Past the admin who signed up (the first user, by creation time): the deeper-page statement.
    let page = scim.get("/Users?startIndex=2&count=2").await.body;
    let (with, without) = (&page["Resources"][0], &page["Resources"][1]);
    assert_eq!((&with["id"], &without["id"]), (&json!(a), &json!(b)), "{page}");
    assert_eq!(groups_of(with), expected, "a deeper page");
    assert!(without.get("groups").is_none());

    let filter = urlencode(&format!("userName eq \"{in_two}\""));
    let trimmed = scim.get(&format!("/Users?filter={filter}&excludedAttributes=groups")).await.body;
    assert!(trimmed["Resources"][0].get("groups").is_none(), "{trimmed}");
    assert_eq!(trimmed["Resources"][0]["userName"], in_two.as_str());
}

#[tokio::test]
async fn only_users_of_the_same_organisation_are_ever_linked() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let other = app.scim(&app.scim_org().await.key);
    let group = create_group(&scim, "Mine").await;
    let stranger = create_user(&other, &unique_user("stranger")).await;
    let mine = create_user(&scim, &unique_user("mine")).await;
    let r = scim
        .patch(
            &format!("/Groups/{group}?attributes=members"),
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "Add", "path": "members", "value": [{"value": stranger}, {"value": mine}, {"value": "no-such-id"}]}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(member_ids(&scim, &group).await, vec![mine]);
}

#[tokio::test]
async fn twenty_parallel_member_adds_lose_nothing() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let group = create_group(&scim, "Busy").await;
    let mut users = Vec::new();
    for i in 0..20 {
        users.push(create_user(&scim, &unique_user(&format!("p{i}"))).await);
    }
    let tasks: Vec<_> = users
        .iter()
        .map(|u| {
            let (scim, group, u) = (scim.clone(), group.clone(), u.clone());
            tokio::spawn(async move {
                let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "Add", "path": "members", "value": [{"value": u}]}]});
                scim.patch(&format!("/Groups/{group}"), body).await.status
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 204);
    }
    assert_eq!(member_ids(&scim, &group).await, sorted(users));
}

#[tokio::test]
async fn ten_parallel_creates_of_one_user_name_make_one_user() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let name = unique_user("race");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (scim, name) = (scim.clone(), name.clone());
            tokio::spawn(async move { scim.post("/Users", support::entra_user(&name)).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [vec![201], vec![409; 9]].concat());
    assert_eq!(scim.find_user(&name).await.len(), 1);
}
