//! SCIM Users (RFC 7643 §4.1, RFC 7644 §3.3–§3.6): create, read, replace, patch, delete, list.
//!
//! The stored `resource` is the prepared SCIM JSON without `id`, `meta` and `groups`, which are
//! server-managed and added when the resource is returned. The indexed columns are derived from
//! it on every write, in the same transaction. Deactivating or deleting a person ends their
//! console sessions in that transaction too, so they are locked out on their next request.
//!
//! Console admins are users of this table too, and the API key Entra uses works only while its
//! owner is an active admin. So no SCIM write may leave an organisation without an active admin
//! (see `keep_an_active_admin`): that would lock the organisation out of its console and turn
//! every later request of Entra's job into 401, which quarantines the job.
//!
//! When a resource names `roles` (Entra's app role assignment), the person's console role follows
//! them on every write (`crate::roles`): the organisation's admin role makes an admin, any other
//! role a member, under the same last-admin rule.

use scim::{ListQuery, ResourceKind, ScimType, apply_patch, parse_patch, prepare_resource};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, QueryTrait,
    sea_query::LockType,
};
use serde_json::{Value, json};

use super::{
    Linked, Projection, Scope, Write, Written, check_if_match, insert_alone, listing, memberships,
    render_linked, render_unlinked, strip_server_fields, write,
};
use crate::{
    accounts::{Role, Source},
    clock::now_ms,
    entities::{organization, session, user},
    error::{DomainError, DomainResult},
    group_commit::Writes,
    ids::OrgId,
    roles::{self, entra_admin_role_of, entra_role},
    store::{Exec, Rows, StoreResult},
};

const KIND: ResourceKind = ResourceKind::User;
const DUPLICATE: &str = "a user with this userName already exists";

/// The indexed columns of a user, derived from its resource.
struct Columns {
    user_name: String,
    external_id: Option<String>,
    display_name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    active: bool,
    /// The app role names Entra sent in `roles` (see `roles::scim_role_names`).
    entra_roles: Vec<String>,
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

/// The work email Entra maps (`emails[type eq "work"].value`), else the primary, else the first.
fn work_email(resource: &Value) -> Option<String> {
    let emails = resource.get("emails")?.as_array()?;
    let by_type = emails
        .iter()
        .find(|e| e.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("work")));
    let primary = || emails.iter().find(|e| e.get("primary") == Some(&Value::Bool(true)));
    text(by_type.or_else(primary).or(emails.first())?.get("value"))
}

fn columns(resource: &Value) -> DomainResult<Columns> {
    let user_name = text(resource.get("userName"))
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| DomainError::rejected(ScimType::InvalidValue, "userName is required"))?;
    Ok(Columns {
        user_name,
        external_id: text(resource.get("externalId")),
        display_name: text(resource.get("displayName")),
        given_name: text(resource.pointer("/name/givenName")),
        family_name: text(resource.pointer("/name/familyName")),
        email: work_email(resource),
        active: resource.get("active").and_then(Value::as_bool).unwrap_or(true),
        entra_roles: roles::scim_role_names(resource),
    })
}

fn apply_columns(model: &mut user::ActiveModel, c: Columns, resource: Value, now: i64) {
    model.user_name_lower = Set(c.user_name.to_lowercase());
    model.user_name = Set(c.user_name);
    model.external_id = Set(c.external_id);
    model.display_name = Set(c.display_name);
    model.given_name = Set(c.given_name);
    model.family_name = Set(c.family_name);
    model.email_lower = Set(c.email.as_ref().map(|e| e.to_lowercase()));
    model.email = Set(c.email);
    model.active = Set(c.active);
    model.resource = Set(resource);
    model.updated_at = Set(now);
}

/// A resource as sent, prepared for storage: validated, canonical, `active` explicit.
fn prepare(body: &Value) -> DomainResult<(Value, Columns)> {
    let mut resource = prepare_resource(body, KIND)?;
    strip_server_fields(&mut resource, KIND);
    if resource.get("active").is_none() {
        resource["active"] = json!(true);
    }
    let cols = columns(&resource)?;
    Ok((resource, cols))
}

