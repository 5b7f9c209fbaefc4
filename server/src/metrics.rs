//! Operational metrics for whoever runs Scimpad, in Prometheus' text exposition format: SCIM
//! requests by operation and status with their latency, the 429s given, the group-commit
//! writer's batch sizes and waits, the database pool's use, the provisioning log's queue and its
//! dropped events, sign-ins by method and outcome, SSO refusals by reason, and signed-in
//! sessions.
//!
//! Code counts where things happen through the `metrics` facade (the domain crate too, without
//! knowing the exporter), and `metrics-exporter-prometheus` renders them. No label names an
//! organisation or a person: their number is unbounded and Prometheus keeps a series per label
//! value, so per-organisation figures belong in the console. Gauges that describe a state (pool,
//! queue, sessions) are read at each scrape.
//!
//! Off the public listener unless asked for: served on `--metrics-bind` (a private address), and
//! on the public listener only to a bearer of `--metrics-token`. Without either, no recorder is
//! installed and every count is a no-op.

use std::{sync::OnceLock, time::Duration};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use domain::{group_commit, provisioning_log};
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::state::AppState;

/// Where metrics are served, on either listener.
pub const PATH: &str = "/metrics";

/// SCIM requests, labelled by `operation` (create, get, patch…) and `status` (the HTTP code).
pub const SCIM_REQUESTS: &str = "scimpad_scim_requests_total";
/// SCIM request latency in seconds, labelled by `operation`.
pub const SCIM_DURATION: &str = "scimpad_scim_request_duration_seconds";
/// SCIM requests refused with 429 because their organisation was over its rate.
pub const SCIM_THROTTLED: &str = "scimpad_scim_throttled_total";
const POOL_CONNECTIONS: &str = "scimpad_db_pool_connections";
const POOL_MAX: &str = "scimpad_db_pool_max_connections";
const LOG_QUEUE: &str = "scimpad_provisioning_log_queue_depth";
const SESSIONS: &str = "scimpad_sessions_signed_in";

/// Latency buckets in seconds, 1 ms to 10 s.
const SECONDS_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Writes per group-commit batch, 1 to its cap of 128.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];
/// How often histograms are folded (the exporter keeps samples until then).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's Prometheus recorder: installed by the first caller (a recorder is global to the
/// process, and a test binary runs many servers), with every metric described.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(group_commit::BATCH_METRIC.into()), BATCH_BUCKETS)
            })
            .expect("the bucket lists are constant and not empty")
            .build_recorder();
        let handle = recorder.handle();
        if let Err(e) = metrics::set_global_recorder(recorder) {
            tracing::warn!(error = %e, "another metrics recorder is installed; /metrics stays empty");
        }
        describe();
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the metrics upkeep thread; histograms fold at scrapes only");
        }
        handle
    })
}

fn describe() {
    describe_counter!(SCIM_REQUESTS, "SCIM requests answered, by operation and HTTP status");
    describe_histogram!(SCIM_DURATION, Unit::Seconds, "SCIM request latency, by operation");
    describe_counter!(SCIM_THROTTLED, "SCIM requests refused with 429: their organisation was over its rate");
    describe_histogram!(group_commit::BATCH_METRIC, "Writes committed together in one SQLite transaction");
    describe_histogram!(
        group_commit::WAIT_METRIC,
        Unit::Seconds,
        "Time from a write's queueing to its group commit"
    );
    describe_gauge!(POOL_CONNECTIONS, "Database pool connections, by state (in_use, idle)");
    describe_gauge!(POOL_MAX, "Database pool size limit");
    describe_gauge!(LOG_QUEUE, "Provisioning-log events waiting to be stored");
    describe_counter!(
        provisioning_log::DROPPED_METRIC,
        "Provisioning-log events dropped: the queue was full or its writer had stopped"
    );
    describe_counter!(
        group_commit::WAL_RESTART_METRIC,
        "Times SQLite's writer started the WAL over because writes never paused long enough for it to"
    );
    describe_counter!(domain::accounts::SIGN_INS_METRIC, "Console sign-ins, by method and outcome");
    describe_counter!(crate::sso::REFUSALS_METRIC, "SSO sign-ins refused, by reason");
    describe_gauge!(SESSIONS, "Unexpired sessions of signed-in people");
}

/// The metrics listener's routes (`--metrics-bind`): `/metrics`, unauthenticated.
pub fn router(state: AppState) -> Router {
    Router::new().route(PATH, get(scrape)).with_state(state)
}

/// `/metrics` on the public listener: only with `--metrics-token`, and only to its bearer.
pub async fn scrape_with_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.config.raw.metrics_token else { return StatusCode::NOT_FOUND.into_response() };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Digests first, so the comparison takes the same time whatever the lengths.
    let matches = Sha256::digest(given.trim().as_bytes()).ct_eq(&Sha256::digest(token.trim().as_bytes()));
    if !bool::from(matches) {
        let mut refused = StatusCode::UNAUTHORIZED.into_response();
        refused
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"scimpad-metrics\""));
        return refused;
    }
    scrape(State(state)).await
}

/// The current metrics, their state gauges read now.
async fn scrape(State(state): State<AppState>) -> Response {
    read_gauges(&state).await;
    let text = recorder().render();
    let content_type = "text/plain; version=0.0.4; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-store")], text).into_response()
}

async fn read_gauges(state: &AppState) {
    let pool = domain::db::pool_use(&state.db);
    metrics::gauge!(POOL_CONNECTIONS, "state" => "in_use")
        .set(f64::from(pool.open.saturating_sub(pool.idle)));
    metrics::gauge!(POOL_CONNECTIONS, "state" => "idle").set(f64::from(pool.idle));
    metrics::gauge!(POOL_MAX).set(f64::from(pool.max));
    metrics::gauge!(LOG_QUEUE)
        .set(f64::from(u32::try_from(state.provisioning_log.queued()).unwrap_or(u32::MAX)));
    match domain::session_store::signed_in_count(&state.db).await {
        Ok(sessions) => metrics::gauge!(SESSIONS).set(sessions as f64),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count sessions"),
    }
}
