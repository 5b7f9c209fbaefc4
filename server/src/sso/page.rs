//! The small pages a sign-in can end on instead of the console: refused, failed, not found. They
//! are plain server-rendered HTML with the console's stylesheet (no hydration needed), and carry
//! the HTTP status that matches (403 for a refusal, 400 for a broken or replayed sign-in).

use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};

/// An end-of-sign-in page.
pub struct Page {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
}

impl Page {
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self { status, title, message: message.into() }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let body = format!(
            r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Scimpad</title><link rel="stylesheet" href="/pkg/scimpad.css"></head>
<body><main class="auth-page"><section class="auth-card" role="alert" data-sso-outcome="{status}">
<h1>{title}</h1><p id="sso-message">{message}</p><p><a href="/signin">Back to sign-in</a></p>
</section></main></body></html>"#,
            title = escape(self.title),
            message = escape(&self.message),
            status = self.status.as_u16(),
        );
        (self.status, [("cache-control", "no-store")], Html(body)).into_response()
    }
}
