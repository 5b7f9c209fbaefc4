//! One page of a filtered, sorted list (RFC 7644 §3.4.2.2–§3.4.2.4) for users and groups.
//!
//! The first page is read directly (that is every lookup Entra makes; the count is skipped when
//! the page is not full). Deeper pages find their ids first — an index-only scan in sort order,
//! skipping `startIndex - 1` of them — and only then load those rows, so a page of 100 reads 100
//! resources whatever the directory's size. A page in the list's second half is read from its end
//! (`paging::Window`), so no page steps over more than half of the matches. An unfiltered list
//! takes `totalResults` from the organisation's `directory_counts` rows (kept by triggers) instead
//! of counting every row.
//!
//! `LIMIT`/`OFFSET` are written into the SQL as numbers, never bound: SQLite (3.47 and later) lets
//! the planner read a bound `LIMIT`, and a statement whose plan read a parameter is prepared again
//! on every execution — for a lookup, re-parsing cost more than running the query.

use std::collections::HashMap;

use scim::{ListQuery, ResourceKind, ScimType, SortOrder};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, ModelTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
    sea_query::{Alias, Expr},
};

use crate::{
    entities::directory_count,
    error::{DomainError, DomainResult},
    ids::OrgId,
    paging::Window,
    store::{Row, Rows, with_limit},
};

use super::{
    Linked, MAX_PAGE_SIZE, Projection, Scope, Stored, filter_sql, memberships, render_groups, render_linked,
};

/// The page size when the client gives no `count`.
pub const DEFAULT_PAGE_SIZE: u64 = 100;

/// A `COUNT(*)`.
#[derive(FromQueryResult)]
struct Counted {
    n: i64,
}
crate::from_sqlite!(Counted { n });

/// A row read for its id alone.
#[derive(FromQueryResult)]
struct IdRow {
    id: String,
}
crate::from_sqlite!(IdRow { id });

/// A page of rows and the total number of matches.
struct Page<M> {
    total: u64,
    rows: Vec<M>,
}

/// The column `sortBy` names (RFC 7644 §3.4.2.3); the default order is creation time.
fn sort_column(kind: ResourceKind, query: &ListQuery) -> DomainResult<&'static str> {
    let Some(attr) = &query.sort_by else { return Ok("created_at") };
    let resolved = kind.resolve(attr).ok_or_else(|| {
        DomainError::rejected(ScimType::InvalidValue, format!("cannot sort by unknown attribute \"{attr}\""))
    })?;
    let path = resolved.canonical_path().to_string();
    let user = kind == ResourceKind::User;
    Ok(match path.as_str() {
        "id" => "id",
        "externalId" => "external_id",
        "meta.created" => "created_at",
        "meta.lastModified" => "updated_at",
        "userName" if user => "user_name_lower",
        "displayName" if user => "display_name",
        "name.givenName" if user => "given_name",
        "name.familyName" if user => "family_name",
        "active" if user => "active",
        "emails" | "emails.value" if user => "email_lower",
        "displayName" => "display_name_lower",
        _ => {
            return Err(DomainError::rejected(
                ScimType::InvalidValue,
                format!("sorting by \"{path}\" is not supported"),
            ));
        }
    })
}

/// The ListResponse `query` asks for among the scope's resources of `kind`.
pub(crate) async fn list<E>(
    db: &impl Rows,
    scope: &Scope,
    kind: ResourceKind,
    query: &ListQuery,
    org_column: E::Column,
    id_column: E::Column,
) -> DomainResult<serde_json::Value>
where
    E: EntityTrait,
    E::Model: Stored + Row + Sync,
{
    let projection =
        Projection { attributes: query.attributes.clone(), excluded: query.excluded_attributes.clone() };
    let links = projection.returns(memberships::link_attribute(kind));
    let page = page::<E>(db, scope, kind, query, links, org_column, id_column).await?;
    let resources = match kind {
        ResourceKind::User => render_linked(scope, kind, &page.rows, &projection)?,
        ResourceKind::Group => {
            let models: Vec<E::Model> = page.rows.into_iter().map(|row| row.model).collect();
            render_groups(db, scope, &models, &projection).await?
        }
    };
    Ok(scim::list::list_response(page.total, query.start_index, resources))
}

