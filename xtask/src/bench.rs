//! `cargo xtask bench [--quick]`: the SCIM load benchmark on fresh SQLite databases.
//!
//! Builds the release binaries (`scimpad` from `server/`, `scimpad-bench` from `bench/`; no
//! console assets: the bench never loads a page), then runs `scimpad-bench` twice against a
//! `scimpad` on port 3030, each time on a new database under `$CARGO_TARGET_DIR/bench/`, started
//! and provisioned with the CLI through `server_proc`, and stopped whatever happened:
//! 1. the throughput phases, one organisation, with the per-organisation SCIM rate limit off
//!    (`--scim-rate 0`): they push thousands of requests/s through that organisation on purpose;
//! 2. the noisy-neighbour run, with the server's default limits: [`NEIGHBOURS`] well-behaved
//!    organisations and one that floods, each with its own admin and API key;
//! 3. the console's first load: the release build with its console (wasm-opt, precompressed
//!    files), the Users page in Chromium on a cold cache and warm ([`first_load`]).

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use crate::{
    cmd::{self, cargo, target_dir},
    server_proc,
};

const PORT: u16 = 3030;
/// Well-behaved organisations of the noisy-neighbour run (one more floods).
const NEIGHBOURS: usize = 20;

/// Sizes handed to `scimpad-bench`: the full run is its defaults (10k users, 20k lookups, 10k
/// PATCHes, a 10k-member group, pages at 10k and 100k users, 20 s per noisy-neighbour run);
/// `--quick` is a smoke run of about a minute.
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
const QUICK_NEIGHBOURS: &[&str] = &["--neighbour-seconds", "5"];

pub fn bench(quick: bool) -> Result<(), String> {
    crate::setup::saml_libraries()?;
    // One invocation: the two packages share their dependencies' features, so nothing is built twice.
    cmd::run(&mut cargo(&["build", "--release", "--bins", "-p", "server", "-p", "scimpad-bench"]))?;
    let bin = target_dir().join("release");
    let (scimpad, bench_bin) = (bin.join("scimpad"), bin.join("scimpad-bench"));

    let dir = target_dir().join("bench");
    let site = dir.join("site");
    fs::create_dir_all(site.join("pkg")).map_err(|e| format!("cannot create {}: {e}", site.display()))?;
    // The server only checks that the console bundle exists; the bench never asks for it.
    fs::write(site.join("pkg").join("scimpad.js"), "").map_err(|e| format!("writing pkg/scimpad.js: {e}"))?;

    let db = fresh_database(&dir, "scimpad-bench.db")?;
    {
        // Dropped at the end of this block (or on any way out), which stops the server.
        let server = server_proc::start_with(&scimpad, &db.url, PORT, &site, &["--scim-rate", "0"])?;
        let key = server_proc::create_org_and_key(&scimpad, &db.url)?;
        let mut run = Command::new(&bench_bin);
        run.args(["--url", &format!("{}/scim/v2", server.url()), "--server-pid", &server.pid().to_string()])
            .args(if quick { QUICK } else { &[] })
            .env("SCIMPAD_BENCH_TOKEN", key)
            .env("SCIMPAD_BENCH_CONSOLE_EMAIL", server_proc::ADMIN_EMAIL)
            .env("SCIMPAD_BENCH_CONSOLE_PASSWORD", server_proc::ADMIN_PASSWORD);
        cmd::run(&mut run)?;
    }

    let neighbours_db = fresh_database(&dir, "scimpad-neighbours.db")?;
    let server = server_proc::start(&scimpad, &neighbours_db.url, PORT, &site)?;
    eprintln!("xtask: creating {} organisations with an API key each", NEIGHBOURS + 1);
    let mut keys = Vec::with_capacity(NEIGHBOURS + 1);
    for (name, email) in (1..=NEIGHBOURS)
        .map(|k| (format!("Neighbour {k:02}"), format!("admin@neighbour{k:02}.example.com")))
        .chain([("Flooder".to_owned(), "admin@flooder.example.com".to_owned())])
    {
        keys.push(server_proc::create_named_org_and_key(
            &scimpad,
            &neighbours_db.url,
            &name,
            &email,
            "bench",
        )?);
    }
    // Through a file: `cmd::run` echoes the command line. The flooder's key is the last line.
    let keys_file = dir.join("neighbour-api-keys");
    fs::write(&keys_file, keys.join("\n") + "\n")
        .map_err(|e| format!("cannot write {}: {e}", keys_file.display()))?;
    cmd::run(
        Command::new(&bench_bin)
            .args(["--url", &format!("{}/scim/v2", server.url()), "--server-pid", &server.pid().to_string()])
            .arg("--neighbour-tokens-file")
            .arg(&keys_file)
            .args(if quick { QUICK_NEIGHBOURS } else { &[] })
            .env_remove("SCIMPAD_BENCH_TOKEN"),
    )?;
    drop(server);
    eprintln!("xtask: bench databases kept at {} and {}", db.path.display(), neighbours_db.path.display());
    first_load()
}

/// The most compressed wasm a first visit may download (issue 14).
const FIRST_LOAD_WASM_TARGET: u64 = 400 * 1024;

/// The console's first load: the release build (wasm-opt, precompressed files) in Chromium, the
/// Users page on a cold cache and again warm (`end2end/tests/first-load.spec.ts`).
fn first_load() -> Result<(), String> {
    let built = crate::build::build(true)?;
    let report = target_dir().join("bench").join("first-load.json");
    let _ = fs::remove_file(&report);
    let report_path = report.to_string_lossy().to_string();
    crate::test::playwright(
        &built,
        &crate::test::sqlite_e2e_url(),
        &["tests/first-load.spec.ts"],
        &[("FIRST_LOAD_REPORT", &report_path)],
    )?;
    let text = fs::read_to_string(&report).map_err(|e| format!("reading {}: {e}", report.display()))?;
    let figures: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{report_path}: {e}"))?;
    let (cold, warm) = (&figures["cold"], &figures["warm"]);
    let kb = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0) / 1024.0;
    let wasm = cold["wasm"].as_u64().unwrap_or(0);
    println!(
        "first load of /users, release build, cold cache: {:.0} KB on the wire, of which wasm {:.0} KB \
         ({}); hydrated in {} ms. Warm: {:.0} KB, hydrated in {} ms. Target: wasm <= {} KB \
         compressed: {}",
        kb(&cold["total"]),
        kb(&cold["wasm"]),
        cold["wasmEncoding"].as_str().unwrap_or("?"),
        cold["hydratedMs"],
        kb(&warm["total"]),
        warm["hydratedMs"],
        FIRST_LOAD_WASM_TARGET / 1024,
        if wasm <= FIRST_LOAD_WASM_TARGET { "met" } else { "NOT met" }
    );
    Ok(())
}

/// A SQLite database file and its URL.
struct Database {
    path: PathBuf,
    url: String,
}

/// `dir/name` without what an earlier run left there (the file, its WAL and shared memory).
fn fresh_database(dir: &Path, name: &str) -> Result<Database, String> {
    let path = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        if let Err(e) = fs::remove_file(&file)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Err(format!("cannot remove the previous {file}: {e}"));
        }
    }
    let url = format!("sqlite://{}?mode=rwc", path.display());
    Ok(Database { path, url })
}
