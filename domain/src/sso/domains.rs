//! Verified SSO domains: which organisation "Sign in with SSO" sends `someone@domain` to.
//!
//! Why proof: sign-up is open, and a domain used to route to whichever organisation saved it
//! first. Anyone could sign up, save a SAML connection whose sign-on URL is a page of their own,
//! claim `contoso.com`, and every Contoso employee typing their work email under "Sign in with
//! SSO" was sent to that page — while the real Contoso could no longer claim its own domain.
//!
//! Now a claim routes nobody until the organisation proves control of the domain's DNS: a TXT
//! record `_scimpad-challenge.<domain>` with the value `scimpad-domain-verification=<token>`,
//! the token being 128 random bits of that claim (a record under a name of our own keeps the
//! apex's TXT set, which SPF and others share, untouched). Rules:
//! - Unverified claims block nobody: any number of organisations may hold one on the same
//!   domain; a domain is unique among *verified* claims only (a partial unique index, which is
//!   also the final guard when two organisations prove a domain at the same moment).
//! - Only a definitive answer counts. NXDOMAIN, no TXT at the name, or TXT without our value is
//!   "not found"; a timeout, SERVFAIL or refusal is a DNS error that changes nothing.
//! - When an organisation proves a domain another one holds, the holder is re-checked right away
//!   with the same fresh answer: still published, the newcomer is refused (both records exist,
//!   the DNS owner must remove one); gone, the domain changes hands in one transaction.
//! - Verified claims are re-checked periodically ([`recheck_due`], driven by the server); a
//!   claim becomes unverified after [`MISSES_BEFORE_UNVERIFIED`] consecutive checks that
//!   definitively found no record, so one DNS hiccup or a brief mistake does not cut a whole
//!   company off SSO. Each instance claims a row (a conditional update of its last check)
//!   before checking it, so instances sharing a database never check one twice.
//! - Bounded: at most [`MAX_CLAIMS_PER_ORG`] claims per organisation; checks a person starts
//!   count against a per-organisation budget kept in the database ([`CHECKS_PER_WINDOW`] per
//!   throttle window, whatever claims are added and removed); each lookup has a timeout, one
//!   retry and an overall deadline, and a process runs at most [`MAX_CONCURRENT_LOOKUPS`] at once,
//!   so no tenant can turn the server into a DNS hammer.
//!
//! Every change — a domain added, verified, removed, or unverified (by an admin's check, by the
//! periodic re-check, or by another organisation taking it over) — is recorded in the audit log
//! of the organisation concerned, in the change's transaction.
//!
//! The lookups go through [`DomainVerifier`], a hickory resolver whose nameserver is the
//! operator's choice (the system's by default); tests point it at a DNS server of their own on
//! loopback ([`crate::testing::dns`]).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use hickory_resolver::{
    Resolver, TokioResolver,
    config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts},
    net::{DnsError, NetError, runtime::TokioRuntimeProvider},
    proto::rr::RData,
};
use rand::{RngCore, rngs::OsRng};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::LockType,
};
use tokio::sync::Semaphore;

use crate::{
    DomainError, DomainResult,
    accounts::Actor,
    audit::{self, Event, Kind},
    db::begin_write,
    entities::{organization, sso_domain},
    error::is_unique_violation,
    ids::OrgId,
    mail::Outbox,
    text::first_chars,
    throttle,
};

/// Claims an organisation may hold at once.
pub const MAX_CLAIMS_PER_ORG: u64 = 20;
/// The label in front of the claimed domain that the TXT record lives at.
pub const RECORD_LABEL: &str = "_scimpad-challenge";
/// What the TXT record's value starts with; the claim's token follows.
pub const VALUE_PREFIX: &str = "scimpad-domain-verification=";
/// Consecutive periodic checks without the record after which a verified claim stops routing.
pub const MISSES_BEFORE_UNVERIFIED: i32 = 3;
/// Checks an organisation may start from the console per throttle window
/// ([`throttle::WINDOW_MS`]); past it the organisation waits out the lock.
pub const CHECKS_PER_WINDOW: i32 = 20;
/// DNS lookups one process runs at once (clicks and the periodic re-check together).
pub const MAX_CONCURRENT_LOOKUPS: usize = 16;
/// The longest claimable domain: the record name `_scimpad-challenge.<domain>` must stay within
/// DNS's 253 characters.
pub const MAX_DOMAIN_LEN: usize = 253 - RECORD_LABEL.len() - 1;
/// The longest `last_error` stored (the column holds 512).
const MAX_NOTE_LEN: usize = 500;

