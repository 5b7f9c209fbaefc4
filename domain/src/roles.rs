//! Who administers an organisation (issue 13): an admin makes another person an admin or a
//! member from the console, or Entra does, through the person's app role assignment.
//!
//! Entra sends the assignment in SCIM `roles` (attribute mapping `AppRoleAssignmentsComplex` or
//! `SingleAppRoleAssignment`, RFC 7643 §4.1.2) and in the SAML/OIDC `roles` claim. The role whose
//! value (or display name) is the organisation's `entra_admin_role` (default `Admin`) makes an
//! admin; any other role a member ([`entra_role`]). When Entra sends no role at all, the role stays
//! what it is, so an organisation that maps no roles keeps managing them in the console. A person
//! whose role Entra sends is Entra's to change: the console refuses, and says where to change it.
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
use serde_json::Value;

use crate::{
    DomainError, DomainResult,
    accounts::{Actor, Role},
    audit::{self, Kind},
    directory::{
        settings::organization_of,
        users::{another_active_admin, is_active_admin},
    },
    entities::{organization, user},
    ids::{OrgId, UserId},
    origin::Origin,
    store::{Rows, StoreResult},
};

/// The app role value that makes an admin when an organisation has not chosen one.
pub const DEFAULT_ENTRA_ADMIN_ROLE: &str = "Admin";
/// The longest app role value accepted (Entra allows 120 characters).
const MAX_ROLE_VALUE: usize = 120;

/// The role Entra's app role assignment gives, from the role names it sent (see
/// [`scim_role_names`]; the SSO `roles` claim): `None` when it sent none, so the role stays as it
/// is. Names compare without regard to case or surrounding spaces.
pub fn entra_role<S: AsRef<str>>(names: &[S], admin_role: &str) -> Option<Role> {
    if names.is_empty() {
        return None;
    }
    let admin = admin_role.trim();
    let is_admin = names.iter().any(|n| n.as_ref().trim().eq_ignore_ascii_case(admin));
    Some(if is_admin { Role::Admin } else { Role::Member })
}

/// The role names in a SCIM user resource's `roles`: each element's `value` and `display`.
/// Entra's `AppRoleAssignmentsComplex` mapping sends the whole assignment as JSON text inside
/// `value` (`{"id":…,"value":"Admin","displayName":"Admin"}`, entra-scim.md §3 item 12); its inner
/// `value` and `displayName` are the names then.
pub fn scim_role_names(resource: &Value) -> Vec<String> {
    let Some(roles) = resource.get("roles").and_then(Value::as_array) else { return Vec::new() };
    let mut names = Vec::new();
    for role in roles {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        let value = text(role, "value");
        match value.as_deref().map(serde_json::from_str::<Value>) {
            Some(Ok(inner)) if inner.is_object() => {
                names.extend(text(&inner, "value"));
                names.extend(text(&inner, "displayName"));
            }
            _ => names.extend(value),
        }
        names.extend(text(role, "display"));
    }
    names.retain(|n| !n.trim().is_empty());
    names
}

/// The app role value that makes an admin in organisation `org_id`, read inside a write.
pub(crate) async fn entra_admin_role_of(db: &impl Rows, org_id: &OrgId) -> StoreResult<String> {
    Ok(organization_of(db, org_id)
        .await?
        .map_or_else(|| DEFAULT_ENTRA_ADMIN_ROLE.to_owned(), |o| o.entra_admin_role))
}

/// The app role value that makes an admin in the actor's organisation (admins only).
pub async fn entra_admin_role(db: &DatabaseConnection, actor: &Actor) -> DomainResult<String> {
    actor.require_admin()?;
    Ok(entra_admin_role_of(db, &actor.org_id).await?)
}

