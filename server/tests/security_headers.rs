//! Security headers over HTTP: console pages and server functions carry the whole set with a
//! fresh Content-Security-Policy nonce that every inline script of the page carries too; SCIM
//! and static assets keep their own headers; HSTS only when cookies are Secure.

mod support;

use domain::testing::unique_email;
use reqwest::{Response, header::HeaderMap};
use support::TestApp;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

/// The nonce a page's policy allows, after checking the rest of the policy.
fn policy_nonce(headers: &HeaderMap) -> String {
    let csp = header(headers, "content-security-policy").expect("a Content-Security-Policy");
    for directive in [
        "default-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self' https:",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.split(';').any(|d| d.trim().starts_with(directive)), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let script_src = csp.split(';').map(str::trim).find(|d| d.starts_with("script-src ")).unwrap();
    let words: Vec<&str> = script_src.split(' ').collect();
    assert_eq!(words.len(), 4, "{script_src}");
    assert_eq!((words[1], words[3]), ("'self'", "'wasm-unsafe-eval'"), "{script_src}");
    let nonce = words[2].strip_prefix("'nonce-").and_then(|n| n.strip_suffix('\'')).unwrap();
    assert!(nonce.len() >= 22, "16 random bytes or more in base64: {nonce}");
    nonce.to_owned()
}

/// Checks the headers of a console page and that each inline `<script>` carries the policy's
/// nonce; returns the nonce.
async fn check_page(res: Response, status: u16) -> String {
    assert_eq!(res.status().as_u16(), status);
    let headers = res.headers().clone();
    assert_eq!(header(&headers, "x-frame-options"), Some("DENY"));
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&headers, "referrer-policy"), Some("same-origin"));
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert_eq!(header(&headers, "strict-transport-security"), None, "cookies are not Secure");
    let nonce = policy_nonce(&headers);
    let html = res.text().await.unwrap();
    let mut inline = 0;
    for tag in html.split("<script").skip(1).map(|rest| &rest[..rest.find('>').unwrap()]) {
        if tag.contains(" src=") {
            continue;
        }
        inline += 1;
        assert!(tag.contains(&format!(" nonce=\"{nonce}\"")), "<script{tag}> lacks nonce {nonce}");
    }
    assert!(inline > 0, "the page has inline scripts (hydration): {html}");
    assert_eq!(html.matches("nonce=").count(), html.matches(&format!("nonce=\"{nonce}\"")).count());
    nonce
}

#[tokio::test]
async fn console_pages_carry_the_headers_and_a_fresh_nonce_on_every_inline_script() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let first = check_page(client.get(app.at("/signin")).send().await.unwrap(), 200).await;
    let second = check_page(client.get(app.at("/signin")).send().await.unwrap(), 200).await;
    assert_ne!(first, second, "a nonce per response");

    assert_eq!(app.sign_up(&client, &unique_email("csp")).await.status(), 200);
    // A signed-in page whose data is serialised into inline scripts for hydration.
    let dashboard = check_page(client.get(app.at("/")).send().await.unwrap(), 200).await;
    let keys = check_page(client.get(app.at("/settings/api-keys")).send().await.unwrap(), 200).await;
    assert_ne!(dashboard, keys);
    // The "not found" page is rendered by the fallback handler, not a route: the same headers.
    check_page(client.get(app.at("/no-such-page")).send().await.unwrap(), 404).await;
}

#[tokio::test]
async fn server_functions_are_never_stored() {
    let app = TestApp::spawn().await;
    let client = app.client();
    assert_eq!(app.sign_up(&client, &unique_email("csp")).await.status(), 200);
    // A new key's secret passes through this response.
    let res = client
        .post(app.at("/api/create_api_key"))
        .header("accept", "application/json")
        .form(&[("name", "Entra")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert!(res.text().await.unwrap().contains("scimpad_"));
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
    policy_nonce(&headers);

    let refused = app.sign_in(&app.client(), "nobody@example.com", "wrong password").await;
    assert_eq!(header(refused.headers(), "cache-control"), Some("no-store"));
}

#[tokio::test]
async fn scim_and_assets_keep_their_own_headers() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let reply = app.scim(&org.key).get("/ServiceProviderConfig").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-security-policy"), None);
    assert_eq!(reply.header("x-frame-options"), None);
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_ne!(reply.header("cache-control"), Some("no-store"));

    let asset = app.client().get(app.at("/pkg/scimpad.css")).send().await.unwrap();
    assert_eq!(header(asset.headers(), "content-security-policy"), None);
    assert_ne!(header(asset.headers(), "cache-control"), Some("no-store"));
    assert_eq!(header(asset.headers(), "x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn hsts_only_when_cookies_are_secure() {
    let plain = TestApp::spawn().await;
    let res = plain.client().get(plain.at("/signin")).send().await.unwrap();
    assert_eq!(header(res.headers(), "strict-transport-security"), None);

    let secure = TestApp::spawn_with(true).await;
    for path in ["/signin", "/healthz", "/pkg/scimpad.css"] {
        let res = secure.client().get(secure.at(path)).send().await.unwrap();
        assert_eq!(header(res.headers(), "strict-transport-security"), Some("max-age=31536000"), "{path}");
    }
    let org = secure.scim_org().await;
    let reply = secure.scim(&org.key).get("/ServiceProviderConfig").await;
    assert_eq!(reply.header("strict-transport-security"), Some("max-age=31536000"));
}
