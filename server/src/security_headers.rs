//! Security headers on every response, chosen by what the response is for (OWASP Secure Headers
//! Project; W3C Content Security Policy Level 3).
//!
//! Browser responses — console pages, server functions (`/api/*`), the SSO endpoints and pages,
//! everything but the classes below — get:
//! - **`Content-Security-Policy`** with a fresh nonce per response (16 random bytes, base64, from
//!   [`Nonce::new`]). The nonce is put in the request's extensions, where `app::shell` finds it
//!   and gives it to Leptos, which writes it on every inline `<script>` it emits (the hydration
//!   loader and the resources serialised for hydration): an injected script has no nonce and does
//!   not run, so markup injection cannot become script execution (CSP3 §8.2, nonces rather than
//!   `'unsafe-inline'`). Directive by directive:
//!   - `default-src 'self'`: nothing from other origins unless a directive below says so.
//!   - `script-src 'self' 'nonce-…' 'wasm-unsafe-eval'`: our `/pkg/` scripts, the nonced inline
//!     scripts, and compiling the console's WebAssembly (which CSP3 treats as eval).
//!   - `style-src 'self'`: the stylesheet is `/pkg/scimpad.css`; neither the console nor Leptos
//!     writes inline styles or `style` attributes.
//!   - `img-src 'self' data:`: icons, and `data:` images in the stylesheet.
//!   - `connect-src 'self'`: the WebAssembly download and server-function calls.
//!   - `form-action 'self' https:`: Chrome checks `form-action` on every redirect that follows a
//!     form submission (the spec leaves it open, w3c/webappsec-csp#8), and "Sign in with SSO" is a
//!     GET form to `/sso/start` that answers with a redirect to the organisation's identity
//!     provider — for SAML any `https://` sign-on URL an admin entered. `'self'` alone would break
//!     SP-initiated SSO in Chrome; what stays refused is sending a form anywhere over plain HTTP
//!     or to another scheme. A server on a loopback public URL (development, the tests) also allows
//!     `http://localhost:*` and `http://127.0.0.1:*`, the plain-HTTP sign-on URLs the SSO settings
//!     accept. The policy is the same on every page: the console navigates without reloading, so
//!     the sign-in page's form may run under the policy of whichever page loaded the document.
//!   - `base-uri 'none'`, `object-src 'none'`: no `<base>` to redirect relative URLs, no plugins.
//!   - `frame-ancestors 'none'`: no page of ours inside another site's frame (clickjacking).
//! - **`X-Frame-Options: DENY`**: the same refusal for browsers without `frame-ancestors`.
//! - **`Referrer-Policy: same-origin`**: the console's URLs (ids, filters) never leave in a
//!   `Referer`; the identity providers need none (OIDC and SAML carry everything in their
//!   parameters). Not `no-referrer`: our own requests keep `Referer` and `Origin` — a POST under
//!   `no-referrer` sends `Origin: null`, which the CSRF guard refuses where Fetch Metadata is
//!   missing, and a server function posted by a form without JavaScript redirects back to its
//!   `Referer`.
//! - **`Cache-Control: no-store`** on HTML pages and server-function responses, unless the handler
//!   chose a cache policy itself: pages show directory data and a new API key's secret passes
//!   through a server function; neither may stay in a shared or back/forward cache.
//!
//! Every response gets **`X-Content-Type-Options: nosniff`** (a body is only ever what its
//! `Content-Type` says) and, when cookies are Secure (`--secure-cookies`, which requires an
//! `https://` public URL), **`Strict-Transport-Security: max-age=31536000`**: a browser that has
//! seen the site over HTTPS never again sends a request, and so a session cookie, over plain HTTP.
//! The SCIM API (`/scim/v2`) and health checks answer machines, and static assets (`/pkg/*`) are
//! not documents: they get only these two, keep their own headers and their caching, and are
//! never `no-store`.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::Response,
};
use leptos::nonce::Nonce;

use crate::router;

