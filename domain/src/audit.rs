//! The admin audit log (issue 11): every security-relevant event of an organisation — password
//! and SSO sign-ins, failed and refused sign-ins, sign-outs, API keys created, regenerated and
//! revoked, SSO connections, policy and domains changed (and domains the server's periodic DNS
//! check unverified), passwords and sign-in emails changed, and what the command line did — with
//! who, when, from which client address and user agent.
//! The question it answers: "who regenerated the key that broke provisioning, and when?"
//!
//! Events are written synchronously, in the transaction of the change they record wherever there
//! is one, so a change the console reported done is never missing from the log (unlike the
//! provisioning log, whose batched writer may lose its last fraction of a second). They are rare
//! (people acting, not Entra's traffic); the ones a stranger can cause — failed sign-ins of a
//! known email — are bounded by sign-in throttling, which refuses before anything is recorded.
//! A failed sign-in for an unknown email belongs to no organisation and is not recorded.
//!
//! Rows outlive the people they name (`actor` keeps the name and email of the time) and are
//! deleted after the provisioning log's retention period (`--log-retention-days`).

use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter,
};

use crate::{
    DomainError, DomainResult,
    accounts::Actor,
    activity::given,
    browse::{contains, newest_first},
    clock::now_ms,
    entities::{audit_event as event, user},
    ids::OrgId,
    origin::Origin,
    text::first_chars,
};

/// Rows per console page.
pub const PAGE_SIZE: u64 = 50;
/// The longest detail kept (details are short sentences the server writes; names in them come
/// from people, so they are cut rather than trusted to be short).
const MAX_DETAIL_CHARS: usize = 500;
/// The longest actor text kept (a display name and an email).
const MAX_ACTOR_CHARS: usize = 300;

/// What happened. The stored form is [`Kind::as_str`]; the console shows [`Kind::label`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    OrganizationCreated,
    SignedIn,
    SignInFailed,
    SsoSignedIn,
    SsoSignInRefused,
    SignedOut,
    PasswordChanged,
    EmailChanged,
    ApiKeyCreated,
    ApiKeyRegenerated,
    ApiKeyRevoked,
    SsoConnectionChanged,
    SsoPolicyChanged,
    SsoDomainAdded,
    SsoDomainVerified,
    SsoDomainUnverified,
    SsoDomainRemoved,
    RoleChanged,
    RoleMappingChanged,
    EmailConfirmed,
    PasswordResetRequested,
    PasswordReset,
    AdminInvited,
    InvitationRevoked,
    InvitationAccepted,
}

impl Kind {
    /// Every kind, in the order the console's filter offers them.
    pub const ALL: [Kind; 25] = [
        Kind::SignedIn,
        Kind::SignInFailed,
        Kind::SsoSignedIn,
        Kind::SsoSignInRefused,
        Kind::SignedOut,
        Kind::PasswordChanged,
        Kind::EmailChanged,
        Kind::EmailConfirmed,
        Kind::PasswordResetRequested,
        Kind::PasswordReset,
        Kind::RoleChanged,
        Kind::RoleMappingChanged,
        Kind::AdminInvited,
        Kind::InvitationRevoked,
        Kind::InvitationAccepted,
        Kind::ApiKeyCreated,
        Kind::ApiKeyRegenerated,
        Kind::ApiKeyRevoked,
        Kind::SsoConnectionChanged,
        Kind::SsoPolicyChanged,
        Kind::SsoDomainAdded,
        Kind::SsoDomainVerified,
        Kind::SsoDomainUnverified,
        Kind::SsoDomainRemoved,
        Kind::OrganizationCreated,
    ];

