//! The tower-sessions store over our own database, so every instance on one PostgreSQL sees the
//! same sessions (no ready-made store fits tower-sessions 0.15 with SeaORM 2; see ARCHITECTURE.md).
//!
//! The signed-in user's id is copied out of the session data into an indexed `user_id` column with
//! a cascading foreign key: ending every session of a person (password change, SCIM deactivation,
//! deletion) is one `DELETE`, and deleting the person deletes their sessions by itself.
//!
//! Rows are keyed by the SHA-256 of the session id, never the id itself: the id is the cookie's
//! whole secret, so a leaked database or backup must not hold ids that still sign someone in
//! (OWASP Session Management Cheat Sheet; like API keys, 128 random bits need no slow hash or
//! salt). Sessions stored before ids were hashed no longer match any cookie, so everyone signs
//! in once more after that upgrade, and the sweep deletes the old rows when they expire.

use async_trait::async_trait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::OnConflict,
};
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
};

use crate::{clock::now_ms, entities::session, error::is_unique_violation, ids::UserId};

/// Session-data key holding the signed-in user's id.
pub const USER_ID_KEY: &str = "user_id";
/// Session-data key holding when (Unix ms) the user signed in, for the absolute lifetime.
pub const SIGNED_IN_AT_KEY: &str = "signed_in_at";

/// Makes `session` a signed-in session of `user_id`: a new session id first (no fixation, OWASP
/// Session Management Cheat Sheet), then who signed in and when (for the absolute lifetime).
/// Password and SSO sign-ins both end here.
pub async fn begin_signed_in(
    session: &tower_sessions::Session,
    user_id: &UserId,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(USER_ID_KEY, user_id).await?;
    session.insert(SIGNED_IN_AT_KEY, now_ms()).await
}

/// The `sessions` row key for `id`: its SHA-256, hex (64 characters, the column's width).
pub fn stored_id(id: &Id) -> String {
    crate::text::sha256_hex(&id.to_string())
}

/// Ends every session of `user_id` but `keep`, on `db` (a transaction, when the change that ends
/// them has one) and says how many.
pub async fn end_sessions_of(
    db: &impl sea_orm::ConnectionTrait,
    user_id: &UserId,
    keep: Option<&Id>,
) -> Result<u64, sea_orm::DbErr> {
    let mut delete = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id));
    if let Some(keep) = keep {
        delete = delete.filter(session::Column::Id.ne(stored_id(keep)));
    }
    Ok(delete.exec(db).await?.rows_affected)
}

/// Sessions stored in the `sessions` table.
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: DatabaseConnection,
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// Sessions of signed-in people that have not expired, across every organisation.
pub async fn signed_in_count(db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::PaginatorTrait;
    session::Entity::find()
        .filter(session::Column::UserId.is_not_null())
        .filter(session::Column::ExpiresAt.gt(now_ms()))
        .count(db)
        .await
}

impl DbSessionStore {
    /// A store over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Ends every session of `user_id`, except `keep` (the caller's own, when it should survive).
    pub async fn delete_for_user(&self, user_id: &UserId, keep: Option<&Id>) -> Result<u64, sea_orm::DbErr> {
        end_sessions_of(&self.db, user_id, keep).await
    }

    fn model(record: &Record) -> session_store::Result<session::ActiveModel> {
        let data =
            serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let user_id = record.data.get(USER_ID_KEY).and_then(|v| v.as_str()).map(str::to_owned);
        Ok(session::ActiveModel {
            id: Set(stored_id(&record.id)),
            user_id: Set(user_id),
            data: Set(data),
            expires_at: Set(record.expiry_date.unix_timestamp() * 1000),
            created_at: Set(now_ms()),
        })
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits; a collision is astronomically unlikely but must not overwrite.
        loop {
            match session::Entity::insert(Self::model(record)?).exec(&self.db).await {
                Ok(_) => return Ok(()),
                Err(e) if is_unique_violation(&e) => record.id = Id::default(),
                Err(e) => return Err(backend(e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        session::Entity::insert(Self::model(record)?)
            .on_conflict(
                OnConflict::column(session::Column::Id)
                    .update_columns([
                        session::Column::UserId,
                        session::Column::Data,
                        session::Column::ExpiresAt,
                    ])
                    .to_owned(),
            )
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(row) = session::Entity::find_by_id(stored_id(id)).one(&self.db).await.map_err(backend)?
        else {
            return Ok(None);
        };
        if row.expires_at <= now_ms() {
            return Ok(None);
        }
        let data =
            serde_json::from_str(&row.data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(row.expires_at / 1000)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        session::Entity::delete_by_id(stored_id(id)).exec(&self.db).await.map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lte(now_ms()))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
