//! Users and Groups endpoints (RFC 7644 §3.3–§3.6), written once over the [`Directory`] trait so
//! both resource types behave identically: list/filter/sort/page, `.search`, create (201 with
//! `Location`), get (ETag, `If-None-Match` → 304), replace, patch, delete (204), `If-Match` → 412.

use std::future::Future;

use axum::{
    Extension, Router,
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use domain::{
    directory::{self, Projection, ScimResult as DomainScim, Scope, Written},
    group_commit::Writer,
    store::Reader,
};
use scim::{ListQuery, ResourceKind};
use serde_json::Value;

use super::{
    LogNote, Principal,
    wire::{self, ResourceId, ScimBody, ScimReply, ScimResult},
};
use crate::state::AppState;

/// One SCIM resource type's storage operations.
pub trait Directory: Send + Sync + 'static {
    const KIND: ResourceKind;
    fn create(
        w: &Writer,
        s: &Scope,
        body: &Value,
        p: &Projection,
    ) -> impl Future<Output = DomainScim<Written>> + Send;
    fn get(
        db: &Reader,
        s: &Scope,
        id: &str,
        p: &Projection,
    ) -> impl Future<Output = DomainScim<Written>> + Send;
    fn replace(
        w: &Writer,
        s: &Scope,
        id: &str,
        body: &Value,
        m: Option<&str>,
        p: &Projection,
    ) -> impl Future<Output = DomainScim<Written>> + Send;
    fn patch(
        w: &Writer,
        s: &Scope,
        id: &str,
        body: &Value,
        m: Option<&str>,
        p: &Projection,
    ) -> impl Future<Output = DomainScim<Written>> + Send;
    fn delete(
        w: &Writer,
        s: &Scope,
        id: &str,
        m: Option<&str>,
    ) -> impl Future<Output = DomainScim<String>> + Send;
    fn list(db: &Reader, s: &Scope, q: &ListQuery) -> impl Future<Output = DomainScim<Value>> + Send;
}

macro_rules! directory {
    ($name:ident, $kind:expr, $module:ident) => {
        /// The resource type served by `domain::directory::
        #[doc = stringify!($module)]
        /// `.
        pub struct $name;

        impl Directory for $name {
            const KIND: ResourceKind = $kind;
            fn create(
                w: &Writer,
                s: &Scope,
                body: &Value,
                p: &Projection,
            ) -> impl Future<Output = DomainScim<Written>> + Send {
                directory::$module::create(w, s, body, p)
            }
            fn get(
                db: &Reader,
                s: &Scope,
                id: &str,
                p: &Projection,
            ) -> impl Future<Output = DomainScim<Written>> + Send {
                let (db, s, id, p) = (db.clone(), s.clone(), id.to_owned(), p.clone());
                async move {
                    directory::read(&db, move |c| {
                        Box::pin(async move { directory::$module::get(c, &s, &id, &p).await })
                    })
                    .await
                }
            }
            fn replace(
                w: &Writer,
                s: &Scope,
                id: &str,
                body: &Value,
                m: Option<&str>,
                p: &Projection,
            ) -> impl Future<Output = DomainScim<Written>> + Send {
                directory::$module::replace(w, s, id, body, m, p)
            }
            fn patch(
                w: &Writer,
                s: &Scope,
                id: &str,
                body: &Value,
                m: Option<&str>,
                p: &Projection,
            ) -> impl Future<Output = DomainScim<Written>> + Send {
                directory::$module::patch(w, s, id, body, m, p)
            }
            fn delete(
                w: &Writer,
                s: &Scope,
                id: &str,
                m: Option<&str>,
            ) -> impl Future<Output = DomainScim<String>> + Send {
                directory::$module::delete(w, s, id, m)
            }
            fn list(db: &Reader, s: &Scope, q: &ListQuery) -> impl Future<Output = DomainScim<Value>> + Send {
                let (db, s, q) = (db.clone(), s.clone(), q.clone());
                async move {
                    directory::read(&db, move |c| {
                        Box::pin(async move { directory::$module::list(c, &s, &q).await })
                    })
                    .await
                }
            }
        }
    };
}

directory!(Users, ResourceKind::User, users);
directory!(Groups, ResourceKind::Group, groups);

/// The routes of resource type `D`.
pub fn routes<D: Directory>() -> Router<AppState> {
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

async fn list<D: Directory>(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    RawQuery(q): RawQuery,
) -> ScimResult {
    let query = wire::list_query(q.as_deref())?;
    let body = D::list(&st.read, &p.scope, &query).await?;
    let summary = list_summary(&query, &body);
    Ok(ScimReply::json(StatusCode::OK, body).with_summary(summary))
}

async fn search<D: Directory>(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    ScimBody(body): ScimBody,
) -> ScimResult {
    let query = ListQuery::from_search_body(&body, directory::MAX_PAGE_SIZE)?;
    let body = D::list(&st.read, &p.scope, &query).await?;
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

async fn create<D: Directory>(
    Extension(p): Extension<Principal>,
    RawQuery(q): RawQuery,
    ScimBody(body): ScimBody,
) -> ScimResult {
    let projection = wire::projection(q.as_deref())?;
    let written = D::create(&p.writer, &p.scope, &body, &projection).await?;
    Ok(noted(ScimReply::created(&written), &written))
}

async fn get_one<D: Directory>(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    ResourceId(id): ResourceId,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ScimResult {
    let projection = wire::projection(q.as_deref())?;
    let written = D::get(&st.read, &p.scope, &id, &projection).await?;
    if wire::not_modified(&headers, written.version) {
        return Ok(ScimReply::empty(StatusCode::NOT_MODIFIED));
    }
    Ok(ScimReply::resource(StatusCode::OK, &written))
}

async fn replace<D: Directory>(
    Extension(p): Extension<Principal>,
    ResourceId(id): ResourceId,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> ScimResult {
    let projection = wire::projection(q.as_deref())?;
    let written = D::replace(&p.writer, &p.scope, &id, &body, wire::if_match(&headers), &projection).await?;
    Ok(noted(ScimReply::resource(StatusCode::OK, &written), &written))
}

/// PATCH answers 200 with the resource (RFC 7644 §3.5.2). For groups without an explicit
/// `attributes`/`excludedAttributes` it answers 204 instead (which §3.5.2 also allows): Entra
/// advises against returning every member after each membership change, and the cost of a member
/// PATCH must not grow with the group.
async fn patch<D: Directory>(
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
    let written = D::patch(&p.writer, &p.scope, &id, &body, wire::if_match(&headers), &projection).await?;
    let reply = if no_content {
        ScimReply::empty(StatusCode::NO_CONTENT)
    } else {
        ScimReply::resource(StatusCode::OK, &written)
    };
    Ok(noted(reply, &written))
}

async fn delete<D: Directory>(
    Extension(p): Extension<Principal>,
    ResourceId(id): ResourceId,
    headers: HeaderMap,
) -> ScimResult {
    let summary = D::delete(&p.writer, &p.scope, &id, wire::if_match(&headers)).await?;
    Ok(ScimReply::empty(StatusCode::NO_CONTENT).with_summary(summary))
}
