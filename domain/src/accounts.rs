//! Console accounts: signing up (a new organisation and its first admin), signing in, and
//! loading the person behind a session. Each of these, and every change of a password or sign-in
//! email, is recorded in the admin audit log (`audit`).

use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;

use crate::{
    DomainError, DomainResult,
    audit::{self, Kind},
    clock::now_ms,
    email::Email,
    email_confirmation, email_links,
    entities::{credential, email_link::Purpose, organization, user},
    error::is_unique_violation,
    ids::{OrgId, UserId},
    mail::Outbox,
    origin::{Client, Origin},
    password, throttle,
};

/// What a person may do in the console (`users.role`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Role {
    /// Manages keys, SSO, the directory and the provisioning log.
    #[sea_orm(string_value = "admin")]
    Admin,
    /// A regular member: sees their own profile.
    #[sea_orm(string_value = "member")]
    Member,
}

/// How a person came to be (`users.source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Source {
    /// Signed up, or was created, in the console: has a password.
    #[sea_orm(string_value = "local")]
    Local,
    /// Provisioned by Entra over SCIM: signs in with SSO.
    #[sea_orm(string_value = "scim")]
    Scim,
}

/// The signed-in person a request acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub org_name: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    /// Provisioned by SCIM and signing in with SSO: name and email belong to the identity
    /// provider, and there is no password.
    pub managed_by_idp: bool,
    /// Where the request this actor acts in comes from, for the audit log.
    pub origin: Origin,
}

impl Actor {
    /// Whether this actor administers their organisation.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// `Forbidden` unless this actor administers their organisation.
    pub fn require_admin(&self) -> crate::DomainResult<()> {
        if self.is_admin() { Ok(()) } else { Err(crate::DomainError::Forbidden) }
    }
}

/// What the sign-up form sends.
#[derive(Clone, Debug)]
pub struct SignUp {
    pub organization: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

fn required(field: &'static str, value: &str, what: &str, max: usize) -> DomainResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::invalid(field, format!("Enter {what}.")));
    }
    if value.chars().count() > max {
        return Err(DomainError::invalid(field, format!("Keep {what} under {max} characters.")));
    }
    Ok(value.to_owned())
}

/// A URL-safe slug for an organisation name, made unique with a random suffix.
fn slug_for(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let base: String = slug.trim_end_matches('-').chars().take(40).collect();
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..6];
    if base.is_empty() { format!("org-{suffix}") } else { format!("{base}-{suffix}") }
}

