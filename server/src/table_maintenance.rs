//! Keeps PostgreSQL's directory tables up (`domain::table_maintenance`): every [`TICK`] an
//! instance vacuums and analyzes the tables that changed enough, so an organisation that just
//! provisioned thousands of people is planned from statistics that know it, and its deep list
//! pages skip over index entries without visiting rows, seconds later rather than after
//! autovacuum's next round. Only on PostgreSQL; the task ends once the state it serves is dropped.

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
        match domain::table_maintenance::run(&state.db).await {
            Ok(done) if !done.is_empty() => tracing::debug!(?done, "kept directory tables up"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "keeping directory tables up failed"),
        }
    });
}
