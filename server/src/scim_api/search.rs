//! `POST /.search` at the root (RFC 7644 §3.4.3): one query over Users and Groups. Results are
//! Users first, then Groups, paged across both; a filter attribute one type does not have simply
//! matches none of that type.

use axum::{Extension, http::StatusCode};
use domain::{
    DomainError,
    directory::{Directory, MAX_PAGE_SIZE},
};
use scim::{ListQuery, ResourceKind, ScimError, ScimType};
use serde_json::Value;

use super::{
    Principal,
    resources::list_summary,
    wire::{ScimBody, ScimReply, ScimResult},
};

fn resources(page: &Value) -> Vec<Value> {
    page.get("Resources").and_then(Value::as_array).cloned().unwrap_or_default()
}

/// Lists one resource type, treating "unknown attribute" as "no matches".
fn matches(result: Result<Value, DomainError>) -> Result<Option<Value>, DomainError> {
    match result {
        Ok(page) => Ok(Some(page)),
        Err(DomainError::Rejected { rule: ScimType::InvalidFilter, detail })
            if detail.contains("unknown attribute") =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn total(page: &Option<Value>) -> u64 {
    page.as_ref().and_then(|p| p.get("totalResults")).and_then(Value::as_u64).unwrap_or(0)
}

/// Searches every resource type.
pub async fn root(Extension(p): Extension<Principal>, ScimBody(body): ScimBody) -> ScimResult {
    let query = ListQuery::from_search_body(&body, MAX_PAGE_SIZE)?;
    let users = matches(p.writer.list(&p.scope, ResourceKind::User, &query).await)?;
    let users_total = total(&users);
    // Groups continue where the users end.
    let skipped_into_groups = query.start_index.saturating_sub(1).saturating_sub(users_total);
    let taken = users.as_ref().map(|u| resources(u).len() as u64).unwrap_or(0);
    let remaining = query.count.map(|c| c.saturating_sub(taken));
    let group_query = ListQuery { start_index: skipped_into_groups + 1, count: remaining, ..query.clone() };
    let groups = matches(p.writer.list(&p.scope, ResourceKind::Group, &group_query).await)?;
    if users.is_none() && groups.is_none() {
        return Err(ScimError::invalid_filter("the filter names attributes of no resource type").into());
    }
    let mut all = users.as_ref().map(resources).unwrap_or_default();
    all.extend(groups.as_ref().map(resources).unwrap_or_default());
    if let Some(count) = query.count {
        all.truncate(count as usize);
    }
    let page = scim::list_response(users_total + total(&groups), query.start_index, all);
    Ok(ScimReply::json(StatusCode::OK, page.clone()).with_summary(list_summary(&query, &page)))
}
