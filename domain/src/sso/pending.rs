//! Sign-ins in flight: what we must remember between sending a browser to the IdP and its answer
//! (OIDC nonce and PKCE verifier, SAML AuthnRequest id, where to go afterwards).
//!
//! The browser carries only an opaque 256-bit key (OIDC `state`, SAML `RelayState`); the row is
//! stored under the key's SHA-256 and taken exactly once, so a replayed or forged `state` finds
//! nothing (RFC 9700 §4.7, OWASP SAML Security Cheat Sheet: RelayState is not a redirect URL).
//! Rows live ten minutes, and a connection keeps at most [`MAX_PENDING_PER_CONNECTION`]: starting
//! a sign-in needs no account, so a flood of starts must not grow the table unbounded. At the
//! bound the oldest are dropped rather than the new one refused: refusing let anyone who knows an
//! organisation's name deny all of its people SSO with a steady trickle of anonymous starts,
//! while dropping costs a real person at most a second click, and only if the flood outruns
//! their whole visit to the IdP (see [`remember`]).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{RngCore, rngs::OsRng};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::{Order, Query},
};
use url::{Position, Url};

use crate::{DomainResult, clock::now_ms, db::begin_write, entities::sso_pending_login};

/// How long a sign-in may take at the IdP.
pub const PENDING_TTL_MS: i64 = 10 * 60 * 1000;

/// Sign-ins kept per connection at most (expired ones not yet swept count too); starting one
/// more drops the oldest.
pub const MAX_PENDING_PER_CONNECTION: u64 = 10_000;

/// The longest landing path we accept or store, before and after re-serialisation.
pub const MAX_RETURN_TO_LEN: usize = 512;

/// What a sign-in remembers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    pub connection_id: String,
    /// The SAML AuthnRequest id the response must answer (`InResponseTo`).
    pub request_id: Option<String>,
    pub nonce: Option<String>,
    pub pkce_verifier: Option<String>,
    /// A same-origin path to land on after sign-in: a result of [`safe_return_to`].
    pub return_to: String,
}

fn row_id(key: &str) -> String {
    crate::text::sha256_hex(key)
}

/// A fresh random 256-bit value, base64url: state, nonce, RelayState.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The landing page after sign-in for a caller-supplied `candidate`: a path (with query and
/// fragment) on the origin of `public_url`, or `/`. Never an open redirect (OWASP Unvalidated
/// Redirects and Forwards Cheat Sheet).
///
/// Prefix checks on the raw text are not enough: browsers drop tabs and newlines from URLs and
/// read `\` as `/` (WHATWG URL Standard), so `/\t/evil.example` became `//evil.example`, a
/// scheme-relative URL to another host. So the candidate is resolved the way a browser resolves a
/// `Location` (RFC 9110 §10.2.2: a URI reference relative to the request's URL) against our public
/// URL, must keep its origin (scheme, host, port; RFC 6454), and what is returned is re-serialised
/// from the parsed URL, where anything unusual is percent-encoded. Refused outright: control
/// characters (the parser would silently drop or strip them, so what we checked would not be what
/// was sent; an unencoded LF also cannot go into a `Location` header), backslashes, spaces at
/// either end, a path that resolves to `//…` (`/.//evil.example`), and anything longer than
/// [`MAX_RETURN_TO_LEN`] bytes.
pub fn safe_return_to(public_url: &str, candidate: Option<&str>) -> String {
    same_origin_path(public_url, candidate).unwrap_or_else(|| "/".to_owned())
}

fn same_origin_path(public_url: &str, candidate: Option<&str>) -> Option<String> {
    let candidate = candidate?;
    let plain = |c: char| !c.is_control() && c != '\\';
    if candidate.len() > MAX_RETURN_TO_LEN || !candidate.chars().all(plain) || candidate.trim() != candidate {
        return None;
    }
    let base = Url::parse(public_url).ok()?;
    let landing = base.join(candidate).ok()?;
    if landing.origin() != base.origin() || landing.path().starts_with("//") {
        return None;
    }
    let path = &landing[Position::BeforePath..];
    (path.starts_with('/') && path.len() <= MAX_RETURN_TO_LEN).then(|| path.to_owned())
}

