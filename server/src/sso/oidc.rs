//! The OpenID Connect relying party (OIDC Core 1.0 §3.1, authorization code flow), one client per
//! organisation's connection, with `openidconnect` doing discovery, PKCE and the id_token checks.
//!
//! Per sign-in: PKCE S256 (RFC 7636), a fresh `nonce` and `state` (RFC 9700 §2.1.1, §4.5); the
//! client secret is sent in the body (Entra accepts it; the test IdP is `client_secret_post`).
//! The id_token is verified for signature (RS256, the issuer's JWKS), exact `iss`, `aud`, `exp`
//! and `nonce`; then `tid` must be the connection's tenant (openidconnect does not know `tid`).
//! Provider metadata and keys are cached per issuer for a day and fetched again once when a token
//! names an unknown key id (Entra rolls its signing keys), at most once a minute per issuer.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use domain::sso::{connections::OidcConnection, linking::IdpIdentity, pending::Pending};
use openidconnect::{
    AdditionalClaims, AuthType, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse,
    TokenResponse,
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim,
        CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
        CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
    },
    reqwest,
};
use serde::{Deserialize, Serialize};

/// How long discovered metadata and keys are trusted.
const METADATA_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The least time between two fetches of one issuer's metadata (unknown-key refreshes).
const REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// The Entra claims an id_token must carry besides the standard ones.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct EntraClaims {
    /// Tenant id.
    tid: Option<String>,
    /// Immutable object id of the person in the tenant.
    oid: Option<String>,
    /// The values of the person's app role assignments (Entra adds them when the app defines
    /// roles); they set the person's console role (`domain::roles`).
    #[serde(default)]
    roles: Vec<String>,
}

impl AdditionalClaims for EntraClaims {}

type EntraTokenResponse = StandardTokenResponse<
    IdTokenFields<
        EntraClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

type EntraClient = Client<
    EntraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    EntraTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why an OIDC sign-in failed. Details go to the log; the person sees a short explanation.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("cannot read the identity provider's configuration at {issuer}: {detail}")]
    Discovery { issuer: String, detail: String },
    #[error("the identity provider answered with an error: {0}")]
    Provider(String),
    #[error("the authorization code could not be exchanged: {0}")]
    TokenExchange(String),
    #[error("the identity provider sent no id_token")]
    NoIdToken,
    #[error("the id_token failed verification: {0}")]
    InvalidIdToken(String),
    #[error("the id_token lacks the {0} claim")]
    MissingClaim(&'static str),
    #[error("the issuer in the callback ({0}) is not the connection's issuer")]
    WrongIssuer(String),
}

/// What the provider sent back to the redirect URI (OIDC Core §3.1.2.5, RFC 9207 `iss`).
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// What a sign-in must remember until the callback.
pub struct Started {
    pub authorize_url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

struct CachedMetadata {
    metadata: Arc<CoreProviderMetadata>,
    fetched_at: Instant,
    /// When a token with an unknown key id last made us fetch again.
    refreshed_at: Option<Instant>,
}

/// The relying party: an HTTP client that follows no redirects (SSRF, openidconnect docs) and the
/// per-issuer metadata cache.
#[derive(Clone)]
pub struct OidcRp {
    http: reqwest::Client,
    cache: Arc<Mutex<HashMap<String, CachedMetadata>>>,
}

impl std::fmt::Debug for OidcRp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OidcRp")
    }
}

impl Default for OidcRp {
    fn default() -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a reqwest client with static settings builds");
        Self { http, cache: Arc::default() }
    }
}

