//! `cargo xtask bench [--quick]`: the SCIM load benchmark on a fresh SQLite database.
//!
//! Builds the release binaries (`scimpad`, `scimpad-bench`; no console assets: the bench never
//! loads a page), starts `scimpad` on port 3030 with a new database under
//! `$CARGO_TARGET_DIR/bench/`, waits for `/healthz`, creates an organisation and an API key with the
//! CLI, runs `scimpad-bench` against `/scim/v2`, and stops the server whatever happened.

use std::{fs, process::Command};

use crate::{
    cmd::{self, cargo, target_dir},
    server_proc,
};

const PORT: u16 = 3030;

/// Sizes handed to `scimpad-bench`: the full run is its defaults (10k users, 20k lookups, 10k
/// PATCHes, a 10k-member group, pages at 10k and 100k users); `--quick` is a sub-minute smoke run.
const QUICK: &[&str] = &[
    "--users",
    "1000",
    "--lookups",
    "2000",
    "--patches",
    "1000",
    "--group-members",
    "2000",
    "--pages",
    "200",
    "--grow-to",
    "5000",
    "--console-pages",
    "20",
];

pub fn bench(quick: bool) -> Result<(), String> {
    crate::setup::saml_libraries()?;
    cmd::run(&mut cargo(&["build", "-p", "server", "--release", "--bins"]))?;
    let bin = target_dir().join("release");
    let (scimpad, bench_bin) = (bin.join("scimpad"), bin.join("scimpad-bench"));

    let dir = target_dir().join("bench");
    let site = dir.join("site");
    fs::create_dir_all(site.join("pkg")).map_err(|e| format!("cannot create {}: {e}", site.display()))?;
    // The server only checks that the console bundle exists; the bench never asks for it.
    fs::write(site.join("pkg").join("scimpad.js"), "").map_err(|e| format!("writing pkg/scimpad.js: {e}"))?;
    let db = dir.join("scimpad-bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", db.display());
        if let Err(e) = fs::remove_file(&file)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Err(format!("cannot remove the previous {file}: {e}"));
        }
    }
    let database_url = format!("sqlite://{}?mode=rwc", db.display());
    let server = server_proc::start(&scimpad, &database_url, PORT, &site)?;
    let key = server_proc::create_org_and_key(&scimpad, &database_url)?;
    let mut run = Command::new(&bench_bin);
    run.args(["--url", &format!("{}/scim/v2", server.url()), "--server-pid", &server.pid().to_string()])
        .args(if quick { QUICK } else { &[] })
        .env("SCIMPAD_BENCH_TOKEN", key)
        .env("SCIMPAD_BENCH_CONSOLE_EMAIL", server_proc::ADMIN_EMAIL)
        .env("SCIMPAD_BENCH_CONSOLE_PASSWORD", server_proc::ADMIN_PASSWORD);
    cmd::run(&mut run)?;
    drop(server);
    eprintln!("xtask: bench database kept at {}", db.display());
    Ok(())
}