/// User `id` of the scope, locked for the write when `lock`, with their groups folded in when
/// `groups` (one statement either way; see `memberships::folded`).
async fn find(
    db: &impl Rows,
    scope: &Scope,
    id: &str,
    lock: bool,
    groups: bool,
) -> DomainResult<Linked<user::Model>> {
    let mut query = user::Entity::find_by_id(id.to_owned())
        .expr_as(memberships::folded(KIND, groups, db.backend()), memberships::FOLDED)
        .filter(user::Column::OrgId.eq(&scope.org_id));
    if lock {
        query = query.lock_exclusive();
    }
    // Not `one`: the id is the key, and `one` would bind a `LIMIT` (see `listing`).
    let found: Vec<Linked<user::Model>> = db.rows(query.build(db.backend())).await?;
    let found = found.into_iter().next();
    found.ok_or(DomainError::NotFound)
}

/// `row` as returned (see `render_linked`).
fn shown(scope: &Scope, row: Linked<user::Model>, projection: &Projection) -> DomainResult<Value> {
    Ok(render_linked(scope, KIND, std::slice::from_ref(&row), projection)?.pop().unwrap_or_default())
}

async fn end_sessions(db: &impl Exec, user_id: &str) -> DomainResult<()> {
    let ending = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id));
    db.apply(ending.build(db.backend())).await?;
    Ok(())
}

/// A row read for its id alone.
#[derive(FromQueryResult)]
struct IdRow {
    id: String,
}
crate::from_sqlite!(IdRow { id });

/// Whether `user` counts towards the organisation's active admins.
pub(crate) fn is_active_admin(user: &user::Model) -> bool {
    user.active && user.role == Role::Admin
}

/// The ids of organisation `org_id`'s active admins (a handful at most).
pub(crate) async fn active_admin_ids(db: &impl Rows, org_id: &OrgId) -> StoreResult<Vec<String>> {
    let admins = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::Role.eq(Role::Admin))
        .filter(user::Column::Active.eq(true));
    let rows: Vec<IdRow> = db.rows(admins.build(db.backend())).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Whether organisation `person` belongs to has an active admin other than `person`, counted
/// inside the write transaction `txn` that is about to take `person`'s admin rights away (by
/// SCIM or from the console).
///
/// It locks the organisation's row first, so two transactions removing two admins cannot both
/// count the other as still active: on PostgreSQL the second waits for the first to commit, and
/// its count (a new statement under READ COMMITTED) then sees that commit. `FOR NO KEY UPDATE`
/// because it serialises these guards alone: the foreign-key checks of concurrent inserts in the
/// organisation take `FOR KEY SHARE` on that row and need not wait. SQLite ignores the lock
/// clause; its one write at a time already serialises the writes.
pub(crate) async fn another_active_admin(txn: &impl Rows, person: &user::Model) -> StoreResult<bool> {
    // `all`, not `one`: the id is the key, and `one` would bind a `LIMIT` (see `listing`).
    let locking = organization::Entity::find_by_id(person.org_id.clone())
        .select_only()
        .column(organization::Column::Id)
        .lock(LockType::NoKeyUpdate);
    let _: Vec<IdRow> = txn.rows(locking.build(txn.backend())).await?;
    let admins = active_admin_ids(txn, &OrgId::new(&person.org_id)).await?;
    Ok(admins.iter().any(|id| *id != person.id))
}

/// Refuses (400 `mutability`, RFC 7644 §3.12) to deactivate or delete `current`, inside the
/// write transaction `txn`, when they are their organisation's last active admin. Refusing,
/// rather than quietly keeping their access, tells Entra's admin what the change would break and
/// how to make it possible; the PATCH it belongs to is then not applied at all (§3.5.2).
///
/// Costs nothing for anyone but an active admin, so the hot path has no extra query.
async fn keep_an_active_admin(txn: &impl Rows, current: &user::Model, loss: Loss) -> DomainResult<()> {
    if !is_active_admin(current) || another_active_admin(txn, current).await? {
        return Ok(());
    }
    let keep = match loss {
        Loss::Access => "keep this person assigned to the application in Entra",
        Loss::AdminRole => "keep this person's app role assignment in Entra on the admin role",
    };
    Err(DomainError::rejected(
        ScimType::Mutability,
        format!(
            "{} is the organisation's last active Scimpad admin, and the API key Entra uses works only \
         while an admin is active: make another person an admin in Scimpad first (with an API key \
         of their own for Entra), or {keep}",
            current.user_name
        ),
    ))
}

/// How a write would take an admin's rights away.
#[derive(Clone, Copy, Debug)]
enum Loss {
    /// Deactivated or deleted.
    Access,
    /// Entra's app role assignment makes them a member.
    AdminRole,
}