/// Creates an organisation with `input.name` as its first admin, who can sign in with the given
/// email and password; `origin` is the sign-up form's request or the command line. With email
/// on, the admin is sent a link to confirm their address (after the commit: a letter that cannot
/// be sent fails nothing, the console's banner offers another).
pub async fn sign_up(
    db: &DatabaseConnection,
    outbox: &Outbox,
    origin: Origin,
    input: SignUp,
) -> DomainResult<Actor> {
    let org_name = required("organization", &input.organization, "your organisation's name", 100)?;
    let name = required("name", &input.name, "your name", 100)?;
    let email = Email::parse(&input.email)?;
    password::check_policy(&input.password, email.as_str())?;
    let password_hash = password::hash(input.password).await?;

    let org_id = OrgId::new(uuid::Uuid::new_v4().to_string());
    let txn = crate::db::begin_write(db).await?;
    organization::Entity::insert(organization::ActiveModel {
        id: Set(org_id.to_string()),
        name: Set(org_name.clone()),
        slug: Set(slug_for(&org_name)),
        created_at: Set(now_ms()),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let person = NewPerson { org_id: &org_id, name: &name, email: &email, role: Role::Admin, password_hash };
    let user_id = insert_local_person(&txn, person, None).await?;
    let actor = Actor {
        user_id,
        org_id,
        org_name,
        display_name: name,
        email: email.as_str().to_owned(),
        role: Role::Admin,
        managed_by_idp: false,
        origin,
    };
    let detail = format!("“{}” created with {} as its first admin", actor.org_name, actor.email);
    audit::record(&txn, audit::Event::by(&actor, Kind::OrganizationCreated, detail)).await?;
    txn.commit().await?;
    if outbox.is_on()
        && let Err(e) = email_confirmation::send_link(db, outbox, &actor).await
    {
        tracing::warn!(error = %e, "the confirmation email of a new account was not sent");
    }
    Ok(actor)
}

/// A console account with a password, as [`insert_local_person`] creates it.
pub(crate) struct NewPerson<'a> {
    pub org_id: &'a OrgId,
    pub name: &'a str,
    pub email: &'a Email,
    pub role: Role,
    pub password_hash: String,
}

/// Inserts a person who signs in with a password (a user row shaped as a SCIM User, and the
/// credential), in the caller's transaction; `confirmed_at` when the address is already proven
/// (an accepted invitation). An email another account signs in with is a `Conflict`.
pub(crate) async fn insert_local_person(
    txn: &impl ConnectionTrait,
    person: NewPerson<'_>,
    confirmed_at: Option<i64>,
) -> DomainResult<UserId> {
    let NewPerson { org_id, name, email, role, password_hash } = person;
    let now = now_ms();
    let user_id = uuid::Uuid::new_v4().to_string();
    let resource = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email.as_str(),
        "displayName": name,
        "emails": [{"value": email.as_str(), "type": "work", "primary": true}],
        "active": true,
    });
    let inserted = user::Entity::insert(user::ActiveModel {
        id: Set(user_id.clone()),
        org_id: Set(org_id.to_string()),
        user_name: Set(email.as_str().to_owned()),
        user_name_lower: Set(email.normalized()),
        external_id: Set(None),
        display_name: Set(Some(name.to_owned())),
        given_name: Set(None),
        family_name: Set(None),
        email: Set(Some(email.as_str().to_owned())),
        email_lower: Set(Some(email.normalized())),
        active: Set(true),
        role: Set(role),
        source: Set(Source::Local),
        entra_tenant_id: Set(None),
        entra_object_id: Set(None),
        resource: Set(resource),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(txn)
    .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => {
            return Err(DomainError::Conflict(format!(
                "{} is already in this organisation (provisioned from Entra ID, signing in with SSO). \
                 Invite a separate address for a password admin.",
                email.as_str()
            )));
        }
        other => other?,
    };
    let inserted = credential::Entity::insert(credential::ActiveModel {
        user_id: Set(user_id.clone()),
        email_lower: Set(email.normalized()),
        password_hash: Set(password_hash),
        updated_at: Set(now),
        email_verified_at: Set(confirmed_at),
    })
    .exec(txn)
    .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => {
            return Err(DomainError::Conflict(
                "An account with this email already exists. Sign in instead.".into(),
            ));
        }
        other => other?,
    };
    Ok(UserId::new(user_id))
}

/// Checks an email and password for a request from `client`. Wrong email and wrong password are
/// the same error and cost the same work; repeated failures lock the (email, client) pair, and
/// many failures lock the client, for a while (see [`throttle`]). Every attempt is counted before
/// its password is checked, so parallel guesses cannot overrun the limit.
///
/// The audit log of the person's organisation records the sign-in, or the failure when the email
/// is someone's (a wrong password, or password sign-in turned off by the SSO policy).
pub async fn sign_in(
    db: &DatabaseConnection,
    client: &Client,
    email: &str,
    password: &str,
) -> DomainResult<Actor> {
    let signed_in = check_password(db, client, email, password).await;
    let outcome = match &signed_in {
        Ok(_) => "success",
        Err(DomainError::InvalidCredentials) => "failure",
        Err(DomainError::Throttled { .. }) => "throttled",
        Err(DomainError::Invalid { .. }) => "refused",
        Err(_) => "error",
    };
    count_sign_in("password", outcome);
    signed_in
}

/// The counter of sign-ins, labelled by `method` (password, saml, oidc) and `outcome`.
pub const SIGN_INS_METRIC: &str = "scimpad_sign_ins_total";

/// Counts a sign-in attempt over `method` that ended in `outcome`.
pub fn count_sign_in(method: &'static str, outcome: &'static str) {
    metrics::counter!(SIGN_INS_METRIC, "method" => method, "outcome" => outcome).increment(1);
}

