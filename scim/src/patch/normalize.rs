//! The Entra normaliser: rewrites both Entra PATCH dialects (entra-scim.md §2.3, §3) into plain
//! RFC 7644 §3.5.2 operations before the engine runs.
//!
//! - A no-path `add`/`replace` whose value object has plain, dotted (`name.givenName`) or
//!   URN-qualified (`urn:…:enterprise:2.0:User:employeeNumber`) keys, or extension objects, becomes
//!   one operation per attribute with a path (`schemas` and `meta` keys are noise and dropped).
//!   Keys are processed in sorted order so the result does not depend on JSON map ordering.
//! - Paths are spelled canonically (`USERNAME` → `userName`, `manager` →
//!   `urn:…:enterprise:2.0:User:manager`).
//! - Values are type-checked and coerced (`"True"` → `true`, manager shapes → `{"value": id}`,
//!   `"$ref": null` dropped); an `add`/`replace` whose value is unassigned (`null`,
//!   `{"value": ""}`, `""` for the manager, `[]`) becomes a `remove`, except that adding nothing to
//!   a multi-valued attribute does nothing.
//! - `remove` of a multi-valued attribute with a `value` array (Entra's member removal) becomes one
//!   `remove` per element with path `attr[value eq "<id>"]`; any other `remove` loses its value.
//!
//! Unknown and read-only attributes pass through untouched; the engine ignores and reports them.

use std::slice;

use serde_json::{Map, Value};

use super::{OpKind, PatchOperation, coerce_value};
use crate::attr_path::AttrPath;
use crate::coerce::Unknown;
use crate::error::ScimError;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::object::get_ci;
use crate::path::PatchPath;
use crate::schema::{Mutability, ResolvedAttr, ResourceKind};

/// Rewrites operations into canonical RFC form for `kind`. Errors: 400 `invalidValue` for values
/// of the wrong type, 400 `invalidPath` for unparsable keys of a no-path value.
pub fn normalize(ops: Vec<PatchOperation>, kind: ResourceKind) -> Result<Vec<PatchOperation>, ScimError> {
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        normalize_op(op, kind, &mut out)?;
    }
    Ok(out)
}

fn normalize_op(
    op: PatchOperation,
    kind: ResourceKind,
    out: &mut Vec<PatchOperation>,
) -> Result<(), ScimError> {
    let PatchOperation { op: op_kind, path, value } = op;
    let Some(path) = path else {
        if let (OpKind::Add | OpKind::Replace, Some(Value::Object(map))) = (op_kind, &value) {
            for split in split_object(op_kind, map, kind)? {
                normalize_op(split, kind, out)?;
            }
        } else {
            // Invalid without a path; left for the engine to reject.
            out.push(PatchOperation { op: op_kind, path: None, value });
        }
        return Ok(());
    };
    let Some(target) = kind.resolve(&path.attr) else {
        out.push(PatchOperation { op: op_kind, path: Some(path), value });
        return Ok(());
    };
    let path = PatchPath { attr: target.canonical_path(), filter: path.filter };
    let read_only =
        target.leaf().mutability == Mutability::ReadOnly || target.attr.mutability == Mutability::ReadOnly;
    let value = match (op_kind, value) {
        (OpKind::Remove, value) => return expand_remove(&target, path, value, out),
        (_, Some(value)) if !read_only => value,
        (_, value) => {
            // Without a value it is invalid; read-only targets are ignored. The engine decides.
            out.push(PatchOperation::new(op_kind, path, value));
            return Ok(());
        }
    };
    match coerce_value(&target, &path, &value, &mut Unknown::Keep)? {
        Some(value) => out.push(PatchOperation::new(op_kind, path, Some(value))),
        None if op_kind == OpKind::Add && target.attr.multi_valued => {}
        None => out.push(PatchOperation::new(OpKind::Remove, path, None)),
    }
    Ok(())
}

fn expand_remove(
    target: &ResolvedAttr,
    path: PatchPath,
    value: Option<Value>,
    out: &mut Vec<PatchOperation>,
) -> Result<(), ScimError> {
    let whole_multi_valued = path.filter.is_none()
        && target.sub.is_none()
        && target.attr.multi_valued
        && target.attr.sub_attribute("value").is_some();
    let items = match &value {
        Some(Value::Null) | None => None,
        Some(Value::Array(items)) => Some(items.as_slice()),
        Some(single) => Some(slice::from_ref(single)),
    };
    let Some(items) = items.filter(|_| whole_multi_valued) else {
        out.push(PatchOperation::new(OpKind::Remove, path, None));
        return Ok(());
    };
    for item in items {
        let id = match item {
            Value::Object(_) => get_ci(item, "value"),
            other => Some(other),
        };
        let id = match id {
            Some(Value::String(id)) => id.clone(),
            Some(Value::Number(id)) => id.to_string(),
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "each value removed from '{path}' needs a 'value'"
                )));
            }
        };
        let filter = Filter::compare(AttrPath::new("value"), CompareOp::Eq, CompValue::String(id));
        let path = PatchPath { attr: path.attr.clone(), filter: Some(filter) };
        out.push(PatchOperation::new(OpKind::Remove, path, None));
    }
    Ok(())
}

