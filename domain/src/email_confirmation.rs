//! Confirmed sign-in addresses (issue 13, item 3). With email on, a new account (and an account
//! whose address changed) is sent a link; until it is followed the console shows a banner, and
//! the account cannot do what would let a stranger act in someone else's name: invite admins,
//! or claim an email domain for SSO. Without email nothing can be confirmed, so nothing waits
//! for it: the checks pass and the console says email is off.
//!
//! Only people with a password have an address to confirm; people provisioned by Entra sign in
//! with SSO, where the identity provider vouches for them.

use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::{
    DomainError, DomainResult,
    accounts::Actor,
    audit::{self, Kind},
    clock::now_ms,
    email_links::{self, NewLink},
    entities::{credential, email_link::Purpose, user},
    mail::{Letter, Outbox},
    origin::Origin,
};

/// Where an actor's address stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressState {
    /// Followed a link sent to it.
    Confirmed,
    /// A link went out (or can be asked for) and was not followed yet.
    Unconfirmed,
    /// The server sends no email, so addresses are not confirmed.
    MailOff,
    /// No password account (SSO): the identity provider vouches for the address.
    NotApplicable,
}

/// Where `actor`'s sign-in address stands on a server with `outbox`.
pub async fn state(db: &DatabaseConnection, outbox: &Outbox, actor: &Actor) -> DomainResult<AddressState> {
    let cred = credential::Entity::find_by_id(actor.user_id.clone()).one(db).await?;
    Ok(match cred {
        None => AddressState::NotApplicable,
        Some(_) if !outbox.is_on() => AddressState::MailOff,
        Some(c) if c.email_verified_at.is_some() => AddressState::Confirmed,
        Some(_) => AddressState::Unconfirmed,
    })
}

/// Refuses, with what to do instead, what an unconfirmed address may not do.
pub async fn require_confirmed(db: &DatabaseConnection, outbox: &Outbox, actor: &Actor) -> DomainResult<()> {
    if state(db, outbox, actor).await? == AddressState::Unconfirmed {
        return Err(DomainError::PreconditionFailed(format!(
            "Confirm your email address first: follow the link we sent to {}, or send a new one \
             from the banner at the top of the page.",
            actor.email
        )));
    }
    Ok(())
}

/// Sends `actor` a link to confirm their address (replacing any sent before). Refused when email
/// is off, when the address is confirmed already, or for a person without a password.
pub async fn send_link(db: &DatabaseConnection, outbox: &Outbox, actor: &Actor) -> DomainResult<()> {
    if !outbox.is_on() {
        return Err(crate::mail::off());
    }
    let txn = crate::db::begin_write(db).await?;
    let cred = credential::Entity::find_by_id(actor.user_id.clone()).one(&txn).await?.ok_or_else(|| {
        DomainError::Conflict(
            "Your account signs in with single sign-on; there is no address to confirm.".into(),
        )
    })?;
    if cred.email_verified_at.is_some() {
        return Err(DomainError::Conflict(format!("{} is confirmed already.", actor.email)));
    }
    let link = NewLink::for_person(Purpose::ConfirmEmail, &actor.org_id, &actor.user_id, &cred.email_lower);
    let (_, token) = email_links::issue(&txn, link).await?;
    let url = outbox.link(Purpose::ConfirmEmail, &token);
    let letter = Letter {
        to: cred.email_lower.clone(),
        subject: "Confirm your email address for Scimpad".into(),
        body: format!(
            "Hello {name},\n\nPlease confirm that {email} is your address for signing in to Scimpad \
             ({org}):\n\n{url}\n\nThe link works once, for 48 hours. Until then you cannot invite \
             admins or claim email domains for single sign-on.\n\nIf you did not create this \
             account, ignore this email.\n",
            name = actor.display_name,
            email = cred.email_lower,
            org = actor.org_name,
        ),
    };
    outbox.post(&txn, letter).await?;
    txn.commit().await?;
    Ok(())
}

/// What following a confirmation link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirmed {
    pub email: String,
}

/// Confirms the address the link with `token` was sent to, once. A link to an address the person
/// no longer signs in with, a used or expired link, or an unknown one: `Invalid`, saying to ask
/// for a new link.
pub async fn confirm(db: &DatabaseConnection, origin: Origin, token: &str) -> DomainResult<Confirmed> {
    let gone = || {
        DomainError::PreconditionFailed(
            "This confirmation link no longer works: it was used, replaced by a newer one, or is \
             more than 48 hours old. Sign in and send a new one from the banner."
                .into(),
        )
    };
    let txn = crate::db::begin_write(db).await?;
    let link = email_links::take(&txn, Purpose::ConfirmEmail, token).await?.ok_or_else(gone)?;
    let user_id = link.user_id.clone().ok_or_else(gone)?;
    let cred = credential::Entity::find_by_id(user_id.clone())
        .filter(credential::Column::EmailLower.eq(&link.email))
        .one(&txn)
        .await?
        .ok_or_else(gone)?;
    let mut model: credential::ActiveModel = cred.into();
    model.email_verified_at = Set(Some(now_ms()));
    sea_orm::ActiveModelTrait::update(model, &txn).await?;
    if let Some(person) = user::Entity::find_by_id(user_id).one(&txn).await? {
        let detail = format!("{} confirmed with an emailed link", link.email);
        audit::record(&txn, audit::Event::about(&person, Kind::EmailConfirmed, origin, detail)).await?;
    }
    txn.commit().await?;
    Ok(Confirmed { email: link.email })
}
