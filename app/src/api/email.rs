//! Server functions of what email makes possible (issue 13): confirming an address, resetting a
//! forgotten password, and inviting password admins. The emailed links' pages call these with
//! the link's token; none of them needs a session except sending a confirmation or an invitation.

use leptos::prelude::*;

use crate::{
    dto::{InvitationOffer, InvitationRow},
    error::AppError,
};

/// Whether this server sends email (the pages say plainly when it does not).
#[server(prefix = "/api", endpoint = "mail_enabled")]
pub async fn mail_enabled() -> Result<bool, AppError> {
    Ok(crate::server::app_context()?.outbox.is_on())
}

/// Sends the signed-in person a new link to confirm their address.
#[server(prefix = "/api", endpoint = "resend_confirmation")]
pub async fn resend_confirmation() -> Result<(), AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    domain::email_confirmation::send_link(&ctx.db, &ctx.outbox, &actor).await.map_err(into_app_error)
}

/// Confirms the address an emailed link was sent to.
#[server(prefix = "/api", endpoint = "confirm_email")]
pub async fn confirm_email(token: String) -> Result<(), AppError> {
    use crate::server::{app_context, client, into_app_error};
    let ctx = app_context()?;
    let origin = domain::origin::Origin::Request(client()?);
    domain::email_confirmation::confirm(&ctx.db, origin, &token).await.map_err(into_app_error)?;
    Ok(())
}

/// "Forgot password?": the same answer whether or not the address has an account.
#[server(prefix = "/api", endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    use crate::server::{app_context, client, into_app_error};
    let ctx = app_context()?;
    domain::password_reset::request(&ctx.db, &ctx.outbox, &client()?, &email).await.map_err(into_app_error)
}

/// The address a reset link was sent to, or `None` when the link no longer works.
#[server(prefix = "/api", endpoint = "reset_link")]
pub async fn reset_link(token: String) -> Result<Option<String>, AppError> {
    use crate::server::{app_context, into_app_error};
    domain::password_reset::link_email(&app_context()?.db, &token).await.map_err(into_app_error)
}

/// Sets a new password with an emailed link, ends every other session of the person, and signs
/// this browser in (unless the organisation allows only SSO for them).
#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    use crate::server::{app_context, client, finish_sign_in, into_app_error};
    let ctx = app_context()?;
    let actor = domain::password_reset::reset(&ctx.db, &client()?, &token, &password)
        .await
        .map_err(into_app_error)?;
    domain::accounts::ensure_password_sign_in(&ctx.db, &actor).await.map_err(into_app_error)?;
    finish_sign_in(&actor).await
}

/// The organisation's open and recently expired invitations (admins only).
#[server(prefix = "/api", endpoint = "list_invitations")]
pub async fn list_invitations() -> Result<Vec<InvitationRow>, AppError> {
    use domain::clock::{now_ms, to_rfc3339};

    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    let now = now_ms();
    let invitations = domain::invitations::list(&ctx.db, &actor).await.map_err(into_app_error)?;
    Ok(invitations
        .into_iter()
        .map(|i| InvitationRow {
            expired: i.expired(now),
            id: i.id,
            email: i.email,
            name: i.name,
            invited_by: i.invited_by,
            sent_at: to_rfc3339(i.sent_at),
            expires_at: to_rfc3339(i.expires_at),
        })
        .collect())
}

/// Emails an invitation to become an admin who signs in with a password (admins only; audited).
#[server(prefix = "/api", endpoint = "invite_admin")]
pub async fn invite_admin(name: String, email: String) -> Result<(), AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    domain::invitations::invite(&ctx.db, &ctx.outbox, &actor, &name, &email).await.map_err(into_app_error)?;
    Ok(())
}

/// Withdraws an invitation (admins only; audited).
#[server(prefix = "/api", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(id: String) -> Result<(), AppError> {
    use crate::server::{actor, app_context, into_app_error};
    let (ctx, actor) = (app_context()?, actor()?);
    domain::invitations::revoke(&ctx.db, &actor, &id).await.map_err(into_app_error)
}

/// What an invitation link offers, or `None` when it no longer works.
#[server(prefix = "/api", endpoint = "open_invitation")]
pub async fn open_invitation(token: String) -> Result<Option<InvitationOffer>, AppError> {
    use crate::server::{app_context, into_app_error};
    let offer = domain::invitations::offer(&app_context()?.db, &token).await.map_err(into_app_error)?;
    Ok(offer.map(|o| InvitationOffer { organization: o.organization, email: o.email, name: o.name }))
}

/// Accepts an invitation: creates the admin and signs this browser in as them.
#[server(prefix = "/api", endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String, name: String, password: String) -> Result<(), AppError> {
    use crate::server::{app_context, client, finish_sign_in, into_app_error};
    let ctx = app_context()?;
    let actor = domain::invitations::accept(&ctx.db, &client()?, &token, &name, &password)
        .await
        .map_err(into_app_error)?;
    finish_sign_in(&actor).await
}
