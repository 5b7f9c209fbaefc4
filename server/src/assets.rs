//! The console's static files (`<site root>/pkg/`: the wasm, its JavaScript glue, the stylesheet):
//! served precompressed and cached for good (issue 14, first load).
//!
//! - **Versioned URLs.** At start-up the server hashes the files it will serve; pages link them
//!   under `/pkg/<version>/`, so a new build gets new URLs and the old ones can be cached
//!   `immutable` for a year (RFC 8246): a returning visitor downloads nothing. Hashing at start-up
//!   rather than renaming at build keeps the file names the build, the tests and the SSO pages
//!   already know, and needs no manifest beside the binary.
//! - **The same files without a version** (`/pkg/scimpad.css`, linked by the server-rendered SSO
//!   pages and by anything written before a deploy) are served `no-cache`: always revalidated
//!   (`Last-Modified` / `If-Modified-Since`), never stale.
//! - **Precompressed.** `cargo xtask build` writes `.br` and `.gz` beside each file; the client's
//!   `Accept-Encoding` picks one (RFC 9110 §12.5.3), `Content-Encoding` says which, and
//!   `Vary: Accept-Encoding` keeps caches honest. Compressing at build costs nothing per request
//!   and allows brotli's best (slowest) level.

use std::path::{Path, PathBuf};

use axum::{
    Router,
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use sha2::{Digest, Sha256};
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

use crate::state::AppState;

/// The files every console page loads, hashed into the version.
const LOADED: [&str; 3] = ["scimpad.js", "scimpad.wasm", "scimpad.css"];
/// `Cache-Control` of a versioned file: its URL changes whenever its content does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of an unversioned file: cache, but ask every time.
const REVALIDATE: &str = "no-cache";

/// The built assets and the version they are served under.
#[derive(Clone, Debug)]
pub struct Assets {
    dir: PathBuf,
    version: String,
}

impl Assets {
    /// The assets in `<site_root>/pkg`, versioned by their content (files missing, as in tests
    /// that serve no console, hash as empty).
    pub fn load(site_root: &Path) -> Self {
        let dir = site_root.join("pkg");
        let mut digest = Sha256::new();
        for name in LOADED {
            digest.update(name.as_bytes());
            digest.update(std::fs::read(dir.join(name)).unwrap_or_default());
        }
        let version = digest.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
        Self { dir, version }
    }

    /// Where pages link the assets from, without a leading slash (`pkg/<version>`): Leptos'
    /// `site_pkg_dir`.
    pub fn pkg_path(&self) -> String {
        format!("pkg/{}", self.version)
    }

    /// The routes of the assets: `/pkg/<version>/…` immutable, `/pkg/…` revalidated.
    pub fn routes(&self) -> Router<AppState> {
        Router::new()
            .nest_service(&format!("/{}", self.pkg_path()), self.serve(IMMUTABLE))
            .nest_service("/pkg", self.serve(REVALIDATE))
    }

    /// The files, with `cache_control` on what was found (a 404 must not be cached for a year).
    fn serve(&self, cache_control: &'static str) -> Router {
        let files = ServeDir::new(&self.dir).precompressed_br().precompressed_gzip();
        let value = HeaderValue::from_static(cache_control);
        let found = move |res: &Response| {
            let status = res.status();
            (status.is_success() || status == StatusCode::NOT_MODIFIED).then(|| value.clone())
        };
        // Every variant names what chose it, so a shared cache keeps them apart (ServeDir does
        // not say).
        let vary = HeaderValue::from_static("accept-encoding");
        Router::new()
            .fallback_service(files)
            .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, found))
            .layer(SetResponseHeaderLayer::if_not_present(header::VARY, vary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_follows_the_content() {
        let dir = std::env::temp_dir().join(format!("scimpad-assets-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        std::fs::write(dir.join("pkg/scimpad.js"), "one").unwrap();
        let first = Assets::load(&dir);
        assert_eq!(first.version, Assets::load(&dir).version, "stable for the same files");
        assert!(first.pkg_path().starts_with("pkg/") && first.pkg_path().len() == "pkg/".len() + 16);
        std::fs::write(dir.join("pkg/scimpad.js"), "two").unwrap();
        assert_ne!(first.version, Assets::load(&dir).version, "a new build, a new version");
    }
}
