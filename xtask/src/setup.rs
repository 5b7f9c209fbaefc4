//! Idempotent setup of what builds and tests need on a fresh machine. Each step says clearly
//! what to do by hand when it cannot do it (not root, no network).

use std::{path::Path, process::Command};

use crate::cmd::{self, root, succeeds};

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false)
}

/// `rustup target add wasm32-unknown-unknown` (a no-op when installed).
pub fn wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"))
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    cmd::run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"])).map_err(|e| {
        format!("{e}\n  the wasm32 target is needed: run `rustup target add wasm32-unknown-unknown`")
    })
}

/// Debian packages installed with apt-get when missing (as root), or a clear instruction.
fn debian_packages(packages: &[&str], why: &str) -> Result<(), String> {
    let installed = |p: &&str| {
        Command::new("dpkg-query")
            .args(["-W", "-f=${Status}", p])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
            .unwrap_or(false)
    };
    let missing: Vec<&str> = packages.iter().filter(|p| !installed(p)).copied().collect();
    if missing.is_empty() {
        return Ok(());
    }
    let by_hand = format!("{why}: run `sudo apt-get install -y {}` (Debian)", missing.join(" "));
    if !is_root() {
        return Err(by_hand);
    }
    cmd::run(Command::new("apt-get").args(["update", "-qq"]))?;
    cmd::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .map_err(|e| format!("{e}\n  {by_hand}"))
}

/// The C libraries samael (SAML) binds to: xmlsec1, libxml2, and libclang for bindgen.
pub fn saml_libraries() -> Result<(), String> {
    debian_packages(
        &["libxmlsec1-dev", "libxml2-dev", "libclang-dev", "pkg-config"],
        "the SAML service provider needs xmlsec1, libxml2 and libclang to build",
    )
}

/// Debian's Chromium at /usr/bin/chromium (Playwright never downloads a browser here).
pub fn chromium() -> Result<(), String> {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    debian_packages(&["chromium"], "Chromium is missing")
}

/// `npm ci` in end2end/ when its node_modules are missing or older than the lock file.
pub fn npm_packages() -> Result<(), String> {
    let dir = root().join("end2end");
    let stamp = dir.join("node_modules/.package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&stamp).is_some() && modified(&stamp) >= modified(&dir.join("package-lock.json")) {
        return Ok(());
    }
    cmd::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    )
    .map_err(|e| format!("{e}\n  needs Node.js and npm with access to the npm registry"))
}

const PG_ROLE: &str = "scimpad_test";
const PG_PASSWORD: &str = "scimpad_test";

/// A PostgreSQL database for the test pass, emptied: `TEST_DATABASE_URL` if given, otherwise the
/// local Debian cluster is started and a test role and database are (re)created.
pub fn postgres(database: &str) -> Result<String, String> {
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        return Ok(url);
    }
    let clusters = Command::new("pg_lsclusters").arg("-h").output().map_err(|_| {
        "PostgreSQL is not installed: install postgresql or set TEST_DATABASE_URL=postgres://…".to_owned()
    })?;
    let listing = String::from_utf8_lossy(&clusters.stdout).to_string();
    let fields: Vec<&str> = listing.lines().next().unwrap_or_default().split_whitespace().collect();
    let (Some(version), Some(name), Some(port)) = (fields.first(), fields.get(1), fields.get(2)) else {
        return Err("no PostgreSQL cluster found (pg_lsclusters): create one or set TEST_DATABASE_URL".into());
    };
    if !is_root() {
        return Err("starting the local PostgreSQL cluster needs root: run as root or set TEST_DATABASE_URL=postgres://…".into());
    }
    if fields.get(3) != Some(&"online") {
        cmd::run(Command::new("pg_ctlcluster").args([*version, *name, "start"]))?;
    }
    let sql = format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{PG_ROLE}') THEN \
         CREATE ROLE {PG_ROLE} LOGIN PASSWORD '{PG_PASSWORD}'; END IF; END $$;"
    );
    psql(port, &sql)?;
    psql(port, &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))?;
    psql(port, &format!("CREATE DATABASE {database} OWNER {PG_ROLE}"))?;
    Ok(format!("postgres://{PG_ROLE}:{PG_PASSWORD}@127.0.0.1:{port}/{database}"))
}

fn psql(port: &str, sql: &str) -> Result<(), String> {
    // No shell in between: the SQL is passed as one argument, `$$` and quotes intact.
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "postgres", "--", "psql", "-q", "-p", port, "-v", "ON_ERROR_STOP=1", "-c", sql]);
    if succeeds(&mut cmd) { Ok(()) } else { Err(format!("psql failed: {sql}")) }
}
