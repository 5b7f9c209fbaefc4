//! An organisation: one Scimpad customer, one Entra tenant's worth of people.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub slug: String,
    /// Password sign-in is off for everyone but admins (kept as break-glass).
    pub sso_required: bool,
    /// Email domain whose people the sign-in page sends to this organisation's SSO.
    pub sso_domain: Option<String>,
    /// How SCIM `replace` of a group's `members` applies: `additive` or `exact`
    /// (`directory::settings::MemberReplace`).
    pub members_replace: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
