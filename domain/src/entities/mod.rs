//! SeaORM entities, one module per table (see the migrations crate for the DDL).

pub mod credential;
pub mod organization;
pub mod session;
pub mod sign_in_throttle;
pub mod user;
