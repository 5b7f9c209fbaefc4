//! Sign-in throttling (OWASP Authentication Cheat Sheet, "Login Throttling"). Counters live in
//! the database so every instance sharing it enforces the same limits.
//!
//! A password sign-in counts against two keys: the pair (email, client address), locked for
//! [`LOCK_MS`] after [`MAX_FAILURES`] failures within [`WINDOW_MS`], and the client address alone,
//! locked after [`MAX_ADDRESS_FAILURES`] failures across all emails (one source spraying guesses
//! over many accounts). Nothing locks an email by itself: guesses at an admin's email from someone
//! else's network must not lock the admin out, and admins are the break-glass accounts when SSO
//! fails. IPv6 clients count per /64 network, what one subscriber is given: counting single
//! addresses would hand each of them 2^64 budgets.
//!
//! Counting is atomic: [`reserve`] counts an attempt *before* its password is checked, in one
//! statement that also says whether the key is over its limit. A check made before any failure
//! had been recorded let every one of N parallel guesses through; now at most the limit get as far
//! as the password. An attempt that ends without checking a password gives its reservation back
//! ([`release`]); a correct password clears its pair key ([`reset`]) and gives back its address
//! reservation (clearing the address key would let someone with one valid account wipe the count
//! of their guesses at others).

use std::net::{IpAddr, Ipv6Addr};

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryTrait,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::{
    DomainError, DomainResult,
    clock::now_ms,
    entities::sign_in_throttle::{self as throttle, Column},
};

/// Failures allowed for one (email, client address) pair in one window before the lock.
pub const MAX_FAILURES: i32 = 5;
/// Failures allowed from one client address, whatever the emails, in one window before the lock.
pub const MAX_ADDRESS_FAILURES: i32 = 50;
/// The counting window.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// How long a lock lasts.
pub const LOCK_MS: i64 = 15 * 60 * 1000;

/// The network a client address is counted under: the IPv4 address itself, or the /64 of an
/// IPv6 one. IPv4-mapped IPv6 addresses (what a dual-stack listener reports) count as IPv4.
fn network(client: IpAddr) -> String {
    match client.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("{}/64", Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
    }
}

/// The key counting failures of `email` (trimmed, lower-case) from `client`. The email is kept
/// as its SHA-256: the table holds no addresses, and a key stays short whatever was typed.
pub fn pair_key(email: &str, client: IpAddr) -> String {
    let email = crate::text::sha256_hex(email);
    format!("pair:{}:{email}", network(client))
}

/// The key counting failures from `client`, whatever the email.
pub fn address_key(client: IpAddr) -> String {
    format!("addr:{}", network(client))
}

/// Counts one attempt for `key` before its password is checked; refuses with
/// [`DomainError::Throttled`] (the attempt not counted) while the key is locked, and locks it
/// when this attempt would be failure number `limit + 1` of the window.
///
/// One statement (an upsert whose update reads the stored row, with `RETURNING`): concurrent
/// attempts on any instance are counted one after the other, never read before another's write.
pub async fn reserve(db: &impl ConnectionTrait, key: &str, limit: i32) -> DomainResult<()> {
    let now = now_ms();
    let stored = |c: Column| Expr::col((throttle::Entity, c));
    let locked = || stored(Column::LockedUntil).gt(now);
    // A new window once the old one is over or a lock has run out.
    let restart = || {
        stored(Column::LockedUntil)
            .ne(0_i64)
            .or(Expr::val(now).sub(stored(Column::WindowStart)).gte(WINDOW_MS))
    };
    let first = throttle::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(1),
        window_start: Set(now),
        locked_until: Set(0),
    };
    let failures = Expr::case(locked(), stored(Column::Failures))
        .case(restart(), 1_i32)
        .finally(stored(Column::Failures).add(1_i32));
    let window_start = Expr::case(locked(), stored(Column::WindowStart))
        .case(restart(), now)
        .finally(stored(Column::WindowStart));
    let locked_until = Expr::case(locked(), stored(Column::LockedUntil))
        .case(restart(), 0_i64)
        .case(stored(Column::Failures).gte(limit), now + LOCK_MS)
        .finally(0_i64);
    let mut upsert = throttle::Entity::insert(first)
        .on_conflict(
            OnConflict::column(Column::Key)
                .value(Column::Failures, failures)
                .value(Column::WindowStart, window_start)
                .value(Column::LockedUntil, locked_until)
                .to_owned(),
        )
        .into_query();
    upsert.returning_all();
    let row = db
        .query_one(&upsert)
        .await?
        .ok_or_else(|| DomainError::Internal("the throttle upsert returned no row".into()))?;
    let row = throttle::Model::from_query_result(&row, "")?;
    if row.locked_until > now {
        // From the clock read now: waiting for the row, this attempt may have been passed by one
        // that read the clock later and set the lock.
        let left = Ord::max(row.locked_until - now_ms(), 1);
        return Err(DomainError::Throttled { retry_after_secs: (left + 999) / 1000 });
    }
    Ok(())
}

/// Gives back an attempt [`reserve`] counted that checked no password (another key refused it,
/// or no hashing slot was free), or that used the right one (for keys [`reset`] must not clear).
/// A key locked meanwhile stays locked.
pub async fn release(db: &impl ConnectionTrait, key: &str) -> DomainResult<()> {
    throttle::Entity::update_many()
        .col_expr(Column::Failures, Expr::col(Column::Failures).sub(1_i32))
        .filter(Column::Key.eq(key))
        .filter(Column::Failures.gt(0))
        .filter(Column::LockedUntil.eq(0_i64))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets `key`'s failures after the right password.
pub async fn reset(db: &impl ConnectionTrait, key: &str) -> DomainResult<()> {
    throttle::Entity::delete_by_id(key.to_owned()).exec(db).await?;
    Ok(())
}

/// Deletes the counters that no longer hold anything back (window over, no lock in force) and
/// says how many; the next attempt on such a key starts afresh anyway. Run periodically, so
/// one-off keys (every client address that ever mistyped a password) do not pile up.
pub async fn purge_expired(db: &impl ConnectionTrait) -> DomainResult<u64> {
    let now = now_ms();
    Ok(throttle::Entity::delete_many()
        .filter(Column::LockedUntil.lte(now))
        .filter(Column::WindowStart.lte(now - WINDOW_MS))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_per_64_and_mapped_ipv4_as_ipv4() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(address_key(ip("2001:db8:1:2:aaaa::1")), address_key(ip("2001:db8:1:2:bbbb::2")));
        assert_ne!(address_key(ip("2001:db8:1:2::1")), address_key(ip("2001:db8:1:3::1")));
        assert_eq!(address_key(ip("::ffff:192.0.2.7")), "addr:192.0.2.7");
        assert_eq!(address_key(ip("2001:db8:1:2:3:4:5:6")), "addr:2001:db8:1:2::/64");
        let long = "x".repeat(10_000);
        assert!(pair_key(&long, ip("192.0.2.7")).len() < 100, "keys stay short");
        assert_ne!(pair_key("a@b.example", ip("192.0.2.8")), pair_key("a@b.example", ip("192.0.2.7")));
    }
}
