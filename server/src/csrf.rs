//! Cross-site request forgery guard for the console.
//!
//! Leptos server functions do no origin checks of their own, so every unsafe request (anything but
//! GET/HEAD/OPTIONS) must prove it comes from our own pages: `Sec-Fetch-Site` must be `same-origin`
//! (or `none`, a user-typed navigation), or, from browsers that do not send Fetch Metadata, `Origin`
//! must equal the configured public origin (OWASP CSRF Prevention Cheat Sheet: "Fetch Metadata" and
//! "Verifying Origin"). A request with neither header is refused. SCIM (`/scim/`, bearer token, no
//! cookies) is exempt, and so is the SAML ACS: the IdP's cross-site POST is trusted for its
//! signature and its RelayState, never for a cookie.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::state::AppState;

/// Why a request was refused (also the log message).
#[derive(Debug, PartialEq, Eq)]
pub enum CsrfRefusal {
    CrossSite(String),
    ForeignOrigin(String),
    NoOriginInformation,
}

fn is_exempt(path: &str) -> bool {
    crate::router::is_scim(path) || app::routes::is_saml_acs(path)
}

/// Checks the headers of an unsafe request against `public_origin`.
pub fn check(headers: &HeaderMap, public_origin: &str) -> Result<(), CsrfRefusal> {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return match site {
            "same-origin" | "none" => Ok(()),
            other => Err(CsrfRefusal::CrossSite(other.to_owned())),
        };
    }
    match get(header::ORIGIN.as_str()) {
        Some(origin) if origin == public_origin => Ok(()),
        Some(origin) => Err(CsrfRefusal::ForeignOrigin(origin.to_owned())),
        None => Err(CsrfRefusal::NoOriginInformation),
    }
}

/// Middleware: refuses cross-site unsafe requests with 403.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || is_exempt(req.uri().path()) {
        return next.run(req).await;
    }
    match check(req.headers(), &state.config.public_url) {
        Ok(()) => next.run(req).await,
        Err(refusal) => {
            tracing::warn!(?refusal, path = req.uri().path(), "refused a cross-site request");
            (StatusCode::FORBIDDEN, "Cross-site request refused.\n").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    const ORIGIN: &str = "https://scimpad.example";

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert_eq!(check(&headers(&[("sec-fetch-site", "same-origin")]), ORIGIN), Ok(()));
        assert_eq!(check(&headers(&[("sec-fetch-site", "none")]), ORIGIN), Ok(()));
        assert_eq!(
            check(&headers(&[("sec-fetch-site", "cross-site"), ("origin", ORIGIN)]), ORIGIN),
            Err(CsrfRefusal::CrossSite("cross-site".into()))
        );
        assert!(check(&headers(&[("sec-fetch-site", "same-site")]), ORIGIN).is_err());
    }

    #[test]
    fn origin_must_match_without_fetch_metadata() {
        assert_eq!(check(&headers(&[("origin", ORIGIN)]), ORIGIN), Ok(()));
        assert!(matches!(
            check(&headers(&[("origin", "https://evil.example")]), ORIGIN),
            Err(CsrfRefusal::ForeignOrigin(_))
        ));
        assert!(matches!(check(&headers(&[("origin", "null")]), ORIGIN), Err(CsrfRefusal::ForeignOrigin(_))));
        assert_eq!(check(&HeaderMap::new(), ORIGIN), Err(CsrfRefusal::NoOriginInformation));
    }
}
