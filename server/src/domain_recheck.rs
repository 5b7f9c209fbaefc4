//! The periodic re-check of verified SSO domains (`domain::sso::domains::recheck_due`): a domain
//! proven once must stay proven, or it could go on routing a company's people to an organisation
//! that no longer controls the domain (sold, expired, handed to another team).
//!
//! Every [`TICK`] each instance re-checks the verified claims whose last check is older than
//! `--domain-recheck-hours`, in batches of [`BATCH`] with [`CONCURRENCY`] lookups at once and at
//! most [`MAX_BATCHES_PER_TICK`] batches, so a backlog drains over several ticks instead of in one
//! burst of DNS traffic. Instances sharing a PostgreSQL database claim each claim before checking
//! it, so none is checked twice. The first pass runs one tick after start, not at start: a fleet
//! restarting together does not check at once, and short-lived servers (tests) never check.

use std::{sync::Weak, time::Duration};

use domain::sso::domains::{self, RecheckPlan};

use crate::state::Shared;

/// How often an instance looks for claims due a re-check.
pub const TICK: Duration = Duration::from_secs(600);
/// Claims one batch re-checks at most.
pub const BATCH: u64 = 50;
/// Lookups in flight at once during a batch.
pub const CONCURRENCY: usize = 4;
/// Batches per tick at most (so at most 500 claims per instance every ten minutes).
pub const MAX_BATCHES_PER_TICK: usize = 10;

/// Starts the re-check task; it ends once the state it serves is dropped.
pub fn spawn(state: Weak<Shared>, every_hours: u32) {
    let every_ms = i64::from(every_hours) * 3600 * 1000;
    crate::periodic::every(state, TICK, move |state| async move {
        for _ in 0..MAX_BATCHES_PER_TICK {
            let plan = RecheckPlan {
                now: domain::clock::now_ms(),
                every_ms,
                batch: BATCH,
                concurrency: CONCURRENCY,
            };
            match domains::recheck_due(&state.db, &state.config.domains, plan).await {
                Ok(report) => {
                    if report.checked > 0 {
                        tracing::info!(?report, "re-checked verified SSO domains");
                    }
                    if (report.checked as u64) < BATCH {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "re-checking verified SSO domains failed");
                    break;
                }
            }
        }
    });
}
