//! A real server on an ephemeral loopback port over a fresh database, and an HTTP client that keeps
//! cookies like a browser and sends the Origin header our CSRF guard expects.

#![allow(dead_code)] // each test binary uses part of the support module

pub mod smtp_sink;

use clap::Parser;
use domain::{sea_orm::DatabaseConnection, testing};
use reqwest::{Client, Response, redirect::Policy};

pub const PASSWORD: &str = "correct horse battery";
/// The `--metrics-token` of apps whose tests read `/metrics` ([`TestApp::counter`]).
pub const METRICS_TOKEN: &str = "metrics-token-of-the-integration-tests-0123";

/// A running server.
pub struct TestApp {
    pub url: String,
    pub db: DatabaseConnection,
    /// The database's URL (for the command line to open the same one).
    pub db_url: String,
}

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    config: server::Config,
}

impl TestApp {
    /// Starts a server; `secure` sets the cookie's Secure flag.
    pub async fn spawn_with(secure: bool) -> Self {
        Self::spawn_configured(secure, &[]).await
    }

    /// Starts a server with `extra` command-line flags (e.g. `--scim-rate 2`).
    pub async fn spawn_configured(secure: bool, extra: &[&str]) -> Self {
        server::telemetry::init("warn", server::config::LogFormat::Text);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let db_url = testing::test_database_url();
        let secure = secure.to_string();
        let args = [
            "scimpad",
            "--database-url",
            &db_url,
            "--bind",
            &addr.to_string(),
            "--public-url",
            &url,
            "--secret-key",
            "c2NpbXBhZC10ZXN0LWtleS0zMi1ieXRlcy1sb25nISE=",
            "--oidc-issuer-hosts",
            "127.0.0.1,localhost",
        ];
        let config = Args::try_parse_from(
            args.into_iter().chain(["--secure-cookies", &secure]).chain(extra.iter().copied()),
        )
        .unwrap()
        .config
        .validate(false)
        .unwrap();
        let db = domain::db::connect(&db_url).await.unwrap();
        let (state, _background) = server::AppState::start(db.clone(), config);
        let router = server::build_router(state);
        tokio::spawn(async move { server::serve(listener, router).await.unwrap() });
        Self { url, db, db_url }
    }

    pub async fn spawn() -> Self {
        Self::spawn_with(false).await
    }

    /// A browser-like client: keeps cookies, does not follow redirects, sends our Origin.
    pub fn client(&self) -> Client {
        self.browser(&[])
    }

    /// A browser-like client whose requests say (in `X-Forwarded-For`, for a server started with
    /// `--trusted-proxies 127.0.0.1,::1`) they come from `addr`: throttling counts them apart from
    /// every other test's, also on a shared PostgreSQL database.
    pub fn client_from(&self, addr: &str) -> Client {
        self.browser(&[("x-forwarded-for", addr)])
    }