/// A claimable email domain: lower-case ASCII (Unicode names in their punycode form, UTS #46),
/// letters, digits and hyphens, at least two labels, a top-level label that is not a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainName(String);

impl DomainName {
    /// Parses what someone typed (`contoso.com`, `@Contoso.com`, `bücher.example`).
    pub fn parse(input: &str) -> DomainResult<Self> {
        let typed = input.trim().trim_start_matches('@').trim_end_matches('.');
        let bad = || DomainError::invalid("domain", "Enter a domain like contoso.com.");
        if typed.is_empty() || typed.len() > 1024 {
            return Err(bad());
        }
        let ascii = idna::domain_to_ascii_strict(typed).map_err(|_| bad())?;
        let labels: Vec<&str> = ascii.split('.').collect();
        let numeric_tld = labels.last().is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
        if labels.len() < 2 || numeric_tld || labels.iter().any(|l| l.is_empty()) {
            return Err(bad());
        }
        if ascii.len() > MAX_DOMAIN_LEN {
            return Err(DomainError::invalid(
                "domain",
                format!("A domain can have at most {MAX_DOMAIN_LEN} characters here."),
            ));
        }
        Ok(Self(ascii))
    }

    /// The ASCII form, as stored and looked up.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a claim stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimState {
    /// Not proven (yet, or any more): routes nobody.
    Pending,
    /// Proven at `since` and found at every check after.
    Verified { since: i64 },
    /// Proven at `since`, but the last `misses` periodic checks found no record, the first at
    /// `failing_since`; still routing until [`MISSES_BEFORE_UNVERIFIED`].
    Failing { since: i64, failing_since: i64, misses: i32 },
}

/// One claim as the settings page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainClaim {
    pub id: String,
    /// The ASCII form.
    pub domain: String,
    /// The Unicode form when it differs (an internationalised domain).
    pub unicode: Option<String>,
    /// The TXT record to create: its name and its value.
    pub record_name: String,
    pub record_value: String,
    pub state: ClaimState,
    pub created_at: i64,
    pub last_checked_at: Option<i64>,
    /// What the last check found, when it was not the record.
    pub last_error: Option<String>,
}

fn record_name(domain: &str) -> String {
    format!("{RECORD_LABEL}.{domain}")
}

fn record_value(token: &str) -> String {
    format!("{VALUE_PREFIX}{token}")
}

impl From<sso_domain::Model> for DomainClaim {
    fn from(m: sso_domain::Model) -> Self {
        let state = match (m.verified_at, m.failing_since) {
            (None, _) => ClaimState::Pending,
            (Some(since), None) => ClaimState::Verified { since },
            (Some(since), Some(failing_since)) => {
                ClaimState::Failing { since, failing_since, misses: m.misses }
            }
        };
        let unicode = match idna::domain_to_unicode(&m.domain) {
            (u, Ok(())) if u != m.domain => Some(u),
            _ => None,
        };
        Self {
            record_name: record_name(&m.domain),
            record_value: record_value(&m.token),
            id: m.id,
            domain: m.domain,
            unicode,
            state,
            created_at: m.created_at,
            last_checked_at: m.last_checked_at,
            last_error: m.last_error,
        }
    }
}

/// What a TXT lookup found.
#[derive(Clone, Debug, PartialEq, Eq)]
enum TxtAnswer {
    /// A definitive answer: the TXT values at the name (none for NXDOMAIN or an empty answer).
    Records(Vec<String>),
    /// No definitive answer (timeout, SERVFAIL, refused, network): changes nothing.
    Failed(String),
}

impl TxtAnswer {
    /// Whether the values include `scimpad-domain-verification=<token>` (spaces and quotes
    /// around it, which some DNS consoles keep, are forgiven; the token is hex, so case is too).
    fn proves(&self, token: &str) -> bool {
        let expected = record_value(token);
        match self {
            TxtAnswer::Records(values) => {
                values.iter().any(|v| v.trim().trim_matches('"').trim().eq_ignore_ascii_case(&expected))
            }
            TxtAnswer::Failed(_) => false,
        }
    }
}

