//! The console's files on the wire (issue 14, first load): linked under a content version and
//! cached for good, served precompressed by what the client accepts, pages compressed on the fly.

mod support;

use std::io::{Read, Write};

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, VARY};
use support::TestApp;

const CSS: &str = "body { color: #123456 }\n";

/// A site root with the three console files, each with a `.gz` beside it and the stylesheet with a
/// `.br` too (its bytes only need to be told apart here).
fn site() -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("scimpad-site-{}", uuid::Uuid::new_v4()));
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    for (name, body) in
        [("scimpad.js", "export default 1;\n"), ("scimpad.wasm", "\0asm"), ("scimpad.css", CSS)]
    {
        std::fs::write(pkg.join(name), body).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(body.as_bytes()).unwrap();
        std::fs::write(pkg.join(format!("{name}.gz")), gz.finish().unwrap()).unwrap();
    }
    std::fs::write(pkg.join("scimpad.css.br"), b"brotli bytes").unwrap();
    root
}

async fn spawn() -> TestApp {
    let root = site();
    TestApp::spawn_configured(false, &["--site-root", root.to_str().unwrap()]).await
}

/// The versioned stylesheet path a sign-in page links.
async fn stylesheet(app: &TestApp) -> String {
    let page = app.client().get(app.at("/signin")).send().await.unwrap().text().await.unwrap();
    let start = page.find("href=\"/pkg/").expect("a /pkg/ link") + "href=\"".len();
    let href = &page[start..start + page[start..].find('"').unwrap()];
    assert!(
        href.ends_with("/scimpad.css") && href.len() == "/pkg/".len() + 16 + "/scimpad.css".len(),
        "{href}"
    );
    assert!(page.contains(&href.replace("scimpad.css", "scimpad.js")), "the script shares the version");
    href.to_owned()
}

#[tokio::test]
async fn versioned_files_are_immutable_and_precompressed_by_what_the_client_accepts() {
    let app = spawn().await;
    let href = stylesheet(&app).await;
    let get = |accept: &'static str| {
        let request = app.client().get(app.at(&href));
        async move { request.header(ACCEPT_ENCODING, accept).send().await.unwrap() }
    };

    let br = get("gzip, deflate, br").await;
    assert_eq!(br.status(), 200);
    assert_eq!(br.headers()[CONTENT_ENCODING], "br");
    assert_eq!(br.headers()[CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert!(br.headers()[VARY].to_str().unwrap().to_lowercase().contains("accept-encoding"));
    assert_eq!(br.bytes().await.unwrap().as_ref(), b"brotli bytes");

    let gz = get("gzip").await;
    assert_eq!(gz.headers()[CONTENT_ENCODING], "gzip");
    let mut css = String::new();
    flate2::read::GzDecoder::new(gz.bytes().await.unwrap().as_ref()).read_to_string(&mut css).unwrap();
    assert_eq!(css, CSS);

    let plain = get("identity").await;
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(plain.text().await.unwrap(), CSS);

    // A file that is not there is a 404 nobody caches for a year.
    let missing = app.client().get(app.at(&href.replace("scimpad.css", "nope.css"))).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_ne!(
        missing.headers().get(CACHE_CONTROL).map(|v| v.to_str().unwrap()),
        Some("public, max-age=31536000, immutable")
    );
}

#[tokio::test]
async fn unversioned_files_are_revalidated_and_pages_compressed() {
    let app = spawn().await;
    let css =
        app.client().get(app.at("/pkg/scimpad.css")).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()[CACHE_CONTROL], "no-cache");
    assert_eq!(css.headers()[CONTENT_ENCODING], "gzip");

    let page = app.client().get(app.at("/signin")).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()[CONTENT_ENCODING], "gzip");
    let mut html = String::new();
    flate2::read::GzDecoder::new(page.bytes().await.unwrap().as_ref()).read_to_string(&mut html).unwrap();
    assert!(html.contains("Sign in to Scimpad"));
}

#[tokio::test]
async fn a_new_build_gets_new_urls() {
    let (first, second) = (spawn().await, spawn().await);
    assert_eq!(stylesheet(&first).await, stylesheet(&second).await, "the same files, the same version");
    let root = site();
    std::fs::write(root.join("pkg/scimpad.wasm"), "\0asm, rebuilt").unwrap();
    let rebuilt = TestApp::spawn_configured(false, &["--site-root", root.to_str().unwrap()]).await;
    assert_ne!(stylesheet(&first).await, stylesheet(&rebuilt).await);
}
