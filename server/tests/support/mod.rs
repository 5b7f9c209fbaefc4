//! A real server on an ephemeral loopback port over a fresh database, and an HTTP client that keeps
//! cookies like a browser and sends the Origin header our CSRF guard expects.

#![allow(dead_code)] // each test binary uses part of the support module

use clap::Parser;
use domain::{sea_orm::DatabaseConnection, testing};
use reqwest::{Client, Response, redirect::Policy};

pub const PASSWORD: &str = "correct horse battery";

/// A running server.
pub struct TestApp {
    pub url: String,
    pub db: DatabaseConnection,
}

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    config: server::Config,
}

impl TestApp {
    /// Starts a server; `secure` sets the cookie's Secure flag.
    pub async fn spawn_with(secure: bool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let db_url = testing::test_database_url();
        let secure = secure.to_string();
        let args = ["scimpad", "--database-url", &db_url, "--bind", &addr.to_string(), "--public-url", &url];
        let config = Args::try_parse_from(args.into_iter().chain(["--secure-cookies", &secure]))
            .unwrap()
            .config
            .validate(false)
            .unwrap();
        let db = domain::db::connect(&db_url).await.unwrap();
        let router = server::build_router(server::AppState::new(db.clone(), config));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { url, db }
    }

    pub async fn spawn() -> Self {
        Self::spawn_with(false).await
    }

    /// A browser-like client: keeps cookies, does not follow redirects, sends our Origin.
    pub fn client(&self) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("origin", self.url.parse().unwrap());
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
