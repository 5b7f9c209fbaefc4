//! Inviting a password admin (issue 13, item 4): the break-glass account for the day SSO is
//! down. An admin invites an address; the invitee follows the emailed link, chooses a name and a
//! password, and is an admin of the organisation from then on, signing in with that password.
//!
//! An invitation is an `email_links` row (no person exists until it is accepted, so nothing half
//! made can sign in), lives 72 hours, is taken once, and inviting the same address again replaces
//! it. Sending, revoking and accepting are audited. Inviting needs email on, an admin, and (the
//! issue's rule) a confirmed address: otherwise anyone who signed up with someone else's address
//! could hand out admin seats in their name. An organisation sends at most
//! [`MAX_INVITATIONS_PER_WINDOW`] invitations per throttle window, so a hostile tenant cannot use
//! the server to mail strangers at will.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::{
    DomainError, DomainResult,
    accounts::{self, Actor, NewPerson, Role},
    audit::{self, Kind},
    clock::now_ms,
    email::Email,
    email_confirmation,
    email_links::{self, NewLink},
    entities::{
        credential,
        email_link::{self, Purpose},
        organization, user,
    },
    ids::OrgId,
    mail::{self, Letter, Outbox},
    origin::{Client, Origin},
    password, throttle,
};

/// Invitations one organisation may send per throttle window.
pub const MAX_INVITATIONS_PER_WINDOW: i32 = 20;
/// Invitations one organisation may have open (sent, not expired) at once.
pub const MAX_OPEN_INVITATIONS: u64 = 50;

/// An invitation as the console lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub name: String,
    /// The admin who sent it, as the audit log names people.
    pub invited_by: String,
    pub sent_at: i64,
    pub expires_at: i64,
}

impl Invitation {
    /// Whether it can no longer be accepted.
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at <= now
    }
}

/// What an invitation page shows before it is accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub organization: String,
    pub email: String,
    pub name: String,
}

/// The invitations of `actor`'s organisation not accepted yet, newest first (expired ones stay a
/// week, marked).
pub async fn list(db: &DatabaseConnection, actor: &Actor) -> DomainResult<Vec<Invitation>> {
    actor.require_admin()?;
    let rows = email_link::Entity::find()
        .filter(email_link::Column::OrgId.eq(&actor.org_id))
        .filter(email_link::Column::Purpose.eq(Purpose::Invitation))
        .order_by_desc(email_link::Column::CreatedAt)
        .all(db)
        .await?;
    let inviters: Vec<String> = rows.iter().filter_map(|r| r.created_by.clone()).collect();
    let inviters = user::Entity::find().filter(user::Column::Id.is_in(inviters)).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let by = inviters.iter().find(|u| Some(&u.id) == row.created_by.as_ref());
            invitation(row, by)
        })
        .collect())
}

fn invitation(row: email_link::Model, by: Option<&user::Model>) -> Invitation {
    let invited_by = by.map_or_else(
        || "a former admin".to_owned(),
        |u| {
            audit::person(
                u.display_name.as_deref().unwrap_or(&u.user_name),
                u.email.as_deref().unwrap_or(&u.user_name),
            )
        },
    );
    Invitation {
        id: row.id,
        email: row.email,
        name: row.name.unwrap_or_default(),
        invited_by,
        sent_at: row.created_at,
        expires_at: row.expires_at,
    }
}