    fn browser(&self, extra: &[(&'static str, &str)]) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("origin", self.url.parse().unwrap());
        for (name, value) in extra {
            headers.insert(*name, value.parse().unwrap());
        }
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .default_headers(headers)
            .build()
            .unwrap()
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The value of the counter `name` with `labels` on `/metrics` (the app must have been spawned
    /// with `--metrics-token` [`METRICS_TOKEN`]); 0 when it has not been counted. The recorder is
    /// the process's, so tests running beside this one count there too.
    pub async fn counter(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let body = self.client().get(self.at("/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap();
        assert_eq!(body.status(), 200);
        let text = body.text().await.unwrap();
        let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map_or(0.0, |s| match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
                _ => panic!("{name} is no counter"),
            })
    }

    /// The person who signs in with `email`.
    pub async fn person(&self, email: &str) -> domain::entities::user::Model {
        use domain::{
            entities::user,
            sea_orm::{ColumnTrait, EntityTrait, QueryFilter},
        };
        user::Entity::find()
            .filter(user::Column::EmailLower.eq(email.to_lowercase()))
            .one(&self.db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("nobody signs in with {email}"))
    }

    /// Signs up a new organisation admin with `email` through the server function.
    pub async fn sign_up(&self, client: &Client, email: &str) -> Response {
        let form =
            [("organization", "Contoso"), ("name", "Ada Admin"), ("email", email), ("password", PASSWORD)];
        client.post(self.at("/api/sign_up")).form(&form).send().await.unwrap()
    }

    pub async fn sign_in(&self, client: &Client, email: &str, password: &str) -> Response {
        client
            .post(self.at("/api/sign_in"))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap()
    }
}

/// The `Location` a response redirects to (a real 3xx or Leptos' server-function redirect).
pub fn location(res: &Response) -> Option<String> {
    res.headers().get("location").map(|v| v.to_str().unwrap().to_owned())
}

/// Checks `res` is an SSO refusal page with `status` that signed nobody in; returns its text.
pub async fn sso_refusal(res: Response, status: u16) -> String {
    assert_eq!(res.status().as_u16(), status, "{:?}", location(&res));
    let session_cookie =
        res.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("scimpad="));
    assert!(!session_cookie, "a refusal starts no session");
    res.text().await.unwrap()
}

/// An organisation with an admin and an API key, made directly through the domain services.
pub struct ScimOrg {
    pub key: String,
    pub admin: domain::accounts::Actor,
}

/// A SCIM response: status, headers, JSON body (`Null` when empty).
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: serde_json::Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A SCIM client with a bearer token, like Entra's provisioning service.
#[derive(Clone)]
pub struct Scim {
    pub client: Client,
    pub base: String,
    pub token: String,
}

impl Scim {
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.header("content-type", "application/scim+json").body(body.to_string());
        }
        let res = req.send().await.unwrap();
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        let text = res.text().await.unwrap();
        let body =
            if text.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text).unwrap() };
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> Reply {
        self.request(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: serde_json::Value) -> Reply {
        self.request(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: serde_json::Value) -> Reply {
        self.request(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.request(reqwest::Method::DELETE, path, None).await
    }

    /// The users a `userName eq` filter finds.
    pub async fn find_user(&self, user_name: &str) -> Vec<serde_json::Value> {
        let filter = format!("userName eq \"{user_name}\"");
        let r = self.get(&format!("/Users?filter={}", urlencode(&filter))).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["Resources"].as_array().cloned().unwrap_or_default()
    }
}

/// Percent-encodes a query value the way Entra does (spaces as `+`).
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl TestApp {
    /// A new organisation with an admin and an API key.
    pub async fn scim_org(&self) -> ScimOrg {
        let input = domain::accounts::SignUp {
            organization: "Contoso".into(),
            name: "Ada Admin".into(),
            email: domain::testing::unique_email("admin"),
            password: PASSWORD.into(),
        };
        let admin = domain::accounts::sign_up(
            &self.db,
            &domain::testing::no_mail(),
            domain::testing::origin(),
            input,
        )
        .await
        .unwrap();
        let key = domain::api_keys::create(&self.db, &admin, "Entra ID", None).await.unwrap();
        ScimOrg { key: key.secret, admin }
    }

    /// A SCIM client for `token`.
    pub fn scim(&self, token: &str) -> Scim {
        Scim { client: Client::new(), base: format!("{}/scim/v2", self.url), token: token.to_owned() }
    }
}

/// An Entra-shaped user (entra-scim.md §2.2).
pub fn entra_user(user_name: &str) -> serde_json::Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": format!("ext-{user_name}"),
        "userName": user_name,
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Alice Smith", "familyName": "Smith", "givenName": "Alice"},
        "roles": [],
        "addresses": null,
        "manager": null
    })
}

/// Creates a user and returns its id.
pub async fn create_user(scim: &Scim, user_name: &str) -> String {
    let r = scim.post("/Users", entra_user(user_name)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

/// The member ids of `group`, sorted.
pub async fn member_ids(scim: &Scim, group: &str) -> Vec<String> {
    let r = scim.get(&format!("/Groups/{group}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut ids: Vec<String> = r.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// A unique `userName`.
pub fn unique_user(prefix: &str) -> String {
    domain::testing::unique_email(prefix)
}

pub mod oidc_op;
pub mod saml_idp;