/// The DNS server could not be configured.
#[derive(Debug, thiserror::Error)]
pub enum VerifierSetupError {
    #[error("cannot read the system DNS configuration (/etc/resolv.conf): {0}")]
    SystemConfig(String),
    #[error("the system DNS configuration names no nameserver")]
    NoNameserver,
    #[error("cannot set up the DNS resolver: {0}")]
    Build(String),
}

/// Looks up verification records: a hickory resolver with a timeout, one retry, no cache (a
/// record just created must be seen at the next click, and a negative answer must not be
/// remembered), and at most [`MAX_CONCURRENT_LOOKUPS`] lookups in flight per process.
#[derive(Clone)]
pub struct DomainVerifier(Arc<Verifier>);

struct Verifier {
    resolver: TokioResolver,
    slots: Semaphore,
    /// The most one lookup may take, waiting for a slot and retrying included.
    deadline: Duration,
    /// The nameservers asked, for logs.
    nameservers: String,
}

impl std::fmt::Debug for DomainVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainVerifier").field("nameservers", &self.0.nameservers).finish()
    }
}

impl DomainVerifier {
    /// A verifier asking `nameserver` (UDP, TCP for truncated answers), or the system's
    /// nameservers (`/etc/resolv.conf`) when `None`; each query waits at most `timeout`.
    pub fn new(nameserver: Option<SocketAddr>, timeout: Duration) -> Result<Self, VerifierSetupError> {
        let servers = match nameserver {
            Some(addr) => {
                let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
                    .into_iter()
                    .map(|mut c| {
                        c.port = addr.port();
                        c
                    })
                    .collect();
                vec![NameServerConfig::new(addr.ip(), true, connections)]
            }
            None => {
                let (config, _) = hickory_resolver::system_conf::read_system_conf()
                    .map_err(|e| VerifierSetupError::SystemConfig(e.to_string()))?;
                config.name_servers().to_vec()
            }
        };
        if servers.is_empty() {
            return Err(VerifierSetupError::NoNameserver);
        }
        let nameservers = match nameserver {
            Some(addr) => addr.to_string(),
            None => servers.iter().map(|s| s.ip.to_string()).collect::<Vec<_>>().join(", "),
        };
        let mut options = ResolverOpts::default();
        options.timeout = timeout;
        options.attempts = 1;
        options.cache_size = 0;
        options.use_hosts_file = ResolveHosts::Never;
        let resolver = Resolver::builder_with_config(
            ResolverConfig::from_name_servers(servers),
            TokioRuntimeProvider::default(),
        )
        .with_options(options)
        .build()
        .map_err(|e| VerifierSetupError::Build(e.to_string()))?;
        Ok(Self(Arc::new(Verifier {
            resolver,
            slots: Semaphore::new(MAX_CONCURRENT_LOOKUPS),
            // A try and a retry, each possibly over UDP then TCP.
            deadline: timeout * 4,
            nameservers,
        })))
    }

    /// The TXT values at `name` (a domain name without the trailing dot; a record split into
    /// several strings is joined, RFC 7208 §3.3 style).
    async fn txt(&self, name: &str) -> TxtAnswer {
        let v = &self.0;
        let Ok(Ok(_slot)) = tokio::time::timeout(v.deadline, v.slots.acquire()).await else {
            return TxtAnswer::Failed("too many DNS checks are running at once".into());
        };
        match tokio::time::timeout(v.deadline, v.resolver.txt_lookup(format!("{name}."))).await {
            Err(_) => TxtAnswer::Failed(describe(&NetError::Timeout)),
            Ok(Ok(found)) => TxtAnswer::Records(
                found
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::TXT(txt) => {
                            Some(txt.txt_data.iter().map(|s| String::from_utf8_lossy(s)).collect::<String>())
                        }
                        _ => None,
                    })
                    .collect(),
            ),
            Ok(Err(e)) if e.is_no_records_found() => TxtAnswer::Records(Vec::new()),
            Ok(Err(e)) => TxtAnswer::Failed(describe(&e)),
        }
    }
}

/// A DNS failure in words for the console.
fn describe(err: &NetError) -> String {
    match err {
        NetError::Timeout => "the DNS server did not answer in time".into(),
        NetError::Dns(DnsError::ResponseCode(code)) => format!("the DNS server answered {code}"),
        other => first_chars(&format!("the lookup failed ({other})"), 200),
    }
}

