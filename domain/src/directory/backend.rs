//! The directory as the product uses it: the operations of RFC 7644 §3.3–§3.6 on either resource
//! type, in the shape of lldap's `*BackendHandler` traits (see `style.md`). The SCIM endpoints and
//! Bulk call this trait and nothing below it; they pass the resource type as a value, so the
//! storage functions of `users` and `groups` are chosen in one place.
//!
//! It is implemented once, for every [`Writes`]: a store that runs transactions and has a
//! [`Reader`](crate::store::Reader) beside them. On SQLite that is the group-commit writer and
//! the reader threads; on PostgreSQL, transactions and reads on one SeaORM pool. Reads run whole
//! through [`read`], so no SQLite statement runs on a tokio worker.

use std::future::Future;

use scim::{ListQuery, ResourceKind};
use serde_json::Value;

use super::{Projection, Scope, Written, groups, read, users};
use crate::{error::DomainResult, group_commit::Writes};

/// What a request asks of a resource it names: its id and the `If-Match` it sent.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub kind: ResourceKind,
    pub id: &'a str,
    /// The request's `If-Match` header (RFC 7644 §3.14), checked against the stored version.
    pub if_match: Option<&'a str>,
}

/// An organisation's users and groups (the organisation is the [`Scope`]'s).
pub trait Directory: Send + Sync {
    /// Creates a resource from a POSTed body (§3.3).
    fn create(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        body: &Value,
        projection: &Projection,
    ) -> impl Future<Output = DomainResult<Written>> + Send;

    /// One resource by id (§3.4.1); another organisation's id is not found.
    fn get(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        projection: &Projection,
    ) -> impl Future<Output = DomainResult<Written>> + Send;

    /// Replaces a resource with a PUT body (§3.5.1).
    fn replace(
        &self,
        scope: &Scope,
        target: Target<'_>,
        body: &Value,
        projection: &Projection,
    ) -> impl Future<Output = DomainResult<Written>> + Send;

    /// Applies a PATCH request, atomically (§3.5.2).
    fn patch(
        &self,
        scope: &Scope,
        target: Target<'_>,
        body: &Value,
        projection: &Projection,
    ) -> impl Future<Output = DomainResult<Written>> + Send;

    /// Deletes a resource (§3.6); returns the provisioning log's summary.
    fn delete(&self, scope: &Scope, target: Target<'_>) -> impl Future<Output = DomainResult<String>> + Send;

    /// A filtered, sorted page as a `ListResponse` (§3.4.2).
    fn list(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> impl Future<Output = DomainResult<Value>> + Send;
}

impl<W: Writes> Directory for W {
    async fn create(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        body: &Value,
        projection: &Projection,
    ) -> DomainResult<Written> {
        match kind {
            ResourceKind::User => users::create(self, scope, body, projection).await,
            ResourceKind::Group => groups::create(self, scope, body, projection).await,
        }
    }

    async fn get(
        &self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        projection: &Projection,
    ) -> DomainResult<Written> {
        let (scope, id, projection) = (scope.clone(), id.to_owned(), projection.clone());
        read(&self.reader(), move |c| {
            Box::pin(async move {
                match kind {
                    ResourceKind::User => users::get(c, &scope, &id, &projection).await,
                    ResourceKind::Group => groups::get(c, &scope, &id, &projection).await,
                }
            })
        })
        .await
    }

    async fn replace(
        &self,
        scope: &Scope,
        target: Target<'_>,
        body: &Value,
        projection: &Projection,
    ) -> DomainResult<Written> {
        let Target { kind, id, if_match } = target;
        match kind {
            ResourceKind::User => users::replace(self, scope, id, body, if_match, projection).await,
            ResourceKind::Group => groups::replace(self, scope, id, body, if_match, projection).await,
        }
    }

    async fn patch(
        &self,
        scope: &Scope,
        target: Target<'_>,
        body: &Value,
        projection: &Projection,
    ) -> DomainResult<Written> {
        let Target { kind, id, if_match } = target;
        match kind {
            ResourceKind::User => users::patch(self, scope, id, body, if_match, projection).await,
            ResourceKind::Group => groups::patch(self, scope, id, body, if_match, projection).await,
        }
    }

    async fn delete(&self, scope: &Scope, target: Target<'_>) -> DomainResult<String> {
        let Target { kind, id, if_match } = target;
        match kind {
            ResourceKind::User => users::delete(self, scope, id, if_match).await,
            ResourceKind::Group => groups::delete(self, scope, id, if_match).await,
        }
    }

    async fn list(&self, scope: &Scope, kind: ResourceKind, query: &ListQuery) -> DomainResult<Value> {
        let (scope, query) = (scope.clone(), query.clone());
        read(&self.reader(), move |c| {
            Box::pin(async move {
                match kind {
                    ResourceKind::User => users::list(c, &scope, &query).await,
                    ResourceKind::Group => groups::list(c, &scope, &query).await,
                }
            })
        })
        .await
    }
}
