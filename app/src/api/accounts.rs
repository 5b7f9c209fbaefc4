//! Account server functions: sign up, sign in, sign out, who am I.

use leptos::prelude::*;

use crate::{dto::SignedInUser, error::AppError};

/// Creates an organisation and its first admin, signs them in and opens the console.
#[server(prefix = "/api", endpoint = "sign_up")]
pub async fn sign_up(
    organization: String,
    name: String,
    email: String,
    password: String,
) -> Result<(), AppError> {
    use crate::server::{app_context, client, finish_sign_in, into_app_error};
    let ctx = app_context()?;
    let input = domain::accounts::SignUp { organization, name, email, password };
    let origin = domain::origin::Origin::Request(client()?);
    let actor =
        domain::accounts::sign_up(&ctx.db, &ctx.outbox, origin, input).await.map_err(into_app_error)?;
    finish_sign_in(&actor).await
}

/// Signs in with email and password and opens the console. Failures are throttled per (email,
/// client address) and per client address, so the server's client-address middleware must have
/// run: without its answer the request is refused rather than throttled under a shared key.
/// The audit log records the sign-in, or the failure of a known email.
#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    use crate::server::{app_context, client, finish_sign_in, into_app_error};
    let ctx = app_context()?;
    let actor =
        domain::accounts::sign_in(&ctx.db, &client()?, &email, &password).await.map_err(into_app_error)?;
    finish_sign_in(&actor).await
}

/// Ends the session (its server-side row is deleted), records it in the audit log and returns to
/// the sign-in page.
#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::{actor, app_context, internal, session};
    use domain::audit::{self, Event, Kind};
    session().await?.flush().await.map_err(internal)?;
    if let Ok(actor) = actor() {
        audit::record(&app_context()?.db, Event::by(&actor, Kind::SignedOut, "")).await.map_err(internal)?;
    }
    leptos_axum::redirect("/signin");
    Ok(())
}

/// What the console shows of `actor`.
#[cfg(feature = "ssr")]
async fn signed_in(actor: &domain::accounts::Actor) -> Result<SignedInUser, AppError> {
    use crate::{
        dto::AddressStatus,
        server::{app_context, into_app_error},
    };
    use domain::email_confirmation::{self, AddressState};
    let ctx = app_context()?;
    let address =
        match email_confirmation::state(&ctx.db, &ctx.outbox, actor).await.map_err(into_app_error)? {
            AddressState::Confirmed => AddressStatus::Confirmed,
            AddressState::Unconfirmed => AddressStatus::Unconfirmed,
            AddressState::MailOff => AddressStatus::MailOff,
            AddressState::NotApplicable => AddressStatus::NotApplicable,
        };
    Ok(SignedInUser {
        name: actor.display_name.clone(),
        email: actor.email.clone(),
        organization: actor.org_name.clone(),
        is_admin: actor.is_admin(),
        managed_by_idp: actor.managed_by_idp,
        address,
    })
}

/// The signed-in person.
#[server(prefix = "/api", endpoint = "current_user")]
pub async fn current_user() -> Result<SignedInUser, AppError> {
    signed_in(&crate::server::actor()?).await
}

/// Changes the signed-in person's name and sign-in email.
#[server(prefix = "/api", endpoint = "update_profile")]
pub async fn update_profile(name: String, email: String) -> Result<SignedInUser, AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let updated = domain::accounts::update_profile(&ctx.db, &ctx.outbox, &actor, &name, &email)
        .await
        .map_err(into_app_error)?;
    signed_in(&updated).await
}

/// Changes the password; every other session of this person ends (this one stays).
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    use crate::server::{actor, app_context, internal, into_app_error, session};
    let (ctx, actor) = (app_context()?, actor()?);
    domain::accounts::change_password(&ctx.db, &actor, &current_password, &new_password)
        .await
        .map_err(into_app_error)?;
    let current = session().await?.id();
    domain::session_store::DbSessionStore::new(ctx.db.clone())
        .delete_for_user(&actor.user_id, current.as_ref())
        .await
        .map_err(internal)?;
    Ok(())
}