/// Emails `email` an invitation to become an admin of `actor`'s organisation, signing in with a
/// password; replaces an earlier invitation of the same address.
pub async fn invite(
    db: &DatabaseConnection,
    outbox: &Outbox,
    actor: &Actor,
    name: &str,
    email: &str,
) -> DomainResult<Invitation> {
    actor.require_admin()?;
    if !outbox.is_on() {
        return Err(mail::off());
    }
    email_confirmation::require_confirmed(db, outbox, actor).await?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(DomainError::invalid("name", "Enter their name (under 100 characters)."));
    }
    let email = Email::parse(email)?;
    let taken = credential::Entity::find()
        .filter(credential::Column::EmailLower.eq(email.normalized()))
        .one(db)
        .await?;
    if taken.is_some() {
        return Err(DomainError::invalid(
            "email",
            "An account already signs in with this email. Invite another address (an admin of this \
             organisation can instead be made one on their page).",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let open = email_link::Entity::find()
        .filter(email_link::Column::OrgId.eq(&actor.org_id))
        .filter(email_link::Column::Purpose.eq(Purpose::Invitation))
        .filter(email_link::Column::ExpiresAt.gt(now_ms()))
        .filter(email_link::Column::Email.ne(email.normalized()))
        .count(&txn)
        .await?;
    if open >= MAX_OPEN_INVITATIONS {
        return Err(DomainError::Conflict(format!(
            "{MAX_OPEN_INVITATIONS} invitations are open already; withdraw some before sending more."
        )));
    }
    throttle::reserve(&txn, &format!("invite:{}", actor.org_id), MAX_INVITATIONS_PER_WINDOW).await?;
    let link = NewLink {
        purpose: Purpose::Invitation,
        org_id: &actor.org_id,
        user_id: None,
        email: email.as_str(),
        name: Some(name.to_owned()),
        created_by: Some(&actor.user_id),
    };
    let (row, token) = email_links::issue(&txn, link).await?;
    let letter = Letter {
        to: row.email.clone(),
        subject: format!("{} invites you to administer {} in Scimpad", actor.display_name, actor.org_name),
        body: format!(
            "Hello {name},\n\n{by} invites you to be an admin of {org} in Scimpad, signing in with \
             your email and a password of your own (the way in when single sign-on is down). \
             Accept and choose your password here:\n\n{url}\n\nThe invitation works once, for 72 \
             hours.\n\nIf you did not expect it, ignore this email.\n",
            by = audit::person(&actor.display_name, &actor.email),
            org = actor.org_name,
            url = outbox.link(Purpose::Invitation, &token),
        ),
    };
    outbox.post(&txn, letter).await?;
    let detail =
        format!("invited {} ({name}) to be an admin signing in with a password; valid 72 hours", row.email);
    audit::record(&txn, audit::Event::by(actor, Kind::AdminInvited, detail)).await?;
    txn.commit().await?;
    let by = user::Entity::find_by_id(actor.user_id.to_string()).one(db).await?;
    Ok(invitation(row, by.as_ref()))
}

/// Withdraws the invitation `id` of `actor`'s organisation.
pub async fn revoke(db: &DatabaseConnection, actor: &Actor, id: &str) -> DomainResult<()> {
    actor.require_admin()?;
    let txn = crate::db::begin_write(db).await?;
    let row = email_link::Entity::find_by_id(id.to_owned())
        .filter(email_link::Column::OrgId.eq(&actor.org_id))
        .filter(email_link::Column::Purpose.eq(Purpose::Invitation))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    email_link::Entity::delete_by_id(row.id).exec(&txn).await?;
    let detail = format!("withdrew the invitation of {}", row.email);
    audit::record(&txn, audit::Event::by(actor, Kind::InvitationRevoked, detail)).await?;
    txn.commit().await?;
    Ok(())
}

/// The refusal of an invitation link that cannot be used.
fn gone() -> DomainError {
    DomainError::PreconditionFailed(
        "This invitation no longer works: it was accepted, withdrawn, replaced by a newer one, or is \
         more than 72 hours old. Ask the admin who invited you for a new one."
            .into(),
    )
}

/// What the live invitation with `token` offers; `None` when it cannot be used.
pub async fn offer(db: &DatabaseConnection, token: &str) -> DomainResult<Option<Offer>> {
    let Some(link) = email_links::peek(db, Purpose::Invitation, token).await? else { return Ok(None) };
    let org = organization::Entity::find_by_id(link.org_id.clone()).one(db).await?;
    Ok(org.map(|org| Offer {
        organization: org.name,
        email: link.email,
        name: link.name.unwrap_or_default(),
    }))
}

/// Accepts the invitation with `token`, once, from `client`: creates the admin `name` who signs
/// in with the invited address and `password` (confirmed: the link was read there) and returns
/// them, to be signed in.
pub async fn accept(
    db: &DatabaseConnection,
    client: &Client,
    token: &str,
    name: &str,
    password: &str,
) -> DomainResult<Actor> {
    let link = email_links::peek(db, Purpose::Invitation, token).await?.ok_or_else(gone)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(DomainError::invalid("name", "Enter your name (under 100 characters)."));
    }
    let email = Email::parse(&link.email)?;
    password::check_policy(password, email.as_str())?;
    let hash = password::hash(password.to_owned()).await?;
    let txn = crate::db::begin_write(db).await?;
    let link = email_links::take(&txn, Purpose::Invitation, token).await?.ok_or_else(gone)?;
    let org_id = OrgId::new(link.org_id.clone());
    let person = NewPerson { org_id: &org_id, name, email: &email, role: Role::Admin, password_hash: hash };
    let user_id = accounts::insert_local_person(&txn, person, Some(now_ms())).await?;
    let actor = accounts::load_actor(&txn, user_id.as_str(), Origin::Request(client.clone()))
        .await?
        .ok_or_else(|| DomainError::Internal("the invited admin just created is missing".into()))?;
    let by = match link.created_by.as_deref() {
        Some(id) => user::Entity::find_by_id(id.to_owned()).one(&txn).await?,
        None => None,
    };
    let detail = format!(
        "accepted the invitation from {}; now an admin signing in with a password",
        invitation(link, by.as_ref()).invited_by
    );
    audit::record(&txn, audit::Event::by(&actor, Kind::InvitationAccepted, detail)).await?;
    txn.commit().await?;
    Ok(actor)
}
