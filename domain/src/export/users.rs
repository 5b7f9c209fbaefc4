//! The Users page's export: every user its filter selects, in `userName` order (the
//! organisation's unique `(org_id, user_name_lower)` index is the keyset), with the names of
//! their groups.
//!
//! A chunk is two statements: its users (the indexed columns only, never the stored SCIM JSON,
//! which may be 64 KiB a person) and their groups' names, at most [`MAX_GROUP_NAMES`] per person
//! with the count of the rest, so a chunk's cost stays bounded however many groups people are in.

use std::collections::HashMap;

use sea_orm::{
    ActiveEnum, ColumnTrait, EntityTrait, FromQueryResult, Order, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
    sea_query::{Alias, Expr, ExprTrait, Func, Query, WindowStatement},
};

use super::Keyset;
use crate::{
    DomainError, DomainResult,
    accounts::{Actor, Role, Source},
    browse::UserFilter,
    entities::{group, group_member, user},
    group_commit::BoxFuture,
    ids::OrgId,
    store::{ReadConn, Rows, with_limit},
};

/// The most group names an exported person carries; past it, how many more there are.
pub const MAX_GROUP_NAMES: u64 = 100;

/// One exported person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedUser {
    pub id: String,
    pub user_name: String,
    /// The keyset position (`userName`, lower-cased as the unique index holds it).
    user_name_lower: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub role: Role,
    pub source: Source,
    pub created_at: i64,
    pub updated_at: i64,
    /// Names of their groups, by name, at most [`MAX_GROUP_NAMES`].
    pub groups: Vec<String>,
    /// Groups they are in beyond `groups`.
    pub more_groups: u64,
}

/// A user's exported columns as read.
#[derive(FromQueryResult)]
struct UserLine {
    id: String,
    user_name: String,
    user_name_lower: String,
    external_id: Option<String>,
    display_name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    active: bool,
    role: String,
    source: String,
    created_at: i64,
    updated_at: i64,
}
crate::from_sqlite!(UserLine {
    id,
    user_name,
    user_name_lower,
    external_id,
    display_name,
    given_name,
    family_name,
    email,
    active,
    role,
    source,
    created_at,
    updated_at
});

/// One of a person's first [`MAX_GROUP_NAMES`] groups, with how many groups they are in.
#[derive(FromQueryResult)]
struct GroupName {
    user_id: String,
    display_name: String,
    total: i64,
}
crate::from_sqlite!(GroupName { user_id, display_name, total });

/// The users an admin's Users-page filter selects, for export.
#[derive(Clone, Debug)]
pub struct UserExport {
    org_id: OrgId,
    filter: UserFilter,
}

impl UserExport {
    /// The export of `filter`'s users of the actor's organisation; admins only.
    pub fn new(actor: &Actor, filter: UserFilter) -> DomainResult<Self> {
        actor.require_admin()?;
        Ok(Self { org_id: actor.org_id.clone(), filter })
    }

    async fn users(&self, db: &ReadConn, after: Option<String>, limit: u64) -> DomainResult<Vec<UserLine>> {
        use user::Column as C;
        let mut select = user::Entity::find()
            .select_only()
            .columns([
                C::Id,
                C::UserName,
                C::UserNameLower,
                C::ExternalId,
                C::DisplayName,
                C::GivenName,
                C::FamilyName,
                C::Email,
                C::Active,
                C::Role,
                C::Source,
                C::CreatedAt,
                C::UpdatedAt,
            ])
            .filter(self.filter.condition(&self.org_id));
        if let Some(after) = after {
            select = select.filter(C::UserNameLower.gt(after));
        }
        let statement = select.order_by_asc(C::UserNameLower).build(db.backend());
        Ok(db.rows(with_limit(statement, limit, 0)).await?)
    }

