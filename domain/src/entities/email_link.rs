//! A single-use link sent by email (`domain::email_links`), stored under the SHA-256 of its
//! token: confirm an address, reset a password, or accept an invitation to administer.

use sea_orm::entity::prelude::*;

/// What a link does when followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Purpose {
    /// Proves the person reads their sign-in address.
    #[sea_orm(string_value = "confirm_email")]
    ConfirmEmail,
    /// Sets a new password for a person who forgot theirs.
    #[sea_orm(string_value = "reset_password")]
    ResetPassword,
    /// Creates an admin who signs in with a password (break-glass when SSO is down).
    #[sea_orm(string_value = "invitation")]
    Invitation,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub purpose: Purpose,
    pub org_id: String,
    pub user_id: Option<String>,
    /// The address the link went to, lower-case.
    pub email: String,
    pub name: Option<String>,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
