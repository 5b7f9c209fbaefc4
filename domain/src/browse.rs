//! The console's views of the directory: searchable, filterable, sortable pages of users and
//! groups with membership counts, and one person's or group's details. Admins only. Every page is
//! one count plus one page query plus one grouped count for the page's rows. An unfiltered list's
//! count is the one the triggers keep (`directory::kept_count`), not a scan, and a page in the
//! second half of its order is read from the end (`paging::Window`), so at a million users no page
//! steps over more than half of them.
//!
//! Page numbers come from the URL, so any `u64` arrives: a page past the last one is an empty page
//! ("nothing here", the pager links back to the last page) and costs no row query; offsets never
//! overflow.
//!
//! The Users page in its default order (by user name) is paged by key as well: "Next" names the
//! last person shown and "Previous" the first ([`Anchor`]), and the page is read from that person's
//! user name on, straight off the unique `(org_id, user_name_lower)` index — 50 index entries
//! whatever the depth, where an offset steps over every row before the page (at a million users a
//! random page took 25–35 ms that way). The page number still travels with the anchor, for the
//! "Showing 501–550" status; a page number alone (typed into the URL) is read by offset.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, Func, LikeExpr},
};

use crate::{
    DomainError, DomainResult,
    accounts::{Actor, Role, Source},
    activity::given,
    directory::{ResourceKind, kept_count},
    entities::{group, group_member, provisioning_event as event, user},
    ids::OrgId,
    paging::{self, Window, page_offset},
};

/// Rows per console page.
pub const PAGE_SIZE: u64 = 50;

/// Which users the users table (and its CSV export) selects; `None` means any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Matches user name, display name or email (case-insensitive substring).
    pub search: Option<String>,
    /// `Some(true)` active only, `Some(false)` deactivated only.
    pub active: Option<bool>,
    pub source: Option<Source>,
    pub role: Option<Role>,
}

impl UserFilter {
    /// A filter from the Users page's query parameters: `status` is `active`/`deactivated`,
    /// `source` `scim`/`local`, `role` `admin`/`member`; blank means any, anything else is
    /// refused with a message naming the parameter.
    pub fn parse(
        search: Option<&str>,
        status: Option<&str>,
        source: Option<&str>,
        role: Option<&str>,
    ) -> DomainResult<Self> {
        use sea_orm::ActiveEnum;
        let refused = |field: &'static str, v: &str, allowed: &str| {
            DomainError::invalid(field, format!("\"{v}\" is not one of {allowed}."))
        };
        Ok(Self {
            search: given(search).map(str::to_owned),
            active: match given(status) {
                None => None,
                Some("active") => Some(true),
                Some("deactivated") => Some(false),
                Some(v) => return Err(refused("status", v, "active, deactivated")),
            },
            source: given(source)
                .map(|v| {
                    Source::try_from_value(&v.to_owned()).map_err(|_| refused("source", v, "scim, local"))
                })
                .transpose()?,
            role: given(role)
                .map(|v| Role::try_from_value(&v.to_owned()).map_err(|_| refused("role", v, "admin, member")))
                .transpose()?,
        })
    }

    /// The users of organisation `org_id` this filter selects.
    pub(crate) fn condition(&self, org_id: &OrgId) -> Condition {
        let mut cond = Condition::all().add(user::Column::OrgId.eq(org_id));
        if let Some(s) = self.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            cond = cond.add(
                Condition::any()
                    .add(contains(user::Column::UserNameLower, s))
                    .add(contains(user::Column::DisplayName, s))
                    .add(contains(user::Column::EmailLower, s)),
            );
        }
        if let Some(active) = self.active {
            cond = cond.add(user::Column::Active.eq(active));
        }
        if let Some(source) = self.source {
            cond = cond.add(user::Column::Source.eq(source));
        }
        if let Some(role) = self.role {
            cond = cond.add(user::Column::Role.eq(role));
        }
        cond
    }
}

/// What the users table asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserQuery {
    pub filter: UserFilter,
    /// Column to sort by: `user_name` (default), `display_name`, `email`, `status`, `updated`.
    pub sort: Option<String>,
    pub descending: bool,
    /// 1-based page.
    pub page: u64,
    /// The person on the neighbouring page this page is read from; only the user-name order uses
    /// it (its column is unique, so the person's user name alone says where the page starts).
    pub anchor: Option<Anchor>,
}

/// Where a page of the Users list starts, by key: a person's SCIM id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// The page starts after this person ("Next" from the page that ends with them).
    After(String),
    /// The page ends before this person ("Previous" from the page that starts with them).
    Before(String),
}

/// One page of rows and the number of matches.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub pages: u64,
}

/// A user with their number of groups.
#[derive(Clone, Debug, PartialEq)]
pub struct UserRow {
    pub user: user::Model,
    pub groups: u64,
}

/// A group with its number of members.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRow {
    pub group: group::Model,
    pub members: u64,
}

