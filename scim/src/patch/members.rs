//! Group membership changes as set operations (RFC 7644 §3.5.2 applied to Group `members`).
//!
//! Memberships live in their own table and are changed with insert-if-absent / delete-where, so
//! concurrent PATCHes from Entra to one group never lose updates; the JSON engine never touches
//! `members`. A `replace` stays a [`MemberChange::Replace`] here: whether it sets the list exactly
//! (RFC 7644 §3.5.2.3) or only adds (what Entra's jobs need, entra-scim.md §2.8) is the
//! organisation's setting, applied by the caller. Adding an existing member or removing a
//! non-member is not an error. One request names at most `limits::MAX_MEMBERS_PER_REQUEST` ids.

use serde_json::Value;

use super::{OpKind, PatchOperation};
use crate::GROUP_SCHEMA;
use crate::error::ScimError;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::object::get_ci;

/// One membership change, in request order; ids are our SCIM resource ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    /// Add these members (already-present ones are kept).
    Add(Vec<String>),
    /// Remove these members (absent ones are ignored).
    Remove(Vec<String>),
    /// Remove every member.
    RemoveAll,
    /// `replace` of the member list with these: additive or exact, as the organisation chose.
    Replace(Vec<String>),
}

/// Separates operations on a Group's `members` from the rest. Expects normalised operations
/// (see `normalize`), whose no-path objects are already split. Errors: 400 `invalidPath` for
/// member paths that are not set operations (sub-attributes, filters other than
/// `value eq "id"` joined by `or`, filters on `add`/`replace`), 400 `invalidValue` for members
/// without an id or more than `limits::MAX_MEMBERS_PER_REQUEST` ids in all.
pub fn split_member_ops(
    ops: Vec<PatchOperation>,
) -> Result<(Vec<MemberChange>, Vec<PatchOperation>), ScimError> {
    let mut changes = Vec::new();
    let mut rest = Vec::with_capacity(ops.len());
    // Member ids named so far, against `limits::MAX_MEMBERS_PER_REQUEST`.
    let mut named = 0;
    for op in ops {
        let Some(path) = op.path.as_ref().filter(|p| is_members(p.attr.schema.as_deref(), &p.attr.name))
        else {
            rest.push(op);
            continue;
        };
        if path.attr.sub_attr.is_some() {
            return Err(ScimError::invalid_path(format!("'{path}': members are changed as a whole, by id")));
        }
        let change = match (op.op, &path.filter) {
            (OpKind::Remove, Some(filter)) => {
                let mut ids = Vec::new();
                filter_ids(filter, &mut ids).map_err(|()| {
                    ScimError::invalid_path(format!(
                        "'{path}': only 'value eq \"<id>\"' filters, optionally joined by 'or', can select members"
                    ))
                })?;
                MemberChange::Remove(dedup(ids))
            }
            (_, Some(_)) => {
                return Err(ScimError::invalid_path(format!(
                    "'{path}': '{}' of members takes no value filter",
                    op.op
                )));
            }
            (OpKind::Remove, None) if op.value.is_none() => MemberChange::RemoveAll,
            (OpKind::Remove, None) => MemberChange::Remove(member_ids(op.value.as_ref())?),
            (OpKind::Add, None) => MemberChange::Add(member_ids(op.value.as_ref())?),
            (OpKind::Replace, None) => MemberChange::Replace(member_ids(op.value.as_ref())?),
        };
        named += match &change {
            MemberChange::Add(ids) | MemberChange::Remove(ids) | MemberChange::Replace(ids) => ids.len(),
            MemberChange::RemoveAll => 0,
        };
        crate::limits::check_members(named)?;
        if !matches!(&change, MemberChange::Add(ids) | MemberChange::Remove(ids) if ids.is_empty()) {
            changes.push(change);
        }
    }
    Ok((changes, rest))
}

fn is_members(schema: Option<&str>, name: &str) -> bool {
    name.eq_ignore_ascii_case("members") && schema.is_none_or(|s| s.eq_ignore_ascii_case(GROUP_SCHEMA))
}

fn filter_ids(filter: &Filter, ids: &mut Vec<String>) -> Result<(), ()> {
    match filter {
        Filter::Or(l, r) => {
            filter_ids(l, ids)?;
            filter_ids(r, ids)
        }
        Filter::Compare { attr, op: CompareOp::Eq, value }
            if attr.schema.is_none() && attr.is_plain("value") =>
        {
            match value {
                CompValue::String(id) => ids.push(id.clone()),
                CompValue::Number(id) => ids.push(id.to_string()),
                CompValue::Null | CompValue::Bool(_) => return Err(()),
            }
            Ok(())
        }
        _ => Err(()),
    }
}

/// Ids from a `members` value: `[{"value": id, …}]`, a single such object, or bare id strings.
fn member_ids(value: Option<&Value>) -> Result<Vec<String>, ScimError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.as_slice(),
        Some(single) => std::slice::from_ref(single),
    };
    crate::limits::check_members(items.len())?;
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let id = match item {
            Value::Object(_) => get_ci(item, "value"),
            other => Some(other),
        };
        match id {
            Some(Value::String(id)) if !id.is_empty() => ids.push(id.clone()),
            Some(Value::Number(id)) => ids.push(id.to_string()),
            _ => return Err(ScimError::invalid_value("each member needs a 'value' with the member's id")),
        }
    }
    Ok(dedup(ids))
}

