//! Bytes → JSON → `parse_patch` → (`split_member_ops` for Groups) → `apply_patch`, on a realistic
//! provisioned User and Group. Must never panic; a failed PATCH must leave the resource unchanged
//! (the engine is atomic), and a successful one must leave a resource that POST/PUT preparation
//! accepts.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use scim::{ResourceKind, apply_patch, parse_patch, prepare_resource, split_member_ops};
use serde_json::{Value, json};

fn provisioned(body: Value, kind: ResourceKind, id: &str) -> Value {
    let mut resource = prepare_resource(&body, kind).expect("seed resource is valid");
    resource.as_object_mut().expect("object").insert("id".into(), id.into());
    resource
}

static USER: LazyLock<Value> = LazyLock::new(|| {
    provisioned(
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "alice", "userName": "alice@contoso.com", "active": true,
            "displayName": "Alice Smith", "title": "Engineer", "preferredLanguage": "en-GB",
            "name": {"formatted": "Alice Smith", "familyName": "Smith", "givenName": "Alice"},
            "emails": [{"primary": true, "type": "work", "value": "alice@contoso.com"},
                       {"type": "home", "value": "alice@example.org"}],
            "phoneNumbers": [{"type": "mobile", "value": "+44 7700 900000"}],
            "addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "London",
                           "postalCode": "N1 1AA", "country": "GB", "primary": true}],
            "roles": [{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}],
            "meta": {"resourceType": "User"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "employeeNumber": "42", "department": "R&D", "manager": {"value": "u-26"}
            }
        }),
        ResourceKind::User,
        "u-1",
    )
});

static GROUP: LazyLock<Value> = LazyLock::new(|| {
    provisioned(
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "externalId": "eng", "displayName": "Engineering",
            "meta": {"resourceType": "Group"}
        }),
        ResourceKind::Group,
        "g-1",
    )
});

fn check_apply(original: &Value, ops: &[scim::PatchOperation], kind: ResourceKind) {
    let mut resource = original.clone();
    match apply_patch(&mut resource, ops, kind) {
        Ok(_) => {
            if let Err(e) = prepare_resource(&resource, kind) {
                panic!("PATCH {ops:?} produced {resource} which preparation refuses: {e}");
            }
        }
        Err(_) => assert_eq!(&resource, original, "failed PATCH changed the resource"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else { return };

    if let Ok(ops) = parse_patch(&body, ResourceKind::User) {
        check_apply(&USER, &ops, ResourceKind::User);
        for op in &ops {
            let _ = op.to_json();
        }
    }

    if let Ok(ops) = parse_patch(&body, ResourceKind::Group) {
        // Without splitting, member operations must be refused, not panic.
        let _ = apply_patch(&mut GROUP.clone(), &ops, ResourceKind::Group);
        if let Ok((_changes, rest)) = split_member_ops(ops) {
            check_apply(&GROUP, &rest, ResourceKind::Group);
        }
    }
});
