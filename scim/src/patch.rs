//! SCIM PATCH (RFC 7644 §3.5.2): the request model, its parsing, and the pipeline
//! parse → [`normalize`] (Entra dialects to RFC form) → [`split_member_ops`] (Group membership
//! as set operations) → [`apply_patch`] (the atomic RFC engine over a JSON resource).
//!
//! Parsing is tolerant where Entra and other clients differ harmlessly: the `Operations` key and
//! `op` values in any case (`Add`, `Replace`, `Remove`), an empty `path` meaning "no path", and a
//! missing `schemas` member (Entra always sends `urn:ietf:params:scim:api:messages:2.0:PatchOp`;
//! we do not fail other clients for omitting it, but a `schemas` list without it is 400
//! `invalidSyntax`, as it signals a different message). A `path` that is a whole schema URN
//! (`urn:…:enterprise:2.0:User` with an object value) is rewritten to a no-path operation.

mod apply;
#[cfg(test)]
mod entra_replay;
mod members;
mod normalize;

use std::fmt;

use serde_json::{Map, Value};

use crate::coerce::{self, Unknown};
use crate::error::ScimError;
use crate::object::get_ci;
use crate::path::PatchPath;
use crate::schema::{ResolvedAttr, ResourceKind, all_schemas};
use crate::{AttrPath, PATCH_OP_SCHEMA};

pub use apply::{PatchOutcome, apply_patch};
pub use members::{MemberChange, split_member_ops};
pub use normalize::normalize;

/// The three PATCH operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// `add`.
    Add,
    /// `replace`.
    Replace,
    /// `remove`.
    Remove,
}

impl OpKind {
    /// The RFC spelling (lower case).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Replace => "replace",
            Self::Remove => "remove",
        }
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One PATCH operation.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    /// The operation.
    pub op: OpKind,
    /// The target; `None` means the resource itself.
    pub path: Option<PatchPath>,
    /// The value (absent for `remove` after normalisation).
    pub value: Option<Value>,
}

impl PatchOperation {
    /// An operation on a path.
    pub fn new(op: OpKind, path: PatchPath, value: Option<Value>) -> Self {
        Self { op, path: Some(path), value }
    }

    /// The operation as RFC 7644 JSON (`{"op":…,"path":…,"value":…}`).
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("op".into(), self.op.as_str().into());
        if let Some(path) = &self.path {
            map.insert("path".into(), path.to_string().into());
        }
        if let Some(value) = &self.value {
            map.insert("value".into(), value.clone());
        }
        Value::Object(map)
    }
}

/// Parses and normalises a PATCH body: what the HTTP layer calls. See [`parse_patch_body`] and
/// [`normalize`].
pub fn parse_patch(body: &Value, kind: ResourceKind) -> Result<Vec<PatchOperation>, ScimError> {
    let ops = normalize(parse_patch_body(body)?, kind)?;
    crate::limits::check_operations(ops.len())?;
    Ok(ops)
}

/// Parses a PatchOp message syntactically (no schema knowledge): 400 `invalidSyntax` for a
/// malformed body or operation, 400 `invalidPath` for an unparsable path.
pub fn parse_patch_body(body: &Value) -> Result<Vec<PatchOperation>, ScimError> {
    let Value::Object(_) = body else {
        return Err(ScimError::invalid_syntax("PATCH body must be a JSON object"));
    };
    if let Some(schemas) = get_ci(body, "schemas") {
        let listed = schemas.as_array().is_some_and(|s| {
            s.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP_SCHEMA)))
        });
        if !listed {
            return Err(ScimError::invalid_syntax(format!("'schemas' must contain '{PATCH_OP_SCHEMA}'")));
        }
    }
    let operations = match get_ci(body, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        Some(Value::Array(_)) => return Err(ScimError::invalid_syntax("'Operations' must not be empty")),
        Some(_) => return Err(ScimError::invalid_syntax("'Operations' must be an array")),
        None => return Err(ScimError::invalid_syntax("PATCH body has no 'Operations'")),
    };
    crate::limits::check_operations(operations.len())?;
    let mut parsed = Vec::with_capacity(operations.len());
    for (i, op) in operations.iter().enumerate() {
        parsed.extend(parse_operation(i, op)?);
    }
    Ok(parsed)
}

