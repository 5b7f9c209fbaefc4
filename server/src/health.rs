//! Health endpoints for load balancers and orchestrators: `/healthz` says the process is up,
//! `/readyz` says whether it should get traffic, and why not: its database must answer, its
//! SCIM writer and provisioning-log writer must be running, and it must not be stopping (after
//! the stop signal it answers 503 for `--drain-seconds` while it still serves, so a load
//! balancer takes it out of rotation before connections are refused).

use std::sync::atomic::Ordering;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use crate::state::AppState;

/// The process is up.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Ready for traffic: 200 with every check `ok`, else 503 naming the checks that failed.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database = match state.db.ping().await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: the database does not answer");
            false
        }
    };
    let writer = state.writer.is_running();
    let log = state.provisioning_log.is_open();
    let draining = state.draining.load(Ordering::Relaxed);
    let ready = database && writer && log && !draining;
    let status = match (ready, draining) {
        (true, _) => "ready",
        (false, true) => "draining",
        (false, false) => "unavailable",
    };
    let said = |ok: bool, failed: &'static str| if ok { "ok" } else { failed };
    let body = json!({
        "status": status,
        "database": said(database, "unreachable"),
        "writer": said(writer, "stopped"),
        "log": said(log, "stopped"),
    });
    let code = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(body))
}
