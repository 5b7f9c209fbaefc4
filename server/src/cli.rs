//! The `scimpad` command line: `scimpad` (or `scimpad serve`) runs the server; `scimpad migrate`
//! only brings the database schema up to date and exits; `org`, `api-key` and `user` are the
//! operator's automation and recovery commands.

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
    /// Manage organisations (automation and recovery).
    Org {
        #[command(subcommand)]
        action: OrgCommand,
    },
    /// Manage API keys (automation and recovery).
    ApiKey {
        #[command(subcommand)]
        action: ApiKeyCommand,
    },
    /// Manage console accounts (recovery).
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Copy the SQLite database to FILE while the server keeps serving (a consistent snapshot).
    /// For PostgreSQL use `pg_dump` (see README).
    Backup {
        /// Where the copy goes; must not exist yet.
        file: std::path::PathBuf,
    },
    /// Replace the SQLite database with the backup FILE, after checking it; the server must be
    /// stopped. The database it replaces is kept beside it (`*.before-restore-<time>`).
    Restore {
        /// A file made by `scimpad backup`.
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Set the password of the person who signs in with `--email`, read from stdin (the way back
    /// into the console without email). Ends their sessions; recorded in the audit log.
    SetPassword {
        /// The email the person signs in with.
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create an organisation and its first admin; the admin's password is read from stdin.
    Create {
        /// The organisation's name.
        #[arg(long)]
        name: String,
        /// The admin's name.
        #[arg(long)]
        admin_name: String,
        /// The admin's email (their sign-in).
        #[arg(long)]
        admin_email: String,
    },
}

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Create an API key owned by an admin; prints the key (only this once) on stdout.
    Create {
        /// The email of the admin who owns the key.
        #[arg(long)]
        admin_email: String,
        /// A name for the key, e.g. "Entra ID provisioning".
        #[arg(long)]
        name: String,
        /// Days until the key expires (default: never).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
    },
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
    #[error("{0}")]
    Domain(#[from] domain::DomainError),
    #[error("reading the password from stdin: {0}")]
    Stdin(std::io::Error),
    #[error("no active account signs in with {0}")]
    NoSuchAdmin(String),
    #[error(transparent)]
    Backup(#[from] domain::backup::BackupError),
    #[error("the copy stopped unexpectedly: {0}")]
    Interrupted(tokio::task::JoinError),
    #[error(
        "{0} is not a SQLite file: backup and restore copy the embedded database. For PostgreSQL use \
         pg_dump --format=custom and pg_restore (see README)"
    )]
    NotSqlite(String),
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
        telemetry::init(&config.raw.log, config.raw.log_format);
        let url = config.raw.database_url.clone();
        match self.command {
            Some(Command::Backup { file }) => return backup(&url, file).await,
            Some(Command::Restore { file }) => return restore(&url, file).await,
            _ => {}
        }
        // A restore must not swap the SQLite file under a running server (`domain::backup`).
        let _serving = match (serving, domain::db::file_of(&url)) {
            (true, Some(file)) => Some(domain::backup::DatabaseLock::take(&file)?),
            _ => None,
        };
        let db = domain::db::connect(&url)
            .await
            .map_err(|source| CliError::Database { url: domain::db::redact(&url), source })?;
        match self.command {
            None | Some(Command::Serve) => {}
            Some(Command::Migrate) => {
                println!("Database {} is up to date.", domain::db::redact(&url));
                return Ok(());
            }
            Some(Command::Org { action }) => return org(&db, &config.public_url, action).await,
            Some(Command::ApiKey { action }) => return api_key(&db, action).await,
            Some(Command::User { action }) => return user(&db, action).await,
            Some(Command::Backup { .. } | Command::Restore { .. }) => unreachable!("handled above"),
        }
        let addr = config.raw.bind;
        let public_url = config.public_url.clone();
        let (state, background) = AppState::start(db, config);
        let cleanup = tokio::spawn(delete_expired(state.clone()));
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|source| CliError::Bind { addr, source })?;
        let metrics = match state.config.raw.metrics_bind {
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|source| CliError::Bind { addr, source })?;
                tracing::info!(%addr, "serving metrics at {}", crate::metrics::PATH);
                let router = crate::metrics::router(state.clone());
                Some(tokio::spawn(async move { axum::serve(listener, router).await }))
            }
            None => None,
        };
        println!("Scimpad is running: open {public_url} (database {})", domain::db::redact(&url));
        tracing::info!(%addr, %public_url, "listening");
        let stop = drain(state.clone());
        let served = crate::serve(listener, build_router(state)).with_graceful_shutdown(stop).await;
        cleanup.abort();
        if let Some(metrics) = metrics {
            // Serves until the main listener has stopped (a scraper sees the drain), then its
            // state clone goes, so the background tasks can finish.
            metrics.abort();
            let _ = metrics.await;
        }
        background.finish().await;
        tracing::info!("stopped");
        served.map_err(CliError::Serve)
    }
}

