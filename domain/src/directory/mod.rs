//! An organisation's directory as SCIM sees it (RFC 7643 resources, RFC 7644 operations): the users
//! and groups Entra provisions. The `scim` crate does the protocol (parsing, PATCH semantics,
//! projections); this module stores resources and answers queries, with every write in a
//! transaction and uniqueness enforced by the database so several instances stay correct.

mod backend;
pub mod filter_sql;
pub mod groups;
mod listing;
mod memberships;
pub mod settings;
pub mod users;

pub use backend::{Directory, Target};
pub(crate) use listing::kept_count;
use scim::AttrPath;
/// The resource types the directory serves (its trait's methods take one).
pub use scim::ResourceKind;
use sea_orm::{
    ActiveModelTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryResult, QueryTrait, Statement,
    TryIntoModel,
};
use serde_json::{Value, json};

use crate::{
    clock::to_rfc3339,
    error::{DomainError, DomainResult},
    group_commit::{BoxFuture, Writes},
    ids::OrgId,
    store::{
        Exec, ReadConn, Reader, Rows, StoreError, StoreResult,
        sqlite::{FromSqlite, field},
    },
};

/// The organisation a request acts on and the SCIM base URL its resources live under.
#[derive(Clone, Debug)]
pub struct Scope {
    pub org_id: OrgId,
    /// e.g. `https://scimpad.example.com/scim/v2`.
    pub base_url: String,
}

/// The largest page a list returns (advertised as `filter.maxResults`).
pub const MAX_PAGE_SIZE: u64 = 1000;

/// Which attributes the client asked for (RFC 7644 §3.4.2.5).
#[derive(Clone, Debug, Default)]
pub struct Projection {
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

impl Projection {
    /// Whether top-level attribute `name` will be returned (used to skip membership queries).
    pub fn returns(&self, name: &str) -> bool {
        let named = |list: &[AttrPath]| list.iter().any(|a| a.name.eq_ignore_ascii_case(name));
        if self.attributes.is_empty() { !named(&self.excluded) } else { named(&self.attributes) }
    }

    fn apply(&self, resource: &Value, kind: ResourceKind) -> Value {
        scim::projection::project(resource, kind, &self.attributes, &self.excluded)
    }
}

/// A write's result: the resource as returned and a one-line summary for the provisioning log.
#[derive(Clone, Debug)]
pub struct Written {
    pub resource: Value,
    pub id: String,
    pub version: i64,
    pub summary: String,
}

/// The weak ETag of a resource version (RFC 7644 §3.14).
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Checks an `If-Match` header value against the current version: `*` or any listed ETag
/// matches; otherwise 412.
pub fn check_if_match(if_match: Option<&str>, version: i64) -> DomainResult<()> {
    let Some(header) = if_match else { return Ok(()) };
    let current = etag(version);
    let strong = format!("\"{version}\"");
    let matches = header.split(',').map(str::trim).any(|tag| tag == "*" || tag == current || tag == strong);
    if matches {
        Ok(())
    } else {
        Err(DomainError::PreconditionFailed(format!("the resource has changed: its version is {current}")))
    }
}

/// A storage error of a write: a broken uniqueness rule is a conflict with `what` as detail.
fn db_error<E: Into<StoreError>>(what: &str) -> impl Fn(E) -> DomainError + '_ {
    move |e| match e.into() {
        StoreError::Unique => DomainError::Conflict(what.to_owned()),
        failed => failed.into(),
    }
}

/// Runs the read `op` on `reader` (on a SQLite file, whole, on a reader thread: see `store`).
pub async fn read<T, F>(reader: &Reader, op: F) -> DomainResult<T>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c ReadConn) -> BoxFuture<'c, DomainResult<T>> + Send + 'static,
{
    reader.run(op).await?
}