    /// The stored form (and the filter's query value).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::OrganizationCreated => "organization_created",
            Kind::SignedIn => "sign_in",
            Kind::SignInFailed => "sign_in_failed",
            Kind::SsoSignedIn => "sso_sign_in",
            Kind::SsoSignInRefused => "sso_sign_in_refused",
            Kind::SignedOut => "sign_out",
            Kind::PasswordChanged => "password_changed",
            Kind::EmailChanged => "email_changed",
            Kind::ApiKeyCreated => "api_key_created",
            Kind::ApiKeyRegenerated => "api_key_regenerated",
            Kind::ApiKeyRevoked => "api_key_revoked",
            Kind::SsoConnectionChanged => "sso_connection_changed",
            Kind::SsoPolicyChanged => "sso_policy_changed",
            Kind::SsoDomainAdded => "sso_domain_added",
            Kind::SsoDomainVerified => "sso_domain_verified",
            Kind::SsoDomainUnverified => "sso_domain_unverified",
            Kind::SsoDomainRemoved => "sso_domain_removed",
            Kind::RoleChanged => "role_changed",
            Kind::RoleMappingChanged => "role_mapping_changed",
            Kind::EmailConfirmed => "email_confirmed",
            Kind::PasswordResetRequested => "password_reset_requested",
            Kind::PasswordReset => "password_reset",
            Kind::AdminInvited => "admin_invited",
            Kind::InvitationRevoked => "invitation_revoked",
            Kind::InvitationAccepted => "invitation_accepted",
        }
    }

    /// What the console calls it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::OrganizationCreated => "Organisation created",
            Kind::SignedIn => "Signed in with password",
            Kind::SignInFailed => "Sign-in failed",
            Kind::SsoSignedIn => "Signed in with SSO",
            Kind::SsoSignInRefused => "SSO sign-in refused",
            Kind::SignedOut => "Signed out",
            Kind::PasswordChanged => "Password changed",
            Kind::EmailChanged => "Sign-in email changed",
            Kind::ApiKeyCreated => "API key created",
            Kind::ApiKeyRegenerated => "API key regenerated",
            Kind::ApiKeyRevoked => "API key revoked",
            Kind::SsoConnectionChanged => "SSO connection changed",
            Kind::SsoPolicyChanged => "SSO policy changed",
            Kind::SsoDomainAdded => "SSO domain added",
            Kind::SsoDomainVerified => "SSO domain verified",
            Kind::SsoDomainUnverified => "SSO domain unverified",
            Kind::SsoDomainRemoved => "SSO domain removed",
            Kind::RoleChanged => "Role changed",
            Kind::RoleMappingChanged => "Entra admin role changed",
            Kind::EmailConfirmed => "Email confirmed",
            Kind::PasswordResetRequested => "Password reset link sent",
            Kind::PasswordReset => "Password reset",
            Kind::AdminInvited => "Admin invited",
            Kind::InvitationRevoked => "Invitation revoked",
            Kind::InvitationAccepted => "Invitation accepted",
        }
    }

    /// The kind stored as `s`, if any.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How the event reached the server: the stored `via`.
fn via(origin: &Origin) -> &'static str {
    match origin {
        Origin::Request(_) => "web",
        Origin::CommandLine => "cli",
        Origin::Server => "server",
    }
}

/// Where a stored event came from, as the console says it: the client address, "command line",
/// or "Scimpad" for the server's own checks.
pub fn from(row: &event::Model) -> String {
    match row.via.as_str() {
        "cli" => "command line".to_owned(),
        "server" => "Scimpad".to_owned(),
        _ => row.client_addr.clone().unwrap_or_else(|| "—".to_owned()),
    }
}

/// `name <email>`, as an event names a person.
pub fn person(name: &str, email: &str) -> String {
    if name.is_empty() || name == email { email.to_owned() } else { format!("{name} <{email}>") }
}

/// One event to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub org_id: String,
    pub kind: Kind,
    /// The person who acted (or whose sign-in failed), when known.
    pub actor_id: Option<String>,
    /// How the event names them (see [`person`]).
    pub actor: String,
    pub origin: Origin,
    pub detail: String,
}

impl Event {
    /// `actor` did `kind` from where their request came from.
    pub fn by(actor: &Actor, kind: Kind, detail: impl Into<String>) -> Self {
        Self {
            org_id: actor.org_id.to_string(),
            kind,
            actor_id: Some(actor.user_id.to_string()),
            actor: person(&actor.display_name, &actor.email),
            origin: actor.origin.clone(),
            detail: detail.into(),
        }
    }
}

impl Event {
    /// Something `kind` happened to `someone` of the directory who is not (or not yet) a signed-in
    /// actor (an SSO sign-in), from `origin`.
    pub fn about(someone: &user::Model, kind: Kind, origin: Origin, detail: impl Into<String>) -> Self {
        Self {
            org_id: someone.org_id.clone(),
            kind,
            actor_id: Some(someone.id.clone()),
            actor: person(
                someone.display_name.as_deref().unwrap_or(&someone.user_name),
                someone.email.as_deref().unwrap_or(&someone.user_name),
            ),
            origin,
            detail: detail.into(),
        }
    }

