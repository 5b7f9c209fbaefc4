//! What the console shows about provisioning: the provisioning log page (filtered, newest first,
//! offset paging), request counts per hour and per day for the activity chart, and the dashboard's
//! overview (directory counts, provisioning health, setup progress).
//!
//! Everything is scoped to the actor's organisation and reserved to admins. The chart reads the
//! hourly rollup the log writer keeps (`provisioning_hourly`), so it costs at most 168 rows
//! whatever the traffic; so does the log page's total unless it filters by more than the outcome
//! (a `COUNT(*)` over a million rows took 50–80 ms of every view, and any organisation can fill its
//! log within its SCIM rate).

use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::{
    DomainError, DomainResult,
    accounts::{Actor, Source},
    entities::{api_key, group, provisioning_event as event, provisioning_hourly as hourly, user},
    ids::OrgId,
};

/// Log rows per page.
pub const PAGE_SIZE: u64 = 50;
/// The operations the log records (see the SCIM gate's classification).
pub const OPERATIONS: &[&str] =
    &["list", "get", "create", "replace", "patch", "delete", "search", "bulk", "discovery", "other"];
/// The resource types a log row can name.
pub const RESOURCE_TYPES: &[&str] = &["User", "Group"];

const DAY_MS: i64 = 24 * HOUR_MS;
use crate::provisioning_log::{FIRST_ERROR_STATUS, HOUR_MS};

/// Whether a request succeeded (a 1xx–3xx response) or failed (4xx/5xx).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Error,
}

impl Outcome {
    /// Parses the filter's form (`success` or `error`).
    pub fn parse(s: &str) -> DomainResult<Self> {
        match s {
            "success" => Ok(Outcome::Success),
            "error" => Ok(Outcome::Error),
            _ => Err(DomainError::invalid("result", "Choose success or error.")),
        }
    }
}

/// Which log rows to show; `None` means any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub outcome: Option<Outcome>,
    pub operation: Option<String>,
    pub resource_type: Option<String>,
    pub api_key_id: Option<String>,
}

impl LogFilter {
    /// A filter from the console's query parameters (empty strings mean "any").
    pub fn parse(
        outcome: Option<&str>,
        operation: Option<&str>,
        resource_type: Option<&str>,
        api_key_id: Option<&str>,
    ) -> DomainResult<Self> {
        let one_of = |field: &'static str, v: Option<&str>, allowed: &[&str]| match given(v) {
            Some(v) if !allowed.contains(&v) => {
                Err(DomainError::invalid(field, format!("\"{v}\" is not one of {}.", allowed.join(", "))))
            }
            v => Ok(v.map(str::to_owned)),
        };
        Ok(Self {
            outcome: given(outcome).map(Outcome::parse).transpose()?,
            operation: one_of("operation", operation, OPERATIONS)?,
            resource_type: one_of("resource", resource_type, RESOURCE_TYPES)?,
            api_key_id: given(api_key_id).map(str::to_owned),
        })
    }

    /// The log rows of organisation `org_id` this filter selects.
    pub(crate) fn condition(&self, org_id: &OrgId) -> Condition {
        let mut cond = Condition::all().add(event::Column::OrgId.eq(org_id));
        cond = match self.outcome {
            Some(Outcome::Success) => cond.add(event::Column::Status.lt(FIRST_ERROR_STATUS)),
            Some(Outcome::Error) => cond.add(event::Column::Status.gte(FIRST_ERROR_STATUS)),
            None => cond,
        };
        if let Some(op) = &self.operation {
            cond = cond.add(event::Column::Operation.eq(op));
        }
        if let Some(rt) = &self.resource_type {
            cond = cond.add(event::Column::ResourceType.eq(rt));
        }
        if let Some(key) = &self.api_key_id {
            cond = cond.add(event::Column::ApiKeyId.eq(key));
        }
        cond
    }
}

/// One page of the provisioning log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogPage {
    /// Newest first.
    pub events: Vec<event::Model>,
    /// Rows matching the filter on all pages.
    pub total: u64,
    /// 1-based.
    pub page: u64,
    pub page_size: u64,
}

/// Requests in one time bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Start of the bucket (Unix ms, UTC-aligned).
    pub start: i64,
    pub success: u64,
    pub errors: u64,
}

/// The activity chart's series, oldest bucket first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    /// The last 24 hours, the current hour last.
    pub hourly: Vec<Bucket>,
    /// The last 7 UTC days, today last.
    pub daily: Vec<Bucket>,
}

/// The dashboard's numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overview {
    /// Users provisioned over SCIM that are active / deactivated.
    pub active_users: u64,
    pub deactivated_users: u64,
    pub groups: u64,
    /// API keys ever created (revoked ones included).
    pub api_keys: u64,
    /// Time of the newest request, whatever its outcome.
    pub last_request_at: Option<i64>,
    /// Time of the newest successful request.
    pub last_success_at: Option<i64>,
    /// Failed requests in the 24 hours before `now`.
    pub errors_last_24h: u64,
}

