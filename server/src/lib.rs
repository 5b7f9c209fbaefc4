//! The Scimpad server: configuration, the HTTP router (console pages and server functions, health
//! checks, later SCIM and SSO), sessions, the CSRF guard, telemetry and graceful shutdown.
//!
//! `main.rs` only parses the command line; everything else is here so integration tests can build
//! the same router the binary serves.

pub mod assets;
pub mod auth;
pub mod cli;
pub mod client_addr;
pub mod config;
pub mod csrf;
pub mod domain_recheck;
pub mod export;
pub mod health;
pub mod metrics;
pub mod nul_guard;
pub mod periodic;
pub mod request_target;
pub mod router;
pub mod scim_api;
pub mod security_headers;
pub mod sso;
pub mod state;
pub mod table_maintenance;
pub mod telemetry;

pub use config::Config;
pub use router::build_router;
pub use state::AppState;

/// What [`serve`] returns: axum's server over the normalising listener, recording each
/// connection's peer.
pub type Serving = axum::serve::Serve<
    request_target::NormalizingListener<tokio::net::TcpListener>,
    axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, client_addr::Peer>,
    axum::middleware::AddExtension<axum::Router, axum::extract::ConnectInfo<client_addr::Peer>>,
>;

/// Serves `router` on `listener` the way production does: through
/// [`request_target::NormalizingListener`], so a request-target with raw quotes (as Entra ID sends
/// them in filters) reaches the router instead of being refused by hyper, and with each
/// connection's peer address ([`client_addr::Peer`]), from which [`client_addr::attach`] finds the
/// client that sign-in throttling counts under. The binary adds graceful shutdown; the
/// integration tests serve through this too.
pub fn serve(listener: tokio::net::TcpListener, router: axum::Router) -> Serving {
    axum::serve(
        request_target::NormalizingListener::new(listener),
        router.into_make_service_with_connect_info::<client_addr::Peer>(),
    )
}
