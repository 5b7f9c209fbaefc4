//! The Scimpad server: configuration, the HTTP router (console pages and server functions, health
//! checks, later SCIM and SSO), sessions, the CSRF guard, telemetry and graceful shutdown.
//!
//! `main.rs` only parses the command line; everything else is here so integration tests can build
//! the same router the binary serves.

pub mod auth;
pub mod cli;
pub mod config;
pub mod csrf;
pub mod health;
pub mod router;
pub mod scim_api;
pub mod sso;
pub mod state;
pub mod telemetry;

pub use config::Config;
pub use router::build_router;
pub use state::AppState;
