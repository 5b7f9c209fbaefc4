//! API keys: the Secret Token an admin pastes into Entra's provisioning settings.
//!
//! Modelled on crates.io's tokens: `scimpad_<public id>_<secret>`, where the fixed prefix lets
//! secret scanners recognise a leaked key, the public id (shown in the console) finds the row, and
//! the secret is 256 random bits. Only the SHA-256 of the whole key is stored — a slow KDF adds
//! nothing at 256 bits of entropy — and it is compared in constant time. The plaintext exists once,
//! in the response that created it. Regenerating revokes the old key and creates the new one in
//! one transaction, so the old key stops working the moment the new one exists. A key
//! authenticates only while unrevoked, unexpired, and while its owner is an active admin.
//! Creating, regenerating and revoking are recorded in the audit log in their own transaction.
//! On PostgreSQL an instance keeps the keys it has verified ([`cache`]), invalidated on every
//! instance by the database's notifications.

pub mod cache;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{Rng, RngCore, distributions::Alphanumeric, rngs::OsRng};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use subtle::ConstantTimeEq;

use crate::{
    DomainError, DomainResult,
    accounts::{Actor, Role},
    audit::{self, Kind},
    clock::now_ms,
    entities::{api_key, user},
    group_commit::Writes,
    ids::{KeyId, OrgId, UserId},
    store::Rows,
};

pub use cache::{KeyCache, forget_changed_keys};

/// NEVER CHANGE: existing keys carry it, and secret scanners match on it.
pub const KEY_PREFIX: &str = "scimpad_";
const PUBLIC_ID_LEN: usize = 12;
/// Keys an organisation may hold at once (revoked ones do not count).
pub const MAX_ACTIVE_KEYS: usize = 50;
/// How often `last_used_at` is written at most: a provisioning burst must not turn every request
/// into a write.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// A key's public description (never the secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyInfo {
    pub id: String,
    pub name: String,
    /// What the console shows to recognise the key: `scimpad_<public id>_…`.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl From<api_key::Model> for ApiKeyInfo {
    fn from(m: api_key::Model) -> Self {
        Self {
            prefix: format!("{KEY_PREFIX}{}_…", m.public_id),
            id: m.id,
            name: m.name,
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            expires_at: m.expires_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// A newly created key: the only time its plaintext exists.
#[derive(Clone, PartialEq, Eq)]
pub struct NewKey {
    pub info: ApiKeyInfo,
    pub secret: String,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey").field("info", &self.info).field("secret", &"[redacted]").finish()
    }
}

/// Who a valid key acts for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPrincipal {
    pub key_id: KeyId,
    pub org_id: OrgId,
    pub owner_id: UserId,
}

/// A refused token: why (logged; the client only learns "401"), and which key of which
/// organisation it named, when it named a real one (so that organisation's log shows the refusal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub reason: KeyRefusal,
    pub org_id: Option<OrgId>,
    pub key_id: Option<KeyId>,
}

/// Why a bearer token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    #[error("not a Scimpad API key")]
    Malformed,
    #[error("unknown key")]
    Unknown,
    #[error("wrong secret")]
    WrongSecret,
    #[error("key revoked")]
    Revoked,
    #[error("key expired")]
    Expired,
    #[error("key owner is no longer an active admin")]
    OwnerNotAdmin,
}

fn digest(key: &str) -> String {
    crate::text::sha256_hex(key)
}

fn generate() -> (String, String) {
    let public_id: String = OsRng
        .sample_iter(&Alphanumeric)
        .take(PUBLIC_ID_LEN)
        .map(|c| (c as char).to_ascii_lowercase())
        .collect();
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    let key = format!("{KEY_PREFIX}{public_id}_{}", URL_SAFE_NO_PAD.encode(secret));
    (public_id, key)
}