/// [`sign_in`]'s work, before its outcome is counted.
async fn check_password(
    db: &DatabaseConnection,
    client: &Client,
    email: &str,
    password: &str,
) -> DomainResult<Actor> {
    let email = email.trim().to_lowercase();
    let pair = throttle::pair_key(&email, client.addr.0);
    let address = throttle::address_key(client.addr.0);
    throttle::reserve(db, &pair, throttle::MAX_FAILURES).await?;
    if let Err(refused) = throttle::reserve(db, &address, throttle::MAX_ADDRESS_FAILURES).await {
        throttle::release(db, &pair).await?;
        return Err(refused);
    }
    let found = credential::Entity::find().filter(credential::Column::EmailLower.eq(&email)).one(db).await?;
    let hash = found.as_ref().map(|c| c.password_hash.clone());
    let verified = match password::verify(password.to_owned(), hash).await {
        Ok(verified) => verified,
        Err(unchecked) => {
            // No password was checked (no hashing slot was free): not a failure.
            throttle::release(db, &pair).await?;
            throttle::release(db, &address).await?;
            return Err(unchecked);
        }
    };
    let origin = Origin::Request(client.clone());
    let Some(cred) = found else { return Err(DomainError::InvalidCredentials) };
    let Some(actor) = load_actor(db, &cred.user_id, origin).await? else {
        // A deactivated person: no audit row (their organisation's admins deactivated them).
        return Err(DomainError::InvalidCredentials);
    };
    if !verified {
        // The reservations stand as this attempt's failures.
        audit::record(db, audit::Event::by(&actor, Kind::SignInFailed, "wrong password")).await?;
        return Err(DomainError::InvalidCredentials);
    }
    throttle::reset(db, &pair).await?;
    throttle::release(db, &address).await?;
    ensure_password_sign_in(db, &actor).await?;
    audit::record(db, audit::Event::by(&actor, Kind::SignedIn, "")).await?;
    Ok(actor)
}

/// Refuses (and audits) a password sign-in of `actor`, whose password is right, when their
/// organisation has turned password sign-in off for everyone but admins.
pub async fn ensure_password_sign_in(db: &DatabaseConnection, actor: &Actor) -> DomainResult<()> {
    if actor.is_admin() {
        return Ok(());
    }
    let org = organization::Entity::find_by_id(actor.org_id.to_owned()).one(db).await?;
    if !org.is_some_and(|o| o.sso_required) {
        return Ok(());
    }
    let detail = "correct password, but the organisation requires SSO for everyone but admins";
    audit::record(db, audit::Event::by(actor, Kind::SignInFailed, detail)).await?;
    Err(DomainError::invalid(
        "email",
        "Your organisation signs in with single sign-on: use “Sign in with SSO” below.",
    ))
}

/// The active person with id `user_id`, acting from `origin`, or `None` when they are gone or
/// deactivated.
pub async fn load_actor(
    db: &impl ConnectionTrait,
    user_id: &str,
    origin: Origin,
) -> DomainResult<Option<Actor>> {
    let found =
        user::Entity::find_by_id(user_id.to_owned()).find_also_related(organization::Entity).one(db).await?;
    Ok(match found {
        Some((u, Some(org))) if u.active => Some(Actor {
            display_name: u.display_name.clone().unwrap_or_else(|| u.user_name.clone()),
            email: u.email.clone().unwrap_or_else(|| u.user_name.clone()),
            role: u.role,
            managed_by_idp: u.source == Source::Scim,
            user_id: UserId::new(u.id),
            org_id: OrgId::new(org.id),
            org_name: org.name,
            origin,
        }),
        _ => None,
    })
}

/// The active person who signs in with `email`, acting from the command line (`scimpad api-key
/// create --admin-email`).
pub async fn command_line_actor(db: &DatabaseConnection, email: &str) -> DomainResult<Option<Actor>> {
    let found = credential::Entity::find()
        .filter(credential::Column::EmailLower.eq(email.trim().to_lowercase()))
        .one(db)
        .await?;
    match found {
        Some(cred) => load_actor(db, &cred.user_id, Origin::CommandLine).await,
        None => Ok(None),
    }
}

