//! The PATCH engine (RFC 7644 §3.5.2) over a resource's canonical JSON.
//!
//! Atomic: operations run on a copy, which replaces the resource only when every operation and
//! the final resource checks succeed. Semantics:
//! - `add`: sets single-valued attributes, merges sub-attributes into complex ones, appends to
//!   multi-valued ones (skipping exact duplicates).
//! - `replace`: sets; a multi-valued attribute without filter is replaced as a whole; a complex
//!   single-valued attribute keeps sub-attributes not given, except that a new `value` (the
//!   manager's id) replaces the object, so no stale `$ref` survives.
//! - value filters (`emails[type eq "work"].value`) update every matching element; when none
//!   matches an `add`/`replace` and the filter is `eq` comparisons joined by `and`, the element is
//!   created from them (entra-scim.md §3.4), so later operations with the same filter land on it;
//!   otherwise 400 `noTarget`.
//! - `remove`: the attribute, a sub-attribute, or the matching elements; no path is 400
//!   `noTarget`; removing a required attribute is 400 `mutability`.
//! - A new `primary: true` element clears `primary` on its siblings (RFC 7643 §2.4).
//! - `schemas`, `meta`: ignored silently. `id`: 400 `mutability` unless unchanged. Other
//!   read-only and unknown attributes: ignored and reported in [`PatchOutcome::ignored`], as
//!   Entra prefers to a 400 that would also block the other operations of the request.
//! - Group `members` must first be taken out with `split_member_ops`; the engine refuses them.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::normalize::split_object;
use super::{OpKind, PatchOperation, coerce_value};
use crate::coerce::{self, Unknown};
use crate::error::ScimError;
use crate::filter::{CompValue, CompareOp, Filter, matches_element};
use crate::object::{with_array, with_object};
use crate::path::PatchPath;
use crate::resource::finish;
use crate::schema::{AttributeDef, Mutability, ResolvedAttr, ResourceKind};

/// What a successful PATCH did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatchOutcome {
    /// Whether the resource differs from before.
    pub changed: bool,
    /// Paths of operations (or value members) ignored because the attribute is unknown or
    /// read-only, for the provisioning log.
    pub ignored: Vec<String>,
}

/// Applies `ops` (normally from `parse_patch`, then `split_member_ops` for Groups) to
/// `resource`, the canonical JSON object of a `kind` resource. On error `resource` is unchanged.
pub fn apply_patch(
    resource: &mut Value,
    ops: &[PatchOperation],
    kind: ResourceKind,
) -> Result<PatchOutcome, ScimError> {
    let Some(original) = resource.as_object() else {
        return Err(ScimError::internal("stored resource is not a JSON object"));
    };
    let mut working = original.clone();
    let mut ignored = Vec::new();
    for op in ops {
        apply_op(&mut working, op, kind, &mut ignored)?;
    }
    finish(&mut working, kind)?;
    let changed = working != *original;
    *resource = Value::Object(working);
    Ok(PatchOutcome { changed, ignored })
}

/// An operation after its value was checked: `add`/`replace` of nothing is a removal.
enum Change {
    Add(Value),
    Replace(Value),
    Remove,
}