fn parse(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(KEY_PREFIX)?;
    let (public_id, secret) = rest.split_once('_')?;
    (public_id.len() == PUBLIC_ID_LEN && secret.len() == 43).then_some(public_id)
}

fn validate_name(name: &str) -> DomainResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid("name", "Give the key a name, e.g. \"Entra ID provisioning\"."));
    }
    if name.chars().count() > 100 {
        return Err(DomainError::invalid("name", "Keep the name under 100 characters."));
    }
    Ok(name.to_owned())
}

async fn insert(
    db: &impl ConnectionTrait,
    actor: &Actor,
    name: String,
    expires_at: Option<i64>,
) -> DomainResult<NewKey> {
    let (public_id, secret) = generate();
    let model = api_key::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        org_id: Set(actor.org_id.to_string()),
        owner_id: Set(actor.user_id.to_string()),
        name: Set(name),
        public_id: Set(public_id),
        secret_hash: Set(digest(&secret)),
        created_at: Set(now_ms()),
        last_used_at: Set(None),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(NewKey { info: model.into(), secret })
}

async fn find_active(db: &impl ConnectionTrait, actor: &Actor, key_id: &str) -> DomainResult<api_key::Model> {
    api_key::Entity::find_by_id(key_id.to_owned())
        .filter(api_key::Column::OrgId.eq(&actor.org_id))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)
}

/// Creates a key named `name` for `actor`'s organisation, optionally expiring at `expires_at`.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &str,
    expires_at: Option<i64>,
) -> DomainResult<NewKey> {
    actor.require_admin()?;
    let name = validate_name(name)?;
    if expires_at.is_some_and(|at| at <= now_ms()) {
        return Err(DomainError::invalid("expires_at", "Choose an expiry date in the future."));
    }
    let active = list(db, actor).await?.into_iter().filter(|k| k.revoked_at.is_none()).count();
    if active >= MAX_ACTIVE_KEYS {
        return Err(DomainError::Conflict(format!(
            "Your organisation already has {MAX_ACTIVE_KEYS} active keys; revoke one first."
        )));
    }
    let txn = crate::db::begin_write(db).await?;
    let new = insert(&txn, actor, name, expires_at).await?;
    let lifetime = match expires_at {
        Some(at) => {
            const DAY_MS: i64 = 24 * 3600 * 1000;
            match (at - now_ms() + DAY_MS - 1) / DAY_MS {
                1 => "expires in 1 day".to_owned(),
                days => format!("expires in {days} days"),
            }
        }
        None => "never expires".to_owned(),
    };
    let detail = format!("{}; {lifetime}", described(&new.info));
    audit::record(&txn, audit::Event::by(actor, Kind::ApiKeyCreated, detail)).await?;
    txn.commit().await?;
    Ok(new)
}

/// How the audit log names a key: its name and recognisable prefix.
fn described(key: &ApiKeyInfo) -> String {
    format!("“{}” ({})", key.name, key.prefix)
}

