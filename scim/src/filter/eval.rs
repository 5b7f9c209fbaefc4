//! In-memory filter evaluation (RFC 7644 §3.4.2.2 semantics) and schema validation of filters.
//!
//! Used by the PATCH engine for value-selection filters and as the reference semantics for the
//! SQL lowering in the database layer. Strings compare case-insensitively unless the attribute is
//! `caseExact`; a multi-valued attribute matches when any value does; a complex attribute without
//! a sub-attribute compares its `value`; `dateTime` compares as instants; a boolean attribute
//! also matches the strings `"True"`/`"False"` Entra puts in paths like `roles[primary eq "True"]`.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::{CompValue, CompareOp, Filter};
use crate::attr_path::AttrPath;
use crate::datetime;
use crate::error::ScimError;
use crate::object::get_ci;
use crate::schema::{AttrType, AttributeDef, ResourceKind};

/// Where attribute names in a filter are looked up.
#[derive(Clone, Copy)]
enum Scope {
    /// Top level of a resource.
    Resource(ResourceKind),
    /// Inside an element of a complex attribute (a value filter); names are sub-attributes.
    Element(Option<&'static AttributeDef>),
}

/// Whether `resource` (canonical JSON of a `kind` resource) matches `filter`.
pub fn matches(filter: &Filter, resource: &Value, kind: ResourceKind) -> bool {
    eval(filter, resource, Scope::Resource(kind))
}

/// Whether one element of the complex attribute `parent` matches a value filter.
pub(crate) fn matches_element(filter: &Filter, element: &Value, parent: &'static AttributeDef) -> bool {
    eval(filter, element, Scope::Element(Some(parent)))
}

/// Checks a filter against a resource type's schema: ordering operators (`gt`, `ge`, `lt`, `le`)
/// on boolean or binary attributes are 400 `invalidFilter` (RFC 7644 §3.4.2.2). Unknown
/// attributes are allowed (they match nothing).
pub fn validate(filter: &Filter, kind: ResourceKind) -> Result<(), ScimError> {
    check(filter, Scope::Resource(kind))
}

fn check(filter: &Filter, scope: Scope) -> Result<(), ScimError> {
    match filter {
        Filter::And(l, r) | Filter::Or(l, r) => check(l, scope).and_then(|()| check(r, scope)),
        Filter::Not(inner) => check(inner, scope),
        Filter::Present(_) => Ok(()),
        Filter::Compare { attr, op, .. } => {
            let ordering = matches!(op, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le);
            let unordered = leaf_def(attr, scope, true)
                .is_some_and(|d| matches!(d.attr_type, AttrType::Boolean | AttrType::Binary));
            if ordering && unordered {
                return Err(ScimError::invalid_filter(format!(
                    "'{}' cannot be used with the {} attribute '{attr}'",
                    op.as_str(),
                    leaf_def(attr, scope, true).map_or("", |d| d.attr_type.as_str())
                )));
            }
            Ok(())
        }
        Filter::ValuePath { attr, filter } => check(filter, element_scope(attr, scope)),
    }
}

fn element_scope(attr: &AttrPath, scope: Scope) -> Scope {
    match scope {
        Scope::Resource(kind) => Scope::Element(kind.resolve(attr).map(|r| r.attr)),
        Scope::Element(_) => Scope::Element(None),
    }
}

fn eval(filter: &Filter, target: &Value, scope: Scope) -> bool {
    match filter {
        Filter::And(l, r) => eval(l, target, scope) && eval(r, target, scope),
        Filter::Or(l, r) => eval(l, target, scope) || eval(r, target, scope),
        Filter::Not(inner) => !eval(inner, target, scope),
        Filter::Present(attr) => values(attr, target, scope, false).iter().any(|v| is_present(v)),
        Filter::Compare { attr, op, value } => {
            let found = values(attr, target, scope, true);
            if *value == CompValue::Null {
                let present = found.iter().any(|v| is_present(v));
                return match op {
                    CompareOp::Eq => !present,
                    CompareOp::Ne => present,
                    _ => false,
                };
            }
            let def = leaf_def(attr, scope, true);
            found.iter().any(|v| compare(v, *op, value, def))
        }
        Filter::ValuePath { attr, filter } => {
            let inner = element_scope(attr, scope);
            values(attr, target, scope, false).iter().any(|element| eval(filter, element, inner))
        }
    }
}

/// The definition of the value a path compares: the sub-attribute, or, for a complex attribute
/// named without one and `implicit_value`, its `value` sub-attribute.
fn leaf_def(attr: &AttrPath, scope: Scope, implicit_value: bool) -> Option<&'static AttributeDef> {
    match scope {
        Scope::Element(parent) => parent?.sub_attribute(&attr.name),
        Scope::Resource(kind) => {
            let resolved = kind.resolve(attr)?;
            match resolved.sub {
                Some(sub) => Some(sub),
                None if implicit_value && resolved.attr.is_complex() => resolved.attr.sub_attribute("value"),
                None => Some(resolved.attr),
            }
        }
    }
}

