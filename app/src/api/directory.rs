//! Directory server functions for the console's Users and Groups pages (admins only): searchable
//! pages of users and groups, and one user's or group's details.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A user in the users table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    /// `scim` or `local`.
    pub source: String,
    /// `admin` or `member`.
    pub role: String,
    /// Entra sends this person's role (SCIM `roles`): the console cannot change it.
    pub role_from_entra: bool,
    pub groups: u64,
    pub updated_at: String,
    /// The organisation's last active admin: SCIM refuses to deactivate or delete them.
    pub last_active_admin: bool,
}

/// A page of users or groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paged<T> {
    pub rows: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

/// A request that touched a user, for their detail page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEvent {
    pub at: String,
    pub method: String,
    pub operation: String,
    pub status: u16,
    pub summary: String,
}

/// Everything about one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub row: UserRow,
    pub external_id: Option<String>,
    pub created_at: String,
    /// The SCIM resource as Entra would read it, pretty-printed (every attribute, extensions too).
    pub scim_json: String,
    /// (id, display name).
    pub groups: Vec<(String, String)>,
    pub events: Vec<UserEvent>,
    /// The person is the signed-in admin looking at the page.
    pub is_you: bool,
}

/// A group in the groups table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub external_id: Option<String>,
    pub members: u64,
    pub updated_at: String,
}

/// One group and a page of its members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub row: GroupRow,
    pub created_at: String,
    pub members: Paged<UserRow>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use domain::{browse, clock::to_rfc3339, entities::user};

    use super::{Paged, UserRow};

    /// `last_admin`: the id of the organisation's last active admin, if it is among the rows.
    pub fn user_row(u: user::Model, groups: u64, last_admin: Option<&str>) -> UserRow {
        UserRow {
            last_active_admin: last_admin == Some(u.id.as_str()),
            user_name: u.user_name,
            display_name: u.display_name,
            email: u.email,
            active: u.active,
            source: domain::sea_orm::ActiveEnum::to_value(&u.source),
            role: domain::sea_orm::ActiveEnum::to_value(&u.role),
            role_from_entra: !domain::roles::scim_role_names(&u.resource).is_empty(),
            groups,
            updated_at: to_rfc3339(u.updated_at),
            id: u.id,
        }
    }

    pub fn paged<A, B>(page: browse::Page<A>, map: impl FnMut(A) -> B) -> Paged<B> {
        Paged {
            rows: page.rows.into_iter().map(map).collect(),
            total: page.total,
            page: page.page,
            page_size: browse::PAGE_SIZE,
        }
    }
}

/// What the Users table asks for, as its URL carries it: `q` searches names and emails; `status`
/// is `active`/`deactivated`; `source` is `scim`/`local`; `role` is `admin`/`member` (any other
/// value is refused, as the CSV export refuses it); `sort` a column with `dir` `asc`/`desc`;
/// `page` the 1-based page (text, as in the URL: anything but a number reads as page 1, and a
/// flattened field could not take a number from a form anyway); `after`/`before` the id of the
/// person the page follows or precedes ("Next"/"Previous" by key, in the user-name order).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersQuery {
    pub q: Option<String>,
    pub status: Option<String>,
    pub source: Option<String>,
    pub role: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<String>,
    pub after: Option<String>,
    pub before: Option<String>,
}

/// A page of users. The query's fields are the form's own (`q=…&page=…`), as the URL carries them.
#[server(prefix = "/api", endpoint = "list_users")]
pub async fn list_users(#[server(flatten)] query: UsersQuery) -> Result<Paged<UserRow>, AppError> {
    use domain::browse::Anchor;

    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let UsersQuery { q, status, source, role, sort, dir, page, after, before } = query;
    let filter = domain::browse::UserFilter::parse(
        q.as_deref(),
        status.as_deref(),
        source.as_deref(),
        role.as_deref(),
    )
    .map_err(into_app_error)?;
    let query = domain::browse::UserQuery {
        filter,
        sort,
        descending: dir.as_deref() == Some("desc"),
        page: page.and_then(|p| p.parse().ok()).unwrap_or(1),
        anchor: after.map(Anchor::After).or(before.map(Anchor::Before)),
    };
    let page = domain::browse::users(&ctx.db, &actor, &query).await.map_err(into_app_error)?;
    let last = domain::browse::last_active_admin(&ctx.db, &actor, page.rows.iter().map(|r| &r.user))
        .await
        .map_err(into_app_error)?;
    Ok(ssr::paged(page, |r| ssr::user_row(r.user, r.groups, last.as_deref())))
}

/// One user's details.
#[server(prefix = "/api", endpoint = "get_user")]
pub async fn get_user(id: String) -> Result<UserDetail, AppError> {
    use domain::{
        clock::to_rfc3339,
        directory::{self, Directory},
    };

    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let detail = domain::browse::user(&ctx.db, &actor, &id).await.map_err(into_app_error)?;
    let last =
        domain::browse::last_active_admin(&ctx.db, &actor, [&detail.user]).await.map_err(into_app_error)?;
    let scope = directory::Scope {
        org_id: actor.org_id.clone(),
        base_url: crate::routes::tenant_url(&ctx.public_url),
    };
    let resource = ctx
        .db
        .get(&scope, directory::ResourceKind::User, &id, &directory::Projection::default())
        .await
        .map_err(into_app_error)?
        .resource;
    let events = detail
        .events
        .into_iter()
        .map(|e| UserEvent {
            at: to_rfc3339(e.at),
            method: e.method,
            operation: e.operation,
            status: u16::try_from(e.status).unwrap_or_default(),
            summary: e.summary,
        })
        .collect();
    Ok(UserDetail {
        is_you: detail.user.id == actor.user_id.as_str(),
        external_id: detail.user.external_id.clone(),
        created_at: to_rfc3339(detail.user.created_at),
        scim_json: serde_json::to_string_pretty(&resource).unwrap_or_default(),
        groups: detail.groups,
        events,
        row: ssr::user_row(detail.user, 0, last.as_deref()),
    })
}