/// `message` as the `last_error` column keeps it.
fn noted(message: &str) -> Option<String> {
    Some(first_chars(message, MAX_NOTE_LEN))
}

/// `2026-12-01 14:05 UTC` for stored milliseconds.
fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().format("%Y-%m-%d %H:%M UTC").to_string()
}

fn not_found(claim: &sso_domain::Model) -> String {
    format!(
        "No TXT record {} found at {} yet. DNS changes can take a while to appear.",
        record_value(&claim.token),
        record_name(&claim.domain)
    )
}

fn dns_error(claim: &sso_domain::Model, reason: &str) -> String {
    format!(
        "Could not check {}: {reason}. Nothing changed; try again in a few minutes.",
        record_name(&claim.domain)
    )
}

/// A fresh claim token: 128 random bits as 32 hex digits (the migration makes the same shape).
fn new_token() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn claims_of(db: &DatabaseConnection, org_id: &OrgId) -> DomainResult<Vec<sso_domain::Model>> {
    Ok(sso_domain::Entity::find()
        .filter(sso_domain::Column::OrgId.eq(org_id))
        .order_by_asc(sso_domain::Column::Domain)
        .all(db)
        .await?)
}

/// `id` as a claim id: anything but a UUID names no claim (and never reaches the database, where
/// PostgreSQL would refuse a NUL in it with an error instead of an empty answer).
fn claim_id(id: &str) -> DomainResult<String> {
    uuid::Uuid::parse_str(id).map(|_| id.to_owned()).map_err(|_| DomainError::NotFound)
}

async fn claim_of(db: &DatabaseConnection, actor: &Actor, id: &str) -> DomainResult<sso_domain::Model> {
    sso_domain::Entity::find_by_id(claim_id(id)?)
        .filter(sso_domain::Column::OrgId.eq(actor.org_id.as_str()))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)
}

/// The organisation's claims, by domain (admins only).
pub async fn list(db: &DatabaseConnection, actor: &Actor) -> DomainResult<Vec<DomainClaim>> {
    actor.require_admin()?;
    Ok(claims_of(db, &actor.org_id).await?.into_iter().map(DomainClaim::from).collect())
}

/// Claims `input` for the actor's organisation, pending until verified. Another organisation's
/// claim on the same domain, verified or not, does not stop this one. With email on, the actor's
/// own address must be confirmed first.
pub async fn add(
    db: &DatabaseConnection,
    outbox: &Outbox,
    actor: &Actor,
    input: &str,
) -> DomainResult<DomainClaim> {
    actor.require_admin()?;
    let domain = DomainName::parse(input)?;
    // Issue 13: a claim by an account whose own address is unproven could speak for a company
    // the person does not belong to.
    crate::email_confirmation::require_confirmed(db, outbox, actor).await?;
    let txn = begin_write(db).await?;
    // Lock the organisation's row so concurrent adds count one after the other (PostgreSQL;
    // SQLite ignores the clause, its single writer serialises them anyway). `all`, not `one`:
    // the id is the key, and `one` binds a LIMIT.
    organization::Entity::find_by_id(actor.org_id.clone())
        .select_only()
        .column(organization::Column::Id)
        .lock(LockType::NoKeyUpdate)
        .into_tuple::<String>()
        .all(&txn)
        .await?;
    let held = sso_domain::Entity::find().filter(sso_domain::Column::OrgId.eq(actor.org_id.as_str()));
    if held.clone().filter(sso_domain::Column::Domain.eq(domain.as_str())).count(&txn).await? > 0 {
        return Err(DomainError::invalid("domain", format!("{} is already on your list.", domain.as_str())));
    }
    if held.count(&txn).await? >= MAX_CLAIMS_PER_ORG {
        return Err(DomainError::invalid(
            "domain",
            format!("An organisation can claim at most {MAX_CLAIMS_PER_ORG} domains; remove one first."),
        ));
    }
    let row = sso_domain::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        org_id: Set(actor.org_id.to_string()),
        domain: Set(domain.as_str().to_owned()),
        token: Set(new_token()),
        created_at: Set(crate::clock::now_ms()),
        verified_at: Set(None),
        last_checked_at: Set(None),
        misses: Set(0),
        failing_since: Set(None),
        last_error: Set(None),
    };
    let inserted = sso_domain::Entity::insert(row).exec_with_returning(&txn).await?;
    let detail = format!("{}, pending verification", domain.as_str());
    audit::record(&txn, Event::by(actor, Kind::SsoDomainAdded, detail)).await?;
    txn.commit().await?;
    Ok(inserted.into())
}

