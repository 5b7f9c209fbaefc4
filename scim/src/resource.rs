//! Incoming full resources for POST and PUT (RFC 7643 §3, RFC 7644 §3.3, §3.5.1), and the checks
//! every stored resource passes, after PATCH too.
//!
//! [`prepare_resource`] accepts what Entra sends and stores RFC form: `null`s, `id`, `meta` and
//! other read-only attributes are dropped (client values are ignored, RFC 7643 §3.1, §2.2);
//! attribute names are spelled canonically; flat URN-qualified and dotted keys are folded into
//! their place (extension attributes under their URN); unknown attributes and unknown schema URNs
//! (`http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`) are ignored;
//! string booleans are coerced; `schemas` is rewritten to the core schema plus the extensions
//! present.
//!
//! Checks: `userName` (User) / `displayName` (Group) must be non-empty strings; values must have
//! their schema type; at most one `primary: true` per multi-valued attribute (RFC 7643 §2.4);
//! and, since Entra requires it and its `emails[type eq "work"]` paths depend on it, no two
//! elements of `emails`, `phoneNumbers`, `ims`, `photos` or `addresses` may share a `type`
//! (case-insensitively). Duplicates are rejected with 400 `invalidValue` rather than silently
//! dropped, so no data is lost without the client knowing. `roles` and `entitlements` are exempt:
//! Entra sends several roles of the same type. A stored resource is bounded (`limits`): values
//! per multi-valued attribute, members per request, and its size in bytes.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::attr_path::AttrPath;
use crate::coerce::{self, Unknown};
use crate::error::ScimError;
use crate::limits;
use crate::object::{get_ci, with_object};
use crate::schema::{Mutability, ResourceKind};

/// Multi-valued attributes whose `type` values must be unique.
const UNIQUE_TYPES: &[&str] = &["emails", "phoneNumbers", "ims", "photos", "addresses"];

/// Validates and normalises a POST/PUT body into the canonical JSON to store (without `id` and
/// `meta`, which the server adds). Errors: 400 `invalidSyntax` when not an object, 400
/// `invalidValue` for missing required or ill-typed values.
pub fn prepare_resource(body: &Value, kind: ResourceKind) -> Result<Value, ScimError> {
    let Value::Object(input) = body else {
        return Err(ScimError::invalid_syntax("resource must be a JSON object"));
    };
    let mut out = Map::new();
    let mut dropped = Vec::new();
    for (key, value) in input {
        if ["schemas", "id", "meta"].iter().any(|k| k.eq_ignore_ascii_case(key)) {
            continue;
        }
        match (kind.schema(key), value) {
            (Some(schema), Value::Object(inner)) => {
                for (inner_key, inner_value) in inner {
                    place(&mut out, kind, Some(schema.id), inner_key, inner_value, &mut dropped)?;
                }
            }
            (Some(_), _) => {}
            (None, _) => place(&mut out, kind, None, key, value, &mut dropped)?,
        }
    }
    finish(&mut out, kind)?;
    Ok(Value::Object(out))
}

/// Stores one attribute given as `key` (plain, dotted or URN-qualified; inside the object of
/// `schema` if given) into `out`.
fn place(
    out: &mut Map<String, Value>,
    kind: ResourceKind,
    schema: Option<&str>,
    key: &str,
    value: &Value,
    dropped: &mut Vec<String>,
) -> Result<(), ScimError> {
    let Ok(mut path) = AttrPath::parse(key) else {
        return Ok(());
    };
    if path.schema.is_none() {
        path.schema = schema.map(str::to_string);
    }
    let Some(target) = kind.resolve(&path) else {
        return Ok(());
    };
    let leaf = target.leaf();
    let read_only = target.attr.mutability == Mutability::ReadOnly || leaf.mutability == Mutability::ReadOnly;
    if read_only || (target.sub.is_some() && target.attr.multi_valued) {
        return Ok(());
    }
    let name = target.canonical_path().to_string();
    let mut unknown = Unknown::Report(dropped);
    let checked = match target.sub {
        Some(sub) => coerce::element(sub, value, &name, &mut unknown)?,
        None => coerce::attribute(target.attr, value, &name, &mut unknown)?,
    };
    let Some(checked) = checked else {
        return Ok(());
    };
    // Merge into a complex value another key (`name` and `name.familyName`) already started.
    let store = |container: &mut Map<String, Value>| match (target.sub, checked) {
        (Some(sub), checked) => with_object(container, target.attr.name, |object| {
            object.insert(sub.name.to_string(), checked);
        }),
        (None, Value::Object(fields)) if !target.attr.multi_valued => {
            with_object(container, target.attr.name, |object| object.extend(fields));
        }
        (None, checked) => {
            container.insert(target.attr.name.to_string(), checked);
        }
    };
    match target.extension {
        Some(ext) => with_object(out, ext.id, store),
        None => store(out),
    }
    Ok(())
}

