//! Users and Groups endpoints (RFC 7644 §3.3–§3.6), written once over the domain's
//! [`Directory`] so both resource types behave identically: list/filter/sort/page, `.search`,
//! create (201 with `Location`), get (ETag, `If-None-Match` → 304), replace, patch, delete (204),
//! `If-Match` → 412. Handlers only translate: HTTP in, a `Directory` call, HTTP out.

use axum::{
    Extension, Router,
    extract::RawQuery,
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use domain::directory::{self, Directory, Target, Written};
use scim::{ListQuery, ResourceKind};
use serde_json::Value;

use super::{
    LogNote, Principal,
    wire::{self, ResourceId, ScimBody, ScimReply, ScimResult, about},
};
use crate::state::AppState;

/// A resource type's routes, one set of handlers per type (axum handlers take no kind argument).
pub trait Served: Send + Sync + 'static {
    const KIND: ResourceKind;
}

/// `/Users`.
pub struct Users;
/// `/Groups`.
pub struct Groups;

impl Served for Users {
    const KIND: ResourceKind = ResourceKind::User;
}

impl Served for Groups {
    const KIND: ResourceKind = ResourceKind::Group;
}

fn target<'a, D: Served>(id: &'a str, headers: &'a HeaderMap) -> Target<'a> {
    Target { kind: D::KIND, id, if_match: wire::if_match(headers) }
}

/// The routes of resource type `D`.
pub fn routes<D: Served>() -> Router<AppState> {
    let base = D::KIND.endpoint();
    Router::new()
        .route(base, get(list::<D>).post(create::<D>))
        .route(&format!("{base}/.search"), post(search::<D>))
        .route(
            &format!("{base}/{{id}}"),
            get(get_one::<D>).put(replace::<D>).patch(patch::<D>).delete(delete::<D>),
        )
}

fn noted(mut reply: ScimReply, written: &Written) -> ScimReply {
    reply.note = Some(LogNote { resource_id: Some(written.id.clone()), summary: written.summary.clone() });
    reply
}

async fn list<D: Served>(Extension(p): Extension<Principal>, RawQuery(q): RawQuery) -> ScimResult {
    let query = wire::list_query(q.as_deref())?;
    let body = p.writer.list(&p.scope, D::KIND, &query).await?;
    let summary = list_summary(&query, &body);
    Ok(ScimReply::json(StatusCode::OK, body).with_summary(summary))
}

async fn search<D: Served>(Extension(p): Extension<Principal>, ScimBody(body): ScimBody) -> ScimResult {
    let query = ListQuery::from_search_body(&body, directory::MAX_PAGE_SIZE)?;
    let body = p.writer.list(&p.scope, D::KIND, &query).await?;
    let summary = list_summary(&query, &body);
    Ok(ScimReply::json(StatusCode::OK, body).with_summary(summary))
}

/// "filter … → N results" for the provisioning log (Entra's Test Connection shows as 0 results).
pub fn list_summary(query: &ListQuery, body: &Value) -> String {
    let total = body.get("totalResults").and_then(Value::as_u64).unwrap_or(0);
    match &query.filter {
        Some(f) => format!("filter {f} → {total} result(s)"),
        None => format!("listed {total} result(s) from {}", query.start_index),
    }
}

async fn create<D: Served>(
    Extension(p): Extension<Principal>,
    RawQuery(q): RawQuery,
    ScimBody(body): ScimBody,
) -> ScimResult {
    let projection = wire::projection(q.as_deref())?;
    let written = p.writer.create(&p.scope, D::KIND, &body, &projection).await?;
    Ok(noted(ScimReply::created(&written), &written))
}

async fn get_one<D: Served>(
    Extension(p): Extension<Principal>,
    ResourceId(id): ResourceId,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ScimResult {
    let projection = wire::projection(q.as_deref())?;
    let written = p.writer.get(&p.scope, D::KIND, &id, &projection).await.map_err(about(D::KIND, &id))?;
    if wire::not_modified(&headers, written.version) {
        return Ok(ScimReply::empty(StatusCode::NOT_MODIFIED));
    }
    Ok(ScimReply::resource(StatusCode::OK, &written))
}

async fn replace<D: Served>(
    Extension(p): Extension<Principal>,
    ResourceId(id): ResourceId,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult {
    let projection = wire::projection(q.as_deref())?;
    let written = p
        .writer
        .replace(&p.scope, target::<D>(&id, &headers), &body, &projection)
        .await
        .map_err(about(D::KIND, &id))?;
    Ok(noted(ScimReply::resource(StatusCode::OK, &written), &written))
}

/// PATCH answers 200 with the resource (RFC 7644 §3.5.2). For groups without an explicit
/// `attributes`/`excludedAttributes` it answers 204 instead (which §3.5.2 also allows): Entra
/// advises against returning every member after each membership change, and the cost of a member
/// PATCH must not grow with the group.
async fn patch<D: Served>(
    Extension(p): Extension<Principal>,
    ResourceId(id): ResourceId,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult {
    let mut projection = wire::projection(q.as_deref())?;
    let no_content =
        D::KIND == ResourceKind::Group && projection.attributes.is_empty() && projection.excluded.is_empty();
    if no_content {
        projection.excluded.push(scim::AttrPath::new("members"));
    }
    let written = p
        .writer
        .patch(&p.scope, target::<D>(&id, &headers), &body, &projection)
        .await
        .map_err(about(D::KIND, &id))?;
    let reply = if no_content {
        ScimReply::empty(StatusCode::NO_CONTENT)
    } else {
        ScimReply::resource(StatusCode::OK, &written)
    };
    Ok(noted(reply, &written))
}

async fn delete<D: Served>(
    Extension(p): Extension<Principal>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
) -> ScimResult {
    let summary = p.writer.delete(&p.scope, target::<D>(&id, &headers)).await.map_err(about(D::KIND, &id))?;
    Ok(ScimReply::empty(StatusCode::NO_CONTENT).with_summary(summary))
}
