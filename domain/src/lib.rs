//! Scimpad's business layer: the database entities and the services that act on them.
//!
//! Nothing here knows about HTTP or Leptos; the server and the console's server functions call
//! these services with an already authenticated [`accounts::Actor`]. See ARCHITECTURE.md for the
//! data model and why console accounts and SCIM-provisioned people share one `users` table.

pub mod accounts;
pub mod activity;
pub mod api_keys;
pub mod audit;
pub mod backup;
pub mod browse;
pub mod clock;
pub mod db;
pub mod directory;
pub mod email;
pub mod email_confirmation;
pub mod email_links;
pub mod entities;
pub mod error;
pub mod export;
pub mod group_commit;
pub mod ids;
pub mod invitations;
pub mod mail;
pub mod origin;
pub mod paging;
pub mod password;
pub mod password_reset;
pub mod provisioning_log;
pub mod roles;
pub mod session_store;
pub mod sso;
pub mod store;
pub mod table_maintenance;
#[doc(hidden)]
pub mod testing;
mod text;
pub mod throttle;

pub use error::{DomainError, DomainResult};
pub use sea_orm;
