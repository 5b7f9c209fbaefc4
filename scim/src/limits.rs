//! The bounds on what one request may ask of the server, and on what one resource may hold.
//!
//! Sign-up is open and every organisation shares one process (and, on SQLite, one writer), so
//! every request must cost work bounded by, and linear in, what it carries. The 1 MiB body limit
//! alone is not enough: a `POST /Groups` of that size names ~120,000 member ids. Each limit sits
//! far above what Microsoft Entra ID sends (one to a few hundred members per PATCH, ~36
//! operations in the SCIM Validator's longest PATCH, a few KiB per user). RFC 7643 §5 gives
//! `/ServiceProviderConfig` fields only for bulk and filter limits, and strict clients (e.g.
//! scim2-models) refuse extension attributes there, so these are published through its standard
//! `documentationUri`: a page rendered from [`ALL`]. Past a limit the request is refused whole
//! with 400 `invalidValue` naming the limit — never truncated silently.

use serde_json::{Map, Value};

use crate::error::ScimError;

/// Operations in one PATCH request, as sent and after Entra's no-path objects are split.
pub const MAX_OPERATIONS: usize = 500;
/// Member ids one request may name (a group's `members` in POST/PUT, all member operations of a
/// PATCH together).
pub const MAX_MEMBERS_PER_REQUEST: usize = 10_000;
/// Values of one multi-valued attribute (`emails`, `roles`, …) of a stored resource.
pub const MAX_VALUES: usize = 1_000;
/// A stored resource's JSON, in bytes (memberships are rows of their own and do not count).
pub const MAX_RESOURCE_BYTES: usize = 64 * 1024;
/// An identifying value that the databases index (`userName`, `externalId`, `displayName`, an
/// email address), in UTF-8 bytes: PostgreSQL refuses B-tree index entries over ~2.7 KB, so
/// without this bound a long `userName` would be a 500 there and a 201 on SQLite. Entra's
/// userPrincipalName is at most 113 characters.
pub const MAX_IDENTIFIER_BYTES: usize = 1024;

/// Attributes stored in indexed columns.
const IDENTIFIERS: &[&str] = &["userName", "externalId", "displayName"];

/// Every limit as documented: (name, value, what it bounds).
pub const ALL: &[(&str, usize, &str)] = &[
    ("maxOperationsPerPatch", MAX_OPERATIONS, "operations in one PATCH request"),
    ("maxMembersPerRequest", MAX_MEMBERS_PER_REQUEST, "group member ids named in one request"),
    ("maxValuesPerAttribute", MAX_VALUES, "values of one multi-valued attribute (emails, roles, …)"),
    ("maxResourceBytes", MAX_RESOURCE_BYTES, "bytes of a stored user or group, memberships excluded"),
    (
        "maxIdentifierBytes",
        MAX_IDENTIFIER_BYTES,
        "bytes of a userName, externalId, group displayName or email address",
    ),
];

/// 400 `invalidValue` unless a PATCH carries at most [`MAX_OPERATIONS`] operations.
pub fn check_operations(count: usize) -> Result<(), ScimError> {
    if count > MAX_OPERATIONS {
        return Err(ScimError::invalid_value(format!(
            "the PATCH request has {count} operations; at most {MAX_OPERATIONS} are accepted in one request"
        )));
    }
    Ok(())
}

/// 400 `invalidValue` unless a request names at most [`MAX_MEMBERS_PER_REQUEST`] members.
pub fn check_members(count: usize) -> Result<(), ScimError> {
    if count > MAX_MEMBERS_PER_REQUEST {
        return Err(ScimError::invalid_value(format!(
            "the request names {count} members; at most {MAX_MEMBERS_PER_REQUEST} are accepted in one request \
             (send them in several PATCH requests)"
        )));
    }
    Ok(())
}

/// 400 `invalidValue` unless multi-valued attribute `name` has at most [`MAX_VALUES`] values.
pub(crate) fn check_values(name: &str, count: usize) -> Result<(), ScimError> {
    if count > MAX_VALUES {
        return Err(ScimError::invalid_value(format!(
            "'{name}' has {count} values; at most {MAX_VALUES} are stored"
        )));
    }
    Ok(())
}