/// One operation of the body; a `remove` of a whole extension (path = its URN) becomes one
/// `remove` per attribute of that extension (RFC 7644 §3.5.2.2: every one is then unassigned).
fn parse_operation(index: usize, op: &Value) -> Result<Vec<PatchOperation>, ScimError> {
    let invalid = |what: &str| ScimError::invalid_syntax(format!("Operations[{index}]: {what}"));
    if !op.is_object() {
        return Err(invalid("must be an object"));
    }
    let kind = match get_ci(op, "op").and_then(Value::as_str) {
        Some(s) if s.eq_ignore_ascii_case("add") => OpKind::Add,
        Some(s) if s.eq_ignore_ascii_case("replace") => OpKind::Replace,
        Some(s) if s.eq_ignore_ascii_case("remove") => OpKind::Remove,
        Some(_) => return Err(invalid("'op' must be add, replace or remove")),
        None => return Err(invalid("'op' is missing")),
    };
    let value = get_ci(op, "value").cloned();
    let path = match get_ci(op, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.trim().is_empty() => None,
        Some(Value::String(p)) => Some(p.trim()),
        Some(_) => {
            return Err(ScimError::invalid_path(format!("Operations[{index}]: 'path' must be a string")));
        }
    };
    let Some(path) = path else {
        return Ok(vec![PatchOperation { op: kind, path: None, value }]);
    };
    // `"path": "urn:…:enterprise:2.0:User", "value": {…}`: the extension object as a whole.
    let whole_schema = all_schemas().into_iter().find(|s| s.id.eq_ignore_ascii_case(path));
    match (whole_schema, kind) {
        (Some(schema), OpKind::Add | OpKind::Replace) => {
            let value = value.map(|v| Value::Object(Map::from_iter([(schema.id.to_string(), v)])));
            Ok(vec![PatchOperation { op: kind, path: None, value }])
        }
        (Some(schema), OpKind::Remove) => schema
            .attributes
            .iter()
            .map(|attr| {
                let attr = AttrPath {
                    schema: Some(schema.id.to_owned()),
                    name: attr.name.to_owned(),
                    sub_attr: None,
                };
                let path = PatchPath { attr, filter: None };
                Ok(PatchOperation::new(OpKind::Remove, path, None))
            })
            .collect(),
        (None, _) => Ok(vec![PatchOperation::new(kind, PatchPath::parse(path)?, value)]),
    }
}

/// Checks and coerces an add/replace value for the target the path designates: the whole
/// attribute (array for multi-valued), one element (value filter without sub-attribute), or a
/// sub-attribute value.
pub(crate) fn coerce_value(
    target: &ResolvedAttr,
    path: &PatchPath,
    value: &Value,
    unknown: &mut Unknown<'_>,
) -> Result<Option<Value>, ScimError> {
    let text = path.to_string();
    match (target.sub, &path.filter) {
        (Some(sub), _) => coerce::element(sub, value, &text, unknown),
        (None, Some(_)) => coerce::element(target.attr, value, &text, unknown),
        (None, None) => coerce::attribute(target.attr, value, &text, unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use serde_json::json;

    fn ops(body: Value) -> Vec<Value> {
        parse_patch_body(&body)
            .unwrap_or_else(|e| panic!("{body}: {e}"))
            .iter()
            .map(PatchOperation::to_json)
            .collect()
    }

    #[test]
    fn accepts_both_dialects_syntactically() {
        let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"},
            {"op": "remove", "path": "members[value eq \"7\"]"},
            {"op": "ADD", "value": {"name.givenName": "Alice"}},
        ]});
        assert_eq!(
            ops(body),
            vec![
                json!({"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"}),
                json!({"op": "remove", "path": "members[value eq \"7\"]"}),
                json!({"op": "add", "value": {"name.givenName": "Alice"}}),
            ]
        );
        let lower_keys = json!({"operations": [{"OP": "replace", "Path": "active", "Value": "False"}]});
        assert_eq!(ops(lower_keys), vec![json!({"op": "replace", "path": "active", "value": "False"})]);
        let empty_path = json!({"Operations": [{"op": "replace", "path": "", "value": {"active": true}}]});
        assert_eq!(ops(empty_path), vec![json!({"op": "replace", "value": {"active": true}})]);
    }

    #[test]
    fn schema_urn_path_becomes_a_no_path_object() {
        let body = json!({"Operations": [{"op": "add",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "value": {"department": "R&D"}}]});
        assert_eq!(
            ops(body),
            vec![json!({"op": "add", "value": {
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}}})]
        );
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        let cases = [
            (json!([]), ScimType::InvalidSyntax),
            (
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "Operations": [{"op": "add", "value": {}}]}),
                ScimType::InvalidSyntax,
            ),
            (json!({"schemas": [PATCH_OP_SCHEMA]}), ScimType::InvalidSyntax),
            (json!({"Operations": []}), ScimType::InvalidSyntax),
            (json!({"Operations": {"op": "add"}}), ScimType::InvalidSyntax),
            (json!({"Operations": ["add"]}), ScimType::InvalidSyntax),
            (json!({"Operations": [{"path": "active"}]}), ScimType::InvalidSyntax),
            (json!({"Operations": [{"op": "copy", "path": "active"}]}), ScimType::InvalidSyntax),
            (json!({"Operations": [{"op": "add", "path": 5, "value": 1}]}), ScimType::InvalidPath),
            (
                json!({"Operations": [{"op": "add", "path": "emails[type eq", "value": 1}]}),
                ScimType::InvalidPath,
            ),
        ];
        for (body, scim_type) in cases {
            let err = parse_patch_body(&body).expect_err("malformed");
            assert_eq!((err.status, err.scim_type), (400, Some(scim_type)), "{body}");
        }
    }

    #[test]
    fn removing_a_whole_extension_unassigns_all_its_attributes() {
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let mut user = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ext],
            "userName": "a@b.c",
            ext: {"employeeNumber": "1", "department": "x"}
        });
        let body =
            serde_json::json!({"schemas": [PATCH_OP_SCHEMA], "Operations": [{"op": "remove", "path": ext}]});
        let ops = parse_patch(&body, ResourceKind::User).unwrap();
        let outcome = apply_patch(&mut user, &ops, ResourceKind::User).unwrap();
        assert!(outcome.changed);
        assert_eq!(
            user,
            serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@b.c"})
        );
    }
}
