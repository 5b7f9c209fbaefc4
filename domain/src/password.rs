//! Password hashing and policy.
//!
//! Argon2id with the OWASP Password Storage Cheat Sheet minimum (m = 19 MiB, t = 2, p = 1, which
//! is `argon2::Params::DEFAULT`), stored as a PHC string. Hashing runs on the blocking pool so a
//! sign-in never stalls the async runtime, and an unknown email is verified against a dummy hash
//! so the response time does not reveal whether an account exists.
//!
//! Each run takes 19 MiB for tens of milliseconds, and a sign-in with an unknown email costs one
//! as surely as a real one, so anyone can ask for them. A process-wide bound limits how many run
//! at once (twice the cores by default); a request that finds no slot free within a short wait is
//! answered [`DomainError::Throttled`] (429) instead of queueing without end, so a burst costs
//! bounded memory and time (OWASP Denial of Service Cheat Sheet: limit resource use per request).

use std::{
    num::NonZeroUsize,
    sync::{LazyLock, OnceLock},
    time::Duration,
};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::{DomainError, DomainResult};

/// Shortest password accepted (NIST SP 800-63B asks for at least 8; we ask a little more).
pub const MIN_LEN: usize = 10;
/// Longest password accepted: bounds the hashing work a request can cause.
pub const MAX_LEN: usize = 256;

/// A handful of passwords every attacker tries first; rejected outright.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password123",
    "passw0rd",
    "1234567890",
    "12345678910",
    "qwertyuiop",
    "iloveyou12",
    "letmein123",
    "welcome123",
    "administrator",
    "changeme123",
    "0123456789",
];

/// How long a request waits for a hashing slot by default before it is refused.
pub const DEFAULT_WAIT: Duration = Duration::from_millis(500);

/// The bound on concurrent argon2 runs in this process.
#[derive(Debug)]
struct Slots {
    free: tokio::sync::Semaphore,
    wait: Duration,
}

static SLOTS: OnceLock<Slots> = OnceLock::new();

fn slots() -> &'static Slots {
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Slots { free: tokio::sync::Semaphore::new(2 * cores), wait: DEFAULT_WAIT }
    })
}

/// Bounds this process to `runs` concurrent argon2 runs, each request waiting at most `wait` for
/// one, instead of the default (twice the cores, [`DEFAULT_WAIT`]). Takes effect only before the
/// first hash; says whether it did.
#[must_use]
pub fn limit_concurrency(runs: usize, wait: Duration) -> bool {
    let runs = runs.min(tokio::sync::Semaphore::MAX_PERMITS);
    SLOTS.set(Slots { free: tokio::sync::Semaphore::new(runs), wait }).is_ok()
}

/// Runs `work` on the blocking pool once a hashing slot is free, or refuses with
/// [`DomainError::Throttled`] when none frees up in time. The slot goes with the work into the
/// blocking pool, so a request dropped while it hashes still holds the slot until the run ends.
async fn with_slot<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> DomainResult<T> {
    let slots = slots();
    let slot = match tokio::time::timeout(slots.wait, slots.free.acquire()).await {
        Ok(Ok(slot)) => slot,
        Ok(Err(closed)) => return Err(DomainError::Internal(closed.to_string())),
        Err(_elapsed) => return Err(DomainError::Throttled { retry_after_secs: 1 }),
    };
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await
    .map_err(|e| DomainError::Internal(e.to_string()))
}

static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now("not a real password, only spends the same time"));

/// Checks `password` against the policy; `email` is refused as a password.
pub fn check_policy(password: &str, email: &str) -> DomainResult<()> {
    let err = |m: String| Err(DomainError::invalid("password", m));
    let len = password.chars().count();
    if len == 0 {
        return err("Choose a password.".into());
    }
    if len < MIN_LEN {
        return err(format!("Use at least {MIN_LEN} characters."));
    }
    if len > MAX_LEN {
        return err(format!("Use at most {MAX_LEN} characters."));
    }
    let lower = password.to_lowercase();
    let distinct = lower.chars().collect::<std::collections::HashSet<_>>().len();
    if distinct < 4 || COMMON.contains(&lower.as_str()) || lower == email.to_lowercase() {
        return err("That password is too easy to guess; choose a less common one.".into());
    }
    Ok(())
}

fn hash_now(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).unwrap_or_default()
}

fn verify_now(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// Hashes `password` on the blocking pool; [`DomainError::Throttled`] when every hashing slot
/// stays busy.
pub async fn hash(password: String) -> DomainResult<String> {
    let phc = with_slot(move || hash_now(&password)).await?;
    if phc.is_empty() {
        return Err(DomainError::Internal("password hashing failed".into()));
    }
    Ok(phc)
}

/// Verifies `password` against `phc` on the blocking pool (constant-time comparison inside
/// argon2). With `phc = None` (unknown account) it verifies against a dummy hash and returns
/// false, spending the same work. [`DomainError::Throttled`] when every hashing slot stays busy:
/// then no password was checked.
pub async fn verify(password: String, phc: Option<String>) -> DomainResult<bool> {
    with_slot(move || match phc {
        Some(phc) => verify_now(&password, &phc),
        None => {
            verify_now(&password, &DUMMY_HASH);
            false
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_rejects_short_common_and_trivial_passwords() {
        assert!(check_policy("", "a@b.co").is_err());
        assert!(check_policy("short1", "a@b.co").is_err());
        assert!(check_policy("Password123", "a@b.co").is_err());
        assert!(check_policy("aaaaaaaaaaaa", "a@b.co").is_err());
        assert!(check_policy("alice@contoso.com", "Alice@Contoso.com").is_err());
        assert!(check_policy(&"x1y2".repeat(100), "a@b.co").is_err());
        assert!(check_policy("correct horse battery", "a@b.co").is_ok());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let phc = hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery".into(), Some(phc.clone())).await.unwrap());
        assert!(!verify("wrong horse battery".into(), Some(phc)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
        assert!(!verify("anything".into(), Some("not a phc string".into())).await.unwrap());
    }
}
