//! Single sign-on endpoints (plain axum routes, never server functions):
//!
//! Paths are defined once in [`app::routes`], which the console's displays use too.
//!
//! - `GET /sso/start?who=…[&protocol=saml|oidc][&return_to=/path]`: "Sign in with SSO" by an
//!   organisation's sign-in name or an email on its SSO domain; redirects to the IdP.
//! - `GET /sso/oidc/callback`: the OIDC redirect URI (one for every organisation; `state` names
//!   the sign-in).
//! - `GET /sso/saml/{org}/metadata`: our SP metadata; its URL is also our SAML entity id.
//! - `POST /sso/saml/{org}/acs`: the Assertion Consumer Service, SP- and IdP-initiated. It is a
//!   cross-site POST, so it is exempt from the CSRF guard and gets no `SameSite=Lax` cookie: the
//!   sign-in is found by its RelayState, and the response is trusted for its signature only.
//!
//! A login becomes a session only for an active person the organisation provisioned
//! ([`domain::sso::linking`]); everything else ends on a [`page::Page`] that says why.

pub mod oidc;
pub mod page;
pub mod saml;

use app::routes;
use axum::{
    Extension, Form, Router,
    extract::{DefaultBodyLimit, Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{Next, from_fn},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use domain::origin::Client;
use domain::sso::{
    connections::{self, OidcConnection, Protocol, SamlConnection},
    linking::{self, IdpIdentity, Refusal},
    pending::{self, Pending},
    replay,
};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use self::page::Page;
use crate::state::AppState;

/// The cookie that ties an OIDC `state` to the browser that started the sign-in (login CSRF).
const STATE_COOKIE: &str = "scimpad_sso_state";
/// The state cookie's path: the directory of the OIDC callback, the only place it is read.
fn state_cookie_path() -> &'static str {
    let callback = routes::OIDC_CALLBACK;
    callback.rfind('/').map_or(callback, |i| &callback[..=i])
}

/// The largest SAMLResponse form we read.
const ACS_BODY_LIMIT: usize = 256 * 1024;

/// The SSO routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(routes::SSO_START, get(start))
        .route(routes::OIDC_CALLBACK, get(oidc_callback).layer(from_fn(count_oidc_sign_ins)))
        .route(routes::SAML_METADATA, get(saml_metadata))
        .route(
            routes::SAML_ACS,
            post(saml_acs).layer(DefaultBodyLimit::max(ACS_BODY_LIMIT)).layer(from_fn(count_saml_sign_ins)),
        )
}

/// The counter of SSO refusals, labelled by `reason` ([`SsoFailure::reason`]).
pub const REFUSALS_METRIC: &str = "scimpad_sso_refusals_total";

/// Marks the answer of a failed SSO step, for the sign-in counters.
#[derive(Clone, Copy, Debug)]
struct Refused;

/// Counts each SAML ACS answer as a sign-in (metrics): a session started, or refused.
async fn count_saml_sign_ins(request: Request, next: Next) -> Response {
    count_sign_ins(Protocol::Saml, next.run(request).await)
}

/// Counts each OIDC callback answer as a sign-in (metrics): a session started, or refused.
async fn count_oidc_sign_ins(request: Request, next: Next) -> Response {
    count_sign_ins(Protocol::Oidc, next.run(request).await)
}

fn count_sign_ins(protocol: Protocol, response: Response) -> Response {
    let outcome = match response.extensions().get::<Refused>() {
        Some(Refused) => "refused",
        None if response.status().is_redirection() => "success",
        // Only an extractor's rejection (a malformed form, say) answers otherwise.
        None => "malformed",
    };
    domain::accounts::count_sign_in(protocol.as_str(), outcome);
    response
}

