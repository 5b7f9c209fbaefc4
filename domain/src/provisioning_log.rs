//! The provisioning log: one row per SCIM request (time, key, method, path, resource, a short
//! summary of what changed, status, SCIM error type, duration). Never bodies, never tokens.
//!
//! Requests hand their event to an in-memory queue and a single writer task inserts queued events
//! in batches, at most ten a second unless they fill up, so logging costs a SCIM request no write
//! of its own (on SQLite one fsync per batch instead of one per request). The price, documented in
//! ARCHITECTURE.md: events of the last fraction of a second before a crash can be lost; the
//! provisioned data itself cannot. Rows older
//! than the retention period are deleted by the same task.

use std::time::Duration;

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryTrait,
    sea_query::{Expr, OnConflict},
};
use tokio::sync::mpsc;

use crate::{
    clock::now_ms,
    entities::{provisioning_event as event, provisioning_hourly as hourly},
    group_commit::{Writer, Writes},
    ids::{KeyId, OrgId},
    store::{Exec, StoreResult, fixed_runs},
};

/// Events waiting for the writer at most; beyond that new events are dropped (and counted in
/// the log), never blocking a SCIM request.
const QUEUE: usize = 50_000;
/// Events per insert batch.
const BATCH: usize = 500;
/// How long the writer waits after a batch that was not full, so events gather into fewer,
/// larger transactions (each commit waits for the disk and holds SQLite's write lock).
const LINGER: Duration = Duration::from_millis(100);
/// How often old rows are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// The counter of events dropped because the queue was full or the writer had stopped.
pub const DROPPED_METRIC: &str = "scimpad_provisioning_log_dropped_total";

/// One SCIM request as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub org_id: OrgId,
    pub at: i64,
    pub api_key_id: Option<KeyId>,
    pub method: String,
    pub path: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub operation: String,
    pub summary: String,
    pub status: u16,
    pub scim_type: Option<String>,
    pub detail: Option<String>,
    pub duration_ms: u32,
}

impl From<Event> for event::ActiveModel {
    fn from(e: Event) -> Self {
        event::ActiveModel {
            id: Default::default(),
            org_id: Set(e.org_id.into()),
            at: Set(e.at),
            api_key_id: Set(e.api_key_id.map(String::from)),
            method: Set(e.method),
            path: Set(e.path),
            resource_type: Set(e.resource_type),
            resource_id: Set(e.resource_id.map(|id| id.chars().take(36).collect())),
            operation: Set(e.operation),
            summary: Set(e.summary),
            status: Set(i16::try_from(e.status).unwrap_or(i16::MAX)),
            scim_type: Set(e.scim_type),
            detail: Set(e.detail),
            duration_ms: Set(i32::try_from(e.duration_ms).unwrap_or(i32::MAX)),
        }
    }
}

/// Where requests send their events.
#[derive(Clone, Debug)]
pub struct LogSender {
    tx: mpsc::Sender<Event>,
}

/// The longest summary or error detail kept, in characters; the request path, at most
/// [`MAX_PATH_CHARS`]. Longer text is cut and says how much was left out, so a hostile request
/// cannot make the queue or the table hold its whole body, and a reader knows the text is cut.
pub const MAX_SUMMARY_CHARS: usize = 2000;
/// See [`MAX_SUMMARY_CHARS`].
pub const MAX_PATH_CHARS: usize = 512;

/// `text` if it has at most `max` characters, else its start and "… (N more characters)".
fn bounded(text: String, max: usize) -> String {
    let Some((cut, _)) = text.char_indices().nth(max) else { return text };
    let left_out = text[cut..].chars().count();
    format!("{}… ({left_out} more characters)", &text[..cut])
}

impl Event {
    /// The event with its texts within [`MAX_SUMMARY_CHARS`] and [`MAX_PATH_CHARS`].
    fn bounded(mut self) -> Self {
        self.path = bounded(self.path, MAX_PATH_CHARS);
        self.summary = bounded(self.summary, MAX_SUMMARY_CHARS);
        self.detail = self.detail.map(|d| bounded(d, MAX_SUMMARY_CHARS));
        // Column widths: an id longer than ours is no resource of ours anyway, and an extension
        // method (`PROPFIND`…) must not make the batch's insert fail.
        self.resource_id = self.resource_id.map(|id| id.chars().take(36).collect());
        self.method = self.method.chars().take(8).collect();
        self
    }
}

impl LogSender {
    /// Whether the writer task still takes events.
    pub fn is_open(&self) -> bool {
        !self.tx.is_closed()
    }

    /// Queues `event` (its texts bounded) without waiting.
    pub fn record(&self, event: Event) {
        let event = event.bounded();
        if let Err(e) = self.tx.try_send(event) {
            metrics::counter!(DROPPED_METRIC).increment(1);
            tracing::warn!(error = %e, "provisioning log queue full or closed; event dropped");
        }
    }

    /// Events queued and not yet taken by the writer.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }
}

/// The writer task's handle: [`LogWriter::flush`] waits until everything queued so far is stored.
#[derive(Debug)]
pub struct LogWriter {
    task: tokio::task::JoinHandle<()>,
}

/// Starts the log's writer task: batches go through `writer` (on SQLite they join the SCIM
/// writes' group commit, so logging adds no commit of its own), purges run on `db`; keeps
/// `retention_days` of events.
pub fn start(writer: Writer, db: DatabaseConnection, retention_days: u32) -> (LogSender, LogWriter) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let task = tokio::spawn(write_loop(writer, db, rx, retention_days));
    (LogSender { tx }, LogWriter { task })
}