/// `column` contains `needle`, case-insensitively, with LIKE's wildcards taken literally.
pub(crate) fn contains(
    column: impl sea_orm::sea_query::IntoColumnRef,
    needle: &str,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::ExprTrait;
    let escaped = needle.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Func::lower(Expr::col(column)).like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// Page `page` (1-based) of `page_size` rows of `E` matching `cond`, newest first by `(at, id)`,
/// and how many rows match in all (`kept` when the caller keeps that number, else counted): the
/// logs' paging (provisioning log, audit log).
pub(crate) async fn newest_first<E>(
    db: &DatabaseConnection,
    cond: Condition,
    (at, id): (E::Column, E::Column),
    (page, page_size): (u64, u64),
    kept: Option<u64>,
) -> Result<(Vec<E::Model>, u64), sea_orm::DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let total = match kept {
        Some(total) => total,
        None => E::find().filter(cond.clone()).count(db).await?,
    };
    let Some(offset) = page_offset(page, page_size, total) else { return Ok((Vec::new(), total)) };
    let Some(window) = Window::of(offset, page_size, total) else { return Ok((Vec::new(), total)) };
    let rows =
        paging::read(db, E::find().filter(cond), [(at, Order::Desc), (id, Order::Desc)], window).await?;
    // Rows committed between the count and the read (a log batch landing) are shown, so the
    // total counts them too: never "Showing 1–6 of 1".
    let total = total.max(offset + rows.len() as u64);
    Ok((rows, total))
}

fn page_of<T>(rows: Vec<T>, total: u64, page: u64) -> Page<T> {
    Page { rows, total, page, pages: total.div_ceil(PAGE_SIZE).max(1) }
}

/// Counts, per id in `ids`, the rows of `group_members` whose `by` column holds it.
async fn membership_counts(
    db: &DatabaseConnection,
    by: group_member::Column,
    ids: Vec<String>,
) -> DomainResult<HashMap<String, u64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, i64)> = group_member::Entity::find()
        .select_only()
        .column(by)
        .column_as(Expr::expr(Func::count(Expr::col(by))), "n")
        .filter(by.is_in(ids))
        .group_by(by)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, n)| (id, u64::try_from(n).unwrap_or_default())).collect())
}

/// A page of the organisation's users.
pub async fn users(db: &DatabaseConnection, actor: &Actor, q: &UserQuery) -> DomainResult<Page<UserRow>> {
    actor.require_admin()?;
    let cond = q.filter.condition(&actor.org_id);
    let total = if q.filter == UserFilter::default() {
        kept_count(db, &actor.org_id, ResourceKind::User).await?
    } else {
        user::Entity::find().filter(cond.clone()).count(db).await?
    };
    let order = if q.descending { Order::Desc } else { Order::Asc };
    let column = match q.sort.as_deref() {
        Some("display_name") => user::Column::DisplayName,
        Some("email") => user::Column::EmailLower,
        Some("status") => user::Column::Active,
        Some("updated") => user::Column::UpdatedAt,
        _ => user::Column::UserNameLower,
    };
    let page = q.page.max(1);
    let keyed = match (&q.anchor, column) {
        (Some(anchor), user::Column::UserNameLower) => {
            from_anchor(db, &actor.org_id, cond.clone(), anchor, order.clone()).await?
        }
        _ => None,
    };
    let users = match (keyed, Window::page(page, PAGE_SIZE, total)) {
        (Some(users), _) => users,
        (None, Some(window)) => {
            // A userName is unique in its organisation, so it orders a page alone, straight off
            // its unique index; a tie-break on the id made PostgreSQL sort behind that index.
            let mut by = vec![(column, order.clone())];
            if !matches!(column, user::Column::UserNameLower) {
                by.push((user::Column::Id, order));
            }
            paging::read(db, user::Entity::find().filter(cond), by, window).await?
        }
        (None, None) => Vec::new(),
    };
    let counts =
        membership_counts(db, group_member::Column::UserId, users.iter().map(|u| u.id.clone()).collect())
            .await?;
    let rows = users
        .into_iter()
        .map(|u| UserRow { groups: counts.get(&u.id).copied().unwrap_or(0), user: u })
        .collect();
    Ok(page_of(rows, total, page))
}

/// The page of users matching `cond` that starts after (or ends before) `anchor` in user-name
/// order `order`: a seek on the unique `(org_id, user_name_lower)` index. `None` when the anchor
/// is not one of the organisation's people (deleted since the link was made, or made up) or no
/// row lies beyond it: the page is then read by its number.
async fn from_anchor(
    db: &DatabaseConnection,
    org_id: &OrgId,
    cond: Condition,
    anchor: &Anchor,
    order: Order,
) -> DomainResult<Option<Vec<user::Model>>> {
    let (id, forward) = match anchor {
        Anchor::After(id) => (id, true),
        Anchor::Before(id) => (id, false),
    };
    let name: Option<String> = user::Entity::find_by_id(id.clone())
        .select_only()
        .column(user::Column::UserNameLower)
        .filter(user::Column::OrgId.eq(org_id))
        .into_tuple()
        .one(db)
        .await?;
    let Some(name) = name else { return Ok(None) };
    let ascending = matches!(order, Order::Asc);
    // Later in the page's order: greater when ascending; read backwards for "Previous".
    let beyond = if ascending == forward {
        user::Column::UserNameLower.gt(name)
    } else {
        user::Column::UserNameLower.lt(name)
    };
    let direction = if ascending == forward { Order::Asc } else { Order::Desc };
    let mut rows = user::Entity::find()
        .filter(cond.add(beyond))
        .order_by(user::Column::UserNameLower, direction)
        .limit(PAGE_SIZE)
        .all(db)
        .await?;
    if !forward {
        rows.reverse();
    }
    Ok((!rows.is_empty()).then_some(rows))
}

