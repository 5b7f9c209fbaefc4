//! `cargo xtask test`: every check CI runs, in order of cost.
//!
//! Packages are tested one invocation at a time with the same features the binaries use, so no
//! second copy of the dependency graph is compiled (a workspace-wide `cargo test` would unify the
//! console's `ssr` and `hydrate` features).

use std::{fs, path::PathBuf, process::Command};

use crate::{
    build::{self, Built},
    cmd::{self, cargo, root, target_dir},
    conformance, setup,
};

/// The host-side packages (the load generator `scimpad-bench` included, so it is linted) and the
/// feature that makes `app` server-side.
const HOST_PACKAGES: &[&str] = &[
    "-p",
    "scim",
    "-p",
    "migrations",
    "-p",
    "domain",
    "-p",
    "app",
    "-p",
    "server",
    "-p",
    "scimpad-bench",
    "--features",
    "app/ssr",
];

fn with_host_packages(args: &[&str]) -> Vec<String> {
    args.iter().chain(HOST_PACKAGES).map(|s| s.to_string()).collect()
}

fn cargo_owned(args: Vec<String>) -> Command {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    cargo(&refs)
}

/// A fresh SQLite file for one Playwright pass (and the `-mail` one the second app instance of
/// end2end/playwright.config.ts derives from it).
pub fn sqlite_e2e_url() -> String {
    let dir = target_dir().join("e2e");
    for name in ["scimpad-e2e.db", "scimpad-e2e-mail.db"] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.join(format!("{name}{suffix}")));
        }
    }
    let path = dir.join("scimpad-e2e.db");
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Runs the Playwright suite against `built`, with the server on `database_url`.
pub fn e2e(built: &Built, database_url: &str) -> Result<(), String> {
    playwright(built, database_url, &[], &[])
}

/// Runs the Playwright `specs` (all when empty) against `built`, with the server on
/// `database_url` and `env` added. Its results (screenshots, traces of failures) go to
/// `end2end/test-results/<sqlite|postgres>/`, so the PostgreSQL pass keeps the SQLite pass's.
pub fn playwright(
    built: &Built,
    database_url: &str,
    specs: &[&str],
    env: &[(&str, &str)],
) -> Result<(), String> {
    setup::chromium()?;
    setup::npm_packages()?;
    let mut run = Command::new("npx");
    let store = if database_url.starts_with("postgres") { "postgres" } else { "sqlite" };
    run.args(["playwright", "test", "--output", &format!("test-results/{store}")])
        .args(specs)
        .current_dir(root().join("end2end"))
        .env("SERVER_BIN", &built.server_bin)
        .env("SCIMPAD_SITE_ROOT", &built.site_root)
        .env("SCIMPAD_DATABASE_URL", database_url)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .envs(env.iter().copied());
    cmd::run(&mut run)
}

/// Everything: formatting, lints, tests on both databases, the browser suite on both databases.
pub fn all() -> Result<(), String> {
    cmd::run(&mut cargo(&["fmt", "--all", "--check"]))?;
    setup::wasm_target()?;
    setup::saml_libraries()?;
    cmd::run(cargo_owned(with_host_packages(&["clippy", "--all-targets"])).args(["--", "-D", "warnings"]))?;
    cmd::run(&mut cargo(&[
        "clippy",
        "-p",
        "frontend",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ]))?;
    cmd::run(&mut cargo(&["clippy", "-p", "xtask", "--release", "--", "-D", "warnings"]))?;
    let built = build::build(false)?;

    eprintln!("xtask: == tests on SQLite ==");
    let scratch = Scratch::new("sqlite")?;
    cmd::run(
        cargo_owned(with_host_packages(&["test"])).env_remove("TEST_DATABASE_URL").env("TMPDIR", &scratch.0),
    )?;
    drop(scratch);

    eprintln!("xtask: == SCIM conformance (scim2-tester) ==");
    conformance::run(&built)?;

    eprintln!("xtask: == tests on PostgreSQL ==");
    let pg = setup::postgres("scimpad_test")?;
    cmd::run(Command::new(&built.server_bin).args(["--database-url", &pg, "migrate"]))?;
    let scratch = Scratch::new("postgres")?;
    cmd::run(
        cargo(&["test", "-p", "domain", "-p", "server", "--features", "app/ssr"])
            .env("TEST_DATABASE_URL", &pg)
            .env("TMPDIR", &scratch.0),
    )?;
    drop(scratch);

    eprintln!("xtask: == browser tests (Chromium) on SQLite ==");
    e2e(&built, &sqlite_e2e_url())?;
    eprintln!("xtask: == browser tests (Chromium) on PostgreSQL ==");
    let pg_e2e = setup::postgres("scimpad_e2e")?;
    e2e(&built, &pg_e2e)?;
    eprintln!("xtask: all checks passed");
    Ok(())
}

/// The `TMPDIR` of one `cargo test` run, removed with it (passed or not): each test's SQLite file
/// and the other temporaries go there, instead of piling up in `/tmp` run after run (a full run
/// left about a thousand files there).
struct Scratch(PathBuf);

impl Scratch {
    fn new(run: &str) -> Result<Self, String> {
        let dir = target_dir().join("test-tmp").join(run);
        // A run killed before it could clean up left its files: they go now.
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
