//! Small helpers for reading and editing JSON objects.
//!
//! SCIM attribute names are case-insensitive (RFC 7643 §2.1) while JSON keys are not; stored
//! resources use canonical spelling, but lookups tolerate any case. Editing helpers take a member
//! out, change it and put it back only when non-empty, which keeps "unassigned" (RFC 7643 §2.5)
//! as "absent" and avoids partial states.

use serde_json::{Map, Value};

/// Object member lookup: exact key first, then case-insensitive.
pub(crate) fn get_ci<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    let map = value.as_object()?;
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// Runs `edit` on the object stored under `key` (a fresh one if absent or not an object), then
/// stores it back unless it ended up empty.
pub(crate) fn with_object<R>(
    map: &mut Map<String, Value>,
    key: &str,
    edit: impl FnOnce(&mut Map<String, Value>) -> R,
) -> R {
    let mut inner = match map.remove(key) {
        Some(Value::Object(inner)) => inner,
        _ => Map::new(),
    };
    let result = edit(&mut inner);
    if !inner.is_empty() {
        map.insert(key.to_string(), Value::Object(inner));
    }
    result
}

/// Like [`with_object`] for the array under `key`; a stray single value becomes one element.
pub(crate) fn with_array<R>(
    map: &mut Map<String, Value>,
    key: &str,
    edit: impl FnOnce(&mut Vec<Value>) -> R,
) -> R {
    let mut items = match map.remove(key) {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other],
    };
    let result = edit(&mut items);
    if !items.is_empty() {
        map.insert(key.to_string(), Value::Array(items));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn get_ci_prefers_exact_keys() {
        let v = json!({"userName": "a", "USERNAME": "b", "Other": 1});
        assert_eq!(get_ci(&v, "userName"), Some(&json!("a")));
        assert_eq!(get_ci(&v, "other"), Some(&json!(1)));
        assert_eq!(get_ci(&v, "missing"), None);
        assert_eq!(get_ci(&json!([1]), "x"), None);
    }

    #[test]
    fn editing_helpers_drop_empty_members() {
        let mut map =
            json!({"name": {"givenName": "A"}, "emails": "x"}).as_object().cloned().unwrap_or_default();
        with_object(&mut map, "name", |name| name.remove("givenName"));
        assert!(!map.contains_key("name"));
        with_array(&mut map, "emails", |items| items.push(json!("y")));
        assert_eq!(map["emails"], json!(["x", "y"]));
        with_object(&mut map, "manager", |m| m.insert("value".into(), json!("7")));
        assert_eq!(map["manager"], json!({"value": "7"}));
    }
}
