//! The verified-key cache of an instance on PostgreSQL: a SCIM request whose API key this instance
//! has already verified skips the key's statement, one network round trip of the two to four
//! every request makes (issue 14: PostgreSQL at SQLite's pace).
//!
//! Why it is safe, when "regenerate" and "revoke" must stop the old key at once:
//! - It holds only keys that passed every check, each with its row as read (so a hit runs the very
//!   checks a miss runs, expiry included, against the clock of the request).
//! - Whatever can turn a valid key invalid — its row changing, or its owner losing the admin role,
//!   being deactivated, deleted or moved — fires a trigger that `NOTIFY`s the key's organisation
//!   on channel [`CHANNEL`] when the change commits (migration
//!   `m20261203_000014_key_notifications`), whoever made it: another instance, the command line,
//!   `psql`. Each instance's [`KeyCache`] `LISTEN`s and forgets that organisation's keys. On
//!   another instance a revoked key therefore lasts as long as PostgreSQL takes to deliver a
//!   notification (milliseconds on a LAN).
//! - On the instance that made the change it does not last at all: the domain functions that make
//!   such changes call [`forget_changed_keys`] once they have committed, and every cache of the
//!   process forgets those organisations' keys before its next lookup.
//! - Without a working `LISTEN` (not yet connected, connection lost) the cache is off: every
//!   lookup reads the database, and on reconnection the cache starts empty, since notifications
//!   sent meanwhile are lost.
//! - A fill that raced an invalidation is dropped: a lookup takes a [`Ticket`] (the cache's
//!   generation) before it reads, and its row is only kept if no invalidation came in between.
//! - A key is read again after [`MAX_AGE`] at most: a listening connection can die without either
//!   end noticing, and then no notification arrives.
//!
//! SQLite has no cache: there a key's statement runs in-process in microseconds, and the database
//! cannot tell other processes (the command line) of a change.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{
    DatabaseConnection, DbBackend,
    sqlx::{PgPool, postgres::PgListener},
};

use super::Presented;
use crate::ids::OrgId;

/// The channel the key triggers notify, with the organisation's id as payload.
pub const CHANNEL: &str = "scimpad_keys";
/// Keys kept at most; a full cache starts over (only verified keys get in, at most
/// `MAX_ACTIVE_KEYS` per organisation).
const CAPACITY: usize = 10_000;
/// How long the listener waits before connecting again after losing its connection.
const RECONNECT: Duration = Duration::from_secs(1);
/// How long a key is served from the cache before it is read again: what bounds a listening
/// connection that died without either end noticing (no notification, no error).
const MAX_AGE: Duration = Duration::from_secs(30);

/// Changes committed by this process that invalidate keys: a sequence number, and the
/// organisations of the latest ones.
struct LocalChanges {
    seq: u64,
    recent: VecDeque<(u64, OrgId)>,
}

/// Changes remembered for caches that have not looked since; a cache that missed more forgets
/// everything.
const RECENT: usize = 256;

static LOCAL: Mutex<LocalChanges> = Mutex::new(LocalChanges { seq: 0, recent: VecDeque::new() });
/// `LOCAL`'s sequence number, read without its lock: every SCIM request checks it, and it hardly
/// ever changes.
static LOCAL_SEQ: AtomicU64 = AtomicU64::new(0);

/// Tells every cache of this process that organisation `org_id`'s keys may have changed: called
/// after the change committed (a key revoked or regenerated, an admin demoted, deactivated or
/// deleted).
pub fn forget_changed_keys(org_id: &OrgId) {
    let mut local = LOCAL.lock().unwrap_or_else(|e| e.into_inner());
    local.seq += 1;
    let seq = local.seq;
    if local.recent.len() == RECENT {
        local.recent.pop_front();
    }
    local.recent.push_back((seq, org_id.clone()));
    LOCAL_SEQ.store(seq, Ordering::Release);
}

/// An instance's cache of verified keys (see the module's header): off unless it listens.
#[derive(Clone, Debug, Default)]
pub struct KeyCache {
    inner: Option<Arc<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Verified keys by public id, with when they were read.
    keys: Mutex<HashMap<String, (Presented, Instant)>>,
    /// Whether notifications are being received.
    listening: AtomicBool,
    /// Bumped by every invalidation.
    generation: AtomicU64,
    /// The last of this process's [`LOCAL`] changes applied.
    local_seen: AtomicU64,
}

/// What a lookup took before it read the database: the cache's generation, when it is on.
#[derive(Clone, Copy, Debug)]
pub struct Ticket(Option<u64>);

impl KeyCache {
    /// No cache: every lookup reads the database.
    pub fn off() -> Self {
        Self::default()
    }