fn dedup(ids: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.into_iter().filter(|id| seen.insert(id.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use crate::patch::parse_patch;
    use crate::schema::ResourceKind;
    use serde_json::json;

    fn split(operations: Value) -> Result<(Vec<MemberChange>, Vec<Value>), ScimError> {
        let ops = parse_patch(&json!({"Operations": operations}), ResourceKind::Group)?;
        let (changes, rest) = split_member_ops(ops)?;
        Ok((changes, rest.iter().map(PatchOperation::to_json).collect()))
    }

    fn ids(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_entra_member_shape_becomes_a_set_operation() {
        let (changes, rest) = split(json!([
            {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u1"}, {"$ref": null, "value": "u2"}, {"value": "u1"}]},
            {"op": "replace", "path": "members", "value": [{"value": "673"}]},
            {"op": "Remove", "path": "members", "value": [{"value": "u1"}]},
            {"op": "remove", "path": "members[value eq \"u2\"]"},
            {"op": "remove", "path": "members[value eq \"u3\" or value eq \"u4\"]"},
            {"op": "Remove", "path": "members"},
            {"op": "Replace", "path": "displayName", "value": "Eng"},
            {"op": "add", "value": {"members": [{"value": "u5"}], "externalId": "e"}},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:members", "value": []},
        ]))
        .expect("valid");
        assert_eq!(
            changes,
            vec![
                MemberChange::Add(ids(&["u1", "u2"])),
                MemberChange::Replace(ids(&["673"])),
                MemberChange::Remove(ids(&["u1"])),
                MemberChange::Remove(ids(&["u2"])),
                MemberChange::Remove(ids(&["u3", "u4"])),
                MemberChange::RemoveAll,
                MemberChange::Add(ids(&["u5"])),
                MemberChange::RemoveAll,
            ]
        );
        assert_eq!(
            rest,
            vec![
                json!({"op": "replace", "path": "displayName", "value": "Eng"}),
                json!({"op": "add", "path": "externalId", "value": "e"}),
            ]
        );
    }

    #[test]
    fn add_then_remove_of_the_same_member_keeps_order() {
        let (changes, rest) = split(json!([
            {"op": "add", "path": "members", "value": [{"value": "u1"}]},
            {"op": "remove", "path": "members[value eq \"u1\"]"},
        ]))
        .expect("valid");
        assert_eq!(changes, vec![MemberChange::Add(ids(&["u1"])), MemberChange::Remove(ids(&["u1"]))]);
        assert!(rest.is_empty());
    }

    #[test]
    fn unmanageable_member_paths_are_rejected() {
        for (operations, scim_type) in [
            (json!([{"op": "remove", "path": "members[display eq \"Bob\"]"}]), ScimType::InvalidPath),
            (
                json!([{"op": "remove", "path": "members[value eq \"a\" and value eq \"b\"]"}]),
                ScimType::InvalidPath,
            ),
            (json!([{"op": "remove", "path": "members[value eq true]"}]), ScimType::InvalidPath),
            (
                json!([{"op": "add", "path": "members[value eq \"a\"]", "value": {"value": "a"}}]),
                ScimType::InvalidPath,
            ),
            (json!([{"op": "replace", "path": "members.value", "value": "a"}]), ScimType::InvalidPath),
            (json!([{"op": "add", "path": "members", "value": [{"type": "User"}]}]), ScimType::InvalidValue),
        ] {
            let err = split(operations.clone()).expect_err("invalid");
            assert_eq!(err.scim_type, Some(scim_type), "{operations}");
        }
    }

    #[test]
    fn raw_ops_with_bare_ids_are_accepted() {
        let ops = vec![
            PatchOperation::new(
                OpKind::Add,
                crate::PatchPath::parse("members").expect("path"),
                Some(json!(["a", 7])),
            ),
            PatchOperation::new(
                OpKind::Remove,
                crate::PatchPath::parse("members").expect("path"),
                Some(json!({"value": "a"})),
            ),
            PatchOperation::new(
                OpKind::Remove,
                crate::PatchPath::parse("members[value eq 9]").expect("path"),
                None,
            ),
        ];
        let (changes, rest) = split_member_ops(ops).expect("valid");
        assert_eq!(
            changes,
            vec![
                MemberChange::Add(ids(&["a", "7"])),
                MemberChange::Remove(ids(&["a"])),
                MemberChange::Remove(ids(&["9"]))
            ]
        );
        assert!(rest.is_empty());
    }

    #[test]
    fn members_named_in_one_request_are_bounded() {
        use crate::limits::MAX_MEMBERS_PER_REQUEST;
        let many = |n: usize| (0..n).map(|i| json!({"value": format!("u{i}")})).collect::<Vec<_>>();
        let at_limit =
            split(json!([{"op": "add", "path": "members", "value": many(MAX_MEMBERS_PER_REQUEST)}]));
        assert!(at_limit.is_ok());
        // Over the limit in one operation, and in total over several operations of one request.
        for operations in [
            json!([{"op": "add", "path": "members", "value": many(MAX_MEMBERS_PER_REQUEST + 1)}]),
            json!([
                {"op": "add", "path": "members", "value": many(MAX_MEMBERS_PER_REQUEST / 2 + 1)},
                {"op": "replace", "path": "members", "value": many(MAX_MEMBERS_PER_REQUEST / 2)},
            ]),
        ] {
            let err = split(operations).expect_err("too many members");
            assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
            assert!(err.detail.contains("at most 10000"), "{}", err.detail);
        }
    }

    #[test]
    fn operations_per_patch_are_bounded() {
        use crate::limits::MAX_OPERATIONS;
        let op = json!({"op": "replace", "path": "displayName", "value": "x"});
        let ok = parse_patch(&json!({"Operations": vec![op.clone(); MAX_OPERATIONS]}), ResourceKind::Group);
        assert!(ok.is_ok());
        let err = parse_patch(&json!({"Operations": vec![op; MAX_OPERATIONS + 1]}), ResourceKind::Group)
            .expect_err("too many operations");
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
    }
}
