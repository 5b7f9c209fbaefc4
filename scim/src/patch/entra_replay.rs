//! Replays every PATCH body of entra-scim.md §2 and §3, in both Entra dialects, through the
//! whole pipeline (prepare → parse → normalise → split members → apply) and checks the exact
//! resulting JSON.

use serde_json::{Value, json};

use super::*;
use crate::resource::prepare_resource;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// What the server stores after Entra's §2.2 POST, plus the server-assigned `id`.
fn provisioned_alice() -> Value {
    let body = json!({"schemas": [USER, ENT],
        "externalId": "alice", "userName": "alice@contoso.com", "active": true,
        "emails": [{"primary": true, "type": "work", "value": "alice@contoso.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Alice Smith", "familyName": "Smith", "givenName": "Alice"},
        "roles": []});
    let mut user = prepare_resource(&body, ResourceKind::User).expect("valid POST");
    if let Some(map) = user.as_object_mut() {
        map.insert("id".into(), json!("u-1"));
    }
    user
}

fn apply(resource: &mut Value, kind: ResourceKind, body: Value) -> (Vec<MemberChange>, PatchOutcome) {
    let ops = parse_patch(&body, kind).unwrap_or_else(|e| panic!("{body}: {e}"));
    let (members, rest) = split_member_ops(ops).expect("member ops");
    let outcome = apply_patch(resource, &rest, kind).unwrap_or_else(|e| panic!("{body}: {e}"));
    (members, outcome)
}

fn patch_user(operations: Value) -> Value {
    let mut user = provisioned_alice();
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    let (members, outcome) = apply(&mut user, ResourceKind::User, body);
    assert!(members.is_empty());
    assert!(outcome.ignored.is_empty(), "{:?}", outcome.ignored);
    user
}

fn alice_with(changes: Value) -> Value {
    let mut user = provisioned_alice();
    if let (Some(map), Value::Object(changes)) = (user.as_object_mut(), changes) {
        for (key, value) in changes {
            if value.is_null() {
                map.remove(&key);
            } else {
                map.insert(key, value);
            }
        }
    }
    user
}

#[test]
fn update_attributes_default_dialect() {
    let user = patch_user(json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"},
        {"op": "Replace", "path": "name.familyName", "value": "Jones"},
        {"op": "Replace", "path": format!("{ENT}:employeeNumber"), "value": "42"},
    ]));
    assert_eq!(
        user,
        alice_with(json!({
            "schemas": [USER, ENT],
            "emails": [{"primary": true, "type": "work", "value": "new@contoso.com"}],
            "name": {"formatted": "Alice Smith", "familyName": "Jones", "givenName": "Alice"},
            ENT: {"employeeNumber": "42"},
        }))
    );
}

#[test]
fn update_attributes_aad_opt_scim_062020_dialect() {
    let user = patch_user(json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"},
        {"op": "replace", "value": {"displayName": "A J", "name.givenName": "Alicia", "name.familyName": "Jones",
            format!("{ENT}:employeeNumber"): "42"}},
    ]));
    assert_eq!(
        user,
        alice_with(json!({
            "schemas": [USER, ENT],
            "displayName": "A J",
            "emails": [{"primary": true, "type": "work", "value": "new@contoso.com"}],
            "name": {"formatted": "Alice Smith", "familyName": "Jones", "givenName": "Alicia"},
            ENT: {"employeeNumber": "42"},
        }))
    );
}

#[test]
fn first_population_with_no_path_add() {
    let user = patch_user(json!([
        {"op": "add", "value": {"title": "Engineer", "name.middleName": "Q",
            format!("{ENT}:department"): "R&D", "preferredLanguage": "en-US"}},
    ]));
    assert_eq!(
        user,
        alice_with(json!({
            "schemas": [USER, ENT],
            "title": "Engineer", "preferredLanguage": "en-US",
            "name": {"formatted": "Alice Smith", "familyName": "Smith", "givenName": "Alice", "middleName": "Q"},
            ENT: {"department": "R&D"},
        }))
    );
}

#[test]
fn rename_user_in_both_dialects() {
    let expected = alice_with(json!({"userName": "alice.new@contoso.com"}));
    assert_eq!(
        patch_user(json!([{"op": "Replace", "path": "userName", "value": "alice.new@contoso.com"}])),
        expected
    );
    assert_eq!(
        patch_user(json!([{"op": "replace", "value": {"userName": "alice.new@contoso.com"}}])),
        expected
    );
}

