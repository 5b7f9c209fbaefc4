//! CSV exports of the console's Users page and provisioning log (plain axum GET routes, since a
//! download is a file, not a server function's answer): exactly the rows the page's current
//! filters select, on every page, as a streamed `text/csv` attachment.
//!
//! Paths and filter parameter names are defined once, in [`app::routes`], which the pages' export
//! links use too; the filters are parsed by the same domain functions as the pages' server
//! functions (`UserFilter::parse`, `LogFilter::parse`), so a page and its export cannot disagree on
//! which rows match, and a value the page would refuse is a 400 here, with a message that says
//! which parameter is wrong. Parameters the export does not use (the page's sort and page number)
//! are ignored: users come in `userName` order, log events newest first.
//!
//! Authentication is the console's: a signed-out request is redirected to the sign-in page by
//! `auth::authenticate` like every console page, a member who is not an admin gets 403, and the
//! rows are always the signed-in admin's organisation's.

mod cell;
mod sheets;
mod stream;

use app::routes;
use axum::{
    Extension, Router,
    extract::{Query, State, rejection::QueryRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use domain::{
    DomainError,
    accounts::Actor,
    activity::LogFilter,
    browse::UserFilter,
    export::{LogExport, UserExport},
};
use serde::Deserialize;

use crate::state::AppState;

/// The export routes.
pub fn router() -> Router<AppState> {
    Router::new().route(routes::USERS_EXPORT, get(export_users)).route(routes::LOG_EXPORT, get(export_log))
}

/// Why an export was not answered with its file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExportError {
    /// Nobody is signed in (the authentication middleware normally redirects first).
    #[error("sign in to export")]
    SignedOut,
    /// A query parameter the export cannot use; the message names it.
    #[error("{0}")]
    BadQuery(String),
    #[error("only admins of the organisation can export its directory and provisioning log")]
    Forbidden,
    /// Reading the rows failed; logged, never shown.
    #[error("the export failed")]
    Failed(#[source] DomainError),
    /// Writing the CSV failed; logged, never shown.
    #[error("the export failed")]
    Encoding(#[source] csv::Error),
}

impl From<DomainError> for ExportError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, message } => Self::BadQuery(format!("{field}: {message}")),
            DomainError::Forbidden => Self::Forbidden,
            e => Self::Failed(e),
        }
    }
}

impl IntoResponse for ExportError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::SignedOut => return Redirect::to("/signin").into_response(),
            Self::BadQuery(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Failed(e) => {
                tracing::error!(error = %e, "export failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::Encoding(e) => {
                tracing::error!(error = %e, "export failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let headers =
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-store")];
        (status, headers, format!("{self}\n")).into_response()
    }
}

/// The signed-in actor and the query's parameters, or why the request cannot be served.
fn signed_in<T>(
    actor: Option<Extension<Actor>>,
    query: Result<Query<T>, QueryRejection>,
) -> Result<(Actor, T), ExportError> {
    let Some(Extension(actor)) = actor else { return Err(ExportError::SignedOut) };
    let Query(params) = query.map_err(|e| ExportError::BadQuery(e.body_text()))?;
    Ok((actor, params))
}

/// The Users page's filters ([`routes::USER_FILTERS`]).
#[derive(Debug, Deserialize)]
struct UserParams {
    q: Option<String>,
    status: Option<String>,
    source: Option<String>,
    role: Option<String>,
}

/// `GET /export/users.csv`: the users the Users page's filters select.
async fn export_users(
    State(state): State<AppState>,
    actor: Option<Extension<Actor>>,
    query: Result<Query<UserParams>, QueryRejection>,
) -> Result<Response, ExportError> {
    let (actor, p) = signed_in(actor, query)?;
    let filter =
        UserFilter::parse(p.q.as_deref(), p.status.as_deref(), p.source.as_deref(), p.role.as_deref())?;
    stream::csv_response(state.read.clone(), UserExport::new(&actor, filter)?).await
}

/// The provisioning log's filters ([`routes::LOG_FILTERS`]).
#[derive(Debug, Deserialize)]
struct LogParams {
    result: Option<String>,
    operation: Option<String>,
    resource: Option<String>,
    key: Option<String>,
}

/// `GET /export/log.csv`: the provisioning-log events the log page's filters select.
async fn export_log(
    State(state): State<AppState>,
    actor: Option<Extension<Actor>>,
    query: Result<Query<LogParams>, QueryRejection>,
) -> Result<Response, ExportError> {
    let (actor, p) = signed_in(actor, query)?;
    let filter = LogFilter::parse(
        p.result.as_deref(),
        p.operation.as_deref(),
        p.resource.as_deref(),
        p.key.as_deref(),
    )?;
    stream::csv_response(state.read.clone(), LogExport::new(&state.db, &actor, filter).await?).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every parameter the pages' export links carry is one the export reads.
    #[test]
    fn the_export_reads_every_filter_the_console_links_carry() {
        let query = |names: &[&str]| names.iter().map(|n| format!("{n}=x")).collect::<Vec<_>>().join("&");
        let uri = |names: &[&str]| format!("http://h/?{}", query(names)).parse::<axum::http::Uri>().unwrap();
        let Query(users) = Query::<UserParams>::try_from_uri(&uri(routes::USER_FILTERS)).unwrap();
        assert!([users.q, users.status, users.source, users.role].iter().all(|v| v.as_deref() == Some("x")));
        let Query(log) = Query::<LogParams>::try_from_uri(&uri(routes::LOG_FILTERS)).unwrap();
        assert!([log.result, log.operation, log.resource, log.key].iter().all(|v| v.as_deref() == Some("x")));
    }
}
