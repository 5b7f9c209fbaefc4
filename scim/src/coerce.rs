//! Type checks and coercions of incoming attribute values against their definitions
//! (RFC 7643 §2.3 data types, §2.4 multi-valued attributes, §2.5 unassigned values).
//!
//! Accepts what Entra sends and produces RFC form: `"True"`/`"false"` strings become booleans for
//! boolean attributes (also inside complex values such as `roles[].primary`); a single-valued
//! complex attribute with a `value` sub-attribute (the enterprise `manager`) may arrive as a
//! string, a one-element array or an object, and `{"value": ""}` means "unassigned"; `null`
//! members are dropped (so `"$ref": null` disappears); read-only sub-attributes sent by a client
//! are ignored (RFC 7643 §2.2). Anything else of the wrong type is 400 `invalidValue`.

use serde_json::{Map, Number, Value};

use crate::datetime;
use crate::error::ScimError;
use crate::schema::{AttrType, AttributeDef, Mutability};

/// What to do with sub-attributes that the schema does not define.
pub(crate) enum Unknown<'a> {
    /// Leave them in place (the normaliser: the engine decides later).
    Keep,
    /// Drop them and record their paths (the engine and resource preparation).
    Report(&'a mut Vec<String>),
}

/// Checks a whole attribute value (an array for multi-valued attributes; a single value is
/// accepted as a one-element array). `Ok(None)` means unassigned: `null`, `[]` or only empty
/// elements.
pub(crate) fn attribute(
    def: &AttributeDef,
    value: &Value,
    path: &str,
    unknown: &mut Unknown<'_>,
) -> Result<Option<Value>, ScimError> {
    if !def.multi_valued {
        return element(def, value, path, unknown);
    }
    let items = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(item) = element(def, item, path, unknown)? {
            out.push(item);
        }
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// Checks one value of `def`: a single-valued attribute's value, one element of a multi-valued
/// attribute, or a sub-attribute's value.
pub(crate) fn element(
    def: &AttributeDef,
    value: &Value,
    path: &str,
    unknown: &mut Unknown<'_>,
) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    let wrong = |expected: &str| {
        ScimError::invalid_value(format!("'{path}' must be {expected}, got {}", describe(value)))
    };
    let checked = match def.attr_type {
        AttrType::String | AttrType::Reference | AttrType::Binary => match value {
            Value::String(_) => value.clone(),
            _ => return Err(wrong("a string")),
        },
        AttrType::Boolean => match value {
            Value::Bool(_) => value.clone(),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(wrong("a boolean")),
        },
        AttrType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => value.clone(),
            Value::String(s) => s.trim().parse::<i64>().map(Value::from).map_err(|_| wrong("an integer"))?,
            _ => return Err(wrong("an integer")),
        },
        AttrType::Decimal => match value {
            Value::Number(_) => value.clone(),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| wrong("a decimal number"))?,
            _ => return Err(wrong("a decimal number")),
        },
        AttrType::DateTime => match value {
            Value::String(s) if datetime::parse(s).is_some() => value.clone(),
            _ => return Err(wrong("an RFC 3339 dateTime")),
        },
        AttrType::Complex => return complex(def, value, path, unknown),
    };
    Ok(Some(checked))
}

