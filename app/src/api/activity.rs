//! Provisioning activity for the console: the log page, the activity chart and the dashboard
//! overview. The DTOs live here, free of database types (the wasm build never sees `domain`).
//! Times travel as RFC 3339 strings (as elsewhere in the console); what needs the clock — chart
//! labels, "5 minutes ago" — is worked out on the server, so rendered and hydrated text agree.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One SCIM request as the log shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    pub method: String,
    pub path: String,
    pub operation: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub summary: String,
    pub status: u16,
    pub scim_type: Option<String>,
    pub detail: Option<String>,
    pub duration_ms: i32,
    /// The name of the key the request used (or named, when refused).
    pub key: Option<String>,
}

impl LogEntry {
    /// Whether the request failed (4xx/5xx).
    pub fn is_error(&self) -> bool {
        self.status >= 400
    }
}

/// An API key the log can be filtered by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyOption {
    pub id: String,
    /// Name and recognisable prefix, e.g. `Entra (scimpad_ab12…)`, marked when revoked.
    pub label: String,
}

/// One page of the provisioning log, with what the filter form offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
    pub operations: Vec<String>,
    pub resource_types: Vec<String>,
    pub keys: Vec<KeyOption>,
}

/// Requests in one bar of the activity chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartBucket {
    /// e.g. `14:00` or `Wed 10 Dec` (UTC).
    pub label: String,
    pub success: u64,
    pub errors: u64,
}

/// The activity chart's two series, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivitySeries {
    pub hourly: Vec<ChartBucket>,
    pub daily: Vec<ChartBucket>,
}

/// What the dashboard shows an admin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub active_users: u64,
    pub deactivated_users: u64,
    pub groups: u64,
    /// RFC 3339.
    pub last_success: Option<String>,
    /// e.g. `5 minutes ago`.
    pub last_success_ago: Option<String>,
    pub errors_last_24h: u64,
    pub key_created: bool,
    /// A SCIM request has succeeded: Entra reaches Scimpad with a valid key.
    pub request_succeeded: bool,
    /// Requests arrive but none has succeeded yet.
    pub only_failures: bool,
    pub user_provisioned: bool,
}

/// A page of the provisioning log; blank filters mean "any", `page` is 1-based.
#[server(prefix = "/api", endpoint = "provisioning_log")]
pub async fn provisioning_log(
    result: Option<String>,
    operation: Option<String>,
    resource: Option<String>,
    key: Option<String>,
    page: Option<u64>,
) -> Result<LogPage, AppError> {
    use domain::activity::{self, LogFilter, OPERATIONS, RESOURCE_TYPES};

    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let filter =
        LogFilter::parse(result.as_deref(), operation.as_deref(), resource.as_deref(), key.as_deref())
            .map_err(into_app_error)?;
    let log =
        activity::log_page(&ctx.db, &actor, &filter, page.unwrap_or(1)).await.map_err(into_app_error)?;
    let keys = domain::api_keys::list(&ctx.db, &actor).await.map_err(into_app_error)?;
    let key_name = |id: &str| keys.iter().find(|k| k.id == id).map(|k| k.name.clone());
    let entries = log
        .events
        .into_iter()
        .map(|e| LogEntry {
            at: domain::clock::to_rfc3339(e.at),
            key: e.api_key_id.as_deref().and_then(key_name),
            id: e.id,
            method: e.method,
            path: e.path,
            operation: e.operation,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            summary: e.summary,
            status: u16::try_from(e.status).unwrap_or_default(),
            scim_type: e.scim_type,
            detail: e.detail,
            duration_ms: e.duration_ms,
        })
        .collect();
    let keys = keys
        .iter()
        .map(|k| KeyOption {
            id: k.id.clone(),
            label: format!(
                "{} ({}){}",
                k.name,
                k.prefix,
                if k.revoked_at.is_some() { ", revoked" } else { "" }
            ),
        })
        .collect();
    Ok(LogPage {
        entries,
        total: log.total,
        page: log.page,
        page_size: log.page_size,
        operations: OPERATIONS.iter().map(|s| (*s).to_owned()).collect(),
        resource_types: RESOURCE_TYPES.iter().map(|s| (*s).to_owned()).collect(),
        keys,
    })
}

/// Requests per hour over the last 24 hours and per day over the last 7 days.
#[server(prefix = "/api", endpoint = "activity_chart")]
pub async fn activity_chart() -> Result<ActivitySeries, AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let now = domain::clock::now_ms();
    let chart = domain::activity::activity(&ctx.db, &actor, now).await.map_err(into_app_error)?;
    let series = |buckets: Vec<domain::activity::Bucket>, label: fn(i64) -> String| {
        buckets
            .into_iter()
            .map(|b| ChartBucket { label: label(b.start), success: b.success, errors: b.errors })
            .collect()
    };
    Ok(ActivitySeries { hourly: series(chart.hourly, format::hour), daily: series(chart.daily, format::day) })
}

/// The dashboard's counts, provisioning health and setup progress.
#[server(prefix = "/api", endpoint = "dashboard_overview")]
pub async fn dashboard_overview() -> Result<Overview, AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let now = domain::clock::now_ms();
    let o = domain::activity::overview(&ctx.db, &actor, now).await.map_err(into_app_error)?;
    Ok(Overview {
        active_users: o.active_users,
        deactivated_users: o.deactivated_users,
        groups: o.groups,
        last_success: o.last_success_at.map(domain::clock::to_rfc3339),
        last_success_ago: o.last_success_at.map(|at| format::ago(now - at)),
        errors_last_24h: o.errors_last_24h,
        key_created: o.api_keys > 0,
        request_succeeded: o.last_success_at.is_some(),
        only_failures: o.last_success_at.is_none() && o.last_request_at.is_some(),
        user_provisioned: o.active_users + o.deactivated_users > 0,
    })
}

/// Chart labels (UTC) and ages, made where the clock is.
#[cfg(feature = "ssr")]
mod format {
    use domain::clock::to_rfc3339;

    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// `14:00`: the start of an hourly bucket.
    pub fn hour(ms: i64) -> String {
        to_rfc3339(ms)[11..16].to_owned()
    }

    /// `Wed 10 Dec`: a daily bucket (1970-01-01 was a Thursday).
    pub fn day(ms: i64) -> String {
        let iso = to_rfc3339(ms);
        let weekday = WEEKDAYS[ms.div_euclid(86_400_000).rem_euclid(7) as usize];
        let month = iso[5..7].parse::<usize>().ok().and_then(|m| MONTHS.get(m - 1)).copied().unwrap_or("");
        format!("{weekday} {} {month}", iso[8..10].trim_start_matches('0'))
    }

    /// `5 minutes ago`, coarsely.
    pub fn ago(ms: i64) -> String {
        let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
        match ms.max(0) / 1000 {
            s if s < 60 => "just now".to_owned(),
            s if s < 3600 => plural(s / 60, "minute"),
            s if s < 86_400 => plural(s / 3600, "hour"),
            s => plural(s / 86_400, "day"),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn formats_utc_times_for_the_console() {
            let at = 1_765_369_805_123; // 2025-12-10T12:30:05.123Z, a Wednesday
            assert_eq!(hour(at - at % 3_600_000), "12:00");
            assert_eq!(day(at), "Wed 10 Dec");
            assert_eq!(day(1_764_547_200_000), "Mon 1 Dec");
            assert_eq!(ago(5_000), "just now");
            assert_eq!(ago(60_000), "1 minute ago");
            assert_eq!(ago(3 * 3_600_000 + 1), "3 hours ago");
            assert_eq!(ago(2 * 86_400_000), "2 days ago");
        }
    }
}