/// Adds `id` and `meta` (RFC 7643 §3.1) to a stored resource.
fn with_meta(
    mut resource: Value,
    kind: ResourceKind,
    scope: &Scope,
    id: &str,
    (created, modified, version): (i64, i64, i64),
) -> Value {
    if let Value::Object(map) = &mut resource {
        map.insert("id".into(), json!(id));
        map.insert(
            "meta".into(),
            json!({
                "resourceType": kind.name(),
                "created": to_rfc3339(created),
                "lastModified": to_rfc3339(modified),
                "location": format!("{}/{}/{id}", scope.base_url, kind.endpoint().trim_start_matches('/')),
                "version": etag(version),
            }),
        );
    }
    resource
}

/// A stored SCIM resource row.
pub(crate) trait Stored {
    fn id(&self) -> &str;
    fn resource(&self) -> &Value;
    /// (created, last modified, version).
    fn stamps(&self) -> (i64, i64, i64);
}

macro_rules! stored {
    ($model:ty) => {
        impl Stored for $model {
            fn id(&self) -> &str {
                &self.id
            }
            fn resource(&self) -> &Value {
                &self.resource
            }
            fn stamps(&self) -> (i64, i64, i64) {
                (self.created_at, self.updated_at, self.version)
            }
        }
    };
}
stored!(crate::entities::user::Model);
stored!(crate::entities::group::Model);

/// Groups as returned: `id`, `meta`, `members` (read for all of them at once, in chunks; skipped
/// when the projection leaves them out), then the projection. Users carry their groups in their
/// rows instead ([`render_linked`]).
pub(crate) async fn render_groups<M: Stored>(
    db: &impl Rows,
    scope: &Scope,
    models: &[M],
    projection: &Projection,
) -> DomainResult<Vec<Value>> {
    let kind = ResourceKind::Group;
    let links = if projection.returns(memberships::link_attribute(kind)) {
        let ids: Vec<String> = models.iter().map(|m| m.id().to_owned()).collect();
        Some(memberships::members_of(db, &ids).await?)
    } else {
        None
    };
    Ok(models
        .iter()
        .map(|m| shown(scope, kind, m, links.as_ref().map(|l| l.get(m.id())), projection))
        .collect())
}

/// A row read with its memberships folded in (see [`memberships::folded`]).
pub(crate) struct Linked<M> {
    pub model: M,
    pub folded: Option<String>,
}

impl<M: FromQueryResult> FromQueryResult for Linked<M> {
    fn from_query_result(row: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self { model: M::from_query_result(row, pre)?, folded: row.try_get(pre, memberships::FOLDED)? })
    }
}

impl<M: FromSqlite> FromSqlite for Linked<M> {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> StoreResult<Self> {
        Ok(Self { model: M::from_sqlite(row)?, folded: field(row, memberships::FOLDED)? })
    }
}

/// Rows read with their memberships folded in, as returned (see [`render_groups`]).
pub(crate) fn render_linked<M: Stored>(
    scope: &Scope,
    kind: ResourceKind,
    rows: &[Linked<M>],
    projection: &Projection,
) -> DomainResult<Vec<Value>> {
    let with_links = projection.returns(memberships::link_attribute(kind));
    rows.iter()
        .map(|row| {
            let links = with_links.then(|| memberships::unfold(row.folded.as_deref())).transpose()?;
            Ok(shown(scope, kind, &row.model, links.as_ref().map(Some), projection))
        })
        .collect()
}

/// `model` as returned: `id`, `meta`, the memberships in `links` when given (the outer `None`: the
/// projection leaves them out), then the projection.
fn shown<M: Stored>(
    scope: &Scope,
    kind: ResourceKind,
    model: &M,
    links: Option<Option<&Vec<memberships::Link>>>,
    projection: &Projection,
) -> Value {
    let mut resource = with_meta(model.resource().clone(), kind, scope, model.id(), model.stamps());
    if let Some(links) = links {
        memberships::set_links(&mut resource, kind, links, scope);
    }
    projection.apply(&resource, kind)
}

/// A resource that has no memberships yet (just created, none named), as returned: no query.
pub(crate) fn render_unlinked<M: Stored>(
    scope: &Scope,
    kind: ResourceKind,
    model: &M,
    projection: &Projection,
) -> Value {
    let mut resource = with_meta(model.resource().clone(), kind, scope, model.id(), model.stamps());
    if projection.returns(memberships::link_attribute(kind)) {
        memberships::set_links(&mut resource, kind, None, scope);
    }
    projection.apply(&resource, kind)
}

