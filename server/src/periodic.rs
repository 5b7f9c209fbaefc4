//! Background work an instance does every so often on its shared state (`Shared`): the first run
//! one period after start, not at start (a fleet restarting together does not act at once, and
//! short-lived servers, such as tests, may never act), then every period; runs never overlap, and
//! one that overran its period delays the next by a whole period rather than running it at once.
//! The task ends once the state it serves is dropped.

use std::{
    future::Future,
    sync::{Arc, Weak},
    time::Duration,
};

use crate::state::Shared;

/// Runs `run` on `state` every `period` for as long as the state lives.
pub fn every<F, Fut>(state: Weak<Shared>, period: Duration, mut run: F)
where
    F: FnMut(Arc<Shared>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(state) = state.upgrade() else { return };
            run(state).await;
        }
    });
}
