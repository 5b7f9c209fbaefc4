//! Group memberships as set operations on `group_members` (DESIGN.md, "Memberships are set
//! operations"): adding inserts only the missing rows, removing deletes only the named ones, so a
//! request costs what it names, not the group's size, and concurrent PATCHes to one group cannot
//! lose each other's changes (no read-modify-write of a member array). Only users of the group's
//! own organisation are ever linked. `replace` adds or sets exactly by the organisation's
//! [`MemberReplace`] setting (PATCH) or always sets exactly (PUT, a whole-resource replace).

use std::collections::{HashMap, HashSet};

use scim::{MemberChange, ResourceKind};
use sea_orm::{
    ColumnTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, QueryTrait,
    sea_query::{Expr, OnConflict, SimpleExpr},
};
use serde_json::{Value, json};

use super::{Scope, settings::MemberReplace};
use crate::{
    clock::now_ms,
    entities::{group_member, user},
    error::DomainResult,
    ids::{GroupId, UserId},
    store::{Exec, Rows, fixed_runs},
};

/// A linked resource as shown inside another: its id and display name.
pub(crate) type Link = (String, Option<String>);

/// What a request did to a group's members, for the provisioning log.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MemberDelta {
    pub added: u64,
    pub removed: u64,
    /// Members removed because a `replace` set the list exactly (the organisation chose `exact`).
    pub removed_by_replace: u64,
    /// Ids named in the request that are not users of this organisation (never linked).
    pub unknown: Vec<String>,
}

/// Unknown ids named in a log summary at most; the rest are counted.
const UNKNOWN_SHOWN: usize = 5;

impl MemberDelta {
    pub fn is_empty(&self) -> bool {
        self.added == 0 && self.removed == 0
    }

    /// e.g. "added 1 member; removed 3 members (2 by an exact replace); ignored 1 unknown member
    /// id: u9". Bounded: at most [`UNKNOWN_SHOWN`] unknown ids are named.
    pub fn describe(&self) -> String {
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        let mut parts = Vec::new();
        if self.added > 0 {
            parts.push(format!("added {} member{}", self.added, plural(self.added)));
        }
        if self.removed > 0 {
            let mut removed = format!("removed {} member{}", self.removed, plural(self.removed));
            if self.removed_by_replace > 0 {
                removed.push_str(&format!(" ({} by an exact replace)", self.removed_by_replace));
            }
            parts.push(removed);
        }
        if !self.unknown.is_empty() {
            let count = self.unknown.len();
            let shown = self.unknown.iter().take(UNKNOWN_SHOWN).cloned().collect::<Vec<_>>().join(", ");
            let more = count.saturating_sub(UNKNOWN_SHOWN);
            let more = if more > 0 { format!(" and {more} more") } else { String::new() };
            parts.push(format!("ignored {count} unknown member id{}: {shown}{more}", plural(count as u64)));
        }
        if parts.is_empty() { "members unchanged".to_owned() } else { parts.join("; ") }
    }
}

/// A row read for one id.
#[derive(FromQueryResult)]
struct Id {
    id: String,
}
crate::from_sqlite!(Id { id });

/// The ids `select` (one column, named `id`) reads.
async fn ids_of(db: &impl Rows, select: sea_orm::Select<impl EntityTrait>) -> DomainResult<Vec<String>> {
    let rows: Vec<Id> = db.rows(select.build(db.backend())).await?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

/// The subset of `ids` that are users of the scope's organisation.
async fn existing_users(db: &impl Rows, scope: &Scope, ids: &[String]) -> DomainResult<Vec<UserId>> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in fixed_runs(ids) {
        let users = user::Entity::find()
            .select_only()
            .column_as(user::Column::Id, "id")
            .filter(user::Column::OrgId.eq(&scope.org_id))
            .filter(user::Column::Id.is_in(chunk.iter().cloned()));
        found.extend(ids_of(db, users).await?.into_iter().map(UserId::new));
    }
    Ok(found)
}

