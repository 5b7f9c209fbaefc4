//! `cargo xtask <command>`: the project's build and test driver, with no tools beyond cargo.
//!
//! - `run [--release]`: build everything and start the server on SQLite at http://127.0.0.1:3000.
//! - `build [--release]`: the wasm frontend (+ wasm-bindgen, as a library; wasm-opt for a
//!   release), assets precompressed with brotli and gzip, the server.
//! - `test`: fmt, clippy, unit and integration tests on SQLite and PostgreSQL, Playwright.
//! - `e2e`: only the Playwright suite (SQLite).
//! - `conformance`: only the SCIM 2.0 conformance run (scim2-tester against a live server, SQLite).
//! - `bench [--quick] [--sqlite | --postgres] [--instances N]`: the load benchmark (throughput
//!   up to a million users, N instances on one PostgreSQL database, Entra's initial cycle in 8
//!   organisations, noisy neighbour) against release servers on fresh SQLite and PostgreSQL
//!   databases, side by side; then the console's first load.
//! - `fuzz [--seconds N]`: every cargo-fuzz target of `scim/fuzz` for N seconds each (default 60).
//!
//! Setup steps (wasm target, Chromium, npm packages, the local PostgreSQL cluster) are done here,
//! idempotently, with a clear message when one cannot be done.

mod assets;
mod bench;
mod build;
mod cmd;
mod conformance;
mod fuzz;
mod server_proc;
mod setup;
mod test;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <run|build> [--release] | test | e2e | conformance | bench [--quick] \
                     [--sqlite | --postgres] [--instances N] | fuzz [--seconds N]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let release = args.iter().any(|a| a == "--release");
    let result = match args.first().map(String::as_str) {
        Some("run") => build::run(release),
        Some("build") => build::build(release).map(|_| ()),
        Some("test") => test::all(),
        Some("bench") => bench::Options::parse(&args[1..]).and_then(bench::bench),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        Some("e2e") => build::build(false).and_then(|built| test::e2e(&built, &test::sqlite_e2e_url())),
        Some("conformance") => build::build(false).and_then(|built| conformance::run(&built)),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
