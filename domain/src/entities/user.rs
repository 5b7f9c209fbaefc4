//! A person in an organisation: a console account, a SCIM-provisioned user, or both.
//! Indexed columns carry what SCIM filters and sorts on; `resource` holds the full SCIM JSON.

use sea_orm::entity::prelude::*;

use crate::accounts::{Role, Source};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub org_id: String,
    pub user_name: String,
    pub user_name_lower: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub email_lower: Option<String>,
    pub active: bool,
    pub role: Role,
    pub source: Source,
    pub entra_tenant_id: Option<String>,
    pub entra_object_id: Option<String>,
    pub resource: Json,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrgId",
        to = "super::organization::Column::Id"
    )]
    Organization,
    #[sea_orm(has_many = "super::group_member::Entity")]
    Memberships,
}

impl Related<super::group_member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Memberships.def()
    }
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