/// Every key of `actor`'s organisation, newest first (revoked ones included, marked).
pub async fn list(db: &DatabaseConnection, actor: &Actor) -> DomainResult<Vec<ApiKeyInfo>> {
    actor.require_admin()?;
    let keys = api_key::Entity::find()
        .filter(api_key::Column::OrgId.eq(&actor.org_id))
        .order_by_desc(api_key::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(keys.into_iter().map(Into::into).collect())
}

/// Revokes a key: it stops authenticating immediately.
pub async fn revoke(db: &DatabaseConnection, actor: &Actor, key_id: &str) -> DomainResult<ApiKeyInfo> {
    actor.require_admin()?;
    let txn = crate::db::begin_write(db).await?;
    let mut key: api_key::ActiveModel = find_active(&txn, actor, key_id).await?.into();
    key.revoked_at = Set(Some(now_ms()));
    let revoked: ApiKeyInfo = key.update(&txn).await?.into();
    audit::record(&txn, audit::Event::by(actor, Kind::ApiKeyRevoked, described(&revoked))).await?;
    txn.commit().await?;
    forget_changed_keys(&actor.org_id);
    Ok(revoked)
}

/// Replaces a key by a new one with the same name (and the same lifetime, if it had one): the old
/// key is revoked in the same transaction.
pub async fn regenerate(db: &DatabaseConnection, actor: &Actor, key_id: &str) -> DomainResult<NewKey> {
    actor.require_admin()?;
    let txn = crate::db::begin_write(db).await?;
    let old = find_active(&txn, actor, key_id).await?;
    let now = now_ms();
    let expires_at = old.expires_at.map(|at| now + (at - old.created_at).max(0));
    let name = old.name.clone();
    let mut revoked: api_key::ActiveModel = old.into();
    revoked.revoked_at = Set(Some(now));
    let old: ApiKeyInfo = revoked.update(&txn).await?.into();
    let new = insert(&txn, actor, name, expires_at).await?;
    let detail = format!("{}, replaced by {}; the old key stopped working", described(&old), new.info.prefix);
    audit::record(&txn, audit::Event::by(actor, Kind::ApiKeyRegenerated, detail)).await?;
    txn.commit().await?;
    forget_changed_keys(&actor.org_id);
    Ok(new)
}

/// When a key was last heard from, as the provisioning log recorded it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyActivity {
    /// Time and HTTP status of the key's latest SCIM request.
    pub last_request: Option<(i64, u16)>,
    /// Time of its latest Test-Connection-style probe: a successful filtered list that matched
    /// nothing (Entra looks up a random GUID).
    pub last_probe_at: Option<i64>,
}

/// The activity of every key of `actor`'s organisation.
pub async fn activity(
    db: &DatabaseConnection,
    actor: &Actor,
) -> DomainResult<std::collections::HashMap<String, KeyActivity>> {
    use crate::entities::provisioning_event as event;
    let mut out = std::collections::HashMap::new();
    for key in list(db, actor).await? {
        let latest = event::Entity::find()
            .filter(event::Column::ApiKeyId.eq(&key.id))
            .order_by_desc(event::Column::At)
            .one(db)
            .await?;
        let probe = event::Entity::find()
            .filter(event::Column::ApiKeyId.eq(&key.id))
            .filter(event::Column::Operation.eq("list"))
            .filter(event::Column::Status.eq(200))
            .filter(event::Column::Summary.like("filter %→ 0 result(s)"))
            .order_by_desc(event::Column::At)
            .one(db)
            .await?;
        let activity = KeyActivity {
            last_request: latest.map(|e| (e.at, u16::try_from(e.status).unwrap_or_default())),
            last_probe_at: probe.map(|e| e.at),
        };
        out.insert(key.id, activity);
    }
    Ok(out)
}

/// Checks a bearer token, from `keys` when it holds the key, else reading through `w`'s reader
/// (see `store`). On success records the use through `w`, at most once a minute per key.
pub async fn authenticate(
    w: &impl Writes,
    keys: &KeyCache,
    token: &str,
) -> DomainResult<Result<KeyPrincipal, Refused>> {
    let Some(public_id) = parse(token) else {
        return Ok(Err(Refused { reason: KeyRefusal::Malformed, org_id: None, key_id: None }));
    };
    let (cached, ticket) = keys.find(public_id);
    let from_cache = cached.is_some();
    let found = match cached {
        Some(key) => Some(key),
        None => read_key(w, public_id).await?,
    };
    let Some(key) = found else {
        return Ok(Err(Refused { reason: KeyRefusal::Unknown, org_id: None, key_id: None }));
    };
    let now = now_ms();
    if let Err(reason) = check(&key, token, now) {
        let (org_id, key_id) = (Some(OrgId::new(&key.org_id)), Some(KeyId::new(&key.id)));
        return Ok(Err(Refused { reason, org_id, key_id }));
    }
    if !from_cache {
        keys.keep(public_id, &key, ticket);
    }
    if key.last_used_at.is_none_or(|at| now - at >= LAST_USED_RESOLUTION_MS) {
        // Through the SCIM writer (on SQLite its group commit), in the key's organisation's lane.
        let stamping = api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, sea_orm::sea_query::Expr::value(now))
            .filter(api_key::Column::Id.eq(key.id.clone()));
        w.write_statement(stamping.build(w.reader().backend())).await?;
        keys.used(public_id, now);
    }
    Ok(Ok(KeyPrincipal {
        key_id: KeyId::new(key.id),
        org_id: OrgId::new(key.org_id),
        owner_id: UserId::new(key.owner_id),
    }))
}