/// Makes person `id` an admin or a member (`role` is `admin` or `member`); admins only, and never
/// the organisation's last active admin's rights (see `domain::roles`).
#[server(prefix = "/api", endpoint = "set_user_role")]
pub async fn set_user_role(id: String, role: String) -> Result<(), AppError> {
    use domain::{accounts::Role, ids::UserId, sea_orm::ActiveEnum};

    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let role = Role::try_from_value(&role)
        .map_err(|_| into_app_error(domain::DomainError::invalid("role", "Choose admin or member.")))?;
    domain::roles::set_role(&ctx.db, &actor, &UserId::new(id), role).await.map_err(into_app_error)?;
    Ok(())
}

/// The Entra app role value that makes a person an admin in the organisation (admins only).
#[server(prefix = "/api", endpoint = "entra_admin_role")]
pub async fn entra_admin_role() -> Result<String, AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    domain::roles::entra_admin_role(&ctx.db, &actor).await.map_err(into_app_error)
}

/// Sets the Entra app role value that makes a person an admin (admins only; audited).
#[server(prefix = "/api", endpoint = "save_entra_admin_role")]
pub async fn save_entra_admin_role(admin_role: String) -> Result<(), AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    domain::roles::set_entra_admin_role(&ctx.db, &actor, &admin_role).await.map_err(into_app_error)
}

/// A page of groups, `q` searching their names.
#[server(prefix = "/api", endpoint = "list_groups")]
pub async fn list_groups(q: Option<String>, page: Option<u64>) -> Result<Paged<GroupRow>, AppError> {
    use domain::clock::to_rfc3339;

    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let page = domain::browse::groups(&ctx.db, &actor, q.as_deref(), page.unwrap_or(1))
        .await
        .map_err(into_app_error)?;
    Ok(ssr::paged(page, |r| GroupRow {
        id: r.group.id,
        name: r.group.display_name,
        external_id: r.group.external_id,
        members: r.members,
        updated_at: to_rfc3339(r.group.updated_at),
    }))
}

/// One group and page `page` of its members.
#[server(prefix = "/api", endpoint = "get_group")]
pub async fn get_group(id: String, page: Option<u64>) -> Result<GroupDetail, AppError> {
    use domain::clock::to_rfc3339;

    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let detail =
        domain::browse::group(&ctx.db, &actor, &id, page.unwrap_or(1)).await.map_err(into_app_error)?;
    let last = domain::browse::last_active_admin(&ctx.db, &actor, &detail.members.rows)
        .await
        .map_err(into_app_error)?;
    let g = detail.group;
    Ok(GroupDetail {
        created_at: to_rfc3339(g.created_at),
        row: GroupRow {
            id: g.id,
            name: g.display_name,
            external_id: g.external_id,
            members: detail.members.total,
            updated_at: to_rfc3339(g.updated_at),
        },
        members: ssr::paged(detail.members, |u| ssr::user_row(u, 0, last.as_deref())),
    })
}

/// How a SCIM `replace` of a group's `members` applies in the organisation (the domain's
/// `directory::settings::MemberReplace`, which the browser build cannot see).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberReplaceMode {
    /// The listed members are added; nobody is removed (what Microsoft Entra ID needs).
    #[default]
    Additive,
    /// The members become exactly the listed ones (RFC 7644 §3.5.2.3).
    Exact,
}

impl MemberReplaceMode {
    /// The form value (and the domain's stored spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Additive => "additive",
            Self::Exact => "exact",
        }
    }
}

/// The organisation's membership-replace setting (admins only).
#[server(prefix = "/api", endpoint = "member_replace_setting")]
pub async fn member_replace_setting() -> Result<MemberReplaceMode, AppError> {
    use domain::directory::settings::{self, MemberReplace};

    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    Ok(match settings::member_replace(&ctx.db, &actor).await.map_err(into_app_error)? {
        MemberReplace::Additive => MemberReplaceMode::Additive,
        MemberReplace::Exact => MemberReplaceMode::Exact,
    })
}

/// Changes the membership-replace setting (admins only); `mode` is `additive` or `exact`.
#[server(prefix = "/api", endpoint = "save_member_replace")]
pub async fn save_member_replace(mode: String) -> Result<(), AppError> {
    use domain::directory::settings::{self, MemberReplace};

    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let mode = match mode.as_str() {
        "additive" => MemberReplace::Additive,
        "exact" => MemberReplace::Exact,
        _ => return Err(into_app_error(domain::DomainError::invalid("mode", "Choose Additive or Exact."))),
    };
    settings::set_member_replace(&ctx.db, &actor, mode).await.map_err(into_app_error)
}