/// Final checks and `schemas` for a resource about to be stored (after POST/PUT preparation or a
/// PATCH): drops empty extension objects, rewrites `schemas`, and enforces required attributes,
/// unique `type`s and a single `primary`.
pub(crate) fn finish(resource: &mut Map<String, Value>, kind: ResourceKind) -> Result<(), ScimError> {
    let mut schemas = vec![Value::from(kind.core_schema().id)];
    for ext in kind.extensions() {
        match resource.get(ext.id) {
            Some(Value::Object(inner)) if !inner.is_empty() => schemas.push(Value::from(ext.id)),
            Some(_) => {
                resource.remove(ext.id);
            }
            None => {}
        }
    }
    resource.insert("schemas".into(), Value::Array(schemas));
    for attr in kind.core_schema().attributes.iter().filter(|a| a.required) {
        match resource.get(attr.name) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(Value::String(_)) => {
                return Err(ScimError::invalid_value(format!("'{}' must not be empty", attr.name)));
            }
            _ => return Err(ScimError::invalid_value(format!("'{}' is required", attr.name))),
        }
    }
    for (name, value) in resource.iter() {
        let Value::Array(items) = value else { continue };
        if name == "members" {
            limits::check_members(items.len())?;
        } else {
            limits::check_values(name, items.len())?;
        }
        if items.iter().filter(|item| item.get("primary") == Some(&Value::Bool(true))).count() > 1 {
            return Err(ScimError::invalid_value(format!("'{name}' has more than one primary value")));
        }
        if UNIQUE_TYPES.contains(&name.as_str()) {
            check_unique_types(name, items)?;
        }
    }
    limits::check_identifiers(resource)?;
    // Memberships are stored as rows, not in the resource.
    limits::check_resource_size(resource, "members")
}

fn check_unique_types(name: &str, items: &[Value]) -> Result<(), ScimError> {
    let mut seen = HashSet::with_capacity(items.len());
    for item in items {
        let Some(kind) = get_ci(item, "type").and_then(Value::as_str) else { continue };
        let kind = kind.to_lowercase();
        if seen.contains(&kind) {
            return Err(ScimError::invalid_value(format!(
                "'{name}' has more than one value of type '{kind}'"
            )));
        }
        seen.insert(kind);
    }
    Ok(())
}