fn apply_op(
    res: &mut Map<String, Value>,
    op: &PatchOperation,
    kind: ResourceKind,
    ignored: &mut Vec<String>,
) -> Result<(), ScimError> {
    let Some(path) = &op.path else {
        return match (op.op, &op.value) {
            (OpKind::Remove, _) => Err(ScimError::no_target("'remove' requires a path")),
            (_, Some(Value::Object(map))) => split_object(op.op, map, kind)?
                .iter()
                .try_for_each(|split| apply_op(res, split, kind, ignored)),
            _ => {
                Err(ScimError::invalid_value(format!("'{}' without a path requires an object value", op.op)))
            }
        };
    };
    if path.attr.schema.is_none() && path.attr.name.eq_ignore_ascii_case("schemas") {
        return Ok(());
    }
    let Some(target) = kind.resolve(&path.attr) else {
        ignored.push(path.to_string());
        return Ok(());
    };
    if target.is_id() {
        return check_id(res, op);
    }
    if target.extension.is_none() && target.attr.name == "meta" {
        return Ok(());
    }
    let read_only = |def: &AttributeDef| def.mutability == Mutability::ReadOnly;
    if read_only(target.attr) || target.sub.is_some_and(read_only) {
        ignored.push(path.to_string());
        return Ok(());
    }
    if kind == ResourceKind::Group && target.extension.is_none() && target.attr.name == "members" {
        return Err(ScimError::internal(
            "Group membership operations must be split off with split_member_ops",
        ));
    }
    let change = match (op.op, &op.value) {
        (OpKind::Remove, _) => Change::Remove,
        (_, None) => {
            return Err(ScimError::invalid_value(format!("'{}' of '{path}' requires a value", op.op)));
        }
        (op_kind, Some(value)) => match coerce_value(&target, path, value, &mut Unknown::Report(ignored))? {
            Some(value) if op_kind == OpKind::Add => Change::Add(value),
            Some(value) => Change::Replace(value),
            None if op_kind == OpKind::Add && target.attr.multi_valued => return Ok(()),
            None => Change::Remove,
        },
    };
    let edit = Edit { target, path, ignored };
    match target.extension {
        Some(ext) => with_object(res, ext.id, |container| edit.apply(container, change)),
        None => edit.apply(res, change),
    }
}

fn check_id(res: &Map<String, Value>, op: &PatchOperation) -> Result<(), ScimError> {
    let current = res.get("id").and_then(Value::as_str);
    let proposed = op.value.as_ref().and_then(Value::as_str);
    match (op.op, current, proposed) {
        (OpKind::Add | OpKind::Replace, Some(current), Some(proposed)) if current == proposed => Ok(()),
        _ => Err(ScimError::mutability("'id' is read-only")),
    }
}

struct Edit<'a> {
    target: ResolvedAttr,
    path: &'a PatchPath,
    ignored: &'a mut Vec<String>,
}

impl Edit<'_> {
    fn apply(self, container: &mut Map<String, Value>, change: Change) -> Result<(), ScimError> {
        let attr = self.target.attr;
        match (&self.path.filter, self.target.sub) {
            (Some(filter), sub) => self.filtered(container, filter, sub, change),
            (None, Some(sub)) => {
                set_sub_attribute(container, attr, sub, change);
                Ok(())
            }
            (None, None) => whole_attribute(container, attr, change),
        }
    }

    fn filtered(
        self,
        container: &mut Map<String, Value>,
        filter: &Filter,
        sub: Option<&'static AttributeDef>,
        change: Change,
    ) -> Result<(), ScimError> {
        let attr = self.target.attr;
        if !(attr.multi_valued && attr.is_complex()) {
            return Err(ScimError::invalid_path(format!(
                "'{}': value filters apply to multi-valued complex attributes only",
                self.path
            )));
        }
        with_array(container, attr.name, |items| {
            let mut hits: Vec<usize> = (0..items.len())
                .filter(|&i| items.get(i).is_some_and(|item| matches_element(filter, item, attr)))
                .collect();
            let (value, is_add) = match change {
                Change::Remove => {
                    remove_matches(items, &hits, sub);
                    return Ok(());
                }
                Change::Add(value) => (value, true),
                Change::Replace(value) => (value, false),
            };
            let created = hits.is_empty();
            if created {
                let element = element_from_filter(filter, attr, self.path, self.ignored)?
                    .ok_or_else(|| ScimError::no_target(format!("no value matches '{}'", self.path)))?;
                items.push(element);
                hits.push(items.len() - 1);
            }
            for &i in &hits {
                let Some(item) = items.get_mut(i) else { continue };
                match (sub, item, &value) {
                    (Some(sub), Value::Object(element), _) => {
                        element.insert(sub.name.to_string(), value.clone());
                    }
                    (None, Value::Object(element), Value::Object(new)) if is_add || created => {
                        element.extend(new.clone());
                    }
                    (None, item, _) => *item = value.clone(),
                    (Some(_), _, _) => {}
                }
            }
            if let Some(&last) = hits.iter().rev().find(|&&i| items.get(i).is_some_and(is_primary)) {
                clear_other_primaries(items, last);
            }
            Ok(())
        })
    }
}

