//! Fair use of `/scim/v2` between organisations: a token bucket per organisation (GCRA, the
//! `governor` crate), so one organisation flooding the API cannot slow down or fail another's
//! requests. Past its budget an organisation's requests get 429 with `Retry-After` and a SCIM
//! error body (RFC 7644 §3.12; RFC 6585 §4).
//!
//! The defaults never limit a well-behaved Entra job: Entra needs ≥ 25 requests/s per tenant and
//! was observed peaking near 16/s (entra-scim.md §5), while 429s push a job toward quarantine
//! (§4); so the budget is 50/s sustained with bursts of 500. Measured on two cores (`cargo xtask
//! bench`): an organisation spending 100/s on pages of 100 users and writes tripled its
//! neighbours' p99; at 50/s they stayed within the 2× target. Buckets are per instance (each
//! instance sharing a PostgreSQL database grants the budget again) and live in memory: idle ones
//! are swept every minute, so the map holds only organisations active in the last minute or so.
//! A refused request still costs its key lookup (the bucket is the organisation's, known only
//! once the key is verified: charging an unverified key id would let anyone who knows it spend
//! another organisation's budget), but no write and no handler work. At most one refusal per
//! organisation per second goes to its provisioning log, so a flood cannot fill the log.
//!
//! A refusal is also held about [`HOLD`] before it is sent. A client that floods keeps only so
//! many requests in flight: answered at once, it turns them straight into more refusals — a
//! 64-connection flooder got 6,400 refusals a second, each costing a key lookup, which on two
//! cores busy with other work pushed a neighbour's p99 from 15 ms to 80 ms. Held, its requests
//! wait on a timer (memory only), and it gets about one refusal per second per request in
//! flight. The hold is drawn between half and one and a half [`HOLD`]: held exactly alike, the
//! flooder's requests came back together each second, found the budget refilled, and hit the
//! server as one wave (a neighbour's p99 went from 4 ms to 36 ms). A well-behaved client never
//! sees a refusal; one that bursts past its budget loses about a second, then retries as
//! `Retry-After` says.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use domain::ids::OrgId;
use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock};

/// How long a refusal is held before it is sent, on average (see the module header).
pub const HOLD: Duration = Duration::from_secs(1);

/// A hold drawn evenly from half to one and a half [`HOLD`].
fn hold() -> Duration {
    HOLD / 2 + HOLD.mul_f64(rand::random::<f64>())
}

/// How often idle buckets are dropped.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The per-organisation limiter; `None` inside when limiting is off (`--scim-rate 0`).
#[derive(Clone, Debug)]
pub struct OrgRateLimit(Option<Arc<Limiters>>);

#[derive(Debug)]
struct Limiters {
    requests: DefaultKeyedRateLimiter<OrgId>,
    burst: NonZeroU32,
    /// Which refusals are logged: one per organisation per second.
    logged_refusals: DefaultKeyedRateLimiter<OrgId>,
}

/// A refused request: when the organisation may send again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// How long to hold the refusal before sending it (about [`HOLD`]).
    pub hold: Duration,
    /// Whole seconds for `Retry-After`, counted from when the refusal is sent (at least 1).
    pub retry_after_secs: u64,
    /// Whether this refusal should go to the organisation's provisioning log.
    pub log: bool,
}

impl OrgRateLimit {
    /// `rate` requests per second sustained, `burst` at once; `rate == 0` turns limiting off.
    pub fn new(rate: u32, burst: u32) -> Self {
        let Some(rate) = NonZeroU32::new(rate) else { return Self(None) };
        let burst = NonZeroU32::new(burst).unwrap_or(rate);
        let once_a_second = Quota::per_second(NonZeroU32::MIN);
        Self(Some(Arc::new(Limiters {
            requests: DefaultKeyedRateLimiter::dashmap(Quota::per_second(rate).allow_burst(burst)),
            burst,
            logged_refusals: DefaultKeyedRateLimiter::dashmap(once_a_second),
        })))
    }

    /// Spends one request of `org`'s budget, or says when it may send again.
    pub fn check(&self, org: &OrgId) -> Result<(), Refusal> {
        self.spend(org, NonZeroU32::MIN)
    }