/// The member ids of a prepared Group (`members[].value`), in order, without duplicates.
pub fn group_members(group: &Value) -> Vec<String> {
    let members = get_ci(group, "members").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut seen = HashSet::with_capacity(members.len());
    members
        .iter()
        .filter_map(|member| get_ci(member, "value").and_then(Value::as_str))
        .filter(|id| seen.insert(*id))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

    fn user(body: Value) -> Result<Value, ScimError> {
        prepare_resource(&body, ResourceKind::User)
    }

    fn invalid(kind: ResourceKind, body: Value) -> ScimError {
        let err = prepare_resource(&body, kind).expect_err("invalid");
        assert_eq!(err.status, 400, "{body}");
        err
    }

    #[test]
    fn entra_create_user_body() {
        let body = json!({"schemas": [USER, ENT],
            "externalId": "alice", "userName": "alice@contoso.com", "active": true,
            "emails": [{"primary": true, "type": "work", "value": "alice@contoso.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "Alice Smith", "familyName": "Smith", "givenName": "Alice"},
            "roles": []});
        assert_eq!(
            user(body),
            Ok(json!({"schemas": [USER],
                "externalId": "alice", "userName": "alice@contoso.com", "active": true,
                "emails": [{"primary": true, "type": "work", "value": "alice@contoso.com"}],
                "name": {"formatted": "Alice Smith", "familyName": "Smith", "givenName": "Alice"}}))
        );
    }

    #[test]
    fn old_payloads_with_nulls_and_string_booleans() {
        let body = json!({"schemas": [USER, ENT], "userName": "bob", "active": "True",
            "addresses": null, "displayName": null, "id": "client-chosen",
            ENT: {"manager": null, "department": "Sales"},
            "roles": [{"primary": "False", "value": "Reader", "type": "WindowsAzureActiveDirectoryRole"},
                      {"primary": "True", "value": "Writer", "type": "WindowsAzureActiveDirectoryRole"}],
            "groups": [{"value": "g1"}]});
        assert_eq!(
            user(body),
            Ok(json!({"schemas": [USER, ENT], "userName": "bob", "active": true,
                ENT: {"department": "Sales"},
                "roles": [{"primary": false, "value": "Reader", "type": "WindowsAzureActiveDirectoryRole"},
                          {"primary": true, "value": "Writer", "type": "WindowsAzureActiveDirectoryRole"}]}))
        );
    }

    #[test]
    fn names_are_canonicalised_and_extension_keys_folded() {
        let body = json!({"USERNAME": "carol", "name": {"GIVENNAME": "Carol"}, "Name.familyName": "King",
            format!("{ENT}:employeeNumber"): "42",
            ENT.to_uppercase(): {"Manager": "271"},
            "urn:example:custom:2.0:User": {"shoeSize": 42}, "favouriteColour": "blue",
            "bad key": 1, "emails": [{"Value": "c@k.com", "TYPE": "work", "extra": 1}]});
        assert_eq!(
            user(body),
            Ok(json!({"schemas": [USER, ENT], "userName": "carol",
                "name": {"givenName": "Carol", "familyName": "King"},
                ENT: {"employeeNumber": "42", "manager": {"value": "271"}},
                "emails": [{"value": "c@k.com", "type": "work"}]}))
        );
    }

    #[test]
    fn required_and_typed_values() {
        let kind = ResourceKind::User;
        assert_eq!(invalid(kind, json!({"displayName": "x"})).detail, "'userName' is required");
        assert_eq!(invalid(kind, json!({"userName": " "})).detail, "'userName' must not be empty");
        assert_eq!(invalid(kind, json!({"userName": 42})).scim_type, Some(ScimType::InvalidValue));
        assert_eq!(
            invalid(kind, json!({"userName": "a", "active": "yes"})).scim_type,
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            invalid(kind, json!({"userName": "a", "name": "A"})).scim_type,
            Some(ScimType::InvalidValue)
        );
        assert_eq!(invalid(kind, json!(["not", "an", "object"])).scim_type, Some(ScimType::InvalidSyntax));
        assert_eq!(invalid(kind, json!("junk")).scim_type, Some(ScimType::InvalidSyntax));
    }

    #[test]
    fn duplicate_types_and_primaries_are_rejected() {
        let kind = ResourceKind::User;
        let err = invalid(
            kind,
            json!({"userName": "a", "emails": [
            {"value": "a@x", "type": "work"}, {"value": "b@x", "type": "Work"}]}),
        );
        assert_eq!(
            (err.scim_type, err.detail.as_str()),
            (Some(ScimType::InvalidValue), "'emails' has more than one value of type 'work'")
        );
        let err = invalid(
            kind,
            json!({"userName": "a", "phoneNumbers": [
            {"value": "1", "primary": true}, {"value": "2", "primary": "True"}]}),
        );
        assert_eq!(err.detail, "'phoneNumbers' has more than one primary value");
        let ok = user(
            json!({"userName": "a", "emails": [{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}, {"value": "c@x"}, {"value": "d@x"}],
            "roles": [{"value": "r1", "type": "t"}, {"value": "r2", "type": "t"}]}),
        );
        assert!(ok.is_ok(), "{ok:?}");
    }

    #[test]
    fn entra_create_group_body_and_members() {
        let body = json!({"schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0", "displayName": "Eng", "meta": {"resourceType": "Group"}});
        assert_eq!(
            prepare_resource(&body, ResourceKind::Group),
            Ok(json!({"schemas": [GROUP], "externalId": "8aa1a0c0", "displayName": "Eng"}))
        );
        let with_members = json!({"displayName": "Ops", "members": [
            {"value": "u1", "$ref": null, "display": "Alice"}, {"value": "u2", "type": "User"}, {"value": "u1"}]});
        let prepared = prepare_resource(&with_members, ResourceKind::Group).expect("valid");
        assert_eq!(
            prepared["members"],
            json!([{"value": "u1"}, {"value": "u2", "type": "User"}, {"value": "u1"}])
        );
        assert_eq!(group_members(&prepared), ["u1", "u2"]);
        assert_eq!(group_members(&json!({"displayName": "x"})), Vec::<String>::new());
        assert_eq!(
            invalid(ResourceKind::Group, json!({"externalId": "x"})).detail,
            "'displayName' is required"
        );
        assert_eq!(
            invalid(ResourceKind::Group, json!({"displayName": "x", "members": [{"value": 5}]})).scim_type,
            Some(ScimType::InvalidValue)
        );
    }
}
