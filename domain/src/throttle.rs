//! Sign-in throttling: after [`MAX_FAILURES`] wrong passwords for one email within
//! [`WINDOW_MS`], that email is locked for [`LOCK_MS`]. Counters live in the database so every
//! instance enforces the same limit (OWASP Authentication Cheat Sheet, "login throttling").

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};

use crate::{DomainError, DomainResult, clock::now_ms, entities::sign_in_throttle as throttle};

/// Failures allowed in one window before the lock.
pub const MAX_FAILURES: i32 = 5;
/// The counting window.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// How long a lock lasts.
pub const LOCK_MS: i64 = 15 * 60 * 1000;

/// Refuses with [`DomainError::Throttled`] while `key` is locked.
pub async fn check(db: &impl ConnectionTrait, key: &str) -> DomainResult<()> {
    let now = now_ms();
    match throttle::Entity::find_by_id(key.to_owned()).one(db).await? {
        Some(row) if row.locked_until > now => {
            Err(DomainError::Throttled { retry_after_secs: (row.locked_until - now + 999) / 1000 })
        }
        _ => Ok(()),
    }
}

/// Counts one failure for `key`, locking it when the window's limit is reached.
pub async fn record_failure(db: &impl ConnectionTrait, key: &str) -> DomainResult<()> {
    let now = now_ms();
    let (failures, window_start) = match throttle::Entity::find_by_id(key.to_owned()).one(db).await? {
        Some(row) if now - row.window_start < WINDOW_MS => (row.failures + 1, row.window_start),
        _ => (1, now),
    };
    let locked_until = if failures >= MAX_FAILURES { now + LOCK_MS } else { 0 };
    let model = throttle::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(if locked_until > 0 { 0 } else { failures }),
        window_start: Set(window_start),
        locked_until: Set(locked_until),
    };
    throttle::Entity::insert(model)
        .on_conflict(
            OnConflict::column(throttle::Column::Key)
                .update_columns([
                    throttle::Column::Failures,
                    throttle::Column::WindowStart,
                    throttle::Column::LockedUntil,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets `key`'s failures after a successful sign-in.
pub async fn reset(db: &impl ConnectionTrait, key: &str) -> DomainResult<()> {
    throttle::Entity::delete_by_id(key.to_owned()).exec(db).await?;
    Ok(())
}