/// All values the path designates in `target`, arrays flattened.
fn values<'v>(attr: &AttrPath, target: &'v Value, scope: Scope, implicit_value: bool) -> Vec<&'v Value> {
    let mut out = Vec::new();
    match scope {
        Scope::Element(parent) => {
            let name =
                parent.and_then(|p| p.sub_attribute(&attr.name)).map_or(attr.name.as_str(), |d| d.name);
            collect(get_ci(target, name), None, &mut out);
        }
        Scope::Resource(kind) => {
            let resolved = kind.resolve(attr);
            let container = match (resolved.and_then(|r| r.extension), &attr.schema) {
                (Some(ext), _) => get_ci(target, ext.id),
                (None, Some(urn)) if resolved.is_none() => get_ci(target, urn),
                _ => Some(target),
            };
            let name = resolved.map_or(attr.name.as_str(), |r| r.attr.name);
            let sub = match (resolved, attr.sub_attr.as_deref()) {
                (Some(r), Some(_)) => r.sub.map(|s| s.name),
                (None, Some(sub)) => Some(sub),
                (Some(r), None) if implicit_value && r.attr.is_complex() => Some("value"),
                _ => None,
            };
            collect(container.and_then(|c| get_ci(c, name)), sub, &mut out);
        }
    }
    out
}

fn collect<'v>(value: Option<&'v Value>, sub: Option<&str>, out: &mut Vec<&'v Value>) {
    let mut push = |item: &'v Value| match sub {
        Some(sub) => match get_ci(item, sub) {
            Some(Value::Array(items)) => out.extend(items),
            Some(v) => out.push(v),
            None => {}
        },
        None => out.push(item),
    };
    match value {
        Some(Value::Array(items)) => items.iter().for_each(&mut push),
        Some(Value::Null) | None => {}
        Some(v) => push(v),
    }
}

/// RFC 7644 `pr`: a non-empty value.
fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(map) => map.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn ordered(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn compare(actual: &Value, op: CompareOp, expected: &CompValue, def: Option<&AttributeDef>) -> bool {
    match actual {
        Value::String(actual) => {
            let expected: Cow<'_, str> = match expected {
                CompValue::String(s) => Cow::Borrowed(s),
                CompValue::Number(n) => Cow::Owned(n.to_string()),
                CompValue::Bool(b) => Cow::Owned(b.to_string()),
                CompValue::Null => return false,
            };
            compare_text(actual, op, &expected, def)
        }
        Value::Bool(actual) => {
            let expected = match expected {
                CompValue::Bool(b) => *b,
                CompValue::String(s) if s.eq_ignore_ascii_case("true") => true,
                CompValue::String(s) if s.eq_ignore_ascii_case("false") => false,
                _ => return false,
            };
            matches!(op, CompareOp::Eq | CompareOp::Ne) && ordered(op, actual.cmp(&expected))
        }
        Value::Number(actual) => {
            let expected = match expected {
                CompValue::Number(n) => n.as_f64(),
                CompValue::String(s) => s.parse::<f64>().ok(),
                _ => None,
            };
            match (actual.as_f64(), expected) {
                (Some(a), Some(e)) => a.partial_cmp(&e).is_some_and(|ord| ordered(op, ord)),
                _ => false,
            }
        }
        _ => false,
    }
}