/// Sets the app role value that makes an admin in the actor's organisation (admins only);
/// audited. It applies from the next SCIM write or SSO sign-in that carries a role.
pub async fn set_entra_admin_role(db: &DatabaseConnection, actor: &Actor, value: &str) -> DomainResult<()> {
    actor.require_admin()?;
    let value = value.trim();
    if value.is_empty() || value.chars().count() > MAX_ROLE_VALUE {
        return Err(DomainError::invalid(
            "admin_role",
            format!("Enter the value of an app role in Entra, up to {MAX_ROLE_VALUE} characters."),
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let org = organization::Entity::find_by_id(actor.org_id.clone())
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    if org.entra_admin_role != value {
        let detail = format!(
            "the Entra app role that makes an admin is now \"{value}\" (was \"{}\")",
            org.entra_admin_role
        );
        let mut org: organization::ActiveModel = org.into();
        org.entra_admin_role = Set(value.to_owned());
        org.update(&txn).await?;
        audit::record(&txn, audit::Event::by(actor, Kind::RoleMappingChanged, detail)).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A role as a sentence names it: "an admin", "a member".
pub(crate) fn role_name(role: Role) -> &'static str {
    match role {
        Role::Admin => "an admin",
        Role::Member => "a member",
    }
}

/// Makes person `user_id` of the actor's organisation `role`; false when they already had it
/// (nothing changed, nothing audited). Admins only; another organisation's person is not found;
/// taking the last active admin's rights, or changing a role Entra sends, is a conflict.
pub async fn set_role(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: &UserId,
    role: Role,
) -> DomainResult<bool> {
    actor.require_admin()?;
    let txn = crate::db::begin_write(db).await?;
    let person = user::Entity::find_by_id(user_id.clone())
        .filter(user::Column::OrgId.eq(&actor.org_id))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let user_name = person.user_name.clone();
    if person.role == role {
        return Ok(false);
    }
    if !scim_role_names(&person.resource).is_empty() {
        return Err(DomainError::Conflict(format!(
            "Entra manages {user_name}'s role through their app role assignment: change it in Entra \
             (Enterprise applications → Scimpad → Users and groups); the next provisioning cycle \
             brings it here."
        )));
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
    crate::api_keys::forget_changed_keys(&actor.org_id);
    Ok(true)
}

/// Makes `person`'s role follow the app role values an SSO sign-in carried (`names`, the `roles`
/// claim), before the session starts; audited as a role change by the person from `origin`.
/// Nothing happens when the sign-in carried no role. Under the last-admin rule: the
/// organisation's last active admin stays an admin, and signs in, even when Entra's role says
/// member — refusing the sign-in would lock the organisation out — and the event says so.
pub(crate) async fn follow_sso_roles(
    db: &DatabaseConnection,
    origin: &Origin,
    person: &user::Model,
    names: &[String],
) -> DomainResult<()> {
    if names.is_empty() {
        return Ok(());
    }
    let txn = crate::db::begin_write(db).await?;
    // Read again in the write: a SCIM write may have changed the role since the lookup.
    let Some(person) = user::Entity::find_by_id(person.id.clone()).one(&txn).await? else { return Ok(()) };
    let admin_role = entra_admin_role_of(&txn, &OrgId::new(&person.org_id)).await?;
    let Some(role) = entra_role(names, &admin_role).filter(|r| *r != person.role) else { return Ok(()) };
    let name = &person.user_name;
    let detail =
        if role == Role::Member && is_active_admin(&person) && !another_active_admin(&txn, &person).await? {
            format!(
                "kept {name} an admin at sign-in: Entra's app role makes them a member, but they are the \
             organisation's last active admin"
            )
        } else {
            let was = role_name(person.role);
            user::ActiveModel { role: Set(role), ..person.clone().into() }.update(&txn).await?;
            format!("made {name} {} by Entra's app role at sign-in (was {was})", role_name(role))
        };
    audit::record(&txn, audit::Event::about(&person, Kind::RoleChanged, origin.clone(), detail)).await?;
    txn.commit().await?;
    crate::api_keys::forget_changed_keys(&OrgId::new(&person.org_id));
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_admin_value_makes_an_admin_any_other_a_member_and_none_changes_nothing() {
        assert_eq!(entra_role(&["User", " admin "], "Admin"), Some(Role::Admin));
        assert_eq!(entra_role(&["User"], "Admin"), Some(Role::Member));
        assert_eq!(entra_role(&["Admin"], "Scimpad.Administrator"), Some(Role::Member));
        assert_eq!(entra_role::<&str>(&[], "Admin"), None);
    }

    #[test]
    fn role_names_come_from_values_displays_and_the_complex_mappings_json_text() {
        let resource = json!({"roles": [
            {"value": "Admin", "display": "Administrators", "primary": true},
            {"value": "{\"id\":\"1\",\"value\":\"Reader\",\"displayName\":\"Readers\"}"},
            {"value": "not {json"},
            {"value": "  "},
            {"type": "WindowsAzureActiveDirectoryRole"},
        ]});
        assert_eq!(scim_role_names(&resource), ["Admin", "Administrators", "Reader", "Readers", "not {json"]);
        assert!(scim_role_names(&json!({"roles": []})).is_empty());
        assert!(scim_role_names(&json!({"userName": "x"})).is_empty());
        assert!(scim_role_names(&json!({"roles": "Admin"})).is_empty(), "not a list: no roles");
    }
}
