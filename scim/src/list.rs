//! List and search query parameters (RFC 7644 §3.4.2, §3.4.3) and the ListResponse message.
//!
//! Parameter names are case-insensitive; unknown ones (Entra's stray `aadOptscim062020`) are
//! ignored; the last occurrence of a repeated one wins. Numbers are forgiving about range and
//! strict about form: `startIndex` < 1 means 1 (RFC 7644 §3.4.2.4), a negative `count` means 0,
//! `count` above the caller's page limit is clamped, values beyond 64 bits saturate, and
//! anything non-numeric is 400 `invalidValue`. Query pairs must already be percent-decoded (with
//! `+` as space), as web frameworks' query extractors do.

use serde_json::{Value, json};

use crate::attr_path::AttrPath;
use crate::error::ScimError;
use crate::filter::Filter;
use crate::object::get_ci;
use crate::projection::parse_attribute_list;
use crate::{LIST_RESPONSE_SCHEMA, SEARCH_REQUEST_SCHEMA};

/// `sortOrder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// `ascending` (the default).
    #[default]
    Ascending,
    /// `descending`.
    Descending,
}

/// Parsed list/search parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    /// `filter`.
    pub filter: Option<Filter>,
    /// 1-based index of the first result.
    pub start_index: u64,
    /// Page size requested, clamped to the caller's maximum; `None` when not given.
    pub count: Option<u64>,
    /// `sortBy`.
    pub sort_by: Option<AttrPath>,
    /// `sortOrder`.
    pub sort_order: SortOrder,
    /// `attributes`.
    pub attributes: Vec<AttrPath>,
    /// `excludedAttributes`.
    pub excluded_attributes: Vec<AttrPath>,
}

impl ListQuery {
    fn new() -> Self {
        Self { start_index: 1, ..Self::default() }
    }

    /// Parses decoded query-string pairs of `GET /Users?…`. `max_count` is the largest page the
    /// server returns.
    pub fn from_query_pairs<K, V>(
        pairs: impl IntoIterator<Item = (K, V)>,
        max_count: u64,
    ) -> Result<Self, ScimError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut query = Self::new();
        for (key, value) in pairs {
            query.set(key.as_ref(), value.as_ref(), max_count)?;
        }
        Ok(query)
    }

    /// Parses a `POST /.search` body (RFC 7644 §3.4.3). `schemas`, when present, must list the
    /// SearchRequest URN; attribute lists may be JSON arrays or comma-separated strings.
    pub fn from_search_body(body: &Value, max_count: u64) -> Result<Self, ScimError> {
        let Value::Object(map) = body else {
            return Err(ScimError::invalid_syntax("search request must be a JSON object"));
        };
        if let Some(schemas) = get_ci(body, "schemas") {
            let listed = schemas.as_array().is_some_and(|s| {
                s.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(SEARCH_REQUEST_SCHEMA)))
            });
            if !listed {
                return Err(ScimError::invalid_syntax(format!(
                    "'schemas' must contain '{SEARCH_REQUEST_SCHEMA}'"
                )));
            }
        }
        let mut query = Self::new();
        for (key, value) in map {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                Value::Array(items) => {
                    let names: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                    match names {
                        Some(names) => names.join(","),
                        None => {
                            return Err(ScimError::invalid_value(format!(
                                "'{key}' must list attribute names"
                            )));
                        }
                    }
                }
                other => other.to_string(),
            };
            query.set(key, &text, max_count)?;
        }
        Ok(query)
    }

    fn set(&mut self, key: &str, value: &str, max_count: u64) -> Result<(), ScimError> {
        let is = |name: &str| key.eq_ignore_ascii_case(name);
        let value = value.trim();
        if is("filter") {
            self.filter = if value.is_empty() { None } else { Some(Filter::parse(value)?) };
        } else if is("startIndex") {
            if let Some(n) = parse_integer("startIndex", value)? {
                self.start_index = saturate(n).max(1);
            }
        } else if is("count") {
            if let Some(n) = parse_integer("count", value)? {
                self.count = Some(saturate(n).min(max_count));
            }
        } else if is("sortBy") {
            self.sort_by = if value.is_empty() {
                None
            } else {
                Some(AttrPath::parse(value).map_err(|m| ScimError::invalid_value(format!("sortBy: {m}")))?)
            };
        } else if is("sortOrder") {
            self.sort_order = if value.eq_ignore_ascii_case("descending") {
                SortOrder::Descending
            } else if value.eq_ignore_ascii_case("ascending") || value.is_empty() {
                SortOrder::Ascending
            } else {
                return Err(ScimError::invalid_value("sortOrder must be 'ascending' or 'descending'"));
            };
        } else if is("attributes") {
            self.attributes = parse_attribute_list(value);
        } else if is("excludedAttributes") {
            self.excluded_attributes = parse_attribute_list(value);
        }
        Ok(())
    }
}

/// An optional integer parameter: empty means absent; out-of-range values saturate.
fn parse_integer(name: &str, text: &str) -> Result<Option<i128>, ScimError> {
    if text.is_empty() {
        return Ok(None);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ScimError::invalid_value(format!("{name} must be an integer, got '{text}'")));
    }
    let magnitude = digits.trim_start_matches('0');
    let value =
        if magnitude.len() > 20 { i128::from(u64::MAX) } else { magnitude.parse::<i128>().unwrap_or(0) };
    Ok(Some(if text.starts_with('-') { -value } else { value }))
}