async fn add(db: &impl Exec, group_id: &GroupId, users: &[UserId]) -> DomainResult<u64> {
    let now = now_ms();
    let mut added = 0;
    for chunk in fixed_runs(users) {
        let rows = chunk.iter().map(|uid| group_member::ActiveModel {
            group_id: sea_orm::Set(group_id.to_string()),
            user_id: sea_orm::Set(uid.to_string()),
            created_at: sea_orm::Set(now),
        });
        let adding = group_member::Entity::insert_many(rows).on_conflict(
            OnConflict::columns([group_member::Column::GroupId, group_member::Column::UserId])
                .do_nothing()
                .to_owned(),
        );
        added += db.apply(adding.build(db.backend())).await?;
    }
    Ok(added)
}

/// Removes the members named by `users` (ids as requested: an id that is no member changes nothing).
async fn remove(db: &impl Exec, group_id: &GroupId, users: &[String]) -> DomainResult<u64> {
    let mut removed = 0;
    for chunk in fixed_runs(users) {
        let removing = group_member::Entity::delete_many()
            .filter(group_member::Column::GroupId.eq(group_id))
            .filter(group_member::Column::UserId.is_in(chunk.iter().cloned()));
        removed += db.apply(removing.build(db.backend())).await?;
    }
    Ok(removed)
}

fn dedup(ids: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::with_capacity(ids.len());
    ids.into_iter().filter(|id| seen.insert(id.clone())).collect()
}

/// Adds the users among `ids` (deduplicated) to the group; records the rest as unknown.
async fn add_known(
    db: &impl Exec,
    scope: &Scope,
    group_id: &GroupId,
    ids: Vec<String>,
    delta: &mut MemberDelta,
) -> DomainResult<Vec<UserId>> {
    let ids = dedup(ids);
    let valid = existing_users(db, scope, &ids).await?;
    let known: HashSet<&str> = valid.iter().map(UserId::as_str).collect();
    delta.unknown.extend(ids.iter().filter(|id| !known.contains(id.as_str())).cloned());
    delta.added += add(db, group_id, &valid).await?;
    Ok(valid)
}

/// Applies `changes` in order to group `group_id`. A [`MemberChange::Replace`] applies as
/// `replace` says: adds only (`Additive`) or sets the members exactly (`Exact`).
pub(crate) async fn apply(
    db: &impl Exec,
    scope: &Scope,
    group_id: &GroupId,
    changes: Vec<MemberChange>,
    replace: MemberReplace,
) -> DomainResult<MemberDelta> {
    let mut delta = MemberDelta::default();
    for change in changes {
        match change {
            MemberChange::Add(ids) => {
                add_known(db, scope, group_id, ids, &mut delta).await?;
            }
            MemberChange::Remove(ids) => delta.removed += remove(db, group_id, &dedup(ids)).await?,
            MemberChange::RemoveAll => {
                let removing =
                    group_member::Entity::delete_many().filter(group_member::Column::GroupId.eq(group_id));
                delta.removed += db.apply(removing.build(db.backend())).await?;
            }
            MemberChange::Replace(ids) if replace == MemberReplace::Additive => {
                add_known(db, scope, group_id, ids, &mut delta).await?;
            }
            MemberChange::Replace(ids) => {
                let valid = add_known(db, scope, group_id, ids, &mut delta).await?;
                let members = group_member::Entity::find()
                    .select_only()
                    .column_as(group_member::Column::UserId, "id")
                    .filter(group_member::Column::GroupId.eq(group_id));
                let current = ids_of(db, members).await?;
                let keep: HashSet<&str> = valid.iter().map(UserId::as_str).collect();
                let gone: Vec<String> =
                    current.into_iter().filter(|id| !keep.contains(id.as_str())).collect();
                let removed = remove(db, group_id, &gone).await?;
                delta.removed += removed;
                delta.removed_by_replace += removed;
            }
        }
    }
    Ok(delta)
}

/// A membership: which user is in which group.
#[derive(FromQueryResult)]
struct MemberOf {
    group_id: String,
    user_id: String,
}
crate::from_sqlite!(MemberOf { group_id, user_id });

/// The name of the column [`folded`] adds to a row.
pub(crate) const FOLDED: &str = "folded_links";