/// Removes one of the organisation's claims; a verified one stops routing at once.
pub async fn remove(db: &DatabaseConnection, actor: &Actor, id: &str) -> DomainResult<()> {
    actor.require_admin()?;
    let id = claim_id(id)?;
    let txn = begin_write(db).await?;
    let claim = sso_domain::Entity::find_by_id(id)
        .filter(sso_domain::Column::OrgId.eq(actor.org_id.as_str()))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    sso_domain::Entity::delete_by_id(claim.id).exec(&txn).await?;
    let was = if claim.verified_at.is_some() { "verified" } else { "pending" };
    let detail = format!("{} ({was})", claim.domain);
    audit::record(&txn, Event::by(actor, Kind::SsoDomainRemoved, detail)).await?;
    txn.commit().await?;
    Ok(())
}

/// Checks a claim's TXT record now, as a person asked, and returns the claim as it then stands.
/// Pending: found, it becomes verified (or refused when another organisation's verified record is
/// still published); not found, an error says which record to create. Verified: the check counts
/// like a periodic one. A DNS error changes nothing but the note. Counts against the
/// organisation's check budget ([`CHECKS_PER_WINDOW`]).
pub async fn verify(
    db: &DatabaseConnection,
    verifier: &DomainVerifier,
    actor: &Actor,
    id: &str,
    now: i64,
) -> DomainResult<DomainClaim> {
    actor.require_admin()?;
    let claim = claim_of(db, actor, id).await?;
    throttle::reserve(db, &format!("domain-check:{}", actor.org_id), CHECKS_PER_WINDOW).await?;
    let answer = verifier.txt(&record_name(&claim.domain)).await;
    match (&answer, claim.verified_at) {
        (TxtAnswer::Failed(reason), _) => {
            let message = dns_error(&claim, reason);
            note(db, &claim.id, now, &message).await?;
            Err(DomainError::invalid("verify", message))
        }
        (TxtAnswer::Records(_), Some(_)) => {
            let txn = begin_write(db).await?;
            if record_check(&txn, &claim, &answer, now).await? == CheckOutcome::Unverified {
                audit::record(&txn, Event::by(actor, Kind::SsoDomainUnverified, missing_too_long(&claim)))
                    .await?;
            }
            txn.commit().await?;
            let checked = claim_of(db, actor, id).await?;
            if answer.proves(&claim.token) {
                Ok(checked.into())
            } else {
                // What the check noted: the misses so far, or that the domain stopped routing.
                Err(DomainError::invalid("verify", checked.last_error.unwrap_or_else(|| not_found(&claim))))
            }
        }
        (TxtAnswer::Records(_), None) if !answer.proves(&claim.token) => {
            let message = not_found(&claim);
            note(db, &claim.id, now, &message).await?;
            Err(DomainError::invalid("verify", message))
        }
        (TxtAnswer::Records(_), None) => {
            take(db, actor, &claim, &answer, now).await?;
            Ok(claim_of(db, actor, id).await?.into())
        }
    }
}