/// The SQLite file `url` names, or why there is none.
fn sqlite_file(url: &str) -> Result<std::path::PathBuf, CliError> {
    // `file_of` names files of `sqlite:` URLs only.
    domain::db::file_of(url).ok_or_else(|| CliError::NotSqlite(domain::db::redact(url)))
}

/// A progress bar of pages on stderr: drawn on a terminal, silent otherwise (indicatif hides it).
fn page_bar(what: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:40}] {percent:>3}% {pos}/{len} pages, {eta} left",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what);
    bar
}

/// Runs a copy on a blocking thread with a progress bar; its result and how long it took.
async fn with_progress<T: Send + 'static>(
    what: &'static str,
    copy: impl FnOnce(&dyn Fn(domain::backup::Progress)) -> Result<T, domain::backup::BackupError>
    + Send
    + 'static,
) -> Result<(T, Duration), CliError> {
    let started = std::time::Instant::now();
    let bar = page_bar(what);
    let shown = bar.clone();
    let result = tokio::task::spawn_blocking(move || {
        copy(&|p: domain::backup::Progress| {
            shown.set_length(p.total);
            shown.set_position(p.copied);
        })
    })
    .await
    .map_err(CliError::Interrupted)?;
    bar.finish_and_clear();
    Ok((result?, started.elapsed()))
}

/// `backup FILE`.
async fn backup(url: &str, file: std::path::PathBuf) -> Result<(), CliError> {
    let database = sqlite_file(url)?;
    let target = file.clone();
    let (copied, took) =
        with_progress("Backing up", move |progress| domain::backup::backup(&database, &target, progress))
            .await?;
    let s = copied.summary;
    println!(
        "Backed up {} organisations, {} users, {} groups, {} memberships and {} API keys to {} ({:.1} MB) in {:.1} s; the copy passed SQLite's integrity check.",
        s.organisations,
        s.users,
        s.groups,
        s.memberships,
        s.api_keys,
        file.display(),
        copied.bytes as f64 / 1e6,
        took.as_secs_f64()
    );
    Ok(())
}

/// `restore FILE`.
async fn restore(url: &str, file: std::path::PathBuf) -> Result<(), CliError> {
    let database = sqlite_file(url)?;
    let into = database.clone();
    let ((s, kept), took) =
        with_progress("Restoring", move |progress| domain::backup::restore(&file, &into, progress)).await?;
    println!(
        "Restored {} organisations, {} users, {} groups, {} memberships and {} API keys into {} in {:.1} s.",
        s.organisations,
        s.users,
        s.groups,
        s.memberships,
        s.api_keys,
        database.display(),
        took.as_secs_f64()
    );
    if let Some(kept) = kept {
        println!("The database it replaced is kept as {}.", kept.display());
    }
    if s.pending_migrations > 0 {
        println!(
            "The backup is from an older version: {} schema change(s) run when the server starts.",
            s.pending_migrations
        );
    }
    Ok(())
}