/// The role Entra's app role assignment gives a user of organisation `org_id` whose resource
/// names roles `names` (in `txn`); `None` when it names none (see `roles`). Reads the
/// organisation's admin role value only then, so a resource without roles costs no query.
async fn entra_role_for(txn: &impl Rows, org_id: &OrgId, names: &[String]) -> StoreResult<Option<Role>> {
    if names.is_empty() {
        return Ok(None);
    }
    let admin_role = entra_admin_role_of(txn, org_id).await?;
    Ok(entra_role(names, &admin_role))
}

/// The provisioning log's note of a role Entra's app role assignment gave.
fn role_note(role: Role) -> String {
    format!("; made {} by Entra's app role", roles::role_name(role))
}

/// `POST /Users`: 201 with the new user, 409 `uniqueness` when the `userName` exists in the
/// organisation (case-insensitively).
pub async fn create(
    w: &impl Writes,
    scope: &Scope,
    body: &Value,
    projection: &Projection,
) -> DomainResult<Written> {
    let (resource, mut cols) = prepare(body)?;
    let entra_roles = std::mem::take(&mut cols.entra_roles);
    let now = now_ms();
    let mut summary =
        format!("created user {}{}", cols.user_name, if cols.active { "" } else { " (inactive)" });
    let mut model = user::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        org_id: Set(scope.org_id.clone().into()),
        role: Set(Role::Member),
        source: Set(Source::Scim),
        entra_tenant_id: Set(None),
        entra_object_id: Set(None),
        version: Set(1),
        created_at: Set(now),
        ..Default::default()
    };
    apply_columns(&mut model, cols, resource, now);
    if !entra_roles.is_empty() {
        // Read before the insert, not with it: the insert is then one statement (no transaction
        // around it on PostgreSQL). An admin changing the mapping meanwhile is a race either way.
        let org_id = scope.org_id.clone();
        let role = super::read(&w.reader(), move |db| {
            Box::pin(async move { Ok(entra_role_for(db, &org_id, &entra_roles).await?) })
        })
        .await?;
        if let Some(role) = role {
            model.role = Set(role);
        }
    }
    let model = insert_alone(w, model, DUPLICATE).await?;
    if model.role == Role::Admin {
        summary.push_str(&role_note(Role::Admin));
    }
    // A new user belongs to no group yet: nothing to look up.
    let resource = render_unlinked(scope, KIND, &model, projection);
    Ok(Written { resource, id: model.id, version: model.version, summary })
}

/// `GET /Users/{id}`.
pub async fn get(db: &impl Rows, scope: &Scope, id: &str, projection: &Projection) -> DomainResult<Written> {
    let row = find(db, scope, id, false, projection.returns(memberships::link_attribute(KIND))).await?;
    let (id, version) = (row.model.id.clone(), row.model.version);
    Ok(Written { resource: shown(scope, row, projection)?, id, version, summary: String::new() })
}

/// Stores `resource` as the new state of `current` (in `txn`); returns the row as stored.
async fn store(
    txn: &impl Exec,
    current: user::Model,
    resource: Value,
    summary: &mut String,
) -> DomainResult<user::Model> {
    let cols = columns(&resource)?;
    let org_id = OrgId::new(&current.org_id);
    let role = entra_role_for(txn, &org_id, &cols.entra_roles).await?.unwrap_or(current.role);
    let deactivated = current.active && !cols.active;
    if deactivated {
        keep_an_active_admin(txn, &current, Loss::Access).await?;
        summary.push_str("; deactivated (sessions ended)");
    } else if !current.active && cols.active {
        summary.push_str("; reactivated");
    }
    if role != current.role {
        if role == Role::Member && !deactivated {
            keep_an_active_admin(txn, &current, Loss::AdminRole).await?;
        }
        summary.push_str(&role_note(role));
    }
    let version = current.version + 1;
    let id = current.id.clone();
    let mut model: user::ActiveModel = current.into();
    apply_columns(&mut model, cols, resource, now_ms());
    model.role = Set(role);
    model.version = Set(version);
    let model = write(txn, Write::Update, model, DUPLICATE).await?;
    if deactivated {
        end_sessions(txn, &id).await?;
    }
    Ok(model)
}

/// What a replace or a patch makes of the current user: a new resource, or nothing to store;
/// with the log summary either way.
enum Change {
    To(Value, String),
    Unchanged(String),
}

