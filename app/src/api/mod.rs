//! Server functions, one module per console area. Each is thin: it takes the request's actor,
//! calls a `domain` service and returns a DTO from [`crate::dto`].

pub mod accounts;
pub mod activity;
pub mod audit;
pub mod directory;
pub mod email;
pub mod keys;
pub mod sso;

pub use accounts::*;
pub use activity::*;
pub use audit::*;
pub use directory::*;
pub use email::*;
pub use keys::*;
pub use sso::*;
