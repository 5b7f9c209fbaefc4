//! An organisation's claim on an email domain for "Sign in with SSO" (`domain::sso::domains`):
//! the domain, the random token its DNS TXT record must carry, and the verification state. Only
//! a verified claim routes anyone; a domain is unique among verified claims only.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_domains")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    /// Lower-case ASCII (IDNA/punycode).
    pub domain: String,
    pub token: String,
    pub created_at: i64,
    /// When control was proven; `None` while pending.
    pub verified_at: Option<i64>,
    pub last_checked_at: Option<i64>,
    /// Consecutive periodic checks of a verified claim that found no record.
    pub misses: i32,
    /// When the first of those misses happened.
    pub failing_since: Option<i64>,
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