/// 400 `invalidValue` unless `resource` (without `skip`, kept elsewhere) serialises to at most
/// [`MAX_RESOURCE_BYTES`]. Counts bytes without building the text.
pub(crate) fn check_resource_size(resource: &Map<String, Value>, skip: &str) -> Result<(), ScimError> {
    let mut counter = ByteCounter(0);
    for (key, value) in resource.iter().filter(|(key, _)| *key != skip) {
        counter.0 += key.len() + 4; // quotes, colon, comma
        // Writing into a counter cannot fail: it accepts every byte.
        let _ = serde_json::to_writer(&mut counter, value);
    }
    if counter.0 > MAX_RESOURCE_BYTES {
        return Err(ScimError::invalid_value(format!(
            "the resource would be about {} bytes; at most {MAX_RESOURCE_BYTES} are stored",
            counter.0
        )));
    }
    Ok(())
}

/// 400 `invalidValue` unless every identifying value of `resource` (see [`IDENTIFIERS`], and
/// each `emails[].value`) has at most [`MAX_IDENTIFIER_BYTES`].
pub(crate) fn check_identifiers(resource: &Map<String, Value>) -> Result<(), ScimError> {
    let emails = resource.get("emails").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let values = IDENTIFIERS
        .iter()
        .map(|name| (*name, resource.get(*name)))
        .chain(emails.iter().map(|email| ("emails.value", email.get("value"))));
    for (name, value) in values {
        if let Some(Value::String(text)) = value
            && text.len() > MAX_IDENTIFIER_BYTES
        {
            return Err(ScimError::invalid_value(format!(
                "'{name}' is {} bytes long; at most {MAX_IDENTIFIER_BYTES} are accepted",
                text.len()
            )));
        }
    }
    Ok(())
}

struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use serde_json::json;

    #[test]
    fn limits_refuse_just_past_the_bound() {
        assert!(check_operations(MAX_OPERATIONS).is_ok());
        assert_eq!(check_operations(MAX_OPERATIONS + 1).unwrap_err().scim_type, Some(ScimType::InvalidValue));
        assert!(check_members(MAX_MEMBERS_PER_REQUEST).is_ok());
        assert_eq!(check_members(MAX_MEMBERS_PER_REQUEST + 1).unwrap_err().status, 400);
        assert!(check_values("emails", MAX_VALUES).is_ok());
        assert!(
            check_values("emails", MAX_VALUES + 1).unwrap_err().detail.contains("'emails' has 1001 values")
        );
    }

    #[test]
    fn resource_size_is_counted_without_the_skipped_attribute() {
        let mut resource = Map::new();
        resource.insert("userName".into(), json!("a"));
        resource.insert("members".into(), json!("x".repeat(2 * MAX_RESOURCE_BYTES)));
        assert!(check_resource_size(&resource, "members").is_ok());
        resource.insert("displayName".into(), json!("y".repeat(MAX_RESOURCE_BYTES)));
        let err = check_resource_size(&resource, "members").unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
        assert!(err.detail.contains("at most 65536"), "{}", err.detail);
    }

    #[test]
    fn identifiers_are_bounded_in_bytes() {
        let long = "é".repeat(MAX_IDENTIFIER_BYTES / 2 + 1);
        let ok = json!({"userName": "é".repeat(MAX_IDENTIFIER_BYTES / 2), "emails": [{"value": "a@b"}]});
        assert!(check_identifiers(ok.as_object().unwrap()).is_ok());
        for bad in [
            json!({"userName": long}),
            json!({"userName": "a", "externalId": long}),
            json!({"displayName": long}),
            json!({"userName": "a", "emails": [{"value": "a@b"}, {"value": long}]}),
        ] {
            let err = check_identifiers(bad.as_object().unwrap()).unwrap_err();
            assert!(err.detail.contains("at most 1024"), "{}", err.detail);
        }
    }
}