/// Changes the signed-in person's name and sign-in email. Their SCIM `userName` stays as it is:
/// it is the identity Entra matches on. A new email is unconfirmed: the links sent to the old
/// one stop working, and with email on a link to confirm the new one is sent.
pub async fn update_profile(
    db: &DatabaseConnection,
    outbox: &Outbox,
    actor: &Actor,
    name: &str,
    email: &str,
) -> DomainResult<Actor> {
    if actor.managed_by_idp {
        return Err(DomainError::invalid(
            "name",
            "Your name and email come from your organisation's identity provider; change them there.",
        ));
    }
    let name = required("name", name, "your name", 100)?;
    let email = Email::parse(email)?;
    let txn = crate::db::begin_write(db).await?;
    let person =
        user::Entity::find_by_id(actor.user_id.clone()).one(&txn).await?.ok_or(DomainError::NotFound)?;
    let mut resource = person.resource.clone();
    resource["displayName"] = json!(name);
    let mut emails = resource.get("emails").and_then(|e| e.as_array()).cloned().unwrap_or_default();
    match emails.iter_mut().find(|e| e.get("type").and_then(|t| t.as_str()) == Some("work")) {
        Some(work) => work["value"] = json!(email.as_str()),
        None => emails.push(json!({"value": email.as_str(), "type": "work", "primary": true})),
    }
    resource["emails"] = json!(emails);
    let version = person.version + 1;
    let mut model: user::ActiveModel = person.into();
    model.display_name = Set(Some(name.clone()));
    model.email = Set(Some(email.as_str().to_owned()));
    model.email_lower = Set(Some(email.normalized()));
    model.resource = Set(resource);
    model.version = Set(version);
    model.updated_at = Set(now_ms());
    sea_orm::ActiveModelTrait::update(model, &txn).await?;
    let moved = credential::Entity::update_many()
        .col_expr(credential::Column::EmailLower, sea_orm::sea_query::Expr::value(email.normalized()))
        .filter(credential::Column::UserId.eq(&actor.user_id))
        .exec(&txn)
        .await;
    match moved {
        Err(e) if is_unique_violation(&e) => {
            return Err(DomainError::invalid("email", "Another account already signs in with this email."));
        }
        other => other?,
    };
    let moved = !email.normalized().eq_ignore_ascii_case(&actor.email);
    if moved {
        credential::Entity::update_many()
            .col_expr(credential::Column::EmailVerifiedAt, sea_orm::sea_query::Expr::value(None::<i64>))
            .filter(credential::Column::UserId.eq(&actor.user_id))
            .exec(&txn)
            .await?;
        email_links::withdraw(&txn, &actor.user_id, &[Purpose::ConfirmEmail, Purpose::ResetPassword]).await?;
        let detail = format!("from {} to {}", actor.email, email.as_str());
        audit::record(&txn, audit::Event::by(actor, Kind::EmailChanged, detail)).await?;
    }
    txn.commit().await?;
    let updated = Actor { display_name: name, email: email.as_str().to_owned(), ..actor.clone() };
    if moved && outbox.is_on() && !actor.managed_by_idp {
        // Best effort, as at sign-up: the banner offers another link.
        if let Err(e) = email_confirmation::send_link(db, outbox, &updated).await {
            tracing::warn!(error = %e, "the confirmation email of a changed address was not sent");
        }
    }
    Ok(updated)
}

/// Changes the signed-in person's password after checking the current one. The caller ends the
/// person's other sessions (OWASP: renew sessions after a credential change).
pub async fn change_password(
    db: &DatabaseConnection,
    actor: &Actor,
    current: &str,
    new: &str,
) -> DomainResult<()> {
    let cred = credential::Entity::find_by_id(actor.user_id.clone()).one(db).await?.ok_or_else(|| {
        DomainError::invalid(
            "current_password",
            "Your account signs in with single sign-on; it has no password.",
        )
    })?;
    let key = format!("password-change:{}", cred.user_id);
    throttle::reserve(db, &key, throttle::MAX_FAILURES).await?;
    let verified = match password::verify(current.to_owned(), Some(cred.password_hash.clone())).await {
        Ok(verified) => verified,
        Err(unchecked) => {
            throttle::release(db, &key).await?;
            return Err(unchecked);
        }
    };
    if !verified {
        return Err(DomainError::invalid("current_password", "That is not your current password."));
    }
    throttle::reset(db, &key).await?;
    password::check_policy(new, &actor.email).map_err(|e| match e {
        DomainError::Invalid { message, .. } => DomainError::invalid("new_password", message),
        other => other,
    })?;
    let hash = password::hash(new.to_owned()).await?;
    let mut model: credential::ActiveModel = cred.into();
    model.password_hash = Set(hash);
    model.updated_at = Set(now_ms());
    let txn = crate::db::begin_write(db).await?;
    sea_orm::ActiveModelTrait::update(model, &txn).await?;
    // A reset link sent before must not undo the change.
    email_links::withdraw(&txn, &actor.user_id, &[Purpose::ResetPassword]).await?;
    audit::record(&txn, audit::Event::by(actor, Kind::PasswordChanged, "other sessions ended")).await?;
    txn.commit().await?;
    Ok(())
}