/// `form-action` on a public server: our origin, and any identity provider over HTTPS.
const FORM_ACTION: &str = "'self' https:";
/// `form-action` on a loopback server: also the plain-HTTP loopback identity providers the SSO
/// settings accept there.
const FORM_ACTION_LOOPBACK: &str = "'self' https: http://localhost:* http://127.0.0.1:*";
/// The policy should a nonce ever not fit in a header: no inline script runs, nothing is framed.
const WITHOUT_NONCE: &str = "default-src 'self'; script-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'";
/// One year, OWASP's recommendation for HSTS.
const HSTS: &str = "max-age=31536000";

/// The headers' configuration, worked out once at start-up.
#[derive(Clone, Copy, Debug)]
pub struct SecurityHeaders {
    form_action: &'static str,
    hsts: bool,
}

impl SecurityHeaders {
    /// For a server at `public_url` whose cookies are Secure when `secure_cookies`.
    pub fn new(public_url: &str, secure_cookies: bool) -> Self {
        let loopback = url::Url::parse(public_url)
            .is_ok_and(|url| matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")));
        Self { form_action: if loopback { FORM_ACTION_LOOPBACK } else { FORM_ACTION }, hsts: secure_cookies }
    }

    /// The Content-Security-Policy of a browser response whose inline scripts carry `nonce`.
    pub fn content_security_policy(&self, nonce: &str) -> String {
        format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
             img-src 'self' data:; connect-src 'self'; form-action {}; base-uri 'none'; \
             object-src 'none'; frame-ancestors 'none'",
            self.form_action
        )
    }
}

/// Who a response is for, which decides its headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Audience {
    /// SCIM clients and health probes.
    Machine,
    /// Files under `/pkg/`: scripts, WebAssembly, the stylesheet.
    Asset,
    /// Everything else, which a browser loads as a document or calls from one: console pages,
    /// server functions, the SSO endpoints and pages.
    Browser,
}

impl Audience {
    fn of(path: &str) -> Self {
        if router::is_scim(path) || matches!(path, "/healthz" | "/readyz") {
            Self::Machine
        } else if path.starts_with("/pkg/") {
            Self::Asset
        } else {
            Self::Browser
        }
    }
}

/// The middleware: gives a browser request its nonce, then sets the response's headers.
pub async fn apply(State(policy): State<SecurityHeaders>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let audience = Audience::of(path);
    let server_function = path.starts_with("/api/");
    let nonce = (audience == Audience::Browser).then(|| {
        let nonce = Nonce::new();
        request.extensions_mut().insert(nonce.clone());
        nonce
    });
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if policy.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    if let Some(nonce) = nonce {
        // A base64 nonce always makes a valid header value; were it ever not, the page would get
        // a policy without it, which blocks the inline scripts (fails closed) instead of allowing them.
        let csp = HeaderValue::from_str(&policy.content_security_policy(&nonce))
            .unwrap_or_else(|_| HeaderValue::from_static(WITHOUT_NONCE));
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        if server_function || is_html(headers) {
            headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
        }
    }
    response
}

/// Whether the response is an HTML document.
fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

#[cfg(test)]
mod tests {
    use super::{Audience, SecurityHeaders};

    #[test]
    fn audiences_follow_the_path() {
        assert_eq!(Audience::of("/scim/v2/Users"), Audience::Machine);
        assert_eq!(Audience::of("/scim/v2"), Audience::Machine);
        assert_eq!(Audience::of("/healthz"), Audience::Machine);
        assert_eq!(Audience::of("/pkg/scimpad.wasm"), Audience::Asset);
        assert_eq!(Audience::of("/scim/limits"), Audience::Browser);
        assert_eq!(Audience::of("/settings/api-keys"), Audience::Browser);
        assert_eq!(Audience::of("/api/create_api_key"), Audience::Browser);
        assert_eq!(Audience::of("/sso/start"), Audience::Browser);
    }

    #[test]
    fn only_a_loopback_server_allows_plain_http_identity_providers() {
        let public = SecurityHeaders::new("https://scimpad.example.com", true);
        let csp = public.content_security_policy("abc");
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"), "{csp}");
        assert!(csp.contains("form-action 'self' https:;"), "{csp}");
        let local = SecurityHeaders::new("http://127.0.0.1:3000", false);
        assert!(local.content_security_policy("abc").contains("http://localhost:*"));
    }
}