    /// The cache for an instance serving `db`: listening on PostgreSQL, off elsewhere.
    pub fn for_database(db: &DatabaseConnection) -> Self {
        match db.get_database_backend() {
            DbBackend::Postgres => Self::listening(db.get_postgres_connection_pool().clone()),
            _ => Self::off(),
        }
    }

    /// A cache that is on while it listens for key changes on `pool`'s database; the listener
    /// runs until the cache (every clone) is dropped or the pool closes.
    pub fn listening(pool: PgPool) -> Self {
        let inner = Arc::new(Inner {
            local_seen: AtomicU64::new(LOCAL_SEQ.load(Ordering::Acquire)),
            ..Default::default()
        });
        tokio::spawn(listen(pool, Arc::downgrade(&inner)));
        Self { inner: Some(inner) }
    }

    /// Whether it is on now.
    pub fn is_on(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| i.listening.load(Ordering::Acquire))
    }

    /// Whether the key `token` names is kept now (what a test or an operator can check).
    pub fn holds(&self, token: &str) -> bool {
        let Some((inner, public_id)) = self.inner.as_ref().zip(super::parse(token)) else { return false };
        inner.keys.lock().unwrap_or_else(|e| e.into_inner()).contains_key(public_id)
    }

    /// Applies this process's changes since the last look and returns the key under `public_id`
    /// if it is cached, with the ticket a fill of it must present.
    pub(super) fn find(&self, public_id: &str) -> (Option<Presented>, Ticket) {
        let Some(inner) = self.inner.as_ref().filter(|i| i.listening.load(Ordering::Acquire)) else {
            return (None, Ticket(None));
        };
        inner.apply_local_changes();
        let keys = inner.keys.lock().unwrap_or_else(|e| e.into_inner());
        // Read under the lock: an invalidation clears and bumps under it too.
        let ticket = Ticket(Some(inner.generation.load(Ordering::Acquire)));
        let fresh = keys.get(public_id).filter(|(_, read)| read.elapsed() < MAX_AGE);
        (fresh.map(|(key, _)| key.clone()), ticket)
    }

    /// Keeps `key`, verified, unless an invalidation came after `ticket` was taken.
    pub(super) fn keep(&self, public_id: &str, key: &Presented, ticket: Ticket) {
        let (Some(inner), Ticket(Some(generation))) = (&self.inner, ticket) else { return };
        let mut keys = inner.keys.lock().unwrap_or_else(|e| e.into_inner());
        if inner.generation.load(Ordering::Acquire) != generation || !inner.listening.load(Ordering::Acquire)
        {
            return;
        }
        if keys.len() >= CAPACITY {
            keys.clear();
        }
        keys.insert(public_id.to_owned(), (key.clone(), Instant::now()));
    }

    /// Records that the key under `public_id` was stamped as used at `at`.
    pub(super) fn used(&self, public_id: &str, at: i64) {
        if let Some(inner) = &self.inner {
            let mut keys = inner.keys.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((key, _)) = keys.get_mut(public_id) {
                key.last_used_at = Some(at);
            }
        }
    }
}