/// Splits the object value of a no-path `add`/`replace` into one operation per attribute.
pub(crate) fn split_object(
    op: OpKind,
    map: &Map<String, Value>,
    kind: ResourceKind,
) -> Result<Vec<PatchOperation>, ScimError> {
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in sorted(map) {
        if key.eq_ignore_ascii_case("schemas") || key.eq_ignore_ascii_case("meta") {
            continue;
        }
        let Some(schema) = kind.schema(key) else {
            out.push(PatchOperation::new(op, PatchPath::attr(parse_key(key)?), Some(value.clone())));
            continue;
        };
        let Value::Object(inner) = value else {
            return Err(ScimError::invalid_value(format!("'{key}' must be an object")));
        };
        for (inner_key, inner_value) in sorted(inner) {
            let mut attr = parse_key(inner_key)?;
            attr.schema.get_or_insert_with(|| schema.id.to_string());
            out.push(PatchOperation::new(op, PatchPath::attr(attr), Some(inner_value.clone())));
        }
    }
    Ok(out)
}

fn sorted(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

fn parse_key(key: &str) -> Result<AttrPath, ScimError> {
    AttrPath::parse(key)
        .map_err(|m| ScimError::invalid_path(format!("'{key}' is not an attribute name: {m}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use crate::patch::{parse_patch, parse_patch_body};
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn normalized(kind: ResourceKind, operations: Value) -> Vec<Value> {
        let body =
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
        parse_patch(&body, kind)
            .unwrap_or_else(|e| panic!("{body}: {e}"))
            .iter()
            .map(PatchOperation::to_json)
            .collect()
    }

    fn user(operations: Value) -> Vec<Value> {
        normalized(ResourceKind::User, operations)
    }

    #[test]
    fn default_dialect_is_canonicalised() {
        assert_eq!(
            user(json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"},
                {"op": "Replace", "path": "name.familyName", "value": "Jones"},
                {"op": "Replace", "path": format!("{ENT}:employeeNumber"), "value": "42"},
            ])),
            vec![
                json!({"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"}),
                json!({"op": "replace", "path": "name.familyName", "value": "Jones"}),
                json!({"op": "replace", "path": format!("{ENT}:employeeNumber"), "value": "42"}),
            ]
        );
    }

    #[test]
    fn no_path_objects_with_dotted_and_urn_keys_are_split() {
        assert_eq!(
            user(json!([
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"},
                {"op": "replace", "value": {"displayName": "A J", "name.givenName": "Alice", "name.familyName": "Jones",
                    format!("{ENT}:employeeNumber"): "42"}},
            ])),
            vec![
                json!({"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"}),
                json!({"op": "replace", "path": "displayName", "value": "A J"}),
                json!({"op": "replace", "path": "name.familyName", "value": "Jones"}),
                json!({"op": "replace", "path": "name.givenName", "value": "Alice"}),
                json!({"op": "replace", "path": format!("{ENT}:employeeNumber"), "value": "42"}),
            ]
        );
        assert_eq!(
            user(json!([{"op": "add", "value": {
                "schemas": ["x"], "meta": {"resourceType": "User"}, "active": "True",
                ENT: {"department": "R&D", "Manager": "271"}}}])),
            vec![
                json!({"op": "add", "path": "active", "value": true}),
                json!({"op": "add", "path": format!("{ENT}:manager"), "value": {"value": "271"}}),
                json!({"op": "add", "path": format!("{ENT}:department"), "value": "R&D"}),
            ]
        );
        assert_eq!(
            user(json!([{"op": "replace", "value": {"userName": "new@contoso.com"}}])),
            vec![json!({"op": "replace", "path": "userName", "value": "new@contoso.com"})]
        );
    }

    #[test]
    fn string_booleans_are_coerced_by_schema_type() {
        assert_eq!(
            user(json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "replace", "path": "ACTIVE", "value": "true"},
                {"op": "Add", "path": "roles", "value": [{"primary": "True", "value": "Admin", "type": "WindowsAzureActiveDirectoryRole"}]},
                {"op": "add", "path": "roles[primary eq \"True\"].primary", "value": "True"},
                {"op": "add", "path": "emails[type eq \"work\"]", "value": {"value": "a@b.c", "primary": "false"}},
                {"op": "replace", "path": "title", "value": "True"},
            ])),
            vec![
                json!({"op": "replace", "path": "active", "value": false}),
                json!({"op": "replace", "path": "active", "value": true}),
                json!({"op": "add", "path": "roles", "value": [{"primary": true, "value": "Admin", "type": "WindowsAzureActiveDirectoryRole"}]}),
                json!({"op": "add", "path": "roles[primary eq \"True\"].primary", "value": true}),
                json!({"op": "add", "path": "emails[type eq \"work\"]", "value": {"value": "a@b.c", "primary": false}}),
                json!({"op": "replace", "path": "title", "value": "True"}),
            ]
        );
    }

    #[test]
    fn manager_shapes_and_removal() {
        let manager = format!("{ENT}:manager");
        assert_eq!(
            user(json!([
                {"op": "Add", "path": "manager", "value": [{"$ref": "http://host/Users/26", "value": "26"}]},
                {"op": "Add", "path": manager, "value": "271"},
                {"op": "replace", "path": manager, "value": {"value": "272"}},
                {"op": "replace", "path": manager, "value": {"value": ""}},
                {"op": "add", "path": manager, "value": ""},
                {"op": "remove", "path": manager},
                {"op": "replace", "path": "manager.value", "value": "273"},
            ])),
            vec![
                json!({"op": "add", "path": manager, "value": {"$ref": "http://host/Users/26", "value": "26"}}),
                json!({"op": "add", "path": manager, "value": {"value": "271"}}),
                json!({"op": "replace", "path": manager, "value": {"value": "272"}}),
                json!({"op": "remove", "path": manager}),
                json!({"op": "remove", "path": manager}),
                json!({"op": "remove", "path": manager}),
                json!({"op": "replace", "path": format!("{manager}.value"), "value": "273"}),
            ]
        );
    }

    #[test]
    fn member_shapes() {
        assert_eq!(
            normalized(
                ResourceKind::Group,
                json!([
                    {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u1"}, {"value": "u2", "display": "Bob"}]},
                    {"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "u3"}]},
                    {"op": "remove", "path": "members[value eq \"u4\"]"},
                    {"op": "Remove", "path": "Members"},
                    {"op": "replace", "path": "members", "value": [{"value": "673"}]},
                    {"op": "replace", "path": "members", "value": []},
                    {"op": "add", "path": "members", "value": []},
                    {"op": "replace", "value": {"displayName": "Eng", "externalId": "ext-1"}},
                ])
            ),
            vec![
                json!({"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}),
                json!({"op": "remove", "path": "members[value eq \"u1\"]"}),
                json!({"op": "remove", "path": "members[value eq \"u3\"]"}),
                json!({"op": "remove", "path": "members[value eq \"u4\"]"}),
                json!({"op": "remove", "path": "members"}),
                json!({"op": "replace", "path": "members", "value": [{"value": "673"}]}),
                json!({"op": "remove", "path": "members"}),
                json!({"op": "replace", "path": "displayName", "value": "Eng"}),
                json!({"op": "replace", "path": "externalId", "value": "ext-1"}),
            ]
        );
    }

    #[test]
    fn unknown_attributes_and_invalid_ops_pass_through() {
        assert_eq!(
            user(json!([
                {"op": "replace", "path": "favouriteColour", "value": "blue"},
                {"op": "replace", "value": {"shoeSize": 42}},
                {"op": "remove"},
                {"op": "add", "path": "title"},
                {"op": "remove", "path": "emails", "value": [{"value": "a@b.c"}]},
                {"op": "remove", "path": "title", "value": "ignored"},
            ])),
            vec![
                json!({"op": "replace", "path": "favouriteColour", "value": "blue"}),
                json!({"op": "replace", "path": "shoeSize", "value": 42}),
                json!({"op": "remove"}),
                json!({"op": "add", "path": "title"}),
                json!({"op": "remove", "path": "emails[value eq \"a@b.c\"]"}),
                json!({"op": "remove", "path": "title"}),
            ]
        );
    }

    #[test]
    fn wrong_values_are_rejected() {
        let cases = [
            (json!([{"op": "replace", "path": "active", "value": "maybe"}]), ScimType::InvalidValue),
            (json!([{"op": "replace", "path": "userName", "value": 42}]), ScimType::InvalidValue),
            (json!([{"op": "replace", "value": {"bad key": 1}}]), ScimType::InvalidPath),
            (json!([{"op": "replace", "value": {ENT: "x"}}]), ScimType::InvalidValue),
            (
                json!([{"op": "remove", "path": "emails", "value": [{"type": "work"}]}]),
                ScimType::InvalidValue,
            ),
        ];
        for (operations, scim_type) in cases {
            let body = json!({"Operations": operations});
            let err = parse_patch(&body, ResourceKind::User).expect_err("invalid");
            assert_eq!(err.scim_type, Some(scim_type), "{body}");
        }
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        let body = json!({"Operations": [
            {"op": "Replace", "path": "ACTIVE", "value": "False"},
            {"op": "add", "value": {"name.givenName": "A", ENT: {"manager": "1"}}},
            {"op": "Remove", "path": "emails", "value": [{"value": "x"}]},
        ]});
        let once = parse_patch(&body, ResourceKind::User).expect("valid");
        let twice = normalize(once.clone(), ResourceKind::User).expect("still valid");
        assert_eq!(once, twice);
        assert_eq!(parse_patch_body(&body).map(|ops| ops.len()), Ok(3));
    }
}