fn complex(
    def: &AttributeDef,
    value: &Value,
    path: &str,
    unknown: &mut Unknown<'_>,
) -> Result<Option<Value>, ScimError> {
    let has_value_sub = def.sub_attribute("value").is_some();
    let map = match value {
        Value::Object(map) => map,
        Value::String(id) if has_value_sub => {
            return Ok(
                (!id.is_empty()).then(|| Value::Object(Map::from_iter([("value".into(), value.clone())])))
            );
        }
        Value::Array(items)
            if has_value_sub
                && !def.multi_valued
                && items.len() <= 1
                && !items.iter().any(Value::is_array) =>
        {
            return match items.first() {
                Some(item) => complex(def, item, path, unknown),
                None => Ok(None),
            };
        }
        _ => {
            return Err(ScimError::invalid_value(format!(
                "'{path}' must be an object, got {}",
                describe(value)
            )));
        }
    };
    let mut out = Map::new();
    for (key, sub_value) in map {
        let Some(sub) = def.sub_attribute(key) else {
            match unknown {
                Unknown::Keep if !sub_value.is_null() => {
                    out.insert(key.clone(), sub_value.clone());
                }
                Unknown::Keep => {}
                Unknown::Report(ignored) => ignored.push(format!("{path}.{key}")),
            }
            continue;
        };
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        let sub_path = format!("{path}.{}", sub.name);
        if let Some(checked) = element(sub, sub_value, &sub_path, unknown)? {
            out.insert(sub.name.to_string(), checked);
        }
    }
    let blank_reference =
        !def.multi_valued && has_value_sub && out.get("value").is_none_or(|v| v.as_str() == Some(""));
    if out.is_empty() || blank_reference {
        return Ok(None);
    }
    Ok(Some(Value::Object(out)))
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use crate::schema::{ENTERPRISE_USER, GROUP, USER};
    use serde_json::json;

    fn user_attr(name: &str) -> &'static AttributeDef {
        USER.attribute(name).or_else(|| ENTERPRISE_USER.attribute(name)).expect("known attribute")
    }

    fn check(name: &str, value: Value) -> Result<Option<Value>, ScimError> {
        let mut ignored = Vec::new();
        attribute(user_attr(name), &value, name, &mut Unknown::Report(&mut ignored))
    }

    #[test]
    fn string_booleans_become_booleans() {
        for (text, expected) in [("True", true), ("true", true), ("False", false), ("FALSE", false)] {
            assert_eq!(check("active", json!(text)), Ok(Some(json!(expected))));
        }
        assert_eq!(check("active", json!(true)), Ok(Some(json!(true))));
        let err = check("active", json!("yes")).expect_err("not a boolean");
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
        assert_eq!(err.detail, "'active' must be a boolean, got a string");
        assert_eq!(
            check(
                "roles",
                json!([{"primary": "True", "value": "Admin", "type": "WindowsAzureActiveDirectoryRole"}])
            ),
            Ok(Some(json!([{"primary": true, "value": "Admin", "type": "WindowsAzureActiveDirectoryRole"}])))
        );
    }

    #[test]
    fn manager_shapes_become_value_objects() {
        let expected = Ok(Some(json!({"value": "271"})));
        assert_eq!(check("manager", json!("271")), expected);
        assert_eq!(check("manager", json!({"value": "271"})), expected);
        assert_eq!(
            check("manager", json!([{"$ref": "https://x/Users/271", "value": "271"}])),
            Ok(Some(json!({"$ref": "https://x/Users/271", "value": "271"})))
        );
        assert_eq!(check("manager", json!({"value": "271", "displayName": "Boss"})), expected);
        assert_eq!(check("manager", json!({"value": ""})), Ok(None));
        assert_eq!(check("manager", json!("")), Ok(None));
        assert_eq!(check("manager", json!([])), Ok(None));
        assert_eq!(check("manager", Value::Null), Ok(None));
        assert!(check("manager", json!([{"value": "1"}, {"value": "2"}])).is_err());
        assert!(check("manager", json!([[[{"value": "1"}]]])).is_err());
    }

    #[test]
    fn nulls_and_unknown_sub_attributes() {
        let members = GROUP.attribute("members").expect("members");
        let mut ignored = Vec::new();
        let out = attribute(
            members,
            &json!([{"$ref": null, "value": "u1", "Display": "Alice", "extra": 1}, null]),
            "members",
            &mut Unknown::Report(&mut ignored),
        );
        assert_eq!(out, Ok(Some(json!([{"value": "u1"}]))));
        assert_eq!(ignored, ["members.extra"]);
        let out = attribute(members, &json!([{"value": "u1", "extra": 1}]), "members", &mut Unknown::Keep);
        assert_eq!(out, Ok(Some(json!([{"value": "u1", "extra": 1}]))));
        assert_eq!(check("emails", json!([])), Ok(None));
        assert_eq!(
            check("emails", json!({"value": "a@b", "Type": "work"})),
            Ok(Some(json!([{"value": "a@b", "type": "work"}])))
        );
    }

    #[test]
    fn wrong_types_are_invalid_value() {
        for (name, value) in [
            ("userName", json!(42)),
            ("userName", json!(["a"])),
            ("name", json!("Alice")),
            ("emails", json!([{"value": 5}])),
            ("emails", json!([{"primary": "sometimes"}])),
            ("profileUrl", json!(true)),
        ] {
            let err = check(name, value.clone()).expect_err("wrong type");
            assert_eq!(err.scim_type, Some(ScimType::InvalidValue), "{name} {value}");
        }
    }

    #[test]
    fn numeric_and_date_types() {
        let int = AttributeDef::new("n", AttrType::Integer, "");
        let dec = AttributeDef::new("d", AttrType::Decimal, "");
        let date = AttributeDef::new("t", AttrType::DateTime, "");
        let mut keep = Unknown::Keep;
        assert_eq!(element(&int, &json!("12"), "n", &mut keep), Ok(Some(json!(12))));
        assert!(element(&int, &json!(1.5), "n", &mut keep).is_err());
        assert_eq!(element(&dec, &json!("1.5"), "d", &mut keep), Ok(Some(json!(1.5))));
        assert!(element(&dec, &json!("NaN"), "d", &mut keep).is_err());
        assert_eq!(
            element(&date, &json!("2024-01-01T00:00:00Z"), "t", &mut keep),
            Ok(Some(json!("2024-01-01T00:00:00Z")))
        );
        assert!(element(&date, &json!("yesterday"), "t", &mut keep).is_err());
    }
}