/// One group as returned (see [`render_groups`]).
pub(crate) async fn render_group<M: Stored>(
    db: &impl Rows,
    scope: &Scope,
    model: &M,
    projection: &Projection,
) -> DomainResult<Value> {
    let mut all = render_groups(db, scope, std::slice::from_ref(model), projection).await?;
    Ok(all.pop().unwrap_or_default())
}

/// How a row is written.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Write {
    /// A new row.
    Insert,
    /// A changed copy of a row this request already read.
    Update,
}

/// The statement that writes `model` (every field set) on `backend`, and the row as it will be
/// stored: no `… RETURNING` of the row and its JSON.
fn statement_of<A>(
    backend: DbBackend,
    how: Write,
    model: A,
) -> DomainResult<(Statement, <A::Entity as EntityTrait>::Model)>
where
    A: ActiveModelTrait + TryIntoModel<<A::Entity as EntityTrait>::Model> + Clone + Send,
{
    let stored = model.clone().try_into_model()?;
    let statement = match how {
        Write::Insert => <A::Entity as EntityTrait>::insert(model).build(backend),
        Write::Update => <A::Entity as EntityTrait>::update(model).validate()?.build(backend),
    };
    Ok((statement, stored))
}

/// Writes `model` — every field set — in `txn` and returns it as stored. A broken uniqueness rule
/// becomes 409 with `duplicate` as detail.
pub(crate) async fn write<A>(
    txn: &impl Exec,
    how: Write,
    model: A,
    duplicate: &str,
) -> DomainResult<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + TryIntoModel<<A::Entity as EntityTrait>::Model> + Clone + Send,
{
    let (statement, stored) = statement_of(txn.backend(), how, model)?;
    txn.apply(statement).await.map_err(db_error(duplicate))?;
    Ok(stored)
}

/// Inserts `model` — every field set — as a write of its own through `w` (one statement: no
/// transaction around it on PostgreSQL, see [`Writes::write_statement`]) and returns it as
/// stored. A broken uniqueness rule becomes 409 with `duplicate` as detail.
pub(crate) async fn insert_alone<A>(
    w: &impl Writes,
    model: A,
    duplicate: &str,
) -> DomainResult<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + TryIntoModel<<A::Entity as EntityTrait>::Model> + Clone + Send,
{
    let (statement, stored) = statement_of(w.reader().backend(), Write::Insert, model)?;
    w.write_statement(statement).await.map_err(db_error(duplicate))?;
    Ok(stored)
}

/// Removes the server-managed attributes before a resource is stored.
pub(crate) fn strip_server_fields(resource: &mut Value, kind: ResourceKind) {
    if let Value::Object(map) = resource {
        map.remove("id");
        map.remove("meta");
        map.remove(match kind {
            ResourceKind::User => "groups",
            ResourceKind::Group => "members",
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_star_and_the_current_tag_only() {
        assert!(check_if_match(None, 3).is_ok());
        assert!(check_if_match(Some("*"), 3).is_ok());
        assert!(check_if_match(Some("W/\"3\""), 3).is_ok());
        assert!(check_if_match(Some("W/\"1\", W/\"3\""), 3).is_ok());
        assert!(matches!(check_if_match(Some("W/\"2\""), 3), Err(DomainError::PreconditionFailed(_))));
    }

    #[test]
    fn projection_knows_whether_members_are_wanted() {
        let members = vec![AttrPath::new("members")];
        assert!(Projection::default().returns("members"));
        assert!(!Projection { excluded: members.clone(), ..Default::default() }.returns("members"));
        assert!(Projection { attributes: members, ..Default::default() }.returns("members"));
        let only_name = vec![AttrPath::new("displayName")];
        assert!(!Projection { attributes: only_name, ..Default::default() }.returns("members"));
    }
}