#[test]
fn manager_in_three_shapes_then_removed() {
    let linked = |id: &str| alice_with(json!({"schemas": [USER, ENT], ENT: {"manager": {"value": id}}}));
    assert_eq!(
        patch_user(
            json!([{"op": "Add", "path": "manager", "value": [{"$ref": "https://h/scim/v2/Users/26", "value": "26"}]}])
        ),
        alice_with(
            json!({"schemas": [USER, ENT], ENT: {"manager": {"$ref": "https://h/scim/v2/Users/26", "value": "26"}}})
        )
    );
    assert_eq!(
        patch_user(json!([{"op": "Add", "path": format!("{ENT}:manager"), "value": "271"}])),
        linked("271")
    );
    assert_eq!(
        patch_user(json!([{"op": "add", "path": format!("{ENT}:manager"), "value": {"value": "272"}}])),
        linked("272")
    );
    assert_eq!(
        patch_user(json!([{"op": "replace", "path": format!("{ENT}:manager"), "value": {"value": "273"}}])),
        linked("273")
    );

    let mut user = linked("26");
    let removal = [
        json!({"op": "replace", "path": format!("{ENT}:manager"), "value": {"value": ""}}),
        json!({"op": "remove", "path": format!("{ENT}:manager")}),
        json!({"op": "Replace", "path": "manager", "value": ""}),
    ];
    for op in removal {
        let (_, outcome) = apply(&mut user, ResourceKind::User, json!({"Operations": [op]}));
        assert_eq!(user, provisioned_alice(), "the extension and its schema URN disappear");
        user = linked("26");
        assert!(outcome.changed);
    }
}

#[test]
fn disable_and_re_enable_in_every_spelling() {
    for value in [json!("False"), json!(false), json!("false")] {
        for op in ["Replace", "replace"] {
            let user = patch_user(json!([{"op": op, "path": "active", "value": value}]));
            assert_eq!(user, alice_with(json!({"active": false})), "{op} {value}");
        }
    }
    let mut user = alice_with(json!({"active": false}));
    for value in [json!("True"), json!(true)] {
        apply(
            &mut user,
            ResourceKind::User,
            json!({"Operations": [{"op": "Replace", "path": "active", "value": value}]}),
        );
        assert_eq!(user, provisioned_alice());
    }
}

#[test]
fn validator_add_attributes_verbose_creates_typed_elements() {
    let user = patch_user(json!([
        {"op": "add", "path": "emails[type eq \"home\"].value", "value": "alice@home.example"},
        {"op": "add", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 555 0100"},
        {"op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0199"},
        {"op": "add", "path": "phoneNumbers[type eq \"mobile\"].primary", "value": "True"},
        {"op": "add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Main St"},
        {"op": "add", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"},
        {"op": "add", "path": "addresses[type eq \"work\"].postalCode", "value": "98052"},
        {"op": "add", "path": "addresses[type eq \"work\"].primary", "value": "False"},
        {"op": "add", "path": "roles[primary eq \"True\"].value", "value": "Admin"},
        {"op": "add", "path": "roles[primary eq \"True\"].display", "value": "Administrator"},
        {"op": "add", "path": "roles[primary eq \"True\"].type", "value": "WindowsAzureActiveDirectoryRole"},
    ]));
    assert_eq!(
        user,
        alice_with(json!({
            "emails": [{"primary": true, "type": "work", "value": "alice@contoso.com"},
                       {"type": "home", "value": "alice@home.example"}],
            "phoneNumbers": [{"type": "work", "value": "+1 555 0100"},
                             {"type": "mobile", "value": "+1 555 0199", "primary": true}],
            "addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "Redmond",
                           "postalCode": "98052", "primary": false}],
            "roles": [{"primary": true, "value": "Admin", "display": "Administrator",
                       "type": "WindowsAzureActiveDirectoryRole"}],
        }))
    );
}

