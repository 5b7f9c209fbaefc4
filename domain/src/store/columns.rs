//! What Rust type SeaORM expects in each entity column, so rows read by rusqlite decode exactly as
//! they do through sqlx.
//!
//! SQLite is dynamically typed: an `INTEGER` cell may be a `bool`, an `i32` or an `i64` field, and
//! our migrations declare them alike as `INTEGER`. An entity model is filled through its active
//! model, which takes a value of the exact variant the field has; so the type comes from where
//! SeaORM itself takes it, the entity's column definition.

use sea_orm::{ColumnType, sea_query::Value};

/// How a column's cells become SeaORM values.
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
}

impl Kind {
    pub(super) fn of(column_type: &ColumnType) -> Self {
        match column_type {
            ColumnType::Boolean => Self::Bool,
            ColumnType::TinyInteger | ColumnType::SmallInteger => Self::SmallInt,
            ColumnType::Integer => Self::Int,
            ColumnType::BigInteger => Self::BigInt,
            ColumnType::Float | ColumnType::Double => Self::Double,
            ColumnType::Json | ColumnType::JsonBinary => Self::Json,
            ColumnType::Blob | ColumnType::Binary(_) | ColumnType::VarBinary(_) => Self::Bytes,
            _ => Self::Text,
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
            Self::Text => Value::String(None),
        }
    }
}
