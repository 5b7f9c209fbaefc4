//! Keeps PostgreSQL's planner statistics of the directory tables fresh
//! (`domain::planner_statistics`): every [`TICK`] an instance analyzes the tables that changed
//! enough since their last `ANALYZE`, so an organisation that just provisioned thousands of people
//! is planned from statistics that know it seconds later, not after autovacuum's next round. Only
//! on PostgreSQL; the task ends once the state it serves is dropped.

use std::{sync::Weak, time::Duration};

use domain::sea_orm::DbBackend;

use crate::state::Shared;

/// How often an instance looks at the directory tables' change counters (one small query).
pub const TICK: Duration = Duration::from_secs(5);

/// Starts the task when `state`'s database is PostgreSQL.
pub fn spawn(state: Weak<Shared>) {
    let postgres = state.upgrade().is_some_and(|s| s.db.get_database_backend() == DbBackend::Postgres);
    if !postgres {
        return;
    }
    crate::periodic::every(state, TICK, |state| async move {
        match domain::planner_statistics::refresh(&state.db).await {
            Ok(tables) if !tables.is_empty() => tracing::debug!(?tables, "analyzed directory tables"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "refreshing planner statistics failed"),
        }
    });
}