    /// Spends `extra` more requests of `org`'s budget (a bulk request's further operations), at
    /// most a whole burst, so a bulk request within the limits can always go through eventually.
    pub fn check_more(&self, org: &OrgId, extra: usize) -> Result<(), Refusal> {
        let Some(limiters) = &self.0 else { return Ok(()) };
        let extra = u32::try_from(extra).unwrap_or(u32::MAX).min(limiters.burst.get());
        NonZeroU32::new(extra).map_or(Ok(()), |n| self.spend(org, n))
    }

    fn spend(&self, org: &OrgId, n: NonZeroU32) -> Result<(), Refusal> {
        let Some(limiters) = &self.0 else { return Ok(()) };
        let key = org.clone();
        let not_until = match limiters.requests.check_key_n(&key, n) {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(not_until)) => not_until,
            // More than a burst: `check_more` never asks for that.
            Err(_) => return Err(Refusal { hold: hold(), retry_after_secs: 1, log: true }),
        };
        let wait = not_until.wait_time_from(limiters.requests.clock().now());
        let hold = hold();
        let after = wait.saturating_sub(hold);
        let retry_after_secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        let log = limiters.logged_refusals.check_key(&key).is_ok();
        Err(Refusal { hold, retry_after_secs: retry_after_secs.max(1), log })
    }

    /// Drops idle buckets every minute, for as long as the limiter is in use.
    pub fn sweep_idle(&self) {
        let Some(limiters) = &self.0 else { return };
        let weak = Arc::downgrade(limiters);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(limiters) = weak.upgrade() else { return };
                for limiter in [&limiters.requests, &limiters.logged_refusals] {
                    limiter.retain_recent();
                    limiter.shrink_to_fit();
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_organisation_has_its_own_bucket() {
        let limit = OrgRateLimit::new(1, 3);
        for _ in 0..3 {
            assert_eq!(limit.check(&OrgId::new("flooder")), Ok(()));
        }
        let refused = limit.check(&OrgId::new("flooder")).unwrap_err();
        assert_eq!((refused.retry_after_secs, refused.log), (1, true));
        assert!(refused.hold >= HOLD / 2 && refused.hold < HOLD * 3 / 2, "{:?}", refused.hold);
        assert!(!limit.check(&OrgId::new("flooder")).unwrap_err().log, "one logged refusal a second");
        assert_eq!(limit.check(&OrgId::new("neighbour")), Ok(()), "another organisation is unaffected");
    }

    #[test]
    fn retry_after_counts_from_when_the_held_refusal_is_sent() {
        let limit = OrgRateLimit::new(1, 1);
        assert_eq!(limit.check(&OrgId::new("o")), Ok(()));
        let refused = limit.check(&OrgId::new("o")).unwrap_err();
        assert_eq!(refused.retry_after_secs, 1);
        // Holds differ, so held requests do not come back together.
        let holds: std::collections::HashSet<Duration> = (0..10).map(|_| hold()).collect();
        assert!(holds.len() > 1);
        assert!(holds.iter().all(|h| *h >= HOLD / 2 && *h < HOLD * 3 / 2));
    }

    #[test]
    fn a_bulk_request_spends_one_request_per_operation() {
        let limit = OrgRateLimit::new(1, 10);
        assert_eq!(limit.check(&OrgId::new("o")), Ok(()));
        assert_eq!(limit.check_more(&OrgId::new("o"), 8), Ok(()));
        assert!(limit.check_more(&OrgId::new("o"), 2).is_err(), "only one request left");
        assert_eq!(limit.check(&OrgId::new("o")), Ok(()));
        // A bulk larger than the burst spends a whole burst, and can go through once it is full.
        assert!(OrgRateLimit::new(1, 10).check_more(&OrgId::new("p"), 1000).is_ok());
    }

    #[test]
    fn rate_zero_is_off() {
        let off = OrgRateLimit::new(0, 1);
        assert!((0..10_000).all(|_| off.check(&OrgId::new("o")).is_ok()));
    }
}
