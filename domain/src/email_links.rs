//! Single-use links sent by email: confirm an address, reset a password, accept an invitation.
//!
//! The URL carries a random 256-bit token; the row is stored under its SHA-256, so the database
//! holds nothing that opens an account (OWASP Forgot Password Cheat Sheet: "store the token
//! hashed", "single use", "expire"). A link is taken exactly once, inside the transaction that
//! does what it grants, and a newer link of the same purpose replaces the older: a person's
//! earlier reset links stop working as soon as they ask for another, and an admin's re-invitation
//! of an address replaces the invitation sent before.
//!
//! The token travels in the query string of a page that only shows a form; the form posts it
//! back. A GET does nothing, so mail scanners that open links (Outlook Safe Links, Defender)
//! cannot spend them, and the trace log records paths only, never query strings.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::ExprTrait,
};

use crate::{
    DomainResult,
    clock::now_ms,
    entities::email_link::{self, Column, Purpose},
    ids::{OrgId, UserId},
    sso::pending::random_token,
    text::sha256_hex,
};

/// How long a link to confirm an address works.
pub const CONFIRM_TTL_MS: i64 = 48 * 60 * 60 * 1000;
/// How long a password reset link works (the issue's 30 minutes).
pub const RESET_TTL_MS: i64 = 30 * 60 * 1000;
/// How long an invitation to administer works.
pub const INVITATION_TTL_MS: i64 = 72 * 60 * 60 * 1000;
/// How long expired invitations stay listed (as expired) before the sweep deletes them.
pub const EXPIRED_INVITATIONS_KEPT_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The console pages the links open; the app mounts these very paths.
pub const CONFIRM_EMAIL_PATH: &str = "/confirm-email";
pub const RESET_PASSWORD_PATH: &str = "/reset-password";
pub const INVITATION_PATH: &str = "/invitation";

/// What a new link is for and whom it names.
#[derive(Clone, Debug)]
pub struct NewLink<'a> {
    pub purpose: Purpose,
    pub org_id: &'a OrgId,
    /// The person it acts for (none for an invitation).
    pub user_id: Option<&'a UserId>,
    /// Where it is sent.
    pub email: &'a str,
    pub name: Option<String>,
    pub created_by: Option<&'a UserId>,
}

impl<'a> NewLink<'a> {
    /// A link of `purpose` acting for the person `user_id` of `org_id`, sent to `email`.
    pub fn for_person(purpose: Purpose, org_id: &'a OrgId, user_id: &'a UserId, email: &'a str) -> Self {
        Self { purpose, org_id, user_id: Some(user_id), email, name: None, created_by: None }
    }
}

impl Purpose {
    fn ttl_ms(self) -> i64 {
        match self {
            Purpose::ConfirmEmail => CONFIRM_TTL_MS,
            Purpose::ResetPassword => RESET_TTL_MS,
            Purpose::Invitation => INVITATION_TTL_MS,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Purpose::ConfirmEmail => CONFIRM_EMAIL_PATH,
            Purpose::ResetPassword => RESET_PASSWORD_PATH,
            Purpose::Invitation => INVITATION_PATH,
        }
    }
}

/// The URL of `purpose`'s page carrying `token`, on a server reached at `public_url`.
pub fn url(public_url: &str, purpose: Purpose, token: &str) -> String {
    format!("{public_url}{}?token={token}", purpose.path())
}

/// Stores a new link, replacing the earlier ones of its purpose for the same person (or, for an
/// invitation, the same address in the same organisation); returns its token, which exists only
/// in the email from now on. Run it in the transaction that decides to send the link.
pub async fn issue(
    db: &impl ConnectionTrait,
    link: NewLink<'_>,
) -> DomainResult<(email_link::Model, String)> {
    let email = link.email.trim().to_lowercase();
    let earlier = match link.user_id {
        Some(user) => Column::UserId.eq(user),
        None => Column::OrgId.eq(link.org_id).and(Column::Email.eq(&email)),
    };
    email_link::Entity::delete_many()
        .filter(Column::Purpose.eq(link.purpose))
        .filter(earlier)
        .exec(db)
        .await?;
    let token = random_token();
    let now = now_ms();
    let model = email_link::Model {
        id: uuid::Uuid::new_v4().to_string(),
        token_hash: sha256_hex(&token),
        purpose: link.purpose,
        org_id: link.org_id.to_string(),
        user_id: link.user_id.map(ToString::to_string),
        email,
        name: link.name,
        created_by: link.created_by.map(ToString::to_string),
        created_at: now,
        expires_at: now + link.purpose.ttl_ms(),
    };
    let row = sea_orm::ActiveModelTrait::reset_all(email_link::ActiveModel::from(model.clone()));
    email_link::Entity::insert(row).exec_without_returning(db).await?;
    Ok((model, token))
}

/// The live (unused, unexpired) link of `purpose` with `token`, to show its page; `None` for
/// anything else, whatever the reason (the page says "this link no longer works" either way).
pub async fn peek(
    db: &DatabaseConnection,
    purpose: Purpose,
    token: &str,
) -> DomainResult<Option<email_link::Model>> {
    let found = email_link::Entity::find()
        .filter(Column::TokenHash.eq(sha256_hex(token.trim())))
        .filter(Column::Purpose.eq(purpose))
        .one(db)
        .await?;
    Ok(found.filter(|link| link.expires_at > now_ms()))
}

/// Takes the live link of `purpose` with `token`, once: whoever deletes the row owns it, so of
/// two concurrent uses one gets `None`. Run it in the transaction that does what the link grants,
/// so a failure there leaves the link usable.
pub async fn take(
    db: &impl ConnectionTrait,
    purpose: Purpose,
    token: &str,
) -> DomainResult<Option<email_link::Model>> {
    let hash = sha256_hex(token.trim());
    let Some(found) = email_link::Entity::find()
        .filter(Column::TokenHash.eq(&hash))
        .filter(Column::Purpose.eq(purpose))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let deleted = email_link::Entity::delete_by_id(found.id.clone()).exec(db).await?.rows_affected;
    Ok((deleted == 1 && found.expires_at > now_ms()).then_some(found))
}

/// Withdraws every link of `purposes` that acts for `user_id` (a password changed, an address
/// changed: what was sent before must stop working).
pub async fn withdraw(db: &impl ConnectionTrait, user_id: &UserId, purposes: &[Purpose]) -> DomainResult<()> {
    email_link::Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Purpose.is_in(purposes.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes links past their expiry (invitations a week later, so admins see them expire) and
/// says how many.
pub async fn purge_expired(db: &impl ConnectionTrait) -> DomainResult<u64> {
    let now = now_ms();
    let expired = Column::ExpiresAt.lte(now).and(Column::Purpose.ne(Purpose::Invitation));
    let old_invitation =
        Column::ExpiresAt.lte(now - EXPIRED_INVITATIONS_KEPT_MS).and(Column::Purpose.eq(Purpose::Invitation));
    Ok(email_link::Entity::delete_many().filter(expired.or(old_invitation)).exec(db).await?.rows_affected)
}
