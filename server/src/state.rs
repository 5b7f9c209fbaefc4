//! What every handler shares.
//!
//! The database three ways (see `domain::db` and `domain::group_commit`): `db`, the connection
//! pool everything else uses (on SQLite its single writing connection); `read`, where SCIM reads
//! and API-key lookups run (on SQLite a pool of read-only connections, so reads never queue
//! behind writes; on PostgreSQL a few connections of their own, `domain::store::postgres`); and
//! `writer`, through which SCIM writes run (group commit on SQLite, a transaction each on
//! PostgreSQL). Starting the state also starts the periodic re-check of verified SSO domains
//! (`crate::domain_recheck`), which ends with it.

use std::sync::{Arc, atomic::AtomicBool};

use domain::{
    api_keys::KeyCache,
    group_commit::Writer,
    mail::{MailWorker, Outbox},
    provisioning_log::{self, LogSender, LogWriter},
    sea_orm::DatabaseConnection,
    session_store::DbSessionStore,
    sso::connections::IssuerPolicy,
    store::Reader,
};
use leptos::config::LeptosOptions;

use crate::{assets::Assets, config::ValidConfig, scim_api::rate_limit::OrgRateLimit, sso::oidc::OidcRp};

/// The server's shared state: one allocation, shared by every request (axum clones the state
/// for each request and each middleware; a clone is one reference-count increment).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Debug)]
pub struct Shared {
    pub db: DatabaseConnection,
    pub read: Reader,
    pub writer: Writer,
    pub sessions: DbSessionStore,
    pub config: Arc<ValidConfig>,
    pub leptos: LeptosOptions,
    pub provisioning_log: LogSender,
    /// The OIDC relying party and its per-issuer metadata cache.
    pub oidc: OidcRp,
    /// The API keys this instance has verified (on PostgreSQL; see `domain::api_keys::cache`).
    pub keys: KeyCache,
    /// Each organisation's SCIM request budget.
    pub scim_rate: OrgRateLimit,
    /// Where email goes out (off without `--smtp-url`).
    pub outbox: Outbox,
    /// The console's static files and the version their URLs carry.
    pub assets: Assets,
    /// Set when the server has been told to stop: `/readyz` then answers 503 so load balancers
    /// send no new traffic while the server drains (`--drain-seconds`).
    pub draining: AtomicBool,
}

/// The tasks that outlive requests and must finish after the server stops: the provisioning
/// log's writer and the email sender.
#[derive(Debug)]
pub struct Background {
    log: LogWriter,
    mail: Option<MailWorker>,
}

impl Background {
    /// Stores the last provisioning events and sends the email still queued (once every
    /// [`AppState`] clone is dropped).
    pub async fn finish(self) {
        self.log.finish().await;
        if let Some(mail) = self.mail {
            mail.finish().await;
        }
    }
}

impl AppState {
    /// State over an open, migrated database, and the background tasks it feeds (await
    /// [`Background::finish`] after the server stops to store the last events and send the last
    /// email).
    pub fn start(db: DatabaseConnection, config: ValidConfig) -> (Self, Background) {
        if config.raw.metrics_bind.is_some() || config.raw.metrics_token.is_some() {
            crate::metrics::recorder();
        }
        let assets = Assets::load(std::path::Path::new(&config.raw.site_root));
        let leptos = LeptosOptions::builder()
            .output_name("scimpad")
            .site_root(config.raw.site_root.as_str())
            .site_pkg_dir(assets.pkg_path())
            .site_addr(config.raw.bind)
            .env(leptos::config::Env::PROD)
            .build();
        let url = &config.raw.database_url;
        let read = domain::db::readers(&db, url).unwrap_or_else(|e| {
            // Only a URL that already opened `db` gets here, so this hardly happens; reading
            // through `db` is correct, just slower.
            tracing::warn!(error = %e, "cannot open read-only connections; reads share the writer");
            Reader::Shared(db.clone())
        });
        let writer = Writer::start(db.clone(), read.clone(), url).unwrap_or_else(|e| {
            // As above: writes then run as transactions on `db`, correct but without group commit.
            tracing::warn!(error = %e, "cannot open the group-commit connection; writes use the pool");
            Writer::pooled(db.clone(), read.clone())
        });
        let (provisioning_log, log_writer) =
            provisioning_log::start(writer.clone(), db.clone(), config.raw.log_retention_days);
        let scim_rate = OrgRateLimit::new(config.raw.scim_rate, config.raw.scim_burst);
        scim_rate.sweep_idle();
        let recheck_hours = config.raw.domain_recheck_hours;
        let (outbox, mail_worker) = match &config.mail {
            Some(settings) => {
                let (outbox, worker) = Outbox::start(settings, &config.public_url);
                (outbox, Some(worker))
            }
            None => (Outbox::off(&config.public_url), None),
        };
        let state = Self(Arc::new(Shared {
            keys: KeyCache::for_database(&db),
            sessions: DbSessionStore::new(db.clone()),
            writer,
            read,
            db,
            config: Arc::new(config),
            leptos,
            provisioning_log,
            oidc: OidcRp::default(),
            scim_rate,
            outbox,
            assets,
            draining: AtomicBool::new(false),
        }));
        crate::domain_recheck::spawn(Arc::downgrade(&state.0), recheck_hours);
        crate::table_maintenance::spawn(Arc::downgrade(&state.0));
        (state, Background { log: log_writer, mail: mail_worker })
    }

    /// The context the console's server functions see.
    pub fn app_context(&self) -> app::server::AppContext {
        app::server::AppContext {
            db: self.db.clone(),
            public_url: self.config.public_url.clone(),
            secrets: self.config.secrets.clone(),
            issuer_policy: IssuerPolicy { allowed_hosts: self.config.raw.oidc_issuer_hosts.clone() },
            domains: self.config.domains.clone(),
            outbox: self.outbox.clone(),
        }
    }
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
