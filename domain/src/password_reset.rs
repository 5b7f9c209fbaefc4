//! "Forgot password?" (issue 13, item 3) and the operator's way back without email.
//!
//! OWASP Forgot Password Cheat Sheet, point by point:
//! - **No account disclosure.** Every well-formed request gets the same answer, and the answer is
//!   given before the address is even looked up: finding the account, storing the link and
//!   queueing the letter run after it ([`request`]), so neither the words nor the timing of the
//!   answer say whether the address has an account.
//! - **Throttled like sign-in**: per (address, client network) and per client network, on keys of
//!   their own (asking for links must not lock anyone's sign-in), and each address gets a bounded
//!   number of letters (`mail`).
//! - **The link**: a random 256-bit token stored hashed, for 30 minutes, once; a newer link, a
//!   password change and a changed address withdraw it (`email_links`).
//! - **After a reset**: every session of the person ends (the browser that reset gets a new one),
//!   the address counts as confirmed (the person just read mail sent to it), and the audit log
//!   records it.
//!
//! Without email, [`set_by_operator`] (`scimpad user set-password`) is the way back.

use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::{
    DomainError, DomainResult,
    accounts::{self, Actor},
    audit::{self, Kind},
    clock::now_ms,
    email::Email,
    email_links::{self, NewLink},
    entities::{credential, email_link::Purpose},
    ids::UserId,
    mail::{self, Letter, Outbox},
    origin::{Client, Origin},
    password, session_store, throttle,
};

/// Asks for a reset link for `email` from `client`. With email on, every well-formed address gets
/// `Ok` (a link goes out only when an active account signs in with it); throttled clients get
/// `Throttled`; email off gets the refusal that says so.
pub async fn request(
    db: &DatabaseConnection,
    outbox: &Outbox,
    client: &Client,
    email: &str,
) -> DomainResult<()> {
    if !outbox.is_on() {
        return Err(mail::off());
    }
    let email = Email::parse(email)?.normalized();
    let pair = format!("reset-{}", throttle::pair_key(&email, client.addr.0));
    throttle::reserve(db, &pair, throttle::MAX_FAILURES).await?;
    throttle::reserve(
        db,
        &format!("reset-{}", throttle::address_key(client.addr.0)),
        throttle::MAX_ADDRESS_FAILURES,
    )
    .await?;
    let (db, outbox, origin) = (db.clone(), outbox.clone(), Origin::Request(client.clone()));
    tokio::spawn(async move {
        if let Err(e) = send_link(&db, &outbox, origin, &email).await {
            tracing::warn!(error = %e, "a password reset link was not sent");
        }
    });
    Ok(())
}

/// Sends the active person who signs in with `email` a reset link, replacing earlier ones.
async fn send_link(
    db: &DatabaseConnection,
    outbox: &Outbox,
    origin: Origin,
    email: &str,
) -> DomainResult<()> {
    let Some(cred) =
        credential::Entity::find().filter(credential::Column::EmailLower.eq(email)).one(db).await?
    else {
        return Ok(());
    };
    let txn = crate::db::begin_write(db).await?;
    let Some(actor) = accounts::load_actor(&txn, &cred.user_id, origin).await? else { return Ok(()) };
    let link = NewLink::for_person(Purpose::ResetPassword, &actor.org_id, &actor.user_id, &cred.email_lower);
    let (_, token) = email_links::issue(&txn, link).await?;
    let letter = Letter {
        to: cred.email_lower.clone(),
        subject: "Reset your Scimpad password".into(),
        body: format!(
            "Hello {name},\n\nSomeone (we hope you) asked to reset the password you use to sign in to \
             Scimpad ({org}) as {email}. Choose a new one here:\n\n{url}\n\nThe link works once, for \
             30 minutes; asking again replaces it. Resetting signs you out everywhere else.\n\nIf \
             you did not ask, ignore this email: your password stays as it is.\n",
            name = actor.display_name,
            org = actor.org_name,
            email = cred.email_lower,
            url = outbox.link(Purpose::ResetPassword, &token),
        ),
    };
    outbox.post(&txn, letter).await?;
    let detail = "a link valid for 30 minutes was emailed";
    audit::record(&txn, audit::Event::by(&actor, Kind::PasswordResetRequested, detail)).await?;
    txn.commit().await?;
    Ok(())
}