    /// The first [`MAX_GROUP_NAMES`] group names (by name) of each of `ids`, and how many groups
    /// each is in: one statement, its rows bounded by the ids' count.
    async fn groups(
        &self,
        db: &ReadConn,
        ids: Vec<String>,
    ) -> DomainResult<HashMap<String, (Vec<String>, u64)>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let member = |c: group_member::Column| (group_member::Entity, c);
        let by_user = WindowStatement::partition_by(member(group_member::Column::UserId));
        let numbered = Query::select()
            .expr_as(Expr::col(member(group_member::Column::UserId)), Alias::new("user_id"))
            .expr_as(Expr::col((group::Entity, group::Column::DisplayName)), Alias::new("display_name"))
            .expr_window_as(
                Func::cust("ROW_NUMBER"),
                by_user
                    .clone()
                    .order_by((group::Entity, group::Column::DisplayNameLower), Order::Asc)
                    .to_owned(),
                Alias::new("n"),
            )
            .expr_window_as(Expr::cust("COUNT(*)"), by_user, Alias::new("total"))
            .from(group_member::Entity)
            .inner_join(
                group::Entity,
                Expr::col((group::Entity, group::Column::Id)).equals(member(group_member::Column::GroupId)),
            )
            .and_where(Expr::col((group::Entity, group::Column::OrgId)).eq(self.org_id.as_str()))
            .and_where(Expr::col(member(group_member::Column::UserId)).is_in(ids))
            .to_owned();
        let first = Query::select()
            .columns([Alias::new("user_id"), Alias::new("display_name"), Alias::new("total")])
            .from_subquery(numbered, Alias::new("numbered"))
            .and_where(Expr::col(Alias::new("n")).lte(MAX_GROUP_NAMES))
            .order_by(Alias::new("user_id"), Order::Asc)
            .order_by(Alias::new("n"), Order::Asc)
            .to_owned();
        let rows: Vec<GroupName> = db.rows(db.backend().build(&first)).await?;
        let mut out: HashMap<String, (Vec<String>, u64)> = HashMap::new();
        for row in rows {
            let slot = out.entry(row.user_id).or_default();
            slot.0.push(row.display_name);
            slot.1 = u64::try_from(row.total).unwrap_or_default();
        }
        Ok(out)
    }
}

impl Keyset for UserExport {
    type Row = ExportedUser;
    type Cursor = String;

    fn chunk<'c>(
        &'c self,
        db: &'c ReadConn,
        after: Option<String>,
        limit: u64,
    ) -> BoxFuture<'c, DomainResult<Vec<ExportedUser>>> {
        Box::pin(async move {
            let users = self.users(db, after, limit).await?;
            let mut groups = self.groups(db, users.iter().map(|u| u.id.clone()).collect()).await?;
            users
                .into_iter()
                .map(|u| {
                    let (names, total) = groups.remove(&u.id).unwrap_or_default();
                    exported(u, names, total)
                })
                .collect()
        })
    }

    fn cursor(row: &ExportedUser) -> String {
        row.user_name_lower.clone()
    }
}

/// `line` with its groups; its stored role and source must be ones this version knows.
fn exported(line: UserLine, groups: Vec<String>, total: u64) -> DomainResult<ExportedUser> {
    let unknown =
        |what: &str, v: &str| DomainError::Internal(format!("user {} has unknown {what} {v:?}", line.id));
    let role = Role::try_from_value(&line.role).map_err(|_| unknown("role", &line.role))?;
    let source = Source::try_from_value(&line.source).map_err(|_| unknown("source", &line.source))?;
    Ok(ExportedUser {
        more_groups: total.saturating_sub(groups.len() as u64),
        groups,
        role,
        source,
        id: line.id,
        user_name: line.user_name,
        user_name_lower: line.user_name_lower,
        external_id: line.external_id,
        display_name: line.display_name,
        given_name: line.given_name,
        family_name: line.family_name,
        email: line.email,
        active: line.active,
        created_at: line.created_at,
        updated_at: line.updated_at,
    })
}