/// What a page's statement selects as [`FOLDED`] beside each row of `kind`: a user's groups as a
/// JSON array of `[id, displayName]` pairs when `wanted` (a correlated subquery on
/// `group_members(user_id)`, so a lookup is one statement, not two), else `NULL`. A group's
/// members are not folded: a group can hold tens of thousands, read by [`members_of`] in chunks.
pub(crate) fn folded(kind: ResourceKind, wanted: bool, backend: DbBackend) -> SimpleExpr {
    if kind != ResourceKind::User || !wanted {
        return Expr::cust("NULL");
    }
    let aggregate = match backend {
        DbBackend::Postgres => "json_agg(json_build_array(gm.group_id, g.display_name))::text",
        _ => "json_group_array(json_array(gm.group_id, g.display_name))",
    };
    Expr::cust(format!(
        "(SELECT {aggregate} FROM group_members gm JOIN groups g ON g.id = gm.group_id \
         WHERE gm.user_id = users.id AND g.org_id = users.org_id)"
    ))
}

/// The links a [`folded`] column holds (none when it is `NULL`: no group, or none wanted).
pub(crate) fn unfold(folded: Option<&str>) -> DomainResult<Vec<Link>> {
    let Some(json) = folded else { return Ok(Vec::new()) };
    let links = serde_json::from_str(json).map_err(|e| DbErr::Custom(format!("folded links: {e}")))?;
    Ok(links)
}

/// The members of each of `group_ids`. Only ids: `members.display` is optional (RFC 7643 §4.2) and
/// leaving it out keeps reading a large group to one index scan of `group_members`.
pub(crate) async fn members_of(
    db: &impl Rows,
    group_ids: &[String],
) -> DomainResult<HashMap<String, Vec<Link>>> {
    let mut out: HashMap<String, Vec<Link>> = HashMap::new();
    for chunk in fixed_runs(group_ids) {
        let rows = group_member::Entity::find()
            .select_only()
            .column(group_member::Column::GroupId)
            .column(group_member::Column::UserId)
            .filter(group_member::Column::GroupId.is_in(chunk.iter().cloned()))
            .build(db.backend());
        let rows: Vec<MemberOf> = db.rows(rows).await?;
        for row in rows {
            out.entry(row.group_id).or_default().push((row.user_id, None));
        }
    }
    Ok(out)
}

fn links(scope: &Scope, endpoint: &str, links: Option<&Vec<Link>>, kind: Option<&str>) -> Value {
    let items: Vec<Value> = links
        .map(|l| l.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|(id, display)| {
            let mut v = json!({"value": id, "$ref": format!("{}/{endpoint}/{id}", scope.base_url)});
            if let Some(d) = display {
                v["display"] = json!(d);
            }
            if let Some(k) = kind {
                v["type"] = json!(k);
            }
            v
        })
        .collect();
    Value::Array(items)
}

/// The attribute that shows memberships: a user's `groups`, a group's `members`.
pub(crate) fn link_attribute(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "groups",
        ResourceKind::Group => "members",
    }
}

/// Sets a user's read-only `groups` (RFC 7643 §4.1.2; omitted when there are none) or a group's
/// `members`.
pub(crate) fn set_links(resource: &mut Value, kind: ResourceKind, found: Option<&Vec<Link>>, scope: &Scope) {
    match kind {
        ResourceKind::User if found.is_some_and(|g| !g.is_empty()) => {
            resource["groups"] = links(scope, "Groups", found, Some("direct"));
        }
        ResourceKind::User => {}
        ResourceKind::Group => resource["members"] = links(scope, "Users", found, Some("User")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_summary_names_removals_and_few_unknown_ids() {
        let delta = |added, removed, removed_by_replace, unknown: usize| MemberDelta {
            added,
            removed,
            removed_by_replace,
            unknown: (0..unknown).map(|i| format!("u{i}")).collect(),
        };
        assert_eq!(delta(0, 0, 0, 0).describe(), "members unchanged");
        assert_eq!(delta(1, 0, 0, 0).describe(), "added 1 member");
        assert_eq!(
            delta(1, 3, 2, 1).describe(),
            "added 1 member; removed 3 members (2 by an exact replace); ignored 1 unknown member id: u0"
        );
        // 100,000 unknown ids: five named, the rest counted.
        let many = delta(0, 0, 0, 100_000).describe();
        assert_eq!(many, "ignored 100000 unknown member ids: u0, u1, u2, u3, u4 and 99995 more");
    }
}