impl OidcRp {
    /// The issuer's metadata: cached for a day; with `refresh` (a token named an unknown key id)
    /// fetched again unless such a refresh happened less than [`REFRESH_INTERVAL`] ago, so a
    /// stream of forged key ids cannot make us hammer the provider.
    async fn metadata(&self, issuer: &str, refresh: bool) -> Result<Arc<CoreProviderMetadata>, OidcError> {
        {
            let cache = self.cache.lock().expect("metadata cache lock");
            if let Some(hit) = cache.get(issuer) {
                let fresh = hit.fetched_at.elapsed() < METADATA_TTL;
                let refreshed_lately = hit.refreshed_at.is_some_and(|at| at.elapsed() < REFRESH_INTERVAL);
                if fresh && (!refresh || refreshed_lately) {
                    return Ok(hit.metadata.clone());
                }
            }
        }
        let failed = |detail: String| OidcError::Discovery { issuer: issuer.to_owned(), detail };
        let url = IssuerUrl::new(issuer.to_owned()).map_err(|e| failed(e.to_string()))?;
        let metadata = Arc::new(
            CoreProviderMetadata::discover_async(url, &self.http)
                .await
                .map_err(|e| failed(error_chain(&e)))?,
        );
        let now = Instant::now();
        let entry = CachedMetadata {
            metadata: metadata.clone(),
            fetched_at: now,
            refreshed_at: refresh.then_some(now),
        };
        self.cache.lock().expect("metadata cache lock").insert(issuer.to_owned(), entry);
        Ok(metadata)
    }

    async fn client(
        &self,
        conn: &OidcConnection,
        secret: &str,
        redirect_uri: &str,
        refresh: bool,
    ) -> Result<EntraClient, OidcError> {
        let metadata = self.metadata(&conn.issuer, refresh).await?;
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| OidcError::Discovery { issuer: conn.issuer.clone(), detail: e.to_string() })?;
        Ok(EntraClient::from_provider_metadata(
            (*metadata).clone(),
            ClientId::new(conn.client_id.clone()),
            Some(ClientSecret::new(secret.to_owned())),
        )
        .set_auth_type(AuthType::RequestBody)
        .set_redirect_uri(redirect))
    }

    /// Builds the authorization request for a new sign-in.
    pub async fn start(
        &self,
        conn: &OidcConnection,
        secret: &str,
        redirect_uri: &str,
    ) -> Result<Started, OidcError> {
        let client = self.client(conn, secret, redirect_uri, false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            authorize_url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the callback's code and verifies the id_token against what `signin`
    /// remembered; the identity it names, not yet linked to anyone.
    pub async fn finish(
        &self,
        conn: &OidcConnection,
        secret: &str,
        redirect_uri: &str,
        callback: &Callback,
        signin: &Pending,
    ) -> Result<IdpIdentity, OidcError> {
        // RFC 9207: when the provider names itself in the callback, it must be our issuer.
        if let Some(iss) = callback.iss.as_deref().filter(|iss| *iss != conn.issuer) {
            return Err(OidcError::WrongIssuer(iss.to_owned()));
        }
        let code =
            callback.code.as_deref().ok_or(OidcError::TokenExchange("the callback has no code".into()))?;
        let nonce = signin.nonce.as_deref().unwrap_or_default();
        let pkce_verifier = signin.pkce_verifier.as_deref().unwrap_or_default();
        let client = self.client(conn, secret, redirect_uri, false).await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::TokenExchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::TokenExchange(error_chain(&e)))?;
        let id_token = tokens.id_token().ok_or(OidcError::NoIdToken)?;
        let nonce = Nonce::new(nonce.to_owned());
        let verified = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            )) => {
                // An unknown key id: the provider may have rolled its keys. Fetch them again (rate
                // limited) and verify once more.
                let fresh = self.client(conn, secret, redirect_uri, true).await?;
                id_token.claims(&fresh.id_token_verifier(), &nonce).cloned()
            }
            other => other.cloned(),
        }
        .map_err(|e| OidcError::InvalidIdToken(error_chain(&e)))?;
        let extra = verified.additional_claims();
        Ok(IdpIdentity {
            tenant_id: extra.tid.clone().ok_or(OidcError::MissingClaim("tid"))?,
            object_id: extra.oid.clone().ok_or(OidcError::MissingClaim("oid"))?,
            user_name: verified.preferred_username().map(|u| u.as_str().to_owned()),
            roles: extra.roles.clone(),
        })
    }
}

/// `err` and its sources, one line (for the log).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
