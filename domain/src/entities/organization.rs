//! An organisation: one Scimpad customer, one Entra tenant's worth of people.
//!
//! The table still has `sso_domain` (unverified, first come first served), which nothing reads
//! any more: email domains route through verified claims in `sso_domains` (see the migration
//! `m20261202_000010_sso_domains`).

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
    /// How SCIM `replace` of a group's `members` applies: `additive` or `exact`
    /// (`directory::settings::MemberReplace`).
    pub members_replace: String,
    /// The Entra app role value that makes a person an admin (SCIM `roles`, SSO `roles` claim;
    /// `roles::entra_role`).
    pub entra_admin_role: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
