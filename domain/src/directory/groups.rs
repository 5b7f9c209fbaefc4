//! SCIM Groups (RFC 7643 §4.2, RFC 7644 §3.3–§3.6). `displayName` is unique per organisation,
//! case-insensitively (Entra matches groups on it). Members live in `group_members` and change only
//! through set operations (see `memberships`), never by rewriting a member list.

use scim::{
    ListQuery, ResourceKind, ScimType, apply_patch, group_members, parse_patch, prepare_resource,
    split_member_ops,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};
use serde_json::{Value, json};

use super::{
    Projection, Scope, Write, Written, check_if_match, insert_alone, listing,
    memberships::{self, MemberDelta},
    render_group, render_unlinked,
    settings::{MemberReplace, member_replace_of},
    strip_server_fields, write,
};
use crate::{
    clock::now_ms,
    entities::group,
    error::{DomainError, DomainResult},
    group_commit::Writes,
    ids::GroupId,
    store::{Exec, Rows},
};

const KIND: ResourceKind = ResourceKind::Group;
const DUPLICATE: &str = "a group with this displayName already exists";

fn display_name(resource: &Value) -> DomainResult<String> {
    resource
        .get("displayName")
        .and_then(Value::as_str)
        .filter(|d| !d.trim().is_empty())
        .map(str::to_owned)
        .ok_or_else(|| DomainError::rejected(ScimType::InvalidValue, "displayName is required"))
}

fn apply_columns(model: &mut group::ActiveModel, resource: Value, now: i64) -> DomainResult<()> {
    let name = display_name(&resource)?;
    model.display_name_lower = Set(name.to_lowercase());
    model.display_name = Set(name);
    model.external_id = Set(resource.get("externalId").and_then(Value::as_str).map(str::to_owned));
    model.resource = Set(resource);
    model.updated_at = Set(now);
    Ok(())
}

/// A group as sent, prepared for storage, and the member ids it names.
fn prepare(body: &Value) -> DomainResult<(Value, Vec<String>)> {
    let mut resource = prepare_resource(body, KIND)?;
    let members = group_members(&resource);
    strip_server_fields(&mut resource, KIND);
    display_name(&resource)?;
    Ok((resource, members))
}

async fn find(db: &impl Rows, scope: &Scope, id: &str, lock: bool) -> DomainResult<group::Model> {
    let mut query = group::Entity::find_by_id(id.to_owned()).filter(group::Column::OrgId.eq(&scope.org_id));
    if lock {
        query = query.lock_exclusive();
    }
    // Not `one`: the id is the key, and `one` would bind a `LIMIT` (see `listing`).
    let found: Vec<group::Model> = db.rows(query.build(db.backend())).await?;
    let found = found.into_iter().next();
    found.ok_or(DomainError::NotFound)
}

/// Records a change of the group: new version and modification time.
async fn bump(txn: &impl Exec, current: group::Model, resource: Option<Value>) -> DomainResult<group::Model> {
    let version = current.version + 1;
    let mut model: group::ActiveModel = current.into();
    match resource {
        Some(resource) => apply_columns(&mut model, resource, now_ms())?,
        None => model.updated_at = Set(now_ms()),
    }
    model.version = Set(version);
    write(txn, Write::Update, model, DUPLICATE).await
}

fn summary(action: &str, name: &str, delta: &MemberDelta) -> String {
    if delta.is_empty() && delta.unknown.is_empty() {
        format!("{action} group {name}")
    } else {
        format!("{action} group {name}: {}", delta.describe())
    }
}

/// `POST /Groups`: 201; members named in the body are linked (Entra sends none and PATCHes later).
pub async fn create(
    w: &impl Writes,
    scope: &Scope,
    body: &Value,
    projection: &Projection,
) -> DomainResult<Written> {
    let (resource, members) = prepare(body)?;
    let now = now_ms();
    let mut model = group::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        org_id: Set(scope.org_id.clone().into()),
        version: Set(1),
        created_at: Set(now),
        ..Default::default()
    };
    apply_columns(&mut model, resource, now)?;
    if members.is_empty() {
        // Entra's way: one statement, no transaction around it on PostgreSQL.
        let model = insert_alone(w, model, DUPLICATE).await?;
        let resource = render_unlinked(scope, KIND, &model, projection);
        let summary = summary("created", &model.display_name, &MemberDelta::default());
        return Ok(Written { resource, id: model.id, version: model.version, summary });
    }
    let (scope, projection) = (scope.clone(), projection.clone());
    w.write(move |txn| {
        Box::pin(async move {
            let model = write(txn, Write::Insert, model, DUPLICATE).await?;
            let change = vec![scim::MemberChange::Add(members)];
            let delta =
                memberships::apply(txn, &scope, &GroupId::new(&model.id), change, MemberReplace::Exact)
                    .await?;
            let resource = render_group(txn, &scope, &model, &projection).await?;
            let summary = summary("created", &model.display_name, &delta);
            Ok(Written { resource, id: model.id, version: model.version, summary })
        })
    })
    .await
}

