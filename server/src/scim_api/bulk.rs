//! `POST /Bulk` (RFC 7644 §3.7): up to [`MAX_OPERATIONS`] operations in one request, run in
//! order through the same services as single requests. `bulkId:<id>` references in paths and
//! data resolve to the ids of resources created earlier in the request; `failOnErrors` stops
//! after that many failures. Each operation commits on its own, as §3.7 specifies.

use std::collections::HashMap;

use axum::{
    Extension,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use domain::directory::{Directory, Projection, Target, Written, etag};
use scim::{ResourceKind, ScimError, ScimType};
use serde_json::{Value, json};

use super::{
    LogNote, Principal,
    wire::{self, ScimBody, ScimReply, ScimResult},
};
use crate::state::AppState;

/// Operations accepted in one bulk request (advertised as `bulk.maxOperations`).
pub const MAX_OPERATIONS: usize = 1000;
const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// Replaces every `bulkId:<id>` string in `value` by the id it names.
fn resolve(value: &Value, ids: &HashMap<String, String>) -> Result<Value, ScimError> {
    Ok(match value {
        Value::String(s) => match s.strip_prefix("bulkId:") {
            Some(bulk_id) => json!(ids.get(bulk_id).ok_or_else(|| unresolved(bulk_id))?),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, ids)).collect::<Result<_, _>>()?),
        Value::Object(map) => Value::Object(
            map.iter().map(|(k, v)| Ok((k.clone(), resolve(v, ids)?))).collect::<Result<_, ScimError>>()?,
        ),
        other => other.clone(),
    })
}

fn unresolved(bulk_id: &str) -> ScimError {
    ScimError::new(
        409,
        Some(ScimType::InvalidValue),
        format!("bulkId \"{bulk_id}\" is not defined by an earlier operation"),
    )
}

fn resolve_path(path: &str, ids: &HashMap<String, String>) -> Result<String, ScimError> {
    match path.split_once("bulkId:") {
        Some((prefix, bulk_id)) => {
            Ok(format!("{prefix}{}", ids.get(bulk_id).ok_or_else(|| unresolved(bulk_id))?))
        }
        None => Ok(path.to_owned()),
    }
}

/// Runs one operation; `Ok((status, written))` or the SCIM error it failed with.
async fn run(
    p: &Principal,
    method: &str,
    path: &str,
    data: Option<&Value>,
) -> Result<(StatusCode, Option<Written>), ScimError> {
    let none = Projection::default();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let body = || data.ok_or_else(|| ScimError::invalid_syntax(format!("{method} {path} needs \"data\"")));
    let kind = |endpoint: &str| match endpoint {
        "Users" => Some(ResourceKind::User),
        "Groups" => Some(ResourceKind::Group),
        _ => None,
    };
    let unsupported = || ScimError::invalid_path(format!("bulk cannot run {method} {path}"));
    let (db, s) = (&p.writer, &p.scope);
    let method = method.to_ascii_uppercase();
    match (method.as_str(), segments.as_slice()) {
        ("POST", [endpoint]) => {
            let kind = kind(endpoint).ok_or_else(unsupported)?;
            let written = db.create(s, kind, body()?, &none).await.map_err(wire::scim_error)?;
            Ok((StatusCode::CREATED, Some(written)))
        }
        (verb @ ("PUT" | "PATCH" | "DELETE"), [endpoint, id]) => {
            let kind = kind(endpoint).ok_or_else(unsupported)?;
            let target = Target { kind, id, if_match: None };
            let written = match verb {
                "PUT" => Some(db.replace(s, target, body()?, &none).await),
                "PATCH" => Some(db.patch(s, target, body()?, &none).await),
                _ => None,
            };
            match written {
                Some(written) => Ok((StatusCode::OK, Some(written.map_err(wire::about(kind, id))?))),
                None => {
                    db.delete(s, target).await.map_err(wire::about(kind, id))?;
                    Ok((StatusCode::NO_CONTENT, None))
                }
            }
        }
        _ => Err(unsupported()),
    }
}

/// Handles a bulk request. Each operation beyond the first also spends the organisation's
/// request budget (`rate_limit`), as it would sent on its own.
pub async fn bulk(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    ScimBody(body): ScimBody,
) -> Response {
    // A request over `MAX_OPERATIONS` is refused below without running anything: no charge.
    let count = body.get("Operations").and_then(Value::as_array).map_or(0, Vec::len);
    let extra = if count > MAX_OPERATIONS { 0 } else { count.saturating_sub(1) };
    if let Err(refusal) = st.scim_rate.check_more(&p.key.org_id, extra) {
        return super::too_many_requests(refusal).await;
    }
    match run_all(&p, &body).await {
        Ok(reply) => reply.into_response(),
        Err(failure) => failure.into_response(),
    }
}

async fn run_all(p: &Principal, body: &Value) -> ScimResult {
    let schemas = body.get("schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| s.iter().any(|v| v.as_str() == Some(BULK_REQUEST))) {
        return Err(
            ScimError::invalid_syntax(format!("a bulk request needs the schema {BULK_REQUEST}")).into()
        );
    }
    let operations = body
        .get("Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("a bulk request needs an \"Operations\" array"))?;
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::payload_too_large(format!(
            "at most {MAX_OPERATIONS} operations per bulk request"
        ))
        .into());
    }
    let fail_on_errors = body.get("failOnErrors").and_then(Value::as_u64).unwrap_or(u64::MAX);
    let mut ids: HashMap<String, String> = HashMap::new();
    let (mut results, mut errors) = (Vec::new(), 0u64);
    for op in operations {
        let method = op.get("method").and_then(Value::as_str).unwrap_or_default().to_owned();
        let bulk_id = op.get("bulkId").and_then(Value::as_str).map(str::to_owned);
        let path = op.get("path").and_then(Value::as_str).unwrap_or_default();
        let outcome = async {
            let path = resolve_path(path, &ids)?;
            let data = op.get("data").map(|d| resolve(d, &ids)).transpose()?;
            run(p, &method, &path, data.as_ref()).await
        }
        .await;
        let mut result = json!({"method": method});
        if let Some(b) = &bulk_id {
            result["bulkId"] = json!(b);
        }
        match outcome {
            Ok((status, written)) => {
                result["status"] = json!(status.as_u16().to_string());
                if let Some(w) = written {
                    if let (Some(b), true) = (&bulk_id, status == StatusCode::CREATED) {
                        ids.insert(b.clone(), w.id.clone());
                    }
                    result["location"] = w.resource.pointer("/meta/location").cloned().unwrap_or(Value::Null);
                    result["version"] = json!(etag(w.version));
                }
            }
            Err(e) => {
                errors += 1;
                result["status"] = json!(e.status.to_string());
                result["response"] = e.to_json();
            }
        }
        results.push(result);
        if errors >= fail_on_errors {
            break;
        }
    }
    let summary = format!("{} operation(s), {} failed", results.len(), errors);
    let mut reply =
        ScimReply::json(StatusCode::OK, json!({"schemas": [BULK_RESPONSE], "Operations": results}));
    reply.note = Some(LogNote { resource_id: None, summary });
    Ok(reply)
}