/// Everything that ends a sign-in without a session.
#[derive(Debug, thiserror::Error)]
enum SsoFailure {
    #[error("no organisation signs in with SSO as {0:?}")]
    UnknownTarget(String),
    #[error("SSO is not set up for this organisation")]
    NotConfigured,
    #[error("the sign-in expired, was already used, or was started in another browser")]
    StaleSignIn,
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the identity provider refused the sign-in: {0}")]
    IdpSaidNo(String),
    #[error(transparent)]
    Oidc(#[from] oidc::OidcError),
    #[error(transparent)]
    Saml(#[from] saml::SamlError),
    #[error("this SAML assertion was already used")]
    Replayed,
    #[error("the saved OIDC client secret cannot be read with this server's secret key")]
    SecretUnreadable,
    #[error(transparent)]
    Domain(#[from] domain::DomainError),
}

impl SsoFailure {
    /// Why, as a metric label: a small fixed set, never the IdP's own text.
    fn reason(&self) -> &'static str {
        match self {
            SsoFailure::UnknownTarget(_) => "unknown_organisation",
            SsoFailure::NotConfigured => "not_configured",
            SsoFailure::StaleSignIn => "stale_sign_in",
            SsoFailure::Refused(Refusal::NotProvisioned) => "not_provisioned",
            SsoFailure::Refused(Refusal::Deactivated) => "deactivated",
            SsoFailure::Refused(Refusal::WrongTenant) => "wrong_tenant",
            SsoFailure::IdpSaidNo(_) => "idp_refused",
            SsoFailure::Oidc(oidc::OidcError::Discovery { .. }) => "idp_unreachable",
            SsoFailure::Oidc(_) | SsoFailure::Saml(_) => "unverified",
            SsoFailure::Replayed => "replayed",
            SsoFailure::SecretUnreadable | SsoFailure::Domain(_) => "server_error",
        }
    }
}

impl IntoResponse for SsoFailure {
    fn into_response(self) -> Response {
        metrics::counter!(REFUSALS_METRIC, "reason" => self.reason()).increment(1);
        use StatusCode as S;
        let page = match &self {
            SsoFailure::UnknownTarget(who) => Page::new(
                S::NOT_FOUND,
                "No SSO for that name",
                format!(
                    "No organisation signs in with SSO as “{who}”. Check the organisation's sign-in name or your work email."
                ),
            ),
            SsoFailure::NotConfigured => Page::new(
                S::NOT_FOUND,
                "SSO is not set up",
                "This organisation has not turned on single sign-on.",
            ),
            SsoFailure::StaleSignIn => Page::new(
                S::BAD_REQUEST,
                "Sign-in expired",
                "This sign-in expired, was already used, or was started in another browser. Start again.",
            ),
            SsoFailure::Refused(Refusal::NotProvisioned) => Page::new(
                S::FORBIDDEN,
                "No access",
                "Your administrator has not given you access to Scimpad. Ask them to assign you the Scimpad application.",
            ),
            SsoFailure::Refused(Refusal::Deactivated) => Page::new(
                S::FORBIDDEN,
                "Account deactivated",
                "Your Scimpad account is deactivated. Ask your administrator if you need access again.",
            ),
            SsoFailure::Refused(Refusal::WrongTenant) => Page::new(
                S::FORBIDDEN,
                "Wrong directory",
                "You signed in with an account from another directory than the one this organisation uses.",
            ),
            SsoFailure::IdpSaidNo(reason) => Page::new(
                S::FORBIDDEN,
                "Sign-in refused",
                format!("Your identity provider refused the sign-in: {reason}"),
            ),
            SsoFailure::Replayed => Page::new(
                S::BAD_REQUEST,
                "Sign-in already used",
                "This sign-in was already used. Start again.",
            ),
            SsoFailure::Oidc(oidc::OidcError::Discovery { .. }) => Page::new(
                S::BAD_GATEWAY,
                "Identity provider unreachable",
                "Scimpad could not reach your identity provider. Try again in a minute; if it persists, tell your administrator.",
            ),
            SsoFailure::Oidc(_) | SsoFailure::Saml(_) => Page::new(
                S::BAD_REQUEST,
                "Sign-in could not be verified",
                "The answer from your identity provider could not be verified, so you were not signed in. Start again; if it persists, tell your administrator.",
            ),
            SsoFailure::SecretUnreadable | SsoFailure::Domain(_) => Page::new(
                S::INTERNAL_SERVER_ERROR,
                "Sign-in failed",
                "Single sign-on is misconfigured on our side. Your administrator can re-save the SSO settings.",
            ),
        };
        if page.status.is_server_error() {
            tracing::error!(error = %self, "SSO sign-in failed");
        } else {
            tracing::warn!(error = %self, "SSO sign-in refused");
        }
        let mut response = page.into_response();
        response.extensions_mut().insert(Refused);
        response
    }
}

#[derive(Deserialize)]
struct StartQuery {
    who: String,
    protocol: Option<String>,
    return_to: Option<String>,
}

async fn start(State(state): State<AppState>, Query(q): Query<StartQuery>) -> Result<Response, SsoFailure> {
    let target = connections::find_target(&state.db, &q.who)
        .await?
        .ok_or_else(|| SsoFailure::UnknownTarget(q.who.clone()))?;
    let use_oidc = match q.protocol.as_deref() {
        Some("oidc") => target.oidc,
        Some("saml") => false,
        _ => target.oidc && !target.saml,
    };
    let return_to = pending::safe_return_to(&state.config.public_url, q.return_to.as_deref());
    if use_oidc {
        let conn = connections::oidc_for_org(&state.db, &target.org_id).await?.filter(|c| c.enabled);
        return start_oidc(&state, conn.ok_or(SsoFailure::NotConfigured)?, return_to).await;
    }
    let conn = connections::saml_by_slug(&state.db, &target.org_slug).await?.filter(|c| c.enabled);
    start_saml(&state, conn.ok_or(SsoFailure::NotConfigured)?, return_to).await
}

fn client_secret(state: &AppState, conn: &OidcConnection) -> Result<String, SsoFailure> {
    conn.client_secret(&state.config.secrets).map_err(|_| SsoFailure::SecretUnreadable)
}

async fn start_oidc(
    state: &AppState,
    conn: OidcConnection,
    return_to: String,
) -> Result<Response, SsoFailure> {
    let redirect_uri = routes::oidc_redirect_uri(&state.config.public_url);
    let started = state.oidc.start(&conn, &client_secret(state, &conn)?, &redirect_uri).await?;
    let remembered = Pending {
        connection_id: conn.id,
        nonce: Some(started.nonce),
        pkce_verifier: Some(started.pkce_verifier),
        return_to,
        ..Pending::default()
    };
    pending::remember(&state.db, &started.state, remembered).await?;
    let cookie = format!(
        "{STATE_COOKIE}={}; Path={}; Max-Age={}; HttpOnly; SameSite=Lax{}",
        started.state,
        state_cookie_path(),
        pending::PENDING_TTL_MS / 1000,
        if state.config.raw.secure_cookies { "; Secure" } else { "" }
    );
    let mut response = Redirect::to(&started.authorize_url).into_response();
    response.headers_mut().insert(header::SET_COOKIE, header_value(&cookie));
    Ok(response)
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("cookie built from base64url and static text")
}

async fn start_saml(
    state: &AppState,
    conn: SamlConnection,
    return_to: String,
) -> Result<Response, SsoFailure> {
    let urls = saml::SpUrls::new(&state.config.public_url, &conn.org_slug);
    let relay_state = pending::random_token();
    let started = saml::start(&conn, &urls, &relay_state)?;
    let remembered = Pending {
        connection_id: conn.id,
        request_id: Some(started.request_id),
        return_to,
        ..Pending::default()
    };
    pending::remember(&state.db, &relay_state, remembered).await?;
    Ok(Redirect::to(&started.redirect_url).into_response())
}

fn state_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(STATE_COOKIE)?.strip_prefix('=').map(str::to_owned))
}