/// `GET /Groups/{id}` (with `excludedAttributes=members`, no membership query at all).
pub async fn get(db: &impl Rows, scope: &Scope, id: &str, projection: &Projection) -> DomainResult<Written> {
    let model = find(db, scope, id, false).await?;
    let resource = render_group(db, scope, &model, projection).await?;
    Ok(Written { resource, id: model.id, version: model.version, summary: String::new() })
}

/// `PUT /Groups/{id}`: replaces the attributes and sets the members exactly.
pub async fn replace(
    w: &impl Writes,
    scope: &Scope,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
    projection: &Projection,
) -> DomainResult<Written> {
    let (resource, members) = prepare(body)?;
    let (scope, id, if_match, projection) =
        (scope.clone(), id.to_owned(), if_match.map(str::to_owned), projection.clone());
    w.write(move |txn| {
        Box::pin(async move {
            let current = find(txn, &scope, &id, true).await?;
            check_if_match(if_match.as_deref(), current.version)?;
            // A whole-resource replace (RFC 7644 §3.5.1): the members are exactly those sent.
            let change = vec![scim::MemberChange::Replace(members)];
            let delta =
                memberships::apply(txn, &scope, &GroupId::new(&current.id), change, MemberReplace::Exact)
                    .await?;
            let model = bump(txn, current, Some(resource)).await?;
            let resource = render_group(txn, &scope, &model, &projection).await?;
            let summary = summary("replaced", &model.display_name, &delta);
            Ok(Written { resource, id: model.id, version: model.version, summary })
        })
    })
    .await
}

/// `PATCH /Groups/{id}`: attribute operations through the PATCH engine, member operations as set
/// operations, all in one transaction (RFC 7644 §3.5.2: atomic). A `replace` of `members` adds
/// or sets exactly by the organisation's setting (`settings::MemberReplace`), read in the same
/// transaction and only when the request has such a `replace`.
pub async fn patch(
    w: &impl Writes,
    scope: &Scope,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
    projection: &Projection,
) -> DomainResult<Written> {
    let (member_changes, ops) = split_member_ops(parse_patch(body, KIND)?)?;
    let (scope, id, if_match, projection) =
        (scope.clone(), id.to_owned(), if_match.map(str::to_owned), projection.clone());
    w.write(move |txn| {
        Box::pin(async move {
            let current = find(txn, &scope, &id, true).await?;
            check_if_match(if_match.as_deref(), current.version)?;
            let mut resource = current.resource.clone();
            resource["id"] = json!(current.id);
            let outcome = apply_patch(&mut resource, &ops, KIND)?;
            strip_server_fields(&mut resource, KIND);
            let replaces = member_changes.iter().any(|c| matches!(c, scim::MemberChange::Replace(_)));
            let mode = if replaces {
                member_replace_of(txn, &scope.org_id).await?
            } else {
                MemberReplace::default()
            };
            let delta =
                memberships::apply(txn, &scope, &GroupId::new(&current.id), member_changes, mode).await?;
            let mut text = summary("patched", &current.display_name, &delta);
            if !outcome.ignored.is_empty() {
                text.push_str(&format!("; ignored {}", outcome.ignored.join(", ")));
            }
            let model = match (outcome.changed, delta.is_empty()) {
                (false, true) => {
                    text.push_str(" (no change)");
                    current
                }
                (changed, _) => bump(txn, current, changed.then_some(resource)).await?,
            };
            let resource = render_group(txn, &scope, &model, &projection).await?;
            Ok(Written { resource, id: model.id, version: model.version, summary: text })
        })
    })
    .await
}

/// `DELETE /Groups/{id}`: the group and its memberships; the users stay.
pub async fn delete(
    w: &impl Writes,
    scope: &Scope,
    id: &str,
    if_match: Option<&str>,
) -> DomainResult<String> {
    let (scope, id, if_match) = (scope.clone(), id.to_owned(), if_match.map(str::to_owned));
    w.write(move |txn| {
        Box::pin(async move {
            let current = find(txn, &scope, &id, true).await?;
            check_if_match(if_match.as_deref(), current.version)?;
            let deleting = group::Entity::delete_by_id(current.id.clone());
            txn.apply(deleting.build(txn.backend())).await?;
            Ok(format!("deleted group {}", current.display_name))
        })
    })
    .await
}

/// `GET /Groups` and `POST /Groups/.search`.
pub async fn list(db: &impl Rows, scope: &Scope, query: &ListQuery) -> DomainResult<Value> {
    listing::list::<group::Entity>(db, scope, KIND, query, group::Column::OrgId, group::Column::Id).await
}
