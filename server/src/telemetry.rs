//! Logging: `tracing` to stderr (stdout stays clean for command output such as a new API key),
//! one span per request carrying a request id (taken from an incoming `x-request-id` or
//! generated) that is also returned to the client, and, on SCIM requests, the organisation and
//! the operation once the API key is known; one line per response with its status and latency.
//! As text for people, or as JSON (`--log-format json`, one object per line with the span's
//! fields flattened in) for log pipelines. Only the path is logged, never the query (reset and
//! invitation tokens travel there) or a header.

use axum::{http::Request, middleware::Next, response::Response};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::{Level, Span};

use crate::config::LogFormat;

/// Installs the global subscriber with `filter` (validated by the config beforehand), writing
/// `format`.
pub fn init(filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into());
    let lines =
        tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr);
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = match format {
        LogFormat::Text => lines.try_init(),
        LogFormat::Json => {
            lines.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init()
        }
    };
}

/// Sets `x-request-id` on the request (if absent) …
pub fn set_request_id() -> SetRequestIdLayer<MakeRequestUuid> {
    SetRequestIdLayer::x_request_id(MakeRequestUuid)
}

/// … and copies it onto the response.
pub fn propagate_request_id() -> PropagateRequestIdLayer {
    PropagateRequestIdLayer::x_request_id()
}

/// The request's span, for what is known only later to be recorded on it (a SCIM request's
/// organisation and operation): by then the current span may be a library's span inside it.
#[derive(Clone, Debug)]
pub struct RequestSpan(pub Span);

/// Puts the request's span in its extensions; runs just inside [`trace_layer`], where the
/// request's span is the current one.
pub async fn remember_span(mut req: Request<axum::body::Body>, next: Next) -> Response {
    req.extensions_mut().insert(RequestSpan(Span::current()));
    next.run(req).await
}

/// A span per request with method, path and request id; each response logged at INFO.
pub fn trace_layer() -> TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    impl Fn(&Request<axum::body::Body>) -> Span + Clone,
> {
    TraceLayer::new_for_http().on_response(DefaultOnResponse::new().level(Level::INFO)).make_span_with(
        |req: &Request<axum::body::Body>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!(
                "request",
                method = %req.method(),
                path = %req.uri().path(),
                request_id = %id,
                org_id = tracing::field::Empty,
                operation = tracing::field::Empty,
            )
        },
    )
}
