//! `replace` of a group's `members` as Entra really sends it (entra-scim.md §2.8): carrying only
//! the member being added, once per user. Additive by default; an organisation that chose `exact`
//! gets RFC 7644 §3.5.2.3 semantics. Both PATCH dialects (path form, capitalised; no-path form),
//! both settings, and the provisioning log naming removals. Runs on SQLite and PostgreSQL.

mod support;

use domain::{
    directory::settings::{MemberReplace, set_member_replace},
    entities::provisioning_event as event,
    sea_orm::{ColumnTrait, EntityTrait, QueryFilter},
};
use serde_json::{Value, json};
use support::{Scim, ScimOrg, TestApp, create_user, member_ids, unique_user};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A group and three users of a new organisation.
async fn setup(app: &TestApp) -> (ScimOrg, Scim, String, [String; 3]) {
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);
    let r = scim.post("/Groups", json!({"displayName": format!("Eng {}", uuid::Uuid::new_v4())})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let group = r.body["id"].as_str().unwrap().to_owned();
    let mut users = Vec::new();
    for i in 0..3 {
        users.push(create_user(&scim, &unique_user(&format!("r{i}"))).await);
    }
    (org, scim, group, users.try_into().unwrap())
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    ids.sort();
    ids
}

/// Entra's two shapes of "replace the members with these".
fn replace_ops(dialect: &str, ids: &[&String]) -> Value {
    let value: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    match dialect {
        "path" => json!([{"op": "Replace", "path": "members", "value": value}]),
        _ => json!([{"op": "replace", "value": {"members": value}}]),
    }
}

async fn patch(scim: &Scim, group: &str, ops: Value) {
    let r = scim.patch(&format!("/Groups/{group}"), json!({"schemas": [PATCH_OP], "Operations": ops})).await;
    assert_eq!(r.status, 204, "{}", r.body);
}

#[tokio::test]
async fn entras_one_member_replaces_add_by_default_in_both_dialects() {
    let app = TestApp::spawn().await;
    for dialect in ["path", "no-path"] {
        let (_, scim, group, [a, b, c]) = setup(&app).await;
        // One PATCH per user, each naming only that user: Entra's initial cycle.
        for user in [&a, &b, &c] {
            patch(&scim, &group, replace_ops(dialect, &[user])).await;
        }
        assert_eq!(member_ids(&scim, &group).await, sorted(&[&a, &b, &c]), "{dialect}");
        // A repeated replace is idempotent.
        patch(&scim, &group, replace_ops(dialect, &[&b])).await;
        assert_eq!(member_ids(&scim, &group).await.len(), 3, "{dialect}");
    }
}

#[tokio::test]
async fn exact_organisations_get_rfc_replace_in_both_dialects() {
    let app = TestApp::spawn().await;
    for dialect in ["path", "no-path"] {
        let (org, scim, group, [a, b, c]) = setup(&app).await;
        patch(
            &scim,
            &group,
            json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]),
        )
        .await;
        set_member_replace(&app.db, &org.admin, MemberReplace::Exact).await.unwrap();
        patch(&scim, &group, replace_ops(dialect, &[&b, &c])).await;
        assert_eq!(member_ids(&scim, &group).await, sorted(&[&b, &c]), "{dialect}");
        // An empty list empties the group.
        patch(&scim, &group, replace_ops(dialect, &[])).await;
        assert!(member_ids(&scim, &group).await.is_empty(), "{dialect}");
        // Back to additive: nobody is removed.
        set_member_replace(&app.db, &org.admin, MemberReplace::Additive).await.unwrap();
        patch(&scim, &group, json!([{"op": "add", "path": "members", "value": [{"value": a}]}])).await;
        patch(&scim, &group, replace_ops(dialect, &[&c])).await;
        assert_eq!(member_ids(&scim, &group).await, sorted(&[&a, &c]), "{dialect}");
    }
}

#[tokio::test]
async fn the_setting_is_the_organisations_own() {
    let app = TestApp::spawn().await;
    let (exact_org, exact, exact_group, [a, b, _]) = setup(&app).await;
    let (_, additive, additive_group, [x, y, _]) = setup(&app).await;
    set_member_replace(&app.db, &exact_org.admin, MemberReplace::Exact).await.unwrap();
    for (scim, group, first, second) in [(&exact, &exact_group, &a, &b), (&additive, &additive_group, &x, &y)]
    {
        patch(scim, group, replace_ops("path", &[first])).await;
        patch(scim, group, replace_ops("path", &[second])).await;
    }
    assert_eq!(member_ids(&exact, &exact_group).await, vec![b.clone()]);
    assert_eq!(member_ids(&additive, &additive_group).await, sorted(&[&x, &y]));
}

#[tokio::test]
async fn put_sets_the_members_exactly_whatever_the_setting() {
    let app = TestApp::spawn().await;
    let (_, scim, group, [a, b, c]) = setup(&app).await;
    patch(&scim, &group, json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]))
        .await;
    let r = scim
        .put(&format!("/Groups/{group}"), json!({"displayName": "Renamed", "members": [{"value": c}]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(member_ids(&scim, &group).await, vec![c.clone()]);
}

#[tokio::test]
async fn the_provisioning_log_says_when_members_were_removed() {
    let app = TestApp::spawn().await;
    let (org, scim, group, [a, b, c]) = setup(&app).await;
    patch(&scim, &group, json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]))
        .await;
    set_member_replace(&app.db, &org.admin, MemberReplace::Exact).await.unwrap();
    patch(&scim, &group, replace_ops("path", &[&c])).await;
    let wanted = "patched group";
    let summary = loop_until_logged(&app, org.admin.org_id.as_str(), "removed").await;
    assert!(summary.starts_with(wanted), "{summary}");
    assert!(summary.contains("added 1 member; removed 2 members (2 by an exact replace)"), "{summary}");
}

/// The first provisioning-log summary of `org_id` containing `needle` (the log is written in
/// batches, a moment after the request).
async fn loop_until_logged(app: &TestApp, org_id: &str, needle: &str) -> String {
    for _ in 0..200 {
        let rows = event::Entity::find()
            .filter(event::Column::OrgId.eq(org_id))
            .filter(event::Column::Summary.contains(needle))
            .all(&app.db)
            .await
            .unwrap();
        if let Some(row) = rows.into_iter().next() {
            return row.summary;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no log summary with {needle:?} within 10 s");
}