impl LogWriter {
    /// Waits for the queue to drain (all senders dropped) and the last batch to be stored.
    pub async fn finish(self) {
        let _ = self.task.await;
    }
}

async fn write_loop(
    writer: Writer,
    db: DatabaseConnection,
    mut rx: mpsc::Receiver<Event>,
    retention_days: u32,
) {
    // `None` until the first purge, which runs with the first batch (an `Instant` in the past
    // cannot be made on a machine that has been up for less than `PURGE_EVERY`).
    let mut last_purge: Option<std::time::Instant> = None;
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let full = batch.len() == BATCH;
        if let Err(e) = store(&writer, std::mem::take(&mut batch)).await {
            tracing::error!(error = %e, "writing provisioning events failed");
        }
        if !full {
            tokio::time::sleep(LINGER).await;
        }
        if last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
            last_purge = Some(std::time::Instant::now());
            if let Err(e) = purge(&db, retention_days).await {
                tracing::warn!(error = %e, "purging old provisioning events failed");
            }
        }
    }
}

/// An hour, as the hourly rollup counts it.
pub const HOUR_MS: i64 = 3_600_000;
/// Responses from this status on count as errors (in the rollup and the log's filters alike).
pub(crate) const FIRST_ERROR_STATUS: i16 = 400;

/// Stores `events` and counts them into the hourly rollup, in one transaction (what the writer
/// task does with each batch).
pub async fn store(w: &impl Writes, events: Vec<Event>) -> Result<(), sea_orm::DbErr> {
    let stored = w.write(move |txn| Box::pin(async move { insert(txn, &events).await })).await;
    stored.map_err(sea_orm::DbErr::from)
}

async fn insert(txn: &impl Exec, events: &[Event]) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    // The hourly rollup, in the same transaction: one upsert per (organisation, hour) of the batch.
    let mut hours: std::collections::BTreeMap<(&str, i64), (i64, i64)> = Default::default();
    for e in events {
        let slot = hours.entry((e.org_id.as_str(), e.at.div_euclid(HOUR_MS))).or_default();
        slot.0 += 1;
        slot.1 += i64::from(e.status >= FIRST_ERROR_STATUS.unsigned_abs());
    }
    for ((org_id, hour), (requests, errors)) in hours {
        let rollup = hourly::Entity::insert(hourly::ActiveModel {
            org_id: Set(org_id.to_owned()),
            hour: Set(hour),
            requests: Set(requests),
            errors: Set(errors),
        })
        .on_conflict(
            OnConflict::columns([hourly::Column::OrgId, hourly::Column::Hour])
                .value(
                    hourly::Column::Requests,
                    Expr::cust("provisioning_hourly.requests + excluded.requests"),
                )
                .value(hourly::Column::Errors, Expr::cust("provisioning_hourly.errors + excluded.errors"))
                .to_owned(),
        );
        txn.apply(rollup.build(txn.backend())).await?;
    }
    for run in fixed_runs(events) {
        let rows = event::Entity::insert_many(run.iter().cloned().map(event::ActiveModel::from));
        txn.apply(rows.build(txn.backend())).await?;
    }
    Ok(())
}

/// Deletes events older than `retention_days`, whole hours at a time: the hourly rollup loses
/// the same hours as the events, so its sums stay the log's counts (`activity::log_page` takes
/// its totals from them).
pub async fn purge(db: &DatabaseConnection, retention_days: u32) -> Result<u64, sea_orm::DbErr> {
    purge_before(db, now_ms() - i64::from(retention_days) * 24 * HOUR_MS).await
}

/// Deletes the events of the hours that ended by `cutoff` (ms), and those hours' rollup rows.
pub async fn purge_before(db: &DatabaseConnection, cutoff: i64) -> Result<u64, sea_orm::DbErr> {
    let hour = cutoff.div_euclid(HOUR_MS);
    hourly::Entity::delete_many().filter(hourly::Column::Hour.lt(hour)).exec(db).await?;
    let events = event::Entity::delete_many().filter(event::Column::At.lt(hour * HOUR_MS)).exec(db).await?;
    Ok(events.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_and_say_so() {
        assert_eq!(bounded("short".into(), 10), "short");
        assert_eq!(bounded("exactly10!".into(), 10), "exactly10!");
        assert_eq!(bounded("ééééé-more".into(), 5), "ééééé… (5 more characters)");
        let event = Event {
            method: "VERYLONGMETHOD".into(),
            path: "/x".repeat(MAX_PATH_CHARS),
            summary: "id, ".repeat(30_000),
            detail: Some("d".repeat(MAX_SUMMARY_CHARS + 1)),
            resource_id: Some("r".repeat(100)),
            ..crate::testing::log_event("o", 0, "patch", 200)
        }
        .bounded();
        assert_eq!(event.method, "VERYLONG");
        assert!(event.path.ends_with(&format!("… ({} more characters)", MAX_PATH_CHARS)));
        assert!(event.summary.chars().count() < MAX_SUMMARY_CHARS + 40);
        assert!(event.summary.ends_with("more characters)"));
        assert!(event.detail.unwrap().ends_with("… (1 more characters)"));
        assert_eq!(event.resource_id.unwrap().len(), 36);
    }
}