/// The refusal of a reset link that cannot be used.
fn gone() -> DomainError {
    DomainError::PreconditionFailed(
        "This reset link no longer works: it was used, replaced by a newer one, or is more than 30 \
         minutes old. Ask for a new one."
            .into(),
    )
}

/// The address a live reset link with `token` was sent to, for its page; `None` when it cannot
/// be used.
pub async fn link_email(db: &DatabaseConnection, token: &str) -> DomainResult<Option<String>> {
    Ok(email_links::peek(db, Purpose::ResetPassword, token).await?.map(|link| link.email))
}

/// Sets `new_password` for the person the reset link with `token` names, once, from `client`.
/// Ends all their sessions, confirms their address and audits it; returns them to be signed in
/// (the caller still applies the organisation's password sign-in policy).
pub async fn reset(
    db: &DatabaseConnection,
    client: &Client,
    token: &str,
    new_password: &str,
) -> DomainResult<Actor> {
    // Checked before the slow hash and the write transaction; taken inside it.
    let link = email_links::peek(db, Purpose::ResetPassword, token).await?.ok_or_else(gone)?;
    password::check_policy(new_password, &link.email)?;
    let hash = password::hash(new_password.to_owned()).await?;
    let txn = crate::db::begin_write(db).await?;
    let link = email_links::take(&txn, Purpose::ResetPassword, token).await?.ok_or_else(gone)?;
    let user_id = UserId::new(link.user_id.ok_or_else(gone)?);
    let origin = Origin::Request(client.clone());
    let actor = accounts::load_actor(&txn, user_id.as_str(), origin).await?.ok_or_else(gone)?;
    let cred = credential::Entity::find_by_id(user_id.to_string()).one(&txn).await?.ok_or_else(gone)?;
    let confirmed = (cred.email_lower == link.email).then(now_ms).or(cred.email_verified_at);
    replace_password(&txn, &actor, cred, hash, confirmed, "with an emailed link").await?;
    txn.commit().await?;
    Ok(actor)
}

/// The operator's reset (`scimpad user set-password`): sets the password of the active person
/// who signs in with `email`, ends their sessions and withdraws their reset links; audited as
/// from the command line.
pub async fn set_by_operator(
    db: &DatabaseConnection,
    email: &str,
    new_password: &str,
) -> DomainResult<Actor> {
    let nobody = || DomainError::NotFound;
    let actor = accounts::command_line_actor(db, email).await?.ok_or_else(nobody)?;
    password::check_policy(new_password, &actor.email)?;
    let hash = password::hash(new_password.to_owned()).await?;
    let txn = crate::db::begin_write(db).await?;
    let cred =
        credential::Entity::find_by_id(actor.user_id.to_string()).one(&txn).await?.ok_or_else(nobody)?;
    let confirmed = cred.email_verified_at;
    replace_password(&txn, &actor, cred, hash, confirmed, "by the server's operator").await?;
    txn.commit().await?;
    Ok(actor)
}

/// Stores `hash` as `actor`'s password in `txn`, withdraws their reset links, ends all their
/// sessions and audits the reset, saying `how` it was done.
async fn replace_password(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    cred: credential::Model,
    hash: String,
    confirmed_at: Option<i64>,
    how: &str,
) -> DomainResult<()> {
    let mut model: credential::ActiveModel = cred.into();
    model.password_hash = Set(hash);
    model.updated_at = Set(now_ms());
    model.email_verified_at = Set(confirmed_at);
    sea_orm::ActiveModelTrait::update(model, txn).await?;
    email_links::withdraw(txn, &actor.user_id, &[Purpose::ResetPassword]).await?;
    let ended = session_store::end_sessions_of(txn, &actor.user_id, None).await?;
    let detail = format!("{how}; {ended} session(s) ended");
    audit::record(txn, audit::Event::by(actor, Kind::PasswordReset, detail)).await?;
    Ok(())
}