/// Clamps to `0..=u64::MAX`.
fn saturate(n: i128) -> u64 {
    u64::try_from(n.max(0)).unwrap_or(u64::MAX)
}

/// The ListResponse message (RFC 7644 §3.4.2): `itemsPerPage` is the number of resources on
/// this page.
pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "startIndex": start_index,
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;

    fn query(pairs: &[(&str, &str)]) -> Result<ListQuery, ScimError> {
        ListQuery::from_query_pairs(pairs.iter().copied(), 100)
    }

    #[test]
    fn entra_probe_and_group_lookup() {
        let q = query(&[
            ("filter", "userName eq \"5f1b0c4e-1a2b-4c3d-9e8f-0a1b2c3d4e5f\""),
            ("aadOptscim062020", ""),
        ])
        .expect("valid");
        assert_eq!(
            q.filter.map(|f| f.to_string()).as_deref(),
            Some("userName eq \"5f1b0c4e-1a2b-4c3d-9e8f-0a1b2c3d4e5f\"")
        );
        assert_eq!((q.start_index, q.count), (1, None));
        let q =
            query(&[("excludedAttributes", "members"), ("FILTER", "displayName eq \"Eng\"")]).expect("valid");
        assert_eq!(q.excluded_attributes, vec![AttrPath::new("members")]);
        assert!(q.filter.is_some());
    }

    #[test]
    fn paging_numbers_are_forgiving_about_range() {
        let q = query(&[("startIndex", "0"), ("count", "-5")]).expect("valid");
        assert_eq!((q.start_index, q.count), (1, Some(0)));
        let q = query(&[("startindex", "99999999999999999999999999"), ("COUNT", "1000")]).expect("valid");
        assert_eq!((q.start_index, q.count), (u64::MAX, Some(100)));
        let q = query(&[("startIndex", "-99999999999999999999999999"), ("count", "2"), ("count", "")])
            .expect("valid");
        assert_eq!((q.start_index, q.count), (1, Some(2)));
        let q = query(&[("startIndex", " 3 "), ("count", "+007")]).expect("valid");
        assert_eq!((q.start_index, q.count), (3, Some(7)));
        for bad in [("count", "ten"), ("startIndex", "1.5"), ("count", "-"), ("count", "1e3")] {
            let err = query(&[bad]).expect_err("non-numeric");
            assert_eq!(err.scim_type, Some(ScimType::InvalidValue), "{bad:?}");
        }
    }

    #[test]
    fn sorting_projection_and_errors() {
        let q = query(&[
            ("sortBy", "name.familyName"),
            ("sortOrder", "DESCENDING"),
            ("attributes", "userName, emails"),
        ])
        .expect("valid");
        assert_eq!(q.sort_by.map(|p| p.to_string()).as_deref(), Some("name.familyName"));
        assert_eq!(q.sort_order, SortOrder::Descending);
        assert_eq!(q.attributes.len(), 2);
        assert_eq!(
            query(&[("sortOrder", "sideways")]).map_err(|e| e.scim_type),
            Err(Some(ScimType::InvalidValue))
        );
        assert_eq!(query(&[("sortBy", "a b")]).map_err(|e| e.scim_type), Err(Some(ScimType::InvalidValue)));
        assert_eq!(
            query(&[("filter", "userName eq")]).map_err(|e| e.scim_type),
            Err(Some(ScimType::InvalidFilter))
        );
        assert_eq!(query(&[("filter", "  ")]).map(|q| q.filter), Ok(None));
    }

    #[test]
    fn search_body() {
        let body = json!({"schemas": [SEARCH_REQUEST_SCHEMA], "attributes": ["displayName", "userName"],
            "excludedAttributes": "members", "filter": "displayName sw \"smith\"", "startIndex": 1, "count": 10,
            "sortBy": null});
        let q = ListQuery::from_search_body(&body, 50).expect("valid");
        assert_eq!(q.attributes, vec![AttrPath::new("displayName"), AttrPath::new("userName")]);
        assert_eq!(q.excluded_attributes, vec![AttrPath::new("members")]);
        assert_eq!((q.start_index, q.count, q.sort_by), (1, Some(10), None));
        let q = ListQuery::from_search_body(&json!({"count": -3, "startIndex": 1e30}), 50);
        assert_eq!(q.map_err(|e| e.scim_type), Err(Some(ScimType::InvalidValue)));
        let q = ListQuery::from_search_body(
            &json!({"count": 18446744073709551616_u128.to_string(), "startIndex": -1}),
            50,
        )
        .expect("valid");
        assert_eq!((q.start_index, q.count), (1, Some(50)));
        for bad in [json!([]), json!({"schemas": ["urn:x"]}), json!({"attributes": [1]})] {
            assert!(ListQuery::from_search_body(&bad, 50).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_response_shape() {
        assert_eq!(
            list_response(0, 1, vec![]),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []})
        );
        let page = list_response(5, 3, vec![json!({"id": "a"}), json!({"id": "b"})]);
        assert_eq!(
            (page["totalResults"].as_u64(), page["itemsPerPage"].as_u64(), page["startIndex"].as_u64()),
            (Some(5), Some(2), Some(3))
        );
    }
}
