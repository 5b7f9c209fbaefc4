//! Binding an IdP login to a provisioned person (sso.md §1b).
//!
//! A login is bound to a user by the immutable Entra `(tenant id, object id)`. The first login of
//! a person bootstraps the binding from what SCIM provisioned — `externalId` equal to the object
//! id, else `userName` equal to the UPN (the SAML NameID or OIDC `preferred_username`, Entra's
//! default matching attribute) — and stores it, so a later UPN rename or reuse cannot move the
//! login to someone else. Email is never used (Microsoft's "migrate off email claims", the nOAuth
//! class of takeovers). Only SCIM-provisioned people bootstrap: a console admin's local account is
//! never taken over by an IdP identity. Nobody is created here: an unknown person is refused.
//! Every outcome, sign-in or refusal, is recorded in the organisation's audit log. A sign-in that
//! carries app roles sets the person's role first (`crate::roles::follow_sso_roles`).

use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use super::connections::Protocol;
use crate::{
    DomainResult,
    accounts::{self, Actor},
    audit::{self, Kind},
    clock::now_ms,
    entities::user,
    origin::{Client, Origin},
    roles,
};

/// Who the IdP says signed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdpIdentity {
    /// Entra `tid` (or, for a non-Entra SAML IdP, its entity id).
    pub tenant_id: String,
    /// Entra `oid` (or the SAML NameID when the IdP sends no object id).
    pub object_id: String,
    /// The UPN: SAML NameID or OIDC `preferred_username`.
    pub user_name: Option<String>,
    /// The app role values of the person's assignment (the `roles` claim); empty when the IdP
    /// sends none. They set the person's role at each sign-in (see `crate::roles`).
    pub roles: Vec<String>,
}

/// Why a login does not become a session. Each maps to a page that says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No person of this organisation is provisioned for the identity.
    #[error("your administrator has not given you access to Scimpad")]
    NotProvisioned,
    /// The person exists but is deactivated.
    #[error("your Scimpad account is deactivated")]
    Deactivated,
    /// The token or assertion comes from another Entra tenant than the connection's.
    #[error("this sign-in came from another directory (tenant) than the one configured")]
    WrongTenant,
}

/// The result of resolving a login.
pub type LinkResult = Result<Actor, Refusal>;

/// Resolves `identity`, which signed in over `protocol` from `client`, to an active person of
/// `org_id`, storing the binding on first login, and records the outcome in the audit log.
/// `expected_tenant` is the connection's tenant, when it names one.
pub async fn resolve(
    db: &DatabaseConnection,
    client: &Client,
    protocol: Protocol,
    org_id: &str,
    expected_tenant: Option<&str>,
    identity: &IdpIdentity,
) -> DomainResult<LinkResult> {
    let origin = Origin::Request(client.clone());
    let linked = link(db, origin.clone(), org_id, expected_tenant, identity).await?;
    let protocol = protocol.as_str().to_uppercase();
    let event = match &linked {
        Ok(actor) => audit::Event::by(actor, Kind::SsoSignedIn, format!("with {protocol}")),
        Err((refusal, person)) => {
            let why = match refusal {
                Refusal::NotProvisioned => "nobody of this organisation is provisioned for this identity",
                Refusal::Deactivated => "the person is deactivated",
                Refusal::WrongTenant => "the identity belongs to another Entra tenant than the connection's",
            };
            let detail =
                format!("{protocol}: {why} (tenant {}, object {})", identity.tenant_id, identity.object_id);
            match person {
                // A known (deactivated) person is named as the rest of the log names people.
                Some(p) => audit::Event::about(p, Kind::SsoSignInRefused, origin, detail),
                None => audit::Event {
                    org_id: org_id.to_owned(),
                    kind: Kind::SsoSignInRefused,
                    actor_id: None,
                    actor: identity.user_name.clone().unwrap_or_else(|| identity.object_id.clone()),
                    origin,
                    detail,
                },
            }
        }
    };
    audit::record(db, event).await?;
    Ok(linked.map_err(|(refusal, _)| refusal))
}

/// [`resolve`] without the audit record; a refusal comes with the person it concerns, when known.
async fn link(
    db: &DatabaseConnection,
    origin: Origin,
    org_id: &str,
    expected_tenant: Option<&str>,
    identity: &IdpIdentity,
) -> DomainResult<Result<Actor, (Refusal, Option<user::Model>)>> {
    if expected_tenant.is_some_and(|t| !t.eq_ignore_ascii_case(&identity.tenant_id)) {
        return Ok(Err((Refusal::WrongTenant, None)));
    }
    let bound = user::Entity::find()
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::EntraTenantId.eq(identity.tenant_id.as_str()))
        .filter(user::Column::EntraObjectId.eq(identity.object_id.as_str()))
        .one(db)
        .await?;
    let person = match bound {
        Some(person) => person,
        None => match bootstrap(db, org_id, identity).await? {
            Some(person) => person,
            None => return Ok(Err((Refusal::NotProvisioned, None))),
        },
    };
    if !person.active {
        return Ok(Err((Refusal::Deactivated, Some(person))));
    }
    roles::follow_sso_roles(db, &origin, &person, &identity.roles).await?;
    match accounts::load_actor(db, &person.id, origin).await? {
        Some(actor) => Ok(Ok(actor)),
        None => Ok(Err((Refusal::Deactivated, Some(person)))),
    }
}

/// The unbound SCIM-provisioned person this first login belongs to, now bound to it.
async fn bootstrap(
    db: &DatabaseConnection,
    org_id: &str,
    identity: &IdpIdentity,
) -> DomainResult<Option<user::Model>> {
    let unbound = || {
        user::Entity::find()
            .filter(user::Column::OrgId.eq(org_id))
            .filter(user::Column::Source.eq("scim"))
            .filter(user::Column::EntraObjectId.is_null())
    };
    let mut found =
        unbound().filter(user::Column::ExternalId.eq(identity.object_id.as_str())).one(db).await?;
    if found.is_none()
        && let Some(upn) = identity.user_name.as_deref().map(str::trim).filter(|u| !u.is_empty())
    {
        found = unbound().filter(user::Column::UserNameLower.eq(upn.to_lowercase())).one(db).await?;
    }
    let Some(person) = found else { return Ok(None) };
    // Bind only if still unbound: two first logins racing bind once; the unique index on
    // (org, tenant, object id) keeps one identity on one person.
    let bound = user::Entity::update_many()
        .col_expr(user::Column::EntraTenantId, sea_orm::sea_query::Expr::value(identity.tenant_id.clone()))
        .col_expr(user::Column::EntraObjectId, sea_orm::sea_query::Expr::value(identity.object_id.clone()))
        .col_expr(user::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now_ms()))
        .filter(
            Condition::all()
                .add(user::Column::Id.eq(person.id.as_str()))
                .add(user::Column::EntraObjectId.is_null()),
        )
        .exec(db)
        .await;
    match bound {
        Ok(r) if r.rows_affected == 1 => Ok(Some(person)),
        Ok(_) => Ok(None),
        Err(e) if crate::error::is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