/// A page of the organisation's groups, optionally searched by name, by name.
pub async fn groups(
    db: &DatabaseConnection,
    actor: &Actor,
    search: Option<&str>,
    page: u64,
) -> DomainResult<Page<GroupRow>> {
    actor.require_admin()?;
    let mut cond = Condition::all().add(group::Column::OrgId.eq(&actor.org_id));
    let total = match search.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            cond = cond.add(contains(group::Column::DisplayNameLower, s));
            group::Entity::find().filter(cond.clone()).count(db).await?
        }
        None => kept_count(db, &actor.org_id, ResourceKind::Group).await?,
    };
    let page = page.max(1);
    let groups = match Window::page(page, PAGE_SIZE, total) {
        Some(window) => {
            let order = [(group::Column::DisplayNameLower, Order::Asc), (group::Column::Id, Order::Asc)];
            paging::read(db, group::Entity::find().filter(cond), order, window).await?
        }
        None => Vec::new(),
    };
    let counts =
        membership_counts(db, group_member::Column::GroupId, groups.iter().map(|g| g.id.clone()).collect())
            .await?;
    let rows = groups
        .into_iter()
        .map(|g| GroupRow { members: counts.get(&g.id).copied().unwrap_or(0), group: g })
        .collect();
    Ok(page_of(rows, total, page))
}

/// One person: their row, their groups (id, name) and their latest provisioning events.
#[derive(Clone, Debug, PartialEq)]
pub struct UserDetail {
    pub user: user::Model,
    pub groups: Vec<(String, String)>,
    pub events: Vec<event::Model>,
}

/// The details of user `id` of the actor's organisation.
pub async fn user(db: &DatabaseConnection, actor: &Actor, id: &str) -> DomainResult<UserDetail> {
    actor.require_admin()?;
    let user = user::Entity::find_by_id(id.to_owned())
        .filter(user::Column::OrgId.eq(&actor.org_id))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let groups: Vec<(String, String)> = group::Entity::find()
        .select_only()
        .column(group::Column::Id)
        .column(group::Column::DisplayName)
        .inner_join(group_member::Entity)
        .filter(group_member::Column::UserId.eq(&user.id))
        .order_by_asc(group::Column::DisplayNameLower)
        .into_tuple()
        .all(db)
        .await?;
    let events = event::Entity::find()
        .filter(event::Column::OrgId.eq(&actor.org_id))
        .filter(event::Column::ResourceId.eq(&user.id))
        .order_by_desc(event::Column::At)
        .limit(20)
        .all(db)
        .await?;
    Ok(UserDetail { user, groups, events })
}

/// One group and a page of its members (by user name).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupDetail {
    pub group: group::Model,
    pub members: Page<user::Model>,
}

/// The details of group `id` of the actor's organisation, with page `page` of its members.
pub async fn group(db: &DatabaseConnection, actor: &Actor, id: &str, page: u64) -> DomainResult<GroupDetail> {
    actor.require_admin()?;
    let group = group::Entity::find_by_id(id.to_owned())
        .filter(group::Column::OrgId.eq(&actor.org_id))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let members = user::Entity::find()
        .inner_join(group_member::Entity)
        .filter(group_member::Column::GroupId.eq(&group.id));
    let total = members.clone().count(db).await?;
    let page = page.max(1);
    let rows = match Window::page(page, PAGE_SIZE, total) {
        Some(window) => {
            let order = [(user::Column::UserNameLower, Order::Asc), (user::Column::Id, Order::Asc)];
            paging::read(db, members, order, window).await?
        }
        None => Vec::new(),
    };
    Ok(GroupDetail { group, members: page_of(rows, total, page) })
}

/// Which of `users` (rows the console is about to show) is the organisation's last active admin,
/// whom SCIM may neither deactivate nor delete (`directory::users`), so the console can say so.
/// Asks the database only when one of them is an active admin: a page of provisioned people costs
/// no extra query.
pub async fn last_active_admin<'a>(
    db: &DatabaseConnection,
    actor: &Actor,
    users: impl IntoIterator<Item = &'a user::Model>,
) -> DomainResult<Option<String>> {
    actor.require_admin()?;
    if !users.into_iter().any(crate::directory::users::is_active_admin) {
        return Ok(None);
    }
    let mut admins = crate::directory::users::active_admin_ids(db, &actor.org_id).await?;
    Ok(if admins.len() == 1 { admins.pop() } else { None })
}