async fn oidc_callback(
    State(state): State<AppState>,
    Extension(client): Extension<Client>,
    session: Session,
    headers: HeaderMap,
    Query(q): Query<oidc::Callback>,
) -> Result<Response, SsoFailure> {
    let returned = q.state.clone().unwrap_or_default();
    // The state must be the one this browser started with (login CSRF), and still pending.
    let same_browser =
        state_cookie(&headers).is_some_and(|c| bool::from(c.as_bytes().ct_eq(returned.as_bytes())));
    if !same_browser || returned.is_empty() {
        return Err(SsoFailure::StaleSignIn);
    }
    let signin = pending::take(&state.db, &returned).await?.ok_or(SsoFailure::StaleSignIn)?;
    if let Some(error) = &q.error {
        return Err(SsoFailure::IdpSaidNo(q.error_description.clone().unwrap_or_else(|| error.clone())));
    }
    let conn = connections::oidc_by_id(&state.db, &signin.connection_id)
        .await?
        .filter(|c| c.enabled)
        .ok_or(SsoFailure::NotConfigured)?;
    let identity = state
        .oidc
        .finish(
            &conn,
            &client_secret(&state, &conn)?,
            &routes::oidc_redirect_uri(&state.config.public_url),
            &q,
            &signin,
        )
        .await?;
    let login = Login { protocol: Protocol::Oidc, org_id: &conn.org_id, tenant: Some(&conn.tenant_id) };
    let mut response = sign_in(&state, &session, &client, login, &identity, &signin.return_to).await?;
    let clear = format!("{STATE_COOKIE}=; Path={}; Max-Age=0; HttpOnly; SameSite=Lax", state_cookie_path());
    response.headers_mut().append(header::SET_COOKIE, header_value(&clear));
    Ok(response)
}

