//! An OpenID provider inside the test, Entra-shaped (issuer `/{tenant}/v2.0`, `tid`/`oid`
//! claims), that signs whatever id_token a test asks for with RS256 (OpenSSL) so the relying
//! party's refusals can be checked one by one. It checks PKCE and the client secret like a real
//! provider, counts discovery fetches, and can roll its signing key.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    extract::{Path, State},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use openssl::{hash::MessageDigest, pkey::PKey, rsa::Rsa, sign::Signer};
use serde_json::{Value, json};

pub const TENANT: &str = "7f3c1e52-9a4b-4d6e-8f21-0c5b3a9d7e10";
pub const CLIENT_ID: &str = "scimpad-test-client";
pub const CLIENT_SECRET: &str = "scimpad-test-secret";

/// An RSA signing key with its key id.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    key: PKey<openssl::pkey::Private>,
}

impl SigningKey {
    pub fn generate(kid: &str) -> Self {
        Self { kid: kid.into(), key: PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap() }
    }

    fn jwk(&self) -> Value {
        let rsa = self.key.rsa().unwrap();
        json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
               "n": B64.encode(rsa.n().to_vec()), "e": B64.encode(rsa.e().to_vec())})
    }

    /// A compact JWS of `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key).unwrap();
        signer.update(input.as_bytes()).unwrap();
        format!("{input}.{}", B64.encode(signer.sign_to_vec().unwrap()))
    }
}

struct Issued {
    challenge: String,
    id_token: String,
}

#[derive(Default)]
struct OpState {
    base: String,
    published: Vec<SigningKey>,
    codes: HashMap<String, Issued>,
    discovery_fetches: usize,
}

/// A running provider.
#[derive(Clone)]
pub struct OidcOp {
    pub issuer: String,
    state: Arc<Mutex<OpState>>,
}

impl OidcOp {
    pub async fn start(key: SigningKey) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state =
            Arc::new(Mutex::new(OpState { base: base.clone(), published: vec![key], ..OpState::default() }));
        let router = Router::new()
            .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery))
            .route("/{tenant}/discovery/v2.0/keys", get(jwks))
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { issuer: format!("{base}/{TENANT}/v2.0"), state }
    }

    /// Publishes `key` instead of the current keys (a key rollover).
    pub fn roll_to(&self, key: SigningKey) {
        self.state.lock().unwrap().published = vec![key];
    }

    pub fn discovery_fetches(&self) -> usize {
        self.state.lock().unwrap().discovery_fetches
    }

    /// "Signs the person in": the code the provider would send to the redirect URI, for an
    /// authorization request with PKCE `challenge`, redeemable once for `id_token`.
    pub fn issue_code(&self, challenge: &str, id_token: String) -> String {
        let code = uuid::Uuid::new_v4().simple().to_string();
        self.state
            .lock()
            .unwrap()
            .codes
            .insert(code.clone(), Issued { challenge: challenge.into(), id_token });
        code
    }

    /// Entra-shaped id_token claims for a person, valid for an hour.
    pub fn claims(&self, nonce: &str, oid: &str, upn: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({"iss": self.issuer, "aud": CLIENT_ID, "sub": format!("pairwise-{oid}"), "iat": now, "nbf": now,
               "exp": now + 3600, "nonce": nonce, "tid": TENANT, "oid": oid, "preferred_username": upn,
               "name": "Test Person", "ver": "2.0"})
    }
}

async fn discovery(State(state): State<Arc<Mutex<OpState>>>, Path(tenant): Path<String>) -> Json<Value> {
    let mut s = state.lock().unwrap();
    s.discovery_fetches += 1;
    let base = format!("{}/{tenant}", s.base);
    Json(json!({
        "issuer": format!("{base}/v2.0"),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email"],
        "code_challenge_methods_supported": ["S256"]
    }))
}

async fn jwks(State(state): State<Arc<Mutex<OpState>>>) -> Json<Value> {
    let keys: Vec<Value> = state.lock().unwrap().published.iter().map(SigningKey::jwk).collect();
    Json(json!({ "keys": keys }))
}

async fn token(
    State(state): State<Arc<Mutex<OpState>>>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Json<Value>, (axum::http::StatusCode, Json<Value>)> {
    let refuse = |error: &str| (axum::http::StatusCode::BAD_REQUEST, Json(json!({ "error": error })));
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return Err(refuse("invalid_client"));
    }
    let issued = state.lock().unwrap().codes.remove(&field("code")).ok_or_else(|| refuse("invalid_grant"))?;
    let verifier_hash = B64.encode(openssl::sha::sha256(field("code_verifier").as_bytes()));
    if verifier_hash != issued.challenge {
        return Err(refuse("invalid_grant"));
    }
    Ok(Json(
        json!({"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": issued.id_token}),
    ))
}
