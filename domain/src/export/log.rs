//! The provisioning log's export: every event its filter selects, newest first as the page shows
//! them, keyed by `(at, id)` (`id` is unique, `(org_id, at)` indexed).

use std::collections::HashMap;

use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QueryTrait};

use super::Keyset;
use crate::{
    DomainResult,
    accounts::Actor,
    activity::LogFilter,
    entities::provisioning_event as event,
    group_commit::BoxFuture,
    ids::OrgId,
    store::{ReadConn, Rows, with_limit},
};

/// One exported log row: the event, and the name of the API key it used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedEvent {
    pub event: event::Model,
    pub key: Option<String>,
}

/// The log events an admin's log-page filter selects, for export.
#[derive(Clone, Debug)]
pub struct LogExport {
    org_id: OrgId,
    filter: LogFilter,
    /// Key id → key name, read once when the export starts (keys are few, and never deleted).
    key_names: HashMap<String, String>,
}

impl LogExport {
    /// The export of `filter`'s events of the actor's organisation; admins only.
    pub async fn new(db: &DatabaseConnection, actor: &Actor, filter: LogFilter) -> DomainResult<Self> {
        let keys = crate::api_keys::list(db, actor).await?;
        Ok(Self {
            org_id: actor.org_id.clone(),
            filter,
            key_names: keys.into_iter().map(|k| (k.id, k.name)).collect(),
        })
    }
}

impl Keyset for LogExport {
    type Row = ExportedEvent;
    /// `(at, id)` of the last row.
    type Cursor = (i64, i64);

    fn chunk<'c>(
        &'c self,
        db: &'c ReadConn,
        after: Option<(i64, i64)>,
        limit: u64,
    ) -> BoxFuture<'c, DomainResult<Vec<ExportedEvent>>> {
        Box::pin(async move {
            let mut select = event::Entity::find().filter(self.filter.condition(&self.org_id));
            if let Some((at, id)) = after {
                select = select.filter(
                    Condition::any()
                        .add(event::Column::At.lt(at))
                        .add(Condition::all().add(event::Column::At.eq(at)).add(event::Column::Id.lt(id))),
                );
            }
            let statement =
                select.order_by_desc(event::Column::At).order_by_desc(event::Column::Id).build(db.backend());
            let events: Vec<event::Model> = db.rows(with_limit(statement, limit, 0)).await?;
            Ok(events
                .into_iter()
                .map(|event| ExportedEvent {
                    key: event.api_key_id.as_ref().and_then(|id| self.key_names.get(id)).cloned(),
                    event,
                })
                .collect())
        })
    }

    fn cursor(row: &ExportedEvent) -> (i64, i64) {
        (row.event.at, row.event.id)
    }
}