fn remove_matches(items: &mut Vec<Value>, hits: &[usize], sub: Option<&AttributeDef>) {
    match sub {
        None => {
            let mut hit = vec![false; items.len()];
            for &i in hits {
                if let Some(h) = hit.get_mut(i) {
                    *h = true;
                }
            }
            let mut index = 0;
            items.retain(|_| {
                index += 1;
                hit.get(index - 1) != Some(&true)
            });
        }
        Some(sub) => {
            for &i in hits {
                if let Some(Value::Object(element)) = items.get_mut(i) {
                    element.remove(sub.name);
                }
            }
            items.retain(|item| item.as_object().is_none_or(|o| !o.is_empty()));
        }
    }
}

/// The element an `eq`-only filter describes (`type eq "work" and primary eq true`), or `None`
/// when the filter uses anything else.
fn element_from_filter(
    filter: &Filter,
    attr: &AttributeDef,
    path: &PatchPath,
    ignored: &mut Vec<String>,
) -> Result<Option<Value>, ScimError> {
    fn collect(filter: &Filter, out: &mut Map<String, Value>) -> bool {
        match filter {
            Filter::And(l, r) => collect(l, out) && collect(r, out),
            Filter::Compare { attr, op: CompareOp::Eq, value }
                if attr.schema.is_none() && attr.sub_attr.is_none() && *value != CompValue::Null =>
            {
                out.insert(attr.name.clone(), value.to_json());
                true
            }
            _ => false,
        }
    }
    let mut element = Map::new();
    if !collect(filter, &mut element) {
        return Ok(None);
    }
    coerce::element(attr, &Value::Object(element), &path.to_string(), &mut Unknown::Report(ignored))
}

fn whole_attribute(
    container: &mut Map<String, Value>,
    attr: &'static AttributeDef,
    change: Change,
) -> Result<(), ScimError> {
    match change {
        Change::Remove => {
            if attr.required {
                return Err(ScimError::mutability(format!(
                    "'{}' is required and cannot be removed",
                    attr.name
                )));
            }
            container.remove(attr.name);
        }
        Change::Add(Value::Array(new)) if attr.multi_valued => with_array(container, attr.name, |items| {
            let mut newest_primary = None;
            // Exact duplicates by their JSON text: object keys are sorted (serde_json's `Map` is a
            // B-tree here), so equal values print alike, and the check stays linear.
            let mut present: HashSet<String> = items.iter().map(Value::to_string).collect();
            for item in new {
                if present.insert(item.to_string()) {
                    if is_primary(&item) {
                        newest_primary = Some(items.len());
                    }
                    items.push(item);
                }
            }
            if let Some(primary) = newest_primary {
                clear_other_primaries(items, primary);
            }
        }),
        Change::Add(Value::Object(new)) | Change::Replace(Value::Object(new))
            if attr.is_complex() && !attr.multi_valued && !new.contains_key("value") =>
        {
            with_object(container, attr.name, |object| object.extend(new));
        }
        Change::Add(value) | Change::Replace(value) => {
            container.insert(attr.name.to_string(), value);
        }
    }
    Ok(())
}

fn set_sub_attribute(
    container: &mut Map<String, Value>,
    attr: &'static AttributeDef,
    sub: &'static AttributeDef,
    change: Change,
) {
    let value = match change {
        Change::Add(value) | Change::Replace(value) => Some(value),
        Change::Remove => None,
    };
    let set = |element: &mut Map<String, Value>| match &value {
        Some(value) => {
            element.insert(sub.name.to_string(), value.clone());
        }
        None => {
            element.remove(sub.name);
        }
    };
    if !attr.multi_valued {
        with_object(container, attr.name, set);
        return;
    }
    // Without a filter, a sub-attribute path of a multi-valued attribute addresses every element.
    with_array(container, attr.name, |items| {
        if items.is_empty() {
            if let Some(value) = &value {
                items.push(Value::Object(Map::from_iter([(sub.name.to_string(), value.clone())])));
            }
            return;
        }
        items.iter_mut().filter_map(Value::as_object_mut).for_each(set);
        items.retain(|item| item.as_object().is_none_or(|o| !o.is_empty()));
    });
}