/// The key under `public_id` and what decides about its owner, in one statement. `all`, not
/// `one`: the public id is unique, and `one` would bind a `LIMIT`, which makes SQLite prepare the
/// statement again on every request.
async fn read_key(w: &impl Writes, public_id: &str) -> DomainResult<Option<Presented>> {
    let lookup = api_key::Entity::find()
        .select_only()
        .columns([
            api_key::Column::Id,
            api_key::Column::OrgId,
            api_key::Column::OwnerId,
            api_key::Column::SecretHash,
            api_key::Column::LastUsedAt,
            api_key::Column::ExpiresAt,
            api_key::Column::RevokedAt,
        ])
        .column_as(user::Column::OrgId, "owner_org_id")
        .column_as(user::Column::Active, "owner_active")
        .column_as(user::Column::Role, "owner_role")
        .left_join(user::Entity)
        .filter(api_key::Column::PublicId.eq(public_id));
    let found = w
        .reader()
        .run(move |db| Box::pin(async move { db.rows::<Presented>(lookup.build(db.backend())).await }))
        .await??;
    Ok(found.into_iter().next())
}

/// Whether `key` (the row presented as `token`) authenticates at `now`, and if not, why.
fn check(key: &Presented, token: &str, now: i64) -> Result<(), KeyRefusal> {
    if !bool::from(digest(token).as_bytes().ct_eq(key.secret_hash.as_bytes())) {
        return Err(KeyRefusal::WrongSecret);
    }
    if key.revoked_at.is_some() {
        return Err(KeyRefusal::Revoked);
    }
    if key.expires_at.is_some_and(|at| at <= now) {
        return Err(KeyRefusal::Expired);
    }
    let owner_ok = key.owner_active == Some(true)
        && key.owner_org_id.as_deref() == Some(key.org_id.as_str())
        && key.owner_role == Some(Role::Admin.to_value());
    if owner_ok { Ok(()) } else { Err(KeyRefusal::OwnerNotAdmin) }
}

/// A presented key's row and what decides about its owner (absent when the owner is gone).
#[derive(Clone, Debug, FromQueryResult)]
struct Presented {
    id: String,
    org_id: String,
    owner_id: String,
    secret_hash: String,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    owner_org_id: Option<String>,
    owner_active: Option<bool>,
    owner_role: Option<String>,
}
crate::from_sqlite!(Presented {
    id,
    org_id,
    owner_id,
    secret_hash,
    last_used_at,
    expires_at,
    revoked_at,
    owner_org_id,
    owner_active,
    owner_role,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_documented_shape_and_parse_back() {
        let (public_id, key) = generate();
        assert!(key.starts_with(KEY_PREFIX));
        assert_eq!(key.len(), KEY_PREFIX.len() + PUBLIC_ID_LEN + 1 + 43);
        assert_eq!(parse(&key), Some(public_id.as_str()));
        assert_ne!(generate().1, key);
        assert_eq!(digest(&key).len(), 64);
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        for bad in [
            "",
            "scimpad_",
            "scimpad_short_secret",
            "Bearer x",
            "cio123",
            &format!("{KEY_PREFIX}{}", "a".repeat(60)),
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