async fn saml_metadata(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> Result<Response, SsoFailure> {
    let conn = connections::saml_by_slug(&state.db, &org).await?.ok_or(SsoFailure::NotConfigured)?;
    let xml = saml::metadata_xml(&saml::SpUrls::new(&state.config.public_url, &conn.org_slug));
    Ok(([(header::CONTENT_TYPE, "application/samlmetadata+xml")], xml).into_response())
}

#[derive(Deserialize)]
struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

async fn saml_acs(
    State(state): State<AppState>,
    Extension(client): Extension<Client>,
    session: Session,
    Path(org): Path<String>,
    Form(form): Form<AcsForm>,
) -> Result<Response, SsoFailure> {
    let conn = connections::saml_by_slug(&state.db, &org)
        .await?
        .filter(|c| c.enabled)
        .ok_or(SsoFailure::NotConfigured)?;
    // A RelayState naming a sign-in we started makes this SP-initiated: the response must answer
    // that request. Anything else is unsolicited (IdP-initiated) and must answer no request.
    let started = match form.relay_state.as_deref().filter(|r| !r.is_empty()) {
        Some(relay) => pending::take(&state.db, relay).await?.filter(|p| p.connection_id == conn.id),
        None => None,
    };
    let expected = started.as_ref().and_then(|p| p.request_id.clone());
    let urls = saml::SpUrls::new(&state.config.public_url, &conn.org_slug);
    let checked = conn.clone();
    let verified = tokio::task::spawn_blocking(move || {
        saml::verify(&checked, &urls, &form.saml_response, expected.as_deref())
    })
    .await
    .map_err(|e| domain::DomainError::Internal(e.to_string()))??;
    if !replay::first_use(&state.db, &conn.id, &verified.assertion_id, verified.remember_until_ms).await? {
        return Err(SsoFailure::Replayed);
    }
    let return_to = started.map(|p| p.return_to).unwrap_or_else(|| "/".to_owned());
    let login = Login { protocol: Protocol::Saml, org_id: &conn.org_id, tenant: conn.entra_tenant() };
    sign_in(&state, &session, &client, login, &verified.identity, &return_to).await
}

/// Which connection a verified login came through.
struct Login<'a> {
    protocol: Protocol,
    org_id: &'a str,
    /// The Entra tenant the connection names, when it names one.
    tenant: Option<&'a str>,
}

/// Binds `identity` to a provisioned person (the audit log records the sign-in or its refusal,
/// with `client`), starts their session and sends them to `return_to`.
///
/// `return_to` was checked when the sign-in started, and is checked again here, where it becomes
/// the `Location`: a sign-in remembered by an older version (one that let `/\t/evil.example` or a
/// raw newline through) may still be pending across an upgrade, and axum's `Redirect` answers 500
/// for a value that is no valid header, after the session has already started.
async fn sign_in(
    state: &AppState,
    session: &Session,
    client: &Client,
    login: Login<'_>,
    identity: &IdpIdentity,
    return_to: &str,
) -> Result<Response, SsoFailure> {
    let Login { protocol, org_id, tenant } = login;
    let actor = linking::resolve(&state.db, client, protocol, org_id, tenant, identity).await??;
    domain::session_store::begin_signed_in(session, &actor.user_id)
        .await
        .map_err(|e| domain::DomainError::Internal(e.to_string()))?;
    tracing::info!(user_id = %actor.user_id, org_id, "signed in with SSO");
    Ok(Redirect::to(&pending::safe_return_to(&state.config.public_url, Some(return_to))).into_response())
}