/// How many of the scope's resources of `kind` match `condition`: the kept count when the list is
/// unfiltered, a `COUNT(*)` otherwise.
async fn total<E>(
    db: &impl Rows,
    scope: &Scope,
    kind: ResourceKind,
    query: &ListQuery,
    condition: Condition,
) -> DomainResult<u64>
where
    E: EntityTrait,
{
    if query.filter.is_some() {
        let counting = E::find().select_only().column_as(Expr::cust("COUNT(*)"), "n").filter(condition);
        let counted: Vec<Counted> = db.rows(counting.build(db.backend())).await?;
        return Ok(counted.first().map_or(0, |c| u64::try_from(c.n).unwrap_or(0)));
    }
    kept_count(db, &scope.org_id, kind).await
}

/// How many users (or groups) organisation `org_id` has, from its `directory_counts` shards (kept
/// by triggers; at most a few dozen rows on the primary key) rather than by counting every row:
/// at a million users a `COUNT(*)` took most of a list page's time.
pub(crate) async fn kept_count(db: &impl Rows, org_id: &OrgId, kind: ResourceKind) -> DomainResult<u64> {
    let column = if kind == ResourceKind::User { "users" } else { "groups" };
    let kept = directory_count::Entity::find()
        .select_only()
        .column_as(Expr::cust(format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)")), "n")
        .filter(directory_count::Column::OrgId.eq(org_id.as_str()));
    let kept: Vec<Counted> = db.rows(kept.build(db.backend())).await?;
    Ok(kept.first().map_or(0, |c| u64::try_from(c.n).unwrap_or(0)))
}

/// The page `query` asks for among the scope's resources of `kind`, each row with its memberships
/// folded in when `links` (users only: see [`memberships::folded`]).
async fn page<E>(
    db: &impl Rows,
    scope: &Scope,
    kind: ResourceKind,
    query: &ListQuery,
    links: bool,
    org_column: E::Column,
    id_column: E::Column,
) -> DomainResult<Page<Linked<E::Model>>>
where
    E: EntityTrait,
    E::Model: Row,
{
    let mut condition = Condition::all().add(org_column.eq(&scope.org_id));
    if let Some(filter) = &query.filter {
        condition = condition.add(filter_sql::lower(filter, kind, db.backend())?);
    }
    let sort = sort_column(kind, query)?;
    let folded = memberships::folded(kind, links, db.backend());
    let count = query.count.unwrap_or(DEFAULT_PAGE_SIZE).min(MAX_PAGE_SIZE);
    let skip = query.start_index.saturating_sub(1);
    let order = match query.sort_order {
        SortOrder::Ascending => Order::Asc,
        SortOrder::Descending => Order::Desc,
    };
    let sorted = |order: Order| {
        E::find()
            .filter(condition.clone())
            .order_by(Expr::col(Alias::new(sort)), order.clone())
            .order_by(id_column, order)
    };
    if skip == 0 && count > 0 {
        // The first page (every lookup Entra makes): read the rows directly, and count only when
        // the page is full; a partial first page is the whole result.
        let with_links = sorted(order).expr_as(folded, memberships::FOLDED);
        let statement = with_limit(with_links.build(db.backend()), count, 0);
        let rows: Vec<Linked<E::Model>> = db.rows(statement).await?;
        let total = if (rows.len() as u64) < count {
            rows.len() as u64
        } else {
            total::<E>(db, scope, kind, query, condition).await?
        };
        return Ok(Page { total, rows });
    }
    let total = total::<E>(db, scope, kind, query, condition.clone()).await?;
    let Some(window) = Window::of(skip, count, total) else { return Ok(Page { total, rows: Vec::new() }) };
    let ids_query =
        sorted(window.direction(order)).select_only().column_as(id_column, "id").build(db.backend());
    let ids: Vec<IdRow> = db.rows(with_limit(ids_query, window.count, window.skip)).await?;
    let ids: Vec<String> = window.restore(ids).into_iter().map(|row| row.id).collect();
    let rows = E::find().expr_as(folded, memberships::FOLDED).filter(id_column.is_in(ids.clone()));
    let mut rows: Vec<Linked<E::Model>> = db.rows(rows.build(db.backend())).await?;
    // Back into the page's order: a position per id, looked up once per row (linear).
    let order: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    rows.sort_by_cached_key(|row| match row.model.get(id_column) {
        sea_orm::Value::String(Some(id)) => order.get(id.as_str()).copied(),
        _ => None,
    });
    Ok(Page { total, rows })
}
