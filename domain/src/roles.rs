//! Who administers an organisation (issue 13): an admin makes another person an admin or a
//! member from the console.
//!
//! The organisation never drops below one active admin: that is the rule SCIM keeps when Entra
//! deactivates or deletes people (`directory::users`), checked here through the same locked count,
//! because the console and every API key of the organisation need an active admin. Each change
//! is audited. A role takes effect on the person's next request: the console reads the role on
//! every request, and an API key works only while its owner is an admin, so a demoted admin's
//! keys stop working at once.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use crate::{
    DomainError, DomainResult,
    accounts::{Actor, Role},
    audit::{self, Kind},
    directory::users::{another_active_admin, is_active_admin},
    entities::user,
    ids::UserId,
};

/// What [`set_role`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleChange {
    /// The person's user name, as the console and the audit log name them.
    pub user_name: String,
    pub role: Role,
    /// False when the person already had `role` (nothing changed, nothing audited).
    pub changed: bool,
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Admin => "an admin",
        Role::Member => "a member",
    }
}

/// Makes person `user_id` of the actor's organisation `role`. Admins only; another
/// organisation's person is not found; taking the last active admin's rights is a conflict.
pub async fn set_role(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: &UserId,
    role: Role,
) -> DomainResult<RoleChange> {
    actor.require_admin()?;
    let txn = crate::db::begin_write(db).await?;
    let person = user::Entity::find_by_id(user_id.clone())
        .filter(user::Column::OrgId.eq(&actor.org_id))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let user_name = person.user_name.clone();
    if person.role == role {
        return Ok(RoleChange { user_name, role, changed: false });
    }
    if is_active_admin(&person) && !another_active_admin(&txn, &person).await? {
        return Err(DomainError::Conflict(format!(
            "{user_name} is the organisation's last active admin. Make someone else an admin first: \
             the console and every API key need an active admin."
        )));
    }
    let detail = format!("made {user_name} {} (was {})", role_name(role), role_name(person.role));
    user::ActiveModel { role: Set(role), ..person.into() }.update(&txn).await?;
    audit::record(&txn, audit::Event::by(actor, Kind::RoleChanged, detail)).await?;
    txn.commit().await?;
    Ok(RoleChange { user_name, role, changed: true })
}