    /// The server did `kind` in organisation `org_id` on its own account (a periodic check).
    pub fn by_server(org_id: &str, kind: Kind, detail: impl Into<String>) -> Self {
        Self {
            org_id: org_id.to_owned(),
            kind,
            actor_id: None,
            actor: "Scimpad (scheduled check)".to_owned(),
            origin: Origin::Server,
            detail: detail.into(),
        }
    }
}

/// Records `event` on `db` (a transaction, where the change it records has one).
pub async fn record(db: &impl ConnectionTrait, event: Event) -> Result<(), DbErr> {
    let (client_addr, user_agent) = match &event.origin {
        Origin::Request(client) => {
            (Some(client.addr.0.to_canonical().to_string()), client.user_agent.clone())
        }
        Origin::CommandLine | Origin::Server => (None, None),
    };
    event::Entity::insert(event::ActiveModel {
        id: Default::default(),
        org_id: Set(event.org_id),
        at: Set(now_ms()),
        kind: Set(event.kind.as_str().to_owned()),
        actor_id: Set(event.actor_id),
        actor: Set(first_chars(&event.actor, MAX_ACTOR_CHARS)),
        via: Set(via(&event.origin).to_owned()),
        client_addr: Set(client_addr),
        user_agent: Set(user_agent),
        detail: Set(first_chars(&event.detail, MAX_DETAIL_CHARS)),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Which events to show; `None` means any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub kind: Option<Kind>,
    /// Part of the actor's name or email (case-insensitive).
    pub actor: Option<String>,
}

impl AuditFilter {
    /// A filter from the console's query parameters (empty strings mean "any").
    pub fn parse(kind: Option<&str>, actor: Option<&str>) -> DomainResult<Self> {
        let kind = match given(kind) {
            Some(k) => Some(Kind::parse(k).ok_or_else(|| {
                DomainError::invalid("kind", format!("\"{k}\" is not a kind of event the audit log records."))
            })?),
            None => None,
        };
        let actor = given(actor).map(|a| first_chars(a, MAX_ACTOR_CHARS));
        Ok(Self { kind, actor })
    }

    fn condition(&self, org_id: &OrgId) -> Condition {
        let mut cond = Condition::all().add(event::Column::OrgId.eq(org_id));
        if let Some(kind) = self.kind {
            cond = cond.add(event::Column::Kind.eq(kind.as_str()));
        }
        if let Some(actor) = &self.actor {
            cond = cond.add(contains(event::Column::Actor, actor));
        }
        cond
    }
}

/// One page of the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditPage {
    /// Newest first.
    pub events: Vec<event::Model>,
    /// Rows matching the filter on all pages.
    pub total: u64,
    /// 1-based.
    pub page: u64,
    pub page_size: u64,
}

/// Page `page` (1-based; 0 reads as 1) of the events matching `filter`, newest first (admins only).
pub async fn page(
    db: &DatabaseConnection,
    actor: &Actor,
    filter: &AuditFilter,
    page: u64,
) -> DomainResult<AuditPage> {
    actor.require_admin()?;
    let page = page.max(1);
    let order = (event::Column::At, event::Column::Id);
    let (events, total) =
        newest_first::<event::Entity>(db, filter.condition(&actor.org_id), order, (page, PAGE_SIZE), None)
            .await?;
    Ok(AuditPage { events, total, page, page_size: PAGE_SIZE })
}

/// Deletes events older than `retention_days`.
pub async fn purge(db: &DatabaseConnection, retention_days: u32) -> Result<u64, DbErr> {
    let cutoff = now_ms() - i64::from(retention_days) * 24 * 3600 * 1000;
    Ok(event::Entity::delete_many().filter(event::Column::At.lt(cutoff)).exec(db).await?.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_and_has_a_label() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            assert!(!kind.label().is_empty());
            assert!(kind.as_str().len() <= 32, "the column holds 32 characters");
        }
        assert_eq!(Kind::parse("nonsense"), None);
    }

    #[test]
    fn people_are_named_by_name_and_email() {
        assert_eq!(person("Ada", "ada@example.com"), "Ada <ada@example.com>");
        assert_eq!(person("", "ada@example.com"), "ada@example.com");
        assert_eq!(person("ada@example.com", "ada@example.com"), "ada@example.com");
    }
}