/// The first line of stdin, without its line ending: a password never goes on the command line
/// (it would show in `ps` and the shell's history).
fn password_from_stdin() -> Result<String, CliError> {
    let mut password = String::new();
    std::io::stdin().read_line(&mut password).map_err(CliError::Stdin)?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

/// `org create`. The command line sends no email (it would exit before the letter went out): the
/// admin confirms their address from the console's banner.
async fn org(
    db: &domain::sea_orm::DatabaseConnection,
    public_url: &str,
    action: OrgCommand,
) -> Result<(), CliError> {
    let OrgCommand::Create { name, admin_name, admin_email } = action;
    let password = password_from_stdin()?;
    let input =
        domain::accounts::SignUp { organization: name, name: admin_name, email: admin_email, password };
    let outbox = domain::mail::Outbox::off(public_url);
    let actor = domain::accounts::sign_up(db, &outbox, domain::origin::Origin::CommandLine, input).await?;
    println!("Created organisation {} with admin {}.", actor.org_name, actor.email);
    Ok(())
}

async fn user(db: &domain::sea_orm::DatabaseConnection, action: UserCommand) -> Result<(), CliError> {
    let UserCommand::SetPassword { email } = action;
    let password = password_from_stdin()?;
    let actor = match domain::password_reset::set_by_operator(db, &email, &password).await {
        Err(domain::DomainError::NotFound) => return Err(CliError::NoSuchAdmin(email)),
        other => other?,
    };
    println!("Set the password of {} ({}); their sessions have ended.", actor.email, actor.org_name);
    Ok(())
}

async fn api_key(db: &domain::sea_orm::DatabaseConnection, action: ApiKeyCommand) -> Result<(), CliError> {
    let ApiKeyCommand::Create { admin_email, name, expires_in_days } = action;
    let actor = domain::accounts::command_line_actor(db, &admin_email)
        .await?
        .ok_or_else(|| CliError::NoSuchAdmin(admin_email.clone()))?;
    let expires_at = expires_in_days.map(|d| domain::clock::now_ms() + i64::from(d) * 24 * 3600 * 1000);
    let key = domain::api_keys::create(db, &actor, &name, expires_at).await?;
    eprintln!(
        "Created API key \"{}\" ({}) for {}. This is the only time it is shown:",
        key.info.name, key.info.prefix, actor.org_name
    );
    println!("{}", key.secret);
    Ok(())
}

/// Every five minutes: deletes expired sessions, unfinished SSO sign-ins, SAML assertion ids
/// past their validity, sign-in throttle counters whose window and lock are both over, audit
/// events past the retention period (`--log-retention-days`, as the provisioning log), and
/// emailed links past their expiry.
async fn delete_expired(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tick.tick().await;
        if let Err(e) = state.sessions.delete_expired().await {
            tracing::warn!(error = %e, "deleting expired sessions failed");
        }
        if let Err(e) = domain::sso::pending::purge_expired(&state.db).await {
            tracing::warn!(error = %e, "deleting expired SSO sign-ins failed");
        }
        if let Err(e) = domain::sso::replay::purge_expired(&state.db).await {
            tracing::warn!(error = %e, "deleting expired SAML assertion ids failed");
        }
        if let Err(e) = domain::throttle::purge_expired(&state.db).await {
            tracing::warn!(error = %e, "deleting stale sign-in throttle counters failed");
        }
        if let Err(e) = domain::audit::purge(&state.db, state.config.raw.log_retention_days).await {
            tracing::warn!(error = %e, "deleting audit events past the retention period failed");
        }
        if let Err(e) = domain::email_links::purge_expired(&state.db).await {
            tracing::warn!(error = %e, "deleting expired email links failed");
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
}

/// Resolves when the server should stop: after the stop signal, `/readyz` answers 503 for
/// `--drain-seconds` while requests are still served, then the graceful stop begins.
async fn drain(state: AppState) {
    shutdown_signal().await;
    state.draining.store(true, std::sync::atomic::Ordering::Relaxed);
    let seconds = state.config.raw.drain_seconds;
    if seconds > 0 {
        tracing::info!(seconds, "stop requested: not ready, draining before shutting down");
        tokio::time::sleep(std::time::Duration::from_secs(u64::from(seconds))).await;
    }
    tracing::info!("shutting down");
}
