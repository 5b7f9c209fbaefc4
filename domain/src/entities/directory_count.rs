//! How many users and groups an organisation has, in shards that add up; kept by database
//! triggers (see the `directory_counts` and `directory_count_shards` migrations), read for
//! unfiltered lists' `totalResults`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "directory_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub shard: i16,
    pub users: i64,
    pub groups: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
