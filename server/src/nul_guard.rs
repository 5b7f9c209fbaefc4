//! Refuses a NUL character anywhere in a console or SSO request's input — the path (a page like
//! `/users/{id}`), the query string or a form body (every server function and the SAML ACS take url-encoded forms) — with 400, before
//! any handler sees it. PostgreSQL rejects NUL in text
//! (SQLSTATE 22021), so a NUL that reached a query answered 500 on PostgreSQL while SQLite stored
//! it: one check here keeps every server function, page and SSO endpoint answering alike on both
//! databases. The SCIM API is left to its own check, which answers an RFC 7644 §3.12 error
//! (`scim_api::wire`).

use axum::{
    body::{Body, to_bytes},
    extract::Request,
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The largest body read to be checked: axum's default extractor limit, which the handlers
/// behind this enforce anyway.
const MAX_BODY: usize = 2 * 1024 * 1024;

/// Whether url-encoded `bytes` carry a NUL, raw or percent-encoded.
fn holds_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(3).any(|w| w == b"%00")
}

/// Whether the body is a url-encoded form.
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
}

fn refused() -> Response {
    (StatusCode::BAD_REQUEST, "The request contains a NUL character, which no field accepts.\n")
        .into_response()
}

/// Middleware: 400 for a NUL in the path, the query string or a form body (outside `/scim/v2`).
pub async fn refuse(request: Request, next: Next) -> Response {
    if crate::router::is_scim(request.uri().path()) {
        return next.run(request).await;
    }
    let uri = request.uri();
    if holds_nul(uri.path().as_bytes()) || uri.query().is_some_and(|q| holds_nul(q.as_bytes())) {
        return refused();
    }
    if !is_form(request.headers()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large.\n").into_response();
    };
    if holds_nul(&bytes) {
        return refused();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

#[cfg(test)]
mod tests {
    use super::holds_nul;

    #[test]
    fn finds_nul_however_it_is_written() {
        for with in [&b"a\0b"[..], b"email=a%00b", b"%00"] {
            assert!(holds_nul(with), "{}", String::from_utf8_lossy(with));
        }
        for without in [&b"email=a%2500b"[..], b"q=%20%30", b"q=100", b""] {
            assert!(!holds_nul(without), "{}", String::from_utf8_lossy(without));
        }
    }
}