/// Stores a check that changed no state: when it ran and what it found.
async fn note(db: &DatabaseConnection, id: &str, now: i64, message: &str) -> DomainResult<()> {
    sso_domain::Entity::update_many()
        .col_expr(sso_domain::Column::LastCheckedAt, now.into())
        .col_expr(sso_domain::Column::LastError, noted(message).into())
        .filter(sso_domain::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Makes a pending `claim`, whose record `answer` proved, the domain's verified claim. A verified
/// claim of another organisation is judged by the same answer: its record still published, both
/// organisations have a record and the claim is refused; gone, it loses the domain in the same
/// transaction. The partial unique index refuses whichever of two simultaneous takers commits
/// second.
async fn take(
    db: &DatabaseConnection,
    actor: &Actor,
    claim: &sso_domain::Model,
    answer: &TxtAnswer,
    now: i64,
) -> DomainResult<()> {
    let holder = sso_domain::Entity::find()
        .filter(sso_domain::Column::Domain.eq(claim.domain.as_str()))
        .filter(sso_domain::Column::VerifiedAt.is_not_null())
        .filter(sso_domain::Column::Id.ne(claim.id.as_str()))
        .one(db)
        .await?;
    if let Some(holder) = holder.as_ref().filter(|h| answer.proves(&h.token)) {
        let message = format!(
            "Another organisation verified {} and its TXT record at {} is still published next to \
             yours: both records exist. Whoever manages the domain's DNS must remove the one that \
             should not be there; then verify again.",
            claim.domain,
            record_name(&holder.domain)
        );
        note(db, &claim.id, now, &message).await?;
        return Err(DomainError::Conflict(message));
    }
    let txn = begin_write(db).await?;
    if let Some(holder) = &holder {
        let lost = format!(
            "Unverified on {}: another organisation proved control of {}, and this claim's TXT \
             record was no longer published.",
            when(now),
            holder.domain
        );
        let detail = format!("{}: another organisation proved control, this record was gone", holder.domain);
        audit::record(&txn, Event::by_server(&holder.org_id, Kind::SsoDomainUnverified, detail)).await?;
        sso_domain::Entity::update_many()
            .col_expr(sso_domain::Column::VerifiedAt, Option::<i64>::None.into())
            .col_expr(sso_domain::Column::Misses, 0.into())
            .col_expr(sso_domain::Column::FailingSince, Option::<i64>::None.into())
            .col_expr(sso_domain::Column::LastError, Some(lost).into())
            .filter(sso_domain::Column::Id.eq(holder.id.as_str()))
            .filter(sso_domain::Column::VerifiedAt.is_not_null())
            .exec(&txn)
            .await?;
    }
    let verified = sso_domain::Entity::update_many()
        .col_expr(sso_domain::Column::VerifiedAt, Some(now).into())
        .col_expr(sso_domain::Column::LastCheckedAt, Some(now).into())
        .col_expr(sso_domain::Column::Misses, 0.into())
        .col_expr(sso_domain::Column::FailingSince, Option::<i64>::None.into())
        .col_expr(sso_domain::Column::LastError, Option::<String>::None.into())
        .filter(sso_domain::Column::Id.eq(claim.id.as_str()))
        .filter(sso_domain::Column::VerifiedAt.is_null())
        .exec(&txn)
        .await;
    match verified {
        Ok(_) => {
            let detail = if holder.is_some() {
                format!("{}, taken over from another organisation whose record was gone", claim.domain)
            } else {
                claim.domain.clone()
            };
            audit::record(&txn, Event::by(actor, Kind::SsoDomainVerified, detail)).await?;
            Ok(txn.commit().await?)
        }
        Err(e) if is_unique_violation(&e) => Err(DomainError::Conflict(format!(
            "Another organisation verified {} at the same moment. Reload to see where it stands.",
            claim.domain
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Stores what a check of a verified `claim` found: the record resets its misses; a definitive
/// miss counts one more, and the claim becomes unverified at [`MISSES_BEFORE_UNVERIFIED`]; a DNS
/// error only leaves a note. Not written over a check that ran after `now` (a click during a
/// periodic check, or the other way round).
async fn record_check(
    db: &impl ConnectionTrait,
    claim: &sso_domain::Model,
    answer: &TxtAnswer,
    now: i64,
) -> DomainResult<CheckOutcome> {
    let update = sso_domain::Entity::update_many()
        .col_expr(sso_domain::Column::LastCheckedAt, Some(now).into())
        .filter(sso_domain::Column::Id.eq(claim.id.as_str()))
        .filter(sso_domain::Column::VerifiedAt.is_not_null())
        .filter(
            Condition::any()
                .add(sso_domain::Column::LastCheckedAt.is_null())
                .add(sso_domain::Column::LastCheckedAt.lte(now)),
        );
    let (update, outcome) = match answer {
        TxtAnswer::Failed(reason) => (
            update.col_expr(sso_domain::Column::LastError, noted(&dns_error(claim, reason)).into()),
            CheckOutcome::Failed,
        ),
        _ if answer.proves(&claim.token) => (
            update
                .col_expr(sso_domain::Column::Misses, 0.into())
                .col_expr(sso_domain::Column::FailingSince, Option::<i64>::None.into())
                .col_expr(sso_domain::Column::LastError, Option::<String>::None.into()),
            CheckOutcome::Found,
        ),
        _ => {
            let misses = claim.misses + 1;
            let failing_since = claim.failing_since.unwrap_or(now);
            if misses >= MISSES_BEFORE_UNVERIFIED {
                let message = format!(
                    "Unverified on {}: no TXT record {} at {} in {misses} checks in a row since {}. \
                     Publish it again and verify.",
                    when(now),
                    record_value(&claim.token),
                    record_name(&claim.domain),
                    when(failing_since)
                );
                (
                    update
                        .col_expr(sso_domain::Column::VerifiedAt, Option::<i64>::None.into())
                        .col_expr(sso_domain::Column::Misses, 0.into())
                        .col_expr(sso_domain::Column::FailingSince, Option::<i64>::None.into())
                        .col_expr(sso_domain::Column::LastError, noted(&message).into()),
                    CheckOutcome::Unverified,
                )
            } else {
                let message = format!(
                    "{} This domain stops routing after {MISSES_BEFORE_UNVERIFIED} checks in a row \
                     without it ({misses} so far).",
                    not_found(claim)
                );
                (
                    update
                        .col_expr(sso_domain::Column::Misses, misses.into())
                        .col_expr(sso_domain::Column::FailingSince, Some(failing_since).into())
                        .col_expr(sso_domain::Column::LastError, noted(&message).into()),
                    CheckOutcome::Missing,
                )
            }
        }
    };
    update.exec(db).await?;
    Ok(outcome)
}

/// What one periodic check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CheckOutcome {
    Found,
    Missing,
    Unverified,
    Failed,
}

/// The organisation whose verified claim routes `domain` (as typed after the `@`), if any.
pub async fn routed_org(db: &DatabaseConnection, domain: &str) -> DomainResult<Option<String>> {
    let Ok(domain) = DomainName::parse(domain) else { return Ok(None) };
    Ok(sso_domain::Entity::find()
        .select_only()
        .column(sso_domain::Column::OrgId)
        .filter(sso_domain::Column::Domain.eq(domain.as_str()))
        .filter(sso_domain::Column::VerifiedAt.is_not_null())
        .into_tuple::<String>()
        .one(db)
        .await?)
}

/// One pass of the periodic re-check: which claims, and how much work at once.
#[derive(Clone, Copy, Debug)]
pub struct RecheckPlan {
    /// The time the pass runs at (Unix ms).
    pub now: i64,
    /// A verified claim is due when its last check is older than this (ms).
    pub every_ms: i64,
    /// Claims checked in this pass at most, oldest check first.
    pub batch: u64,
    /// Lookups in flight at once.
    pub concurrency: usize,
}

/// What a re-check pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecheckReport {
    /// Due claims this pass claimed and checked.
    pub checked: usize,
    /// Record found.
    pub found: usize,
    /// Record definitively missing, claim still verified.
    pub missing: usize,
    /// Record missing for the last allowed time: the claim stopped routing.
    pub unverified: usize,
    /// No definitive answer (or the database failed): nothing counted.
    pub failed: usize,
}

/// Re-checks up to `plan.batch` verified claims whose last check is older than `plan.every_ms`,
/// `plan.concurrency` at a time. Each is claimed first by moving its last check to `plan.now`
/// only if it still holds the value read, so instances sharing the database split the work.
pub async fn recheck_due(
    db: &DatabaseConnection,
    verifier: &DomainVerifier,
    plan: RecheckPlan,
) -> DomainResult<RecheckReport> {
    let due = sso_domain::Entity::find()
        .filter(sso_domain::Column::VerifiedAt.is_not_null())
        .filter(
            Condition::any()
                .add(sso_domain::Column::LastCheckedAt.is_null())
                .add(sso_domain::Column::LastCheckedAt.lt(plan.now - plan.every_ms)),
        )
        .order_by_asc(sso_domain::Column::LastCheckedAt)
        .limit(plan.batch)
        .all(db)
        .await?;
    let mut report = RecheckReport::default();
    let mut running = tokio::task::JoinSet::new();
    for claim in due {
        if running.len() >= plan.concurrency.max(1)
            && let Some(done) = running.join_next().await
        {
            report.count(done);
        }
        running.spawn(recheck_one(db.clone(), verifier.clone(), claim, plan.now));
    }
    while let Some(done) = running.join_next().await {
        report.count(done);
    }
    Ok(report)
}

impl RecheckReport {
    /// Counts a finished check (nothing when another instance had claimed the claim first).
    fn count(&mut self, done: Result<DomainResult<Option<CheckOutcome>>, tokio::task::JoinError>) {
        let outcome = match done {
            Ok(Ok(None)) => return,
            Ok(Ok(Some(outcome))) => outcome,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "re-checking an SSO domain failed");
                CheckOutcome::Failed
            }
            Err(e) => {
                tracing::warn!(error = %e, "an SSO domain re-check ended abnormally");
                CheckOutcome::Failed
            }
        };
        self.checked += 1;
        match outcome {
            CheckOutcome::Found => self.found += 1,
            CheckOutcome::Missing => self.missing += 1,
            CheckOutcome::Unverified => self.unverified += 1,
            CheckOutcome::Failed => self.failed += 1,
        }
    }
}

/// Claims and checks one due claim; `None` when another instance claimed it first.
async fn recheck_one(
    db: DatabaseConnection,
    verifier: DomainVerifier,
    claim: sso_domain::Model,
    now: i64,
) -> DomainResult<Option<CheckOutcome>> {
    let last = match claim.last_checked_at {
        Some(at) => sso_domain::Column::LastCheckedAt.eq(at),
        None => sso_domain::Column::LastCheckedAt.is_null(),
    };
    let claimed = sso_domain::Entity::update_many()
        .col_expr(sso_domain::Column::LastCheckedAt, Some(now).into())
        .filter(sso_domain::Column::Id.eq(claim.id.as_str()))
        .filter(sso_domain::Column::VerifiedAt.is_not_null())
        .filter(last)
        .exec(&db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(None);
    }
    let answer = verifier.txt(&record_name(&claim.domain)).await;
    let txn = begin_write(&db).await?;
    let outcome = record_check(&txn, &claim, &answer, now).await?;
    if outcome == CheckOutcome::Unverified {
        let event = Event::by_server(&claim.org_id, Kind::SsoDomainUnverified, missing_too_long(&claim));
        audit::record(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(Some(outcome))
}

/// The audit detail of a claim whose record stayed missing for [`MISSES_BEFORE_UNVERIFIED`] checks.
fn missing_too_long(claim: &sso_domain::Model) -> String {
    format!(
        "{}: its TXT record {} was missing {MISSES_BEFORE_UNVERIFIED} checks in a row",
        claim.domain,
        record_name(&claim.domain)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised_to_lower_case_ascii() {
        let parse = |s: &str| DomainName::parse(s).map(|d| d.as_str().to_owned());
        assert_eq!(parse(" @Contoso.COM. ").unwrap(), "contoso.com");
        assert_eq!(parse("Bücher.example").unwrap(), "xn--bcher-kva.example");
        assert_eq!(parse("xn--bcher-kva.example").unwrap(), "xn--bcher-kva.example");
        for bad in [
            "",
            "contoso",
            "contoso..com",
            "-contoso.com",
            "conto_so.com",
            "10.0.0.1",
            "a b.com",
            "http://x.com",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("{}.com", vec!["a".repeat(63); 4].join("."));
        assert!(parse(&long).is_err(), "over 253 characters");
        let longest =
            format!("{}.{}.{}.{}.com", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(38));
        assert_eq!(longest.len(), MAX_DOMAIN_LEN);
        assert!(parse(&longest).is_ok());
        assert!(parse(&format!("e.{longest}")).unwrap_err().to_string().contains("at most 234"));
    }

    #[test]
    fn only_the_exact_value_proves_a_claim() {
        let token = "0123456789abcdef0123456789abcdef";
        let answer = |values: &[&str]| TxtAnswer::Records(values.iter().map(|v| (*v).to_owned()).collect());
        assert!(answer(&["v=spf1 -all", &record_value(token)]).proves(token));
        assert!(answer(&[&format!("\"{}\" ", record_value(&token.to_uppercase()))]).proves(token));
        assert!(!answer(&[&record_value("0123456789abcdef0123456789abcdee")]).proves(token));
        assert!(!answer(&[token]).proves(token));
        assert!(!TxtAnswer::Failed("timeout".into()).proves(token));
    }

    #[test]
    fn tokens_are_128_random_bits_in_hex() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }
}
