//! The `scimpad` command line: `scimpad` (or `scimpad serve`) runs the server; `scimpad migrate`
//! only brings the database schema up to date and exits.

use std::{process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use tower_sessions::ExpiredDeletion;

use crate::{build_router, config::Config, state::AppState, telemetry};

/// Scimpad: the SaaS side of Microsoft Entra ID user provisioning (SCIM 2.0) and single sign-on.
#[derive(Debug, Parser)]
#[command(name = "scimpad", version, about)]
pub struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the console and APIs (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("database {url}: {source}")]
    Database { url: String, source: domain::sea_orm::DbErr },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("server: {0}")]
    Serve(std::io::Error),
}

impl Cli {
    /// Runs the command; the exit code is 0 on success, 1 on failure (the reason on stderr).
    pub async fn run(self) -> ExitCode {
        match self.execute().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("scimpad: error: {e}");
                ExitCode::FAILURE
            }
        }
    }

    async fn execute(self) -> Result<(), CliError> {
        let serving = matches!(self.command, None | Some(Command::Serve));
        let config = self.config.validate(serving)?;
        telemetry::init(&config.raw.log);
        let url = config.raw.database_url.clone();
        let db = domain::db::connect(&url)
            .await
            .map_err(|source| CliError::Database { url: domain::db::redact(&url), source })?;
        if !serving {
            println!("Database {} is up to date.", domain::db::redact(&url));
            return Ok(());
        }
        let addr = config.raw.bind;
        let public_url = config.public_url.clone();
        let state = AppState::new(db, config);
        let cleanup = tokio::spawn(delete_expired_sessions(state.sessions.clone()));
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|source| CliError::Bind { addr, source })?;
        println!("Scimpad is running: open {public_url} (database {})", domain::db::redact(&url));
        tracing::info!(%addr, %public_url, "listening");
        let served =
            axum::serve(listener, build_router(state)).with_graceful_shutdown(shutdown_signal()).await;
        cleanup.abort();
        tracing::info!("stopped");
        served.map_err(CliError::Serve)
    }
}

/// Deletes expired session rows every five minutes, for as long as the server runs.
async fn delete_expired_sessions(store: domain::session_store::DbSessionStore) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tick.tick().await;
        if let Err(e) = store.delete_expired().await {
            tracing::warn!(error = %e, "deleting expired sessions failed");
        }
    }
}

/// Resolves on SIGINT or SIGTERM: in-flight requests finish, new connections are refused.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