#[test]
fn validator_replace_attributes_verbose_updates_in_place() {
    let mut user = patch_user(json!([
        {"op": "add", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 555 0100"},
        {"op": "add", "path": "roles[primary eq \"True\"].value", "value": "Admin"},
    ]));
    apply(
        &mut user,
        ResourceKind::User,
        json!({"Operations": [
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "alice2@contoso.com"},
            {"op": "replace", "path": "emails[type eq \"work\"].primary", "value": "True"},
            {"op": "replace", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 555 0111"},
            {"op": "replace", "path": "roles[primary eq \"True\"].value", "value": "Owner"},
            {"op": "replace", "path": "active", "value": "False"},
            {"op": "replace", "path": "name.givenName", "value": "Alicia"},
        ]}),
    );
    assert_eq!(
        user,
        alice_with(json!({
            "active": false,
            "name": {"formatted": "Alice Smith", "familyName": "Smith", "givenName": "Alicia"},
            "emails": [{"primary": true, "type": "work", "value": "alice2@contoso.com"}],
            "phoneNumbers": [{"type": "work", "value": "+1 555 0111"}],
            "roles": [{"primary": true, "value": "Owner"}],
        }))
    );
}

#[test]
fn multiple_ops_on_the_same_attribute_apply_in_order() {
    let user = patch_user(json!([
        {"op": "remove", "path": "name.givenName"},
        {"op": "add", "path": "name.givenName", "value": "Al"},
        {"op": "replace", "path": "name.givenName", "value": "Alison"},
        {"op": "remove", "path": "emails[type eq \"work\"]"},
        {"op": "add", "path": "emails", "value": [{"type": "work", "value": "w@contoso.com"}]},
    ]));
    assert_eq!(
        user,
        alice_with(json!({
            "name": {"formatted": "Alice Smith", "familyName": "Smith", "givenName": "Alison"},
            "emails": [{"type": "work", "value": "w@contoso.com"}],
        }))
    );
}

#[test]
fn unmapped_attributes_do_not_block_the_disable() {
    let mut user = provisioned_alice();
    let (_, outcome) = apply(
        &mut user,
        ResourceKind::User,
        json!({"Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Replace", "path": "extension_1234_costCode", "value": "X"},
            {"op": "replace", "value": {"urn:ietf:params:scim:schemas:extension:custom:2.0:User:badge": "7"}},
        ]}),
    );
    assert_eq!(user, alice_with(json!({"active": false})));
    assert_eq!(
        outcome.ignored,
        ["extension_1234_costCode", "urn:ietf:params:scim:schemas:extension:custom:2.0:User:badge"]
    );
}

fn provisioned_group() -> Value {
    let body = json!({"schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0", "displayName": "Eng", "meta": {"resourceType": "Group"}});
    let mut group = prepare_resource(&body, ResourceKind::Group).expect("valid POST");
    if let Some(map) = group.as_object_mut() {
        map.insert("id".into(), json!("g-1"));
    }
    group
}

fn patch_group(operations: Value) -> (Value, Vec<MemberChange>) {
    let mut group = provisioned_group();
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    let (members, outcome) = apply(&mut group, ResourceKind::Group, body);
    assert!(outcome.ignored.is_empty());
    (group, members)
}

fn ids(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn group_membership_shapes() {
    let cases = [
        (
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u1"}, {"$ref": null, "value": "u2"}]},
                {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u3"}]}]),
            vec![MemberChange::Add(ids(&["u1", "u2"])), MemberChange::Add(ids(&["u3"]))],
        ),
        (
            json!([{"op": "replace", "path": "members", "value": [{"value": "673"}]}]),
            vec![MemberChange::Replace(ids(&["673"]))],
        ),
        (
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]),
            vec![MemberChange::Remove(ids(&["u1"])), MemberChange::Remove(ids(&["u2"]))],
        ),
        (
            json!([{"op": "remove", "path": "members[value eq \"u1\"]"}]),
            vec![MemberChange::Remove(ids(&["u1"]))],
        ),
        (json!([{"op": "Remove", "path": "members"}]), vec![MemberChange::RemoveAll]),
        (
            json!([{"op": "add", "path": "members", "value": [{"value": "u9"}]}, {"op": "remove", "path": "members[value eq \"u9\"]"}]),
            vec![MemberChange::Add(ids(&["u9"])), MemberChange::Remove(ids(&["u9"]))],
        ),
    ];
    for (operations, expected) in cases {
        let (group, members) = patch_group(operations.clone());
        assert_eq!(members, expected, "{operations}");
        assert_eq!(group, provisioned_group(), "members never enter the JSON: {operations}");
    }
}

#[test]
fn group_rename_and_external_id_without_touching_members() {
    let renamed =
        json!({"schemas": [GROUP], "id": "g-1", "externalId": "8aa1a0c0", "displayName": "Engineering"});
    for operations in [
        json!([{"op": "Replace", "path": "displayName", "value": "Engineering"}]),
        json!([{"op": "replace", "value": {"displayName": "Engineering"}}]),
    ] {
        let (group, members) = patch_group(operations);
        assert_eq!(group, renamed);
        assert!(members.is_empty());
    }
    let (group, members) = patch_group(json!([{"op": "replace", "value": {"externalId": "new-ext"}}]));
    assert_eq!(group["externalId"], "new-ext");
    assert!(members.is_empty());
}
