//! An organisation's provisioning settings: how SCIM requests are interpreted where real
//! identity providers and the RFC disagree.
//!
//! `replace` on a group's `members`: RFC 7644 §3.5.2.3 makes it set the list exactly, but
//! Microsoft Entra ID's provisioning service sends `{"op":"replace","path":"members","value":[…]}`
//! carrying only the member being added, once per user (entra-scim.md §2.8: snipe-it #19096,
//! PostHog #47336). Applied exactly, every group would end with one member. So `replace` adds by
//! default; an organisation whose identity provider sends whole lists chooses `exact`.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, QueryTrait};
use serde::{Deserialize, Serialize};

use crate::{
    DomainError, DomainResult,
    accounts::Actor,
    entities::organization,
    ids::OrgId,
    store::{Rows, StoreResult},
};

/// How `replace` of a group's `members` applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberReplace {
    /// The named members are added; nobody is removed (what Entra's jobs need).
    #[default]
    Additive,
    /// The group's members become exactly the named ones (RFC 7644 §3.5.2.3); others are removed.
    Exact,
}

impl MemberReplace {
    /// The stored (and wire) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Additive => "additive",
            Self::Exact => "exact",
        }
    }

    /// Reads a stored value; anything unknown is the safe default, which never removes members.
    pub fn parse(stored: &str) -> Self {
        match stored {
            "exact" => Self::Exact,
            _ => Self::Additive,
        }
    }
}

/// Organisation `org_id`'s row, read inside a SCIM write (`db` is its transaction) for its
/// provisioning settings.
pub(crate) async fn organization_of(
    db: &impl Rows,
    org_id: &OrgId,
) -> StoreResult<Option<organization::Model>> {
    // Not `one`: the id is the key, and `one` would bind a `LIMIT` (see `listing`).
    let org = organization::Entity::find_by_id(org_id.to_owned()).build(db.backend());
    let org: Vec<organization::Model> = db.rows(org).await?;
    Ok(org.into_iter().next())
}

/// The organisation's setting, read inside a SCIM write (`db` is its transaction).
pub(crate) async fn member_replace_of(db: &impl Rows, org_id: &OrgId) -> StoreResult<MemberReplace> {
    Ok(organization_of(db, org_id)
        .await?
        .map(|o| MemberReplace::parse(&o.members_replace))
        .unwrap_or_default())
}

/// The setting of the actor's organisation (admins only).
pub async fn member_replace(db: &DatabaseConnection, actor: &Actor) -> DomainResult<MemberReplace> {
    actor.require_admin()?;
    Ok(member_replace_of(db, &actor.org_id).await?)
}

/// Changes the setting of the actor's organisation (admins only). Takes effect on the next
/// group PATCH; requests already running finish under the old setting.
pub async fn set_member_replace(
    db: &DatabaseConnection,
    actor: &Actor,
    mode: MemberReplace,
) -> DomainResult<()> {
    actor.require_admin()?;
    let org =
        organization::Entity::find_by_id(actor.org_id.clone()).one(db).await?.ok_or(DomainError::NotFound)?;
    let mut org: organization::ActiveModel = org.into();
    org.members_replace = Set(mode.as_str().to_owned());
    org.update(db).await?;
    Ok(())
}