impl Inner {
    /// Forgets the keys of `org_id`, or every key.
    fn forget(&self, org_id: Option<&str>) {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        match org_id {
            Some(org) => keys.retain(|_, (key, _)| key.org_id != org),
            None => keys.clear(),
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn apply_local_changes(&self) {
        let seen = self.local_seen.load(Ordering::Acquire);
        if LOCAL_SEQ.load(Ordering::Acquire) == seen {
            return;
        }
        let local = LOCAL.lock().unwrap_or_else(|e| e.into_inner());
        let missed = local.recent.front().is_none_or(|(first, _)| *first > seen + 1);
        if missed {
            self.forget(None);
        } else {
            for (_, org) in local.recent.iter().filter(|(seq, _)| *seq > seen) {
                self.forget(Some(org.as_str()));
            }
        }
        self.local_seen.store(local.seq, Ordering::Release);
    }

    fn set_listening(&self, on: bool) {
        // Off first, then forget: no lookup fills from a state the notifications did not cover.
        if !on {
            self.listening.store(false, Ordering::Release);
        }
        self.forget(None);
        if on {
            self.listening.store(true, Ordering::Release);
        }
    }
}

/// The listener: on while `LISTEN` works, forgetting an organisation's keys on each notification.
async fn listen(pool: PgPool, cache: Weak<Inner>) {
    loop {
        let connected = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        match connected.await {
            Ok(mut listener) => {
                let Some(inner) = cache.upgrade() else { return };
                inner.set_listening(true);
                drop(inner);
                loop {
                    let received = listener.try_recv().await;
                    let Some(inner) = cache.upgrade() else { return };
                    match received {
                        Ok(Some(note)) => inner.forget(Some(note.payload())),
                        // The connection was lost and made again: what was sent meanwhile is lost.
                        Ok(None) => inner.forget(None),
                        Err(e) => {
                            tracing::warn!(error = %e, "key-change notifications lost; the key cache is off");
                            inner.set_listening(false);
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for key changes; the key cache is off"),
        }
        if pool.is_closed() || cache.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache that is on without a database to listen to.
    fn on() -> KeyCache {
        let cache = KeyCache {
            inner: Some(Arc::new(Inner {
                local_seen: AtomicU64::new(LOCAL_SEQ.load(Ordering::Acquire)),
                ..Default::default()
            })),
        };
        cache.inner.as_ref().unwrap().set_listening(true);
        cache
    }

    fn key(org: &str) -> Presented {
        Presented {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: org.to_owned(),
            owner_id: "owner".into(),
            secret_hash: "hash".into(),
            last_used_at: None,
            expires_at: None,
            revoked_at: None,
            owner_org_id: Some(org.to_owned()),
            owner_active: Some(true),
            owner_role: Some("admin".into()),
        }
    }

    fn org() -> String {
        uuid::Uuid::new_v4().to_string()
    }

    #[tokio::test]
    async fn a_fill_that_raced_an_invalidation_is_dropped() {
        let cache = on();
        let (org, other) = (org(), org());
        let (found, ticket) = cache.find("aaaaaaaaaaaa");
        assert!(found.is_none());
        // A notification for any organisation arrives while the lookup reads the database.
        cache.inner.as_ref().unwrap().forget(Some(&other));
        cache.keep("aaaaaaaaaaaa", &key(&org), ticket);
        assert!(cache.find("aaaaaaaaaaaa").0.is_none(), "a row read before the invalidation is not kept");

        let (_, ticket) = cache.find("aaaaaaaaaaaa");
        cache.keep("aaaaaaaaaaaa", &key(&org), ticket);
        assert_eq!(cache.find("aaaaaaaaaaaa").0.map(|k| k.org_id), Some(org));
    }

    #[tokio::test]
    async fn a_change_forgets_its_organisations_keys_only() {
        let cache = on();
        let (changed, unchanged) = (org(), org());
        for (public_id, org) in [("bbbbbbbbbbbb", &changed), ("cccccccccccc", &unchanged)] {
            let (_, ticket) = cache.find(public_id);
            cache.keep(public_id, &key(org), ticket);
        }
        forget_changed_keys(&OrgId::new(&changed));
        assert!(cache.find("bbbbbbbbbbbb").0.is_none(), "this process's change applies at the next lookup");
        assert!(cache.find("cccccccccccc").0.is_some());

        cache.inner.as_ref().unwrap().forget(Some(&unchanged));
        assert!(cache.find("cccccccccccc").0.is_none(), "a notification forgets its organisation's keys");
    }

    #[tokio::test]
    async fn a_key_read_too_long_ago_is_read_again() {
        let cache = on();
        let read_long_ago = Instant::now().checked_sub(MAX_AGE).unwrap();
        let inner = cache.inner.as_ref().unwrap();
        inner.keys.lock().unwrap().insert("ffffffffffff".into(), (key(&org()), read_long_ago));
        assert!(cache.find("ffffffffffff").0.is_none());
    }

    #[tokio::test]
    async fn a_cache_that_missed_changes_forgets_everything() {
        let cache = on();
        let kept = org();
        let (_, ticket) = cache.find("dddddddddddd");
        cache.keep("dddddddddddd", &key(&kept), ticket);
        for _ in 0..=RECENT {
            forget_changed_keys(&OrgId::new(org()));
        }
        assert!(cache.find("dddddddddddd").0.is_none());
    }

    #[tokio::test]
    async fn an_off_cache_keeps_nothing_and_used_stamps_update_kept_keys() {
        let off = KeyCache::off();
        let (_, ticket) = off.find("eeeeeeeeeeee");
        off.keep("eeeeeeeeeeee", &key(&org()), ticket);
        assert!(off.find("eeeeeeeeeeee").0.is_none());

        let cache = on();
        let (_, ticket) = cache.find("eeeeeeeeeeee");
        cache.keep("eeeeeeeeeeee", &key(&org()), ticket);
        cache.used("eeeeeeeeeeee", 42);
        assert_eq!(cache.find("eeeeeeeeeeee").0.and_then(|k| k.last_used_at), Some(42));

        cache.inner.as_ref().unwrap().set_listening(false);
        assert!(cache.find("eeeeeeeeeeee").0.is_none(), "without notifications the cache is off and empty");
    }
}