fn compare_text(actual: &str, op: CompareOp, expected: &str, def: Option<&AttributeDef>) -> bool {
    let substring_op = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    if !substring_op
        && def.is_some_and(|d| d.attr_type == AttrType::DateTime)
        && let (Some(a), Some(e)) = (datetime::parse(actual), datetime::parse(expected))
    {
        return ordered(op, a.cmp(&e));
    }
    let case_exact = def.is_some_and(|d| d.case_exact);
    let (actual, expected): (Cow<'_, str>, Cow<'_, str>) = if case_exact {
        (actual.into(), expected.into())
    } else {
        (actual.to_lowercase().into(), expected.to_lowercase().into())
    };
    match op {
        CompareOp::Co => actual.contains(&*expected),
        CompareOp::Sw => actual.starts_with(&*expected),
        CompareOp::Ew => actual.ends_with(&*expected),
        _ => ordered(op, actual.cmp(&expected)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "id": "2819c223",
            "externalId": "Alice-Ext",
            "userName": "Alice@Contoso.com",
            "name": {"givenName": "Alice", "familyName": "Smith"},
            "active": false,
            "emails": [
                {"value": "alice@contoso.com", "type": "work", "primary": true},
                {"value": "alice@home.example", "type": "home"}
            ],
            "roles": [{"value": "Admin", "primary": true}],
            "meta": {"created": "2024-01-01T10:00:00Z", "lastModified": "2024-03-01T12:00:00+02:00"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "employeeNumber": "42", "manager": {"value": "boss-1"}
            },
            "x-unknown": 7
        })
    }

    fn check_user(filter: &str) -> bool {
        let f = Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        matches(&f, &user(), ResourceKind::User)
    }

    #[test]
    fn case_exactness_follows_the_schema() {
        assert!(check_user("userName eq \"alice@contoso.com\""));
        assert!(check_user("USERNAME EQ \"ALICE@CONTOSO.COM\""));
        assert!(check_user("externalId eq \"Alice-Ext\""));
        assert!(!check_user("externalId eq \"alice-ext\""));
        assert!(check_user("id eq \"2819c223\""));
        assert!(!check_user("id eq \"2819C223\""));
        assert!(check_user("name.givenName sw \"al\" and name.familyName ew \"TH\""));
        assert!(check_user("userName co \"@contoso\""));
    }

    #[test]
    fn multi_valued_and_value_paths() {
        assert!(check_user("emails[type eq \"work\"].value eq \"alice@contoso.com\""));
        assert!(!check_user("emails[type eq \"home\"].value eq \"alice@contoso.com\""));
        assert!(check_user("emails.value eq \"alice@home.example\""));
        assert!(check_user("emails co \"home.example\""));
        assert!(check_user("emails[type eq \"work\" and primary eq true]"));
        assert!(!check_user("emails[type eq \"home\" and primary eq true]"));
        assert!(check_user("roles[primary eq \"True\"]"));
        assert!(!check_user("roles[primary eq \"False\"]"));
        assert!(check_user("emails[not (type eq \"work\")]"));
        assert!(!check_user("phoneNumbers[type eq \"work\"]"));
    }

    #[test]
    fn presence_null_and_booleans() {
        assert!(check_user("name pr and emails pr and active pr"));
        assert!(!check_user("title pr"));
        assert!(check_user("title eq null"));
        assert!(check_user("userName ne null"));
        assert!(!check_user("userName eq null"));
        assert!(check_user("active eq false"));
        assert!(check_user("active eq \"False\""));
        assert!(!check_user("active eq true"));
        assert!(!check_user("active gt false"));
        assert!(check_user("not (active eq true)"));
        assert!(check_user("title pr or active eq false"));
    }

    #[test]
    fn extension_and_unquoted_values() {
        assert!(check_user(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"42\""
        ));
        assert!(check_user("employeeNumber eq 42"));
        assert!(check_user("externalId eq Alice-Ext"));
        assert!(check_user("manager eq \"boss-1\""));
        assert!(check_user(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"boss-1\""
        ));
        assert!(check_user("id eq \"2819c223\" and manager eq \"boss-1\""));
        assert!(check_user("x-unknown gt 5"));
        assert!(!check_user("nonexistent eq \"x\""));
    }

    #[test]
    fn date_times_compare_as_instants() {
        assert!(check_user("meta.lastModified eq \"2024-03-01T10:00:00Z\""));
        assert!(check_user("meta.lastModified gt \"2024-03-01T09:59:59Z\""));
        assert!(check_user("meta.created lt \"2024-01-01T11:00:00+00:30\""));
        assert!(!check_user("meta.created ge \"2024-01-01T10:00:01Z\""));
        assert!(check_user("meta.created le \"2024-01-01T10:00:00.000Z\""));
    }

    #[test]
    fn group_members_and_strings_ordering() {
        let group = json!({"displayName": "Engineering", "members": [{"value": "u1"}, {"value": "u2"}]});
        let f = |s: &str| matches(&Filter::parse(s).expect("valid"), &group, ResourceKind::Group);
        assert!(f("displayName eq \"engineering\""));
        assert!(f("members[value eq \"u2\"]"));
        assert!(f("members eq \"u1\""));
        assert!(f("members[value eq \"U2\"]"), "members.value is caseExact=false per RFC 7643 §8.7.1");
        assert!(!f("members[value eq \"u3\"]"));
        assert!(f("displayName gt \"alpha\" and displayName lt \"zulu\""));
        assert!(!f("displayName gt \"zulu\""));
    }

    #[test]
    fn validate_rejects_ordering_on_booleans() {
        let f = Filter::parse("active gt true").expect("valid syntax");
        let err = validate(&f, ResourceKind::User).expect_err("boolean ordering");
        assert_eq!(err.scim_type, Some(ScimType::InvalidFilter));
        let f = Filter::parse("emails[primary le true]").expect("valid syntax");
        assert!(validate(&f, ResourceKind::User).is_err());
        let f = Filter::parse(
            "userName gt \"a\" and active eq true and meta.created gt \"2020-01-01T00:00:00Z\"",
        )
        .expect("valid syntax");
        assert_eq!(validate(&f, ResourceKind::User), Ok(()));
    }
}