/// Locks user `id` (reading their groups with them, when the response shows them), checks
/// `If-Match`, stores what `change` makes of it — all in one write — and returns the result,
/// rendered after the commit.
async fn modify(
    w: &impl Writes,
    scope: &Scope,
    id: &str,
    if_match: Option<&str>,
    projection: &Projection,
    change: impl FnOnce(&user::Model) -> DomainResult<Change> + Send + 'static,
) -> DomainResult<Written> {
    let (in_scope, id, if_match) = (scope.clone(), id.to_owned(), if_match.map(str::to_owned));
    let groups = projection.returns(memberships::link_attribute(KIND));
    let (row, summary, keys_changed) = w
        .write(move |txn| {
            Box::pin(async move {
                let Linked { model: current, folded } = find(txn, &in_scope, &id, true, groups).await?;
                check_if_match(if_match.as_deref(), current.version)?;
                let (model, summary, keys_changed) = match change(&current)? {
                    Change::Unchanged(summary) => (current, summary, false),
                    Change::To(resource, mut summary) => {
                        let was_active_admin = is_active_admin(&current);
                        let model = store(txn, current, resource, &mut summary).await?;
                        let keys_changed = was_active_admin && !is_active_admin(&model);
                        (model, summary, keys_changed)
                    }
                };
                DomainResult::Ok((Linked { model, folded }, summary, keys_changed))
            })
        })
        .await?;
    if keys_changed {
        crate::api_keys::forget_changed_keys(&scope.org_id);
    }
    let (id, version) = (row.model.id.clone(), row.model.version);
    Ok(Written { resource: shown(scope, row, projection)?, id, version, summary })
}

/// `PUT /Users/{id}`: replaces every writable attribute (RFC 7644 §3.5.1).
pub async fn replace(
    w: &impl Writes,
    scope: &Scope,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
    projection: &Projection,
) -> DomainResult<Written> {
    let (resource, cols) = prepare(body)?;
    let summary = format!("replaced user {}", cols.user_name);
    modify(w, scope, id, if_match, projection, move |_| Ok(Change::To(resource, summary))).await
}

/// `PATCH /Users/{id}`: applies the operations atomically (RFC 7644 §3.5.2), in either Entra
/// dialect; 200 with the resource.
pub async fn patch(
    w: &impl Writes,
    scope: &Scope,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
    projection: &Projection,
) -> DomainResult<Written> {
    let ops = parse_patch(body, KIND)?;
    modify(w, scope, id, if_match, projection, move |current| {
        let mut resource = current.resource.clone();
        resource["id"] = json!(current.id);
        let outcome = apply_patch(&mut resource, &ops, KIND)?;
        strip_server_fields(&mut resource, KIND);
        let paths: Vec<String> = ops
            .iter()
            .map(|op| format!("{:?} {}", op.op, op.path.as_ref().map(|p| p.to_string()).unwrap_or_default()))
            .collect();
        let mut summary = format!("patched user {}: {}", current.user_name, paths.join(", ").to_lowercase());
        if !outcome.ignored.is_empty() {
            summary.push_str(&format!("; ignored {}", outcome.ignored.join(", ")));
        }
        Ok(if outcome.changed {
            Change::To(resource, summary)
        } else {
            Change::Unchanged(summary + " (no change)")
        })
    })
    .await
}

/// `DELETE /Users/{id}`: removes the person, their memberships, credentials and sessions.
pub async fn delete(
    w: &impl Writes,
    scope: &Scope,
    id: &str,
    if_match: Option<&str>,
) -> DomainResult<String> {
    let (in_scope, id, if_match) = (scope.clone(), id.to_owned(), if_match.map(str::to_owned));
    let (summary, keys_changed) = w
        .write(move |txn| {
            Box::pin(async move {
                let current = find(txn, &in_scope, &id, true, false).await?.model;
                check_if_match(if_match.as_deref(), current.version)?;
                keep_an_active_admin(txn, &current, Loss::Access).await?;
                let deleting = user::Entity::delete_by_id(current.id.clone());
                txn.apply(deleting.build(txn.backend())).await?;
                DomainResult::Ok((format!("deleted user {}", current.user_name), current.role == Role::Admin))
            })
        })
        .await?;
    if keys_changed {
        crate::api_keys::forget_changed_keys(&scope.org_id);
    }
    Ok(summary)
}

/// `GET /Users` and `POST /Users/.search`: a filtered, sorted page (RFC 7644 §3.4.2).
pub async fn list(db: &impl Rows, scope: &Scope, query: &ListQuery) -> DomainResult<Value> {
    listing::list::<user::Entity>(db, scope, KIND, query, user::Column::OrgId, user::Column::Id).await
}