/// A filter value that was given: `None` and blank both mean "any".
pub(crate) fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// Page `page` (1-based; 0 reads as 1) of the log rows matching `filter`, newest first.
pub async fn log_page(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &LogFilter,
    page: u64,
) -> DomainResult<LogPage> {
    actor.require_admin()?;
    let page = page.max(1);
    // Any `u64` page arrives from the URL: past the last row there is nothing to read.
    let order = (event::Column::At, event::Column::Id);
    let kept = kept_total(db, &actor.org_id, filter).await?;
    let (events, total) = crate::browse::newest_first::<event::Entity>(
        db,
        filter.condition(&actor.org_id),
        order,
        (page, PAGE_SIZE),
        kept,
    )
    .await?;
    Ok(LogPage { events, total, page, page_size: PAGE_SIZE })
}

/// How many log rows `filter` selects, summed from the hourly rollup when it filters by the outcome
/// at most (the log writer counts every event into its hour in the same transaction, and the purge
/// drops whole hours of both); `None` when it filters by more, which the rollup does not count.
async fn kept_total(
    db: &DatabaseConnection,
    org_id: &OrgId,
    filter: &LogFilter,
) -> DomainResult<Option<u64>> {
    if filter.operation.is_some() || filter.resource_type.is_some() || filter.api_key_id.is_some() {
        return Ok(None);
    }
    let counted = match filter.outcome {
        None => "requests",
        Some(Outcome::Error) => "errors",
        Some(Outcome::Success) => "requests - errors",
    };
    let total: Option<i64> = hourly::Entity::find()
        .select_only()
        .column_as(
            sea_orm::sea_query::Expr::cust(format!("CAST(COALESCE(SUM({counted}), 0) AS BIGINT)")),
            "n",
        )
        .filter(hourly::Column::OrgId.eq(org_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(Some(total.map_or(0, |n| u64::try_from(n).unwrap_or(0))))
}

/// `count` buckets of `width` ms (a whole number of hours) ending with the one holding `now`, summed
/// from the hourly rollup the log writer keeps (at most `count × width / 1 h` rows).
async fn buckets(
    db: &DatabaseConnection,
    org_id: &OrgId,
    now: i64,
    width: i64,
    count: i64,
) -> DomainResult<Vec<Bucket>> {
    let first = now.div_euclid(width) - (count - 1);
    let rows = hourly::Entity::find()
        .filter(hourly::Column::OrgId.eq(org_id))
        .filter(hourly::Column::Hour.gte(first * width / HOUR_MS))
        .all(db)
        .await?;
    let mut series: Vec<Bucket> =
        (first..first + count).map(|b| Bucket { start: b * width, ..Bucket::default() }).collect();
    for row in rows {
        // Hours stamped in the future (clock skew between instances) fall outside the series.
        let bucket = (row.hour * HOUR_MS).div_euclid(width);
        let Some(slot) = usize::try_from(bucket - first).ok().and_then(|i| series.get_mut(i)) else {
            continue;
        };
        let errors = u64::try_from(row.errors).unwrap_or_default();
        slot.errors += errors;
        slot.success += u64::try_from(row.requests).unwrap_or_default().saturating_sub(errors);
    }
    Ok(series)
}

/// Requests per hour over the last 24 hours and per UTC day over the last 7 days, as of `now`.
pub async fn activity(db: &DatabaseConnection, actor: &Actor, now: i64) -> DomainResult<Activity> {
    actor.require_admin()?;
    Ok(Activity {
        hourly: buckets(db, &actor.org_id, now, HOUR_MS, 24).await?,
        daily: buckets(db, &actor.org_id, now, DAY_MS, 7).await?,
    })
}

/// The time of the organisation's newest request, among successful ones if `successful`.
async fn newest_request(
    db: &DatabaseConnection,
    org_id: &str,
    successful: bool,
) -> DomainResult<Option<i64>> {
    let mut query = event::Entity::find().filter(event::Column::OrgId.eq(org_id));
    if successful {
        query = query.filter(event::Column::Status.lt(FIRST_ERROR_STATUS));
    }
    Ok(query
        .select_only()
        .column(event::Column::At)
        .order_by_desc(event::Column::At)
        .into_tuple()
        .one(db)
        .await?)
}

/// The dashboard's counts and provisioning health, as of `now`.
pub async fn overview(db: &DatabaseConnection, actor: &Actor, now: i64) -> DomainResult<Overview> {
    actor.require_admin()?;
    let org = actor.org_id.as_str();
    let provisioned = |active: bool| {
        user::Entity::find()
            .filter(user::Column::OrgId.eq(org))
            .filter(user::Column::Source.eq(Source::Scim))
            .filter(user::Column::Active.eq(active))
            .count(db)
    };
    Ok(Overview {
        active_users: provisioned(true).await?,
        deactivated_users: provisioned(false).await?,
        groups: group::Entity::find().filter(group::Column::OrgId.eq(org)).count(db).await?,
        api_keys: api_key::Entity::find().filter(api_key::Column::OrgId.eq(org)).count(db).await?,
        last_request_at: newest_request(db, org, false).await?,
        last_success_at: newest_request(db, org, true).await?,
        errors_last_24h: event::Entity::find()
            .filter(event::Column::OrgId.eq(org))
            .filter(event::Column::At.gt(now - DAY_MS))
            .filter(event::Column::Status.gte(FIRST_ERROR_STATUS))
            .count(db)
            .await?,
    })
}