/// Remembers `pending` under the browser-carried `key`. When the connection already keeps
/// [`MAX_PENDING_PER_CONNECTION`] sign-ins, the oldest are dropped to make room.
///
/// Why drop rather than refuse: a refusal (503) once let about 10,000 anonymous starts in ten
/// minutes shut every person of an organisation out of SSO. Dropping keeps the table just as
/// bounded, and a real sign-in is lost only if more than [`MAX_PENDING_PER_CONNECTION`] starts for
/// the same organisation arrive while that person is at the IdP (some 170 a second for a minute's
/// visit, a volumetric flood rather than a trickle); they then see "sign-in expired" and click
/// again. A cap per client was rejected: the client address is only as good as the server's
/// trusted-proxy setting, a company's people share one egress address (the cap would lock them
/// out together), and IPv6 gives a flooder addresses without end.
///
/// Count, drop and insert run in one write transaction, so on SQLite (one writer) the bound is
/// exact; on PostgreSQL starts running at the same moment may each add one row above it (at most
/// the pool size per instance), which the next start drops again.
pub async fn remember(db: &DatabaseConnection, key: &str, pending: Pending) -> DomainResult<()> {
    let txn = begin_write(db).await?;
    let of_connection = sso_pending_login::Column::ConnectionId.eq(pending.connection_id.as_str());
    let kept = sso_pending_login::Entity::find().filter(of_connection.clone()).count(&txn).await?;
    if kept >= MAX_PENDING_PER_CONNECTION {
        // Oldest first: every row lives the same TTL, so the earliest expiry was started first
        // (and expired rows the sweep has not reached yet go before any live one).
        let oldest = Query::select()
            .column(sso_pending_login::Column::Id)
            .from(sso_pending_login::Entity)
            .and_where(of_connection)
            .order_by(sso_pending_login::Column::ExpiresAt, Order::Asc)
            .order_by(sso_pending_login::Column::Id, Order::Asc)
            .limit(kept + 1 - MAX_PENDING_PER_CONNECTION)
            .to_owned();
        sso_pending_login::Entity::delete_many()
            .filter(sso_pending_login::Column::Id.in_subquery(oldest))
            .exec(&txn)
            .await?;
    }
    sso_pending_login::Entity::insert(sso_pending_login::ActiveModel {
        id: Set(row_id(key)),
        connection_id: Set(pending.connection_id),
        request_id: Set(pending.request_id),
        nonce: Set(pending.nonce),
        pkce_verifier: Set(pending.pkce_verifier),
        return_to: Set(pending.return_to),
        expires_at: Set(now_ms() + PENDING_TTL_MS),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Takes the sign-in remembered under `key`, once: a second take, an unknown key or an expired
/// one gives `None`.
pub async fn take(db: &DatabaseConnection, key: &str) -> DomainResult<Option<Pending>> {
    let id = row_id(key);
    let Some(found) = sso_pending_login::Entity::find_by_id(id.clone()).one(db).await? else {
        return Ok(None);
    };
    // Whoever deletes the row owns the sign-in; a concurrent duplicate deletes nothing.
    let deleted = sso_pending_login::Entity::delete_by_id(id).exec(db).await?.rows_affected;
    if deleted != 1 || found.expires_at <= now_ms() {
        return Ok(None);
    }
    Ok(Some(Pending {
        connection_id: found.connection_id,
        request_id: found.request_id,
        nonce: found.nonce,
        pkce_verifier: found.pkce_verifier,
        return_to: found.return_to,
    }))
}

/// Deletes sign-ins that were never finished.
pub async fn purge_expired(db: &DatabaseConnection) -> DomainResult<u64> {
    Ok(sso_pending_login::Entity::delete_many()
        .filter(sso_pending_login::Column::ExpiresAt.lte(now_ms()))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "https://scimpad.example";

    #[test]
    fn only_same_origin_paths_survive_as_landing_pages() {
        let long_ascii = format!("/{}", "a".repeat(MAX_RETURN_TO_LEN));
        // 401 bytes, 1,201 once each `é` is percent-encoded.
        let long_once_encoded = format!("/{}", "é".repeat(200));
        let cases: &[(&str, &str)] = &[
            // What people bookmark.
            ("/", "/"),
            ("/users?page=2", "/users?page=2"),
            ("/groups/abc#members", "/groups/abc#members"),
            ("/ok?next=//evil", "/ok?next=//evil"),
            ("https://scimpad.example/users", "/users"),
            ("users", "/users"),
            // Percent-encoded slashes, backslashes and newlines stay encoded path characters.
            ("/%2F/evil.example", "/%2F/evil.example"),
            ("/%2f%2fevil.example", "/%2f%2fevil.example"),
            ("/%5Cevil.example", "/%5Cevil.example"),
            ("/x%0Ay", "/x%0Ay"),
            // Re-serialised, not copied.
            ("/a b", "/a%20b"),
            ("/ü", "/%C3%BC"),
            // Another origin, spelled every way we know.
            ("//evil.example", "/"),
            ("///evil.example", "/"),
            ("/.//evil.example", "/"),
            ("/..//evil.example", "/"),
            ("/\t/evil.example", "/"),
            ("/\n/evil.example", "/"),
            ("/\r/evil.example", "/"),
            ("/\\evil.example", "/"),
            ("\\/evil.example", "/"),
            ("https://evil.example", "/"),
            ("http:evil.example", "/"),
            ("http://scimpad.example/users", "/"),
            ("https://scimpad.example:8443/users", "/"),
            ("javascript:alert(1)", "/"),
            ("data:text/html,<script>alert(1)</script>", "/"),
            // Refused outright.
            (" /x", "/"),
            ("/x ", "/"),
            ("/x\ny", "/"),
            ("/x\0y", "/"),
            (&long_ascii, "/"),
            (&long_once_encoded, "/"),
            ("", "/"),
        ];
        for (candidate, expected) in cases {
            assert_eq!(safe_return_to(PUBLIC, Some(candidate)), *expected, "{candidate:?}");
        }
        assert_eq!(safe_return_to(PUBLIC, None), "/");
    }

    #[test]
    fn a_landing_page_stays_on_the_page_it_is_resolved_against() {
        let page = Url::parse("https://scimpad.example/sso/saml/contoso/acs").unwrap();
        let candidates = [
            "/users?page=2",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%5Cevil.example",
            "/a b#x y",
            "/ok?next=//evil",
            "/.//evil.example",
        ];
        for candidate in candidates {
            let landing = safe_return_to(PUBLIC, Some(candidate));
            // What a browser does with our `Location`: no byte it would drop or rewrite, the same
            // origin after resolving, and the same text when checked again.
            assert!(landing.bytes().all(|b| b.is_ascii_graphic()), "{landing:?}");
            assert!(!landing.starts_with("//"), "{landing:?}");
            assert_eq!(page.join(&landing).unwrap().origin(), page.origin(), "{candidate:?}");
            assert_eq!(safe_return_to(PUBLIC, Some(&landing)), landing, "{candidate:?}");
        }
    }

    #[test]
    fn an_unparsable_public_url_allows_only_the_root() {
        assert_eq!(safe_return_to("not a url", Some("/users")), "/");
    }
}