fn is_primary(item: &Value) -> bool {
    item.get("primary") == Some(&Value::Bool(true))
}

fn clear_other_primaries(items: &mut [Value], keep: usize) {
    for (i, item) in items.iter_mut().enumerate() {
        if i != keep
            && is_primary(item)
            && let Some(element) = item.as_object_mut()
        {
            element.insert("primary".into(), Value::Bool(false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use crate::patch::parse_patch;
    use proptest::prelude::*;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    fn alice() -> Value {
        json!({
            "schemas": [USER],
            "id": "u-1",
            "userName": "alice@contoso.com",
            "name": {"givenName": "Alice", "familyName": "Smith"},
            "active": true,
            "emails": [{"value": "alice@contoso.com", "type": "work", "primary": true}],
            "meta": {"resourceType": "User", "version": "W/\"1\""}
        })
    }

    fn patch(resource: &mut Value, operations: Value) -> Result<PatchOutcome, ScimError> {
        let ops = parse_patch(&json!({"Operations": operations}), ResourceKind::User)?;
        apply_patch(resource, &ops, ResourceKind::User)
    }

    fn patched(operations: Value) -> Value {
        let mut user = alice();
        patch(&mut user, operations.clone()).unwrap_or_else(|e| panic!("{operations}: {e}"));
        user
    }

    fn failure(operations: Value) -> ScimError {
        let mut user = alice();
        let err = patch(&mut user, operations.clone()).expect_err("must fail");
        assert_eq!(user, alice(), "failed PATCH must leave the resource untouched: {operations}");
        err
    }

    fn with(changes: Value) -> Value {
        let mut user = alice();
        if let (Some(user), Value::Object(changes)) = (user.as_object_mut(), changes) {
            user.extend(changes);
        }
        user
    }

    #[test]
    fn add_replace_remove_single_valued() {
        assert_eq!(
            patched(
                json!([{"op": "add", "path": "title", "value": "CTO"}, {"op": "replace", "path": "active", "value": false}])
            ),
            with(json!({"title": "CTO", "active": false}))
        );
        let mut expected = alice();
        if let Some(user) = expected.as_object_mut() {
            user.remove("active");
        }
        assert_eq!(patched(json!([{"op": "remove", "path": "active"}])), expected);
    }

    #[test]
    fn complex_attributes_merge_sub_attributes() {
        assert_eq!(
            patched(
                json!([{"op": "replace", "path": "name", "value": {"givenName": "Alicia", "middleName": "M"}}])
            ),
            with(json!({"name": {"givenName": "Alicia", "middleName": "M", "familyName": "Smith"}}))
        );
        assert_eq!(
            patched(json!([{"op": "replace", "path": "name.familyName", "value": "Jones"}])),
            with(json!({"name": {"givenName": "Alice", "familyName": "Jones"}}))
        );
        assert_eq!(
            patched(
                json!([{"op": "remove", "path": "name.givenName"}, {"op": "remove", "path": "name.familyName"}])
            ),
            {
                let mut user = alice();
                user.as_object_mut().map(|u| u.remove("name"));
                user
            }
        );
    }

    #[test]
    fn a_new_manager_replaces_the_old_reference() {
        let mut user = alice();
        patch(
            &mut user,
            json!([{"op": "add", "path": "manager", "value": [{"$ref": "https://h/Users/7", "value": "7"}]}]),
        )
        .expect("add manager");
        assert_eq!(user[ENT], json!({"manager": {"$ref": "https://h/Users/7", "value": "7"}}));
        assert_eq!(user["schemas"], json!([USER, ENT]));
        patch(
            &mut user,
            json!([{"op": "replace", "path": format!("{ENT}:manager"), "value": {"value": "8"}}]),
        )
        .expect("replace manager");
        assert_eq!(user[ENT], json!({"manager": {"value": "8"}}));
        patch(
            &mut user,
            json!([{"op": "replace", "path": format!("{ENT}:manager"), "value": {"value": ""}}]),
        )
        .expect("remove manager");
        assert_eq!(user, alice());
    }

    #[test]
    fn multi_valued_add_appends_and_replace_sets() {
        assert_eq!(
            patched(json!([{"op": "add", "path": "emails", "value": [
                {"value": "alice@contoso.com", "type": "work", "primary": true},
                {"value": "a@home.example", "type": "home", "primary": true}]}])),
            with(json!({"emails": [
                {"value": "alice@contoso.com", "type": "work", "primary": false},
                {"value": "a@home.example", "type": "home", "primary": true}]}))
        );
        assert_eq!(
            patched(
                json!([{"op": "replace", "path": "emails", "value": [{"value": "x@y.z", "type": "other"}]}])
            ),
            with(json!({"emails": [{"value": "x@y.z", "type": "other"}]}))
        );
        assert_eq!(
            patched(
                json!([{"op": "add", "path": "phoneNumbers", "value": {"value": "+1 555", "type": "mobile"}}])
            ),
            with(json!({"phoneNumbers": [{"value": "+1 555", "type": "mobile"}]}))
        );
    }

    #[test]
    fn value_filters_update_create_and_remove() {
        assert_eq!(
            patched(
                json!([{"op": "replace", "path": "emails[type eq \"WORK\"].value", "value": "new@contoso.com"}])
            ),
            with(json!({"emails": [{"value": "new@contoso.com", "type": "work", "primary": true}]}))
        );
        assert_eq!(
            patched(json!([
                {"op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"},
                {"op": "add", "path": "phoneNumbers[type eq \"mobile\"].primary", "value": "True"},
                {"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Main St"},
                {"op": "replace", "path": "addresses[type eq \"work\"].locality", "value": "Springfield"},
            ])),
            with(json!({
                "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100", "primary": true}],
                "addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "Springfield"}]
            }))
        );
        assert_eq!(patched(json!([{"op": "remove", "path": "emails[type eq \"work\"]"}])), {
            let mut user = alice();
            user.as_object_mut().map(|u| u.remove("emails"));
            user
        });
        assert_eq!(
            patched(json!([{"op": "remove", "path": "emails[type eq \"home\"]"}])),
            alice(),
            "removing nothing is not an error"
        );
        assert_eq!(
            patched(json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}])),
            with(json!({"emails": [{"value": "alice@contoso.com", "type": "work"}]}))
        );
        assert_eq!(
            patched(
                json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "w@x.y", "type": "work"}}])
            ),
            with(json!({"emails": [{"value": "w@x.y", "type": "work"}]}))
        );
    }

    #[test]
    fn unmatched_non_equality_filters_have_no_target() {
        let err =
            failure(json!([{"op": "replace", "path": "emails[type co \"hom\"].value", "value": "x@y.z"}]));
        assert_eq!(err.scim_type, Some(ScimType::NoTarget));
        let err = failure(
            json!([{"op": "replace", "path": "emails[type eq \"home\" or type eq \"other\"].value", "value": "x@y.z"}]),
        );
        assert_eq!(err.scim_type, Some(ScimType::NoTarget));
        let err =
            failure(json!([{"op": "replace", "path": "name[givenName eq \"x\"].familyName", "value": "y"}]));
        assert_eq!(err.scim_type, Some(ScimType::InvalidPath));
    }

    #[test]
    fn read_only_unknown_and_noise() {
        let mut user = alice();
        let outcome = patch(
            &mut user,
            json!([
                {"op": "replace", "path": "meta.version", "value": "W/\"9\""},
                {"op": "add", "path": "groups", "value": [{"value": "g1"}]},
                {"op": "add", "path": "favouriteColour", "value": "blue"},
                {"op": "replace", "path": "schemas", "value": ["x"]},
                {"op": "replace", "path": "id", "value": "u-1"},
                {"op": "replace", "path": "name", "value": {"givenName": "Al", "nickname": "A"}},
            ]),
        )
        .expect("ignored, not failed");
        assert_eq!(outcome.ignored, ["groups", "favouriteColour", "name.nickname"]);
        assert!(outcome.changed);
        assert_eq!(user, with(json!({"name": {"givenName": "Al", "familyName": "Smith"}})));
    }

    #[test]
    fn mutability_and_required_attributes() {
        let err = failure(json!([{"op": "replace", "path": "id", "value": "other"}]));
        assert_eq!(err.scim_type, Some(ScimType::Mutability));
        let err = failure(json!([{"op": "remove", "path": "id"}]));
        assert_eq!(err.scim_type, Some(ScimType::Mutability));
        let err = failure(json!([{"op": "remove", "path": "userName"}]));
        assert_eq!(err.scim_type, Some(ScimType::Mutability));
        let err = failure(json!([{"op": "replace", "path": "userName", "value": null}]));
        assert_eq!(err.scim_type, Some(ScimType::Mutability));
        let err = failure(json!([{"op": "replace", "path": "userName", "value": ""}]));
        assert_eq!(
            (err.scim_type, err.detail.as_str()),
            (Some(ScimType::InvalidValue), "'userName' must not be empty")
        );
        let err = failure(json!([{"op": "replace", "path": "userName", "value": true}]));
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
        let err = failure(json!([{"op": "remove"}]));
        assert_eq!(err.scim_type, Some(ScimType::NoTarget));
        let err = failure(json!([{"op": "add", "path": "title"}]));
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
        let err = failure(json!([{"op": "add", "value": "x"}]));
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
    }

    #[test]
    fn failures_are_atomic() {
        let err = failure(json!([
            {"op": "replace", "path": "active", "value": false},
            {"op": "add", "path": "title", "value": "CTO"},
            {"op": "add", "path": "emails", "value": [{"value": "b@contoso.com", "type": "Work"}]},
        ]));
        assert_eq!(err.detail, "'emails' has more than one value of type 'work'");
    }

    #[test]
    fn changed_reports_real_changes_only() {
        let mut user = alice();
        let outcome =
            patch(&mut user, json!([{"op": "replace", "path": "active", "value": "True"}])).expect("valid");
        assert_eq!(outcome, PatchOutcome { changed: false, ignored: vec![] });
        let outcome = patch(&mut user, json!([{"op": "add", "path": "emails", "value": [{"value": "alice@contoso.com", "type": "work", "primary": true}]}]))
            .expect("duplicate add is a no-op");
        assert!(!outcome.changed);
    }

    #[test]
    fn engine_handles_unnormalised_no_path_ops() {
        let mut user = alice();
        let ops = [PatchOperation {
            op: OpKind::Add,
            path: None,
            value: Some(json!({"name.givenName": "Ali", ENT: {"employeeNumber": "7"}})),
        }];
        apply_patch(&mut user, &ops, ResourceKind::User).expect("valid");
        assert_eq!(user["name"]["givenName"], "Ali");
        assert_eq!(user[ENT], json!({"employeeNumber": "7"}));
        assert_eq!(user["schemas"], json!([USER, ENT]));
    }

    #[test]
    fn group_members_must_be_split_first() {
        let mut group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g", "displayName": "Eng"});
        let ops = parse_patch(
            &json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": "u"}]}]}),
            ResourceKind::Group,
        )
        .expect("valid");
        let err =
            apply_patch(&mut group, &ops, ResourceKind::Group).expect_err("members are not JSON-patched");
        assert_eq!(err.status, 500);
        let mut not_an_object = json!([]);
        assert_eq!(apply_patch(&mut not_an_object, &[], ResourceKind::Group).map_err(|e| e.status), Err(500));
    }

    fn arb_op() -> impl Strategy<Value = Value> {
        let op = prop_oneof![Just("add"), Just("Replace"), Just("remove")];
        let path = prop_oneof![
            Just(None),
            Just(Some("emails[type eq \"work\"].value")),
            Just(Some("emails")),
            Just(Some("name.givenName")),
            Just(Some("name")),
            Just(Some("userName")),
            Just(Some("active")),
            Just(Some("manager")),
            Just(Some("roles[primary eq \"True\"].value")),
            Just(Some("id")),
            Just(Some("nope")),
        ];
        let value = prop_oneof![
            Just(json!(null)),
            Just(json!("x")),
            Just(json!("")),
            Just(json!("True")),
            Just(json!(true)),
            Just(json!(3)),
            Just(json!([{"value": "v", "type": "work", "primary": true}])),
            Just(json!({"value": "v"})),
            Just(json!({"givenName": "G", "name.familyName": "F", "active": "false"})),
        ];
        (op, path, proptest::option::of(value)).prop_map(|(op, path, value)| {
            let mut map = Map::new();
            map.insert("op".into(), op.into());
            if let Some(path) = path {
                map.insert("path".into(), path.into());
            }
            if let Some(value) = value {
                map.insert("value".into(), value);
            }
            Value::Object(map)
        })
    }

    proptest! {
        #[test]
        fn patches_never_panic_and_are_atomic(ops in proptest::collection::vec(arb_op(), 1..6)) {
            let mut user = alice();
            match patch(&mut user, Value::Array(ops)) {
                Ok(_) => {
                    prop_assert!(user["userName"].as_str().is_some_and(|s| !s.is_empty()));
                    prop_assert_eq!(&user["id"], &json!("u-1"));
                }
                Err(_) => prop_assert_eq!(user, alice()),
            }
        }
    }

    #[test]
    fn adding_values_skips_exact_duplicates_whatever_their_key_order() {
        // The duplicate check compares JSON text, which relies on serde_json's sorted maps (no
        // `preserve_order` feature anywhere in the build): this fails if that ever changes.
        assert_eq!(json!({"b": 1, "a": 2}).to_string(), json!({"a": 2, "b": 1}).to_string());
        let mut user = json!({"userName": "a", "emails": [{"value": "a@x", "type": "work"}]});
        let ops = parse_patch(
            &json!({"Operations": [{"op": "add", "path": "emails", "value": [
                {"type": "work", "value": "a@x"}, {"value": "b@x", "type": "home"}, {"type": "home", "value": "b@x"}]}]}),
            ResourceKind::User,
        )
        .expect("valid");
        apply_patch(&mut user, &ops, ResourceKind::User).expect("applies");
        assert_eq!(
            user["emails"],
            json!([{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}])
        );
    }

    #[test]
    fn a_stored_resource_is_bounded() {
        use crate::limits::{MAX_RESOURCE_BYTES, MAX_VALUES};
        let mut user = json!({"userName": "a"});
        let roles: Vec<Value> = (0..=MAX_VALUES).map(|i| json!({"value": format!("r{i}")})).collect();
        let ops = parse_patch(
            &json!({"Operations": [{"op": "add", "path": "roles", "value": roles}]}),
            ResourceKind::User,
        )
        .expect("valid");
        let err = apply_patch(&mut user, &ops, ResourceKind::User).expect_err("too many values");
        assert!(err.detail.contains("'roles' has 1001 values"), "{}", err.detail);
        let big = "x".repeat(MAX_RESOURCE_BYTES);
        let ops = parse_patch(
            &json!({"Operations": [{"op": "replace", "path": "title", "value": big}]}),
            ResourceKind::User,
        )
        .expect("valid");
        let err = apply_patch(&mut user, &ops, ResourceKind::User).expect_err("too large");
        assert_eq!(err.status, 400);
        assert_eq!(user, json!({"userName": "a"}), "a refused PATCH changes nothing");
    }
}
