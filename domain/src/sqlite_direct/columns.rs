//! What Rust type SeaORM expects in each column, so rows read by rusqlite decode exactly as they do
//! through sqlx.
//!
//! SQLite is dynamically typed: an `INTEGER` cell may be read as `bool`, `i32` or `i64`, and
//! SeaORM's proxy rows only decode a value of the exact variant the field asks for (a `BigInt`
//! never becomes an `i32`, and for an `Option` field a mismatch reads as `None`). The declared
//! column type cannot tell: our migrations declare `i32` and `i64` columns alike as `INTEGER`. So
//! the types come from where SeaORM itself takes them, the entities: every result column that
//! comes straight from a table column (SQLite's column metadata names its table and column) gets
//! that entity column's type; computed columns (`COUNT(*)`, expressions) get the type of the value
//! SQLite produced.

use std::{collections::HashMap, sync::OnceLock};

use sea_orm::{ColumnTrait, ColumnType, EntityTrait, IdenStatic, Iterable, sea_query::Value};

use crate::entities::*;

/// How a result column becomes a SeaORM value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Bool,
    SmallInt,
    Int,
    BigInt,
    Double,
    Text,
    Json,
    Bytes,
    /// Not a table column: whatever SQLite produced (integers as `i64`).
    Computed,
}

impl Kind {
    fn of(column_type: &ColumnType) -> Self {
        match column_type {
            ColumnType::Boolean => Self::Bool,
            ColumnType::TinyInteger | ColumnType::SmallInteger => Self::SmallInt,
            ColumnType::Integer => Self::Int,
            ColumnType::BigInteger => Self::BigInt,
            ColumnType::Float | ColumnType::Double => Self::Double,
            ColumnType::Json | ColumnType::JsonBinary => Self::Json,
            ColumnType::Blob | ColumnType::Binary(_) | ColumnType::VarBinary(_) => Self::Bytes,
            ColumnType::Char(_) | ColumnType::String(_) | ColumnType::Text => Self::Text,
            _ => Self::Computed,
        }
    }

    /// The SQL NULL of this column, typed as its field expects it.
    pub(super) fn null(self) -> Value {
        match self {
            Self::Bool => Value::Bool(None),
            Self::SmallInt => Value::SmallInt(None),
            Self::Int => Value::Int(None),
            Self::BigInt => Value::BigInt(None),
            Self::Double => Value::Double(None),
            Self::Json => Value::Json(None),
            Self::Bytes => Value::Bytes(None),
            Self::Text | Self::Computed => Value::String(None),
        }
    }
}

type Registry = HashMap<(String, String), Kind>;

fn add<E: EntityTrait>(registry: &mut Registry) {
    let table = E::default().table_name().to_owned();
    for column in E::Column::iter() {
        let kind = Kind::of(column.def().get_column_type());
        registry.insert((table.clone(), column.as_str().to_owned()), kind);
    }
}

/// Every entity's columns. A table missing here would decode as computed values; the test below
/// checks that every table of the schema is listed.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut r = Registry::new();
        add::<api_key::Entity>(&mut r);
        add::<audit_event::Entity>(&mut r);
        add::<credential::Entity>(&mut r);
        add::<directory_count::Entity>(&mut r);
        add::<group::Entity>(&mut r);
        add::<group_member::Entity>(&mut r);
        add::<organization::Entity>(&mut r);
        add::<provisioning_event::Entity>(&mut r);
        add::<provisioning_hourly::Entity>(&mut r);
        add::<saml_assertion_seen::Entity>(&mut r);
        add::<session::Entity>(&mut r);
        add::<sign_in_throttle::Entity>(&mut r);
        add::<sso_connection::Entity>(&mut r);
        add::<sso_domain::Entity>(&mut r);
        add::<sso_pending_login::Entity>(&mut r);
        add::<user::Entity>(&mut r);
        r
    })
}

/// The kind of a result column that comes from `table.column` (`None` for computed columns).
pub(super) fn kind(origin: Option<(&str, &str)>) -> Kind {
    origin
        .and_then(|(table, column)| registry().get(&(table.to_owned(), column.to_owned())).copied())
        .unwrap_or(Kind::Computed)
}

#[cfg(test)]
pub(super) fn tables() -> std::collections::BTreeSet<String> {
    registry().keys().map(|(table, _)| table.clone()).collect()
}
