//! One security-relevant event of an organisation, as the admin audit log records it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: String,
    pub at: i64,
    pub kind: String,
    /// The person who acted (or whose sign-in failed), when known; no foreign key, the row
    /// outlives them.
    pub actor_id: Option<String>,
    /// Their name and email as they were at the time, or what was typed.
    pub actor: String,
    /// `web` or `cli` (see `audit::Via`).
    pub via: String,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
