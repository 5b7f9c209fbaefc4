//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) applied to a resource,
//! honouring each attribute's `returned` characteristic (RFC 7643 §2.2).
//!
//! - `returned: never` (`password`) is never output; `returned: always` (`id`, `meta`) always;
//!   `schemas` always stays.
//! - With `attributes`, only those (and the always-returned ones) are output; a sub-attribute
//!   (`name.givenName`, `emails.value`) keeps just that part; an extension URN alone keeps the
//!   whole extension. `excludedAttributes` is then not consulted.
//! - Otherwise every `returned: default` attribute is output except the excluded ones (Entra's
//!   `excludedAttributes=members` on Groups); `returned: request` ones are not.
//! - Names are case-insensitive and may be URN-qualified; unknown names are ignored.

use serde_json::{Map, Value};

use crate::attr_path::AttrPath;
use crate::schema::{AttributeDef, ResourceKind, Returned, SchemaDef};

/// Parses a comma-separated attribute list (`userName,name.givenName,urn:…:manager`); empty and
/// unparsable entries are skipped.
pub fn parse_attribute_list(list: &str) -> Vec<AttrPath> {
    list.split(',').filter_map(|item| AttrPath::parse(item.trim()).ok()).collect()
}

/// One selection entry resolved against the schema.
enum Selected {
    /// A whole schema (an extension URN given alone).
    Schema(&'static SchemaDef),
    /// An attribute, optionally one of its sub-attributes.
    Attr { extension: Option<&'static str>, attr: &'static str, sub: Option<&'static str> },
}

fn resolve_all(kind: ResourceKind, paths: &[AttrPath]) -> Vec<Selected> {
    paths
        .iter()
        .filter_map(|path| {
            if let Some(resolved) = kind.resolve(path) {
                return Some(Selected::Attr {
                    extension: resolved.extension.map(|e| e.id),
                    attr: resolved.attr.name,
                    sub: resolved.sub.map(|s| s.name),
                });
            }
            // `urn:…:enterprise:2.0:User` parses as schema `urn:…:2.0` + name `User`.
            let schema = path.schema.as_deref().filter(|_| path.sub_attr.is_none())?;
            kind.extension(&format!("{schema}:{}", path.name)).map(Selected::Schema)
        })
        .collect()
}

/// What a selection list says about one attribute.
enum Choice {
    Whole,
    Subs(Vec<&'static str>),
    Nothing,
}

fn choose(list: &[Selected], extension: Option<&'static SchemaDef>, attr: &AttributeDef) -> Choice {
    let mut subs = Vec::new();
    for selected in list {
        match selected {
            Selected::Schema(schema) if extension.is_some_and(|e| e.id == schema.id) => return Choice::Whole,
            Selected::Attr { extension: ext, attr: name, sub }
                if *ext == extension.map(|e| e.id) && *name == attr.name =>
            {
                match sub {
                    None => return Choice::Whole,
                    Some(sub) => subs.push(*sub),
                }
            }
            _ => {}
        }
    }
    if subs.is_empty() { Choice::Nothing } else { Choice::Subs(subs) }
}

/// Applies `attributes` / `excludedAttributes` to the canonical JSON of a `kind` resource.
pub fn project(
    resource: &Value,
    kind: ResourceKind,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Value {
    let Value::Object(map) = resource else {
        return resource.clone();
    };
    let requested = resolve_all(kind, attributes);
    let excluded = resolve_all(kind, excluded);
    let include = !attributes.is_empty();
    let mut out = Map::new();
    for (key, value) in map {
        if key == "schemas" {
            out.insert(key.clone(), value.clone());
            continue;
        }
        if let (Some(ext), Value::Object(inner)) = (kind.extension(key), value) {
            let kept: Map<String, Value> = inner
                .iter()
                .filter_map(|(name, v)| {
                    let def = ext.attribute(name)?;
                    Some((name.clone(), select(def, Some(ext), v, include, &requested, &excluded)?))
                })
                .collect();
            if !kept.is_empty() {
                out.insert(key.clone(), Value::Object(kept));
            }
            continue;
        }
        let projected = match kind.core_attribute(key) {
            Some(def) => select(def, None, value, include, &requested, &excluded),
            // Not in the schema (should not be stored): only without an explicit selection.
            None => (!include).then(|| value.clone()),
        };
        if let Some(projected) = projected {
            out.insert(key.clone(), projected);
        }
    }
    Value::Object(out)
}

fn select(
    def: &AttributeDef,
    extension: Option<&'static SchemaDef>,
    value: &Value,
    include: bool,
    requested: &[Selected],
    excluded: &[Selected],
) -> Option<Value> {
    match def.returned {
        Returned::Never => return None,
        Returned::Always => return Some(value.clone()),
        Returned::Default | Returned::Request => {}
    }
    if include {
        return match choose(requested, extension, def) {
            Choice::Whole => Some(value.clone()),
            Choice::Subs(subs) => keep_subs(value, |name| subs.iter().any(|s| s.eq_ignore_ascii_case(name))),
            Choice::Nothing => None,
        };
    }
    if def.returned == Returned::Request {
        return None;
    }
    match choose(excluded, extension, def) {
        Choice::Whole => None,
        Choice::Subs(subs) => keep_subs(value, |name| !subs.iter().any(|s| s.eq_ignore_ascii_case(name))),
        Choice::Nothing => Some(value.clone()),
    }
}

/// Keeps the sub-attributes `keep` accepts, in a complex value or each element of a multi-valued
/// one; `None` when nothing is left.
fn keep_subs(value: &Value, keep: impl Fn(&str) -> bool) -> Option<Value> {
    let filter = |element: &Map<String, Value>| -> Option<Value> {
        let kept: Map<String, Value> = element
            .iter()
            .filter(|(name, _)| keep(name))
            .map(|(name, v)| (name.clone(), v.clone()))
            .collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match value {
        Value::Object(element) => filter(element),
        Value::Array(items) => {
            let kept: Vec<Value> =
                items.iter().filter_map(|item| item.as_object().and_then(filter)).collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
            "id": "u-1",
            "externalId": "ext",
            "userName": "alice@contoso.com",
            "password": "hunter2",
            "name": {"givenName": "Alice", "familyName": "Smith"},
            "emails": [{"value": "a@contoso.com", "type": "work"}, {"value": "a@home", "type": "home"}],
            "active": true,
            ENT: {"employeeNumber": "42", "manager": {"value": "m-1", "$ref": "https://h/Users/m-1"}},
            "meta": {"resourceType": "User", "location": "https://h/Users/u-1"}
        })
    }

    fn run(attributes: &str, excluded: &str) -> Value {
        project(
            &user(),
            ResourceKind::User,
            &parse_attribute_list(attributes),
            &parse_attribute_list(excluded),
        )
    }

    #[test]
    fn default_projection_drops_never_returned_attributes() {
        let mut expected = user();
        expected.as_object_mut().map(|u| u.remove("password"));
        assert_eq!(run("", ""), expected);
    }

    #[test]
    fn attributes_keep_always_returned_and_requested() {
        assert_eq!(
            run("userName", ""),
            json!({"schemas": user()["schemas"], "id": "u-1", "userName": "alice@contoso.com", "meta": user()["meta"]})
        );
        assert_eq!(
            run(" NAME.givenName , emails.VALUE,password,nonsense,,bad key", ""),
            json!({"schemas": user()["schemas"], "id": "u-1", "meta": user()["meta"],
                "name": {"givenName": "Alice"}, "emails": [{"value": "a@contoso.com"}, {"value": "a@home"}]})
        );
        assert_eq!(
            run(&format!("{ENT}:manager.value,name,name.givenName"), "userName"),
            json!({"schemas": user()["schemas"], "id": "u-1", "meta": user()["meta"],
                "name": {"givenName": "Alice", "familyName": "Smith"}, ENT: {"manager": {"value": "m-1"}}})
        );
        assert_eq!(run(ENT, "")[ENT], user()[ENT]);
        assert_eq!(run("manager", "")[ENT], json!({"manager": user()[ENT]["manager"]}));
    }

    #[test]
    fn excluded_attributes_remove_defaults_but_not_always() {
        let projected = run(
            "",
            "emails,name.familyName,id,meta,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        );
        assert_eq!(projected["id"], "u-1");
        assert_eq!(projected["meta"], user()["meta"]);
        assert!(projected.get("emails").is_none());
        assert_eq!(projected["name"], json!({"givenName": "Alice"}));
        assert_eq!(projected[ENT], json!({"manager": user()[ENT]["manager"]}));
        let no_ext = run("", &format!("{ENT}:employeeNumber,{ENT}:manager"));
        assert!(no_ext.get(ENT).is_none());
    }

    #[test]
    fn groups_without_members_for_entra() {
        let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g-1",
            "displayName": "Eng", "members": [{"value": "u-1"}], "meta": {"resourceType": "Group"}});
        let projected = project(&group, ResourceKind::Group, &[], &parse_attribute_list("members"));
        assert_eq!(
            projected,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g-1",
            "displayName": "Eng", "meta": {"resourceType": "Group"}})
        );
        let ids_only = project(&group, ResourceKind::Group, &parse_attribute_list("id"), &[]);
        assert_eq!(
            ids_only,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g-1", "meta": {"resourceType": "Group"}})
        );
        assert_eq!(project(&json!("x"), ResourceKind::Group, &[], &[]), json!("x"));
    }
}
