//! `cargo xtask bench [--quick] [--sqlite | --postgres] [--instances N]`: the load benchmark, on
//! fresh databases of each kind, the kinds side by side.
//!
//! Builds the release binaries (`scimpad` from `server/`, `scimpad-bench` from `bench/`; no
//! console assets: the SCIM runs never load a page), then, on SQLite and on PostgreSQL (the local
//! cluster, started and given a fresh database as for the tests, `setup::postgres`), each run on a
//! new database with servers on ports from 3030, provisioned with the CLI through `server_proc`
//! and stopped whatever happened:
//! 1. the throughput phases, one organisation, the per-organisation SCIM rate limit off
//!    (`--scim-rate 0`: they push thousands of requests/s through one organisation on purpose),
//!    the directory grown to a million users (issue 14, item 3);
//! 2. on PostgreSQL with `--instances N` (2 by default; 1 skips it), the same phases up to the
//!    growth on N servers sharing the database, the requests split between them;
//! 3. Entra's initial cycle in [`CYCLE_ORGS`] organisations at once (`phases::cycle`);
//! 4. the noisy-neighbour run, with the server's default limits: [`NEIGHBOURS`] well-behaved
//!    organisations and one that floods, each with its own admin and API key;
//!
//! then prints every phase's pace on each database beside SQLite's, with the target of issue 14
//! (PostgreSQL at least half SQLite's pace on every phase) marked, and each database's peak RSS.
//! Last, the console's first load: the release build with its console (wasm-opt, precompressed
//! files), the Users page in Chromium on a cold cache and warm ([`first_load`]).

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;

use crate::{
    cmd::{self, cargo, target_dir},
    server_proc::{self, ServerProcess},
    setup,
};

const PORT: u16 = 3030;
/// Well-behaved organisations of the noisy-neighbour run (one more floods).
const NEIGHBOURS: usize = 20;
/// Organisations running Entra's initial cycle at once (issue 14, item 2).
const CYCLE_ORGS: usize = 8;
/// Throughput on PostgreSQL must be at least this share of SQLite's, phase by phase (issue 14).
const POSTGRES_SHARE: f64 = 0.5;

/// Sizes handed to `scimpad-bench`: the full run is its defaults (10k users, 20k lookups, 10k
/// PATCHes, a 10k-member group, pages at 10k and a million users, 20 s per noisy-neighbour run,
/// cycles of 12,500 users and 125 groups of 100); `--quick` is a smoke run of a few minutes.
const QUICK: &[&str] =
    &["--users", "1000", "--lookups", "2000", "--patches", "1000", "--pages", "200", "--console-pages", "20"];
/// `--quick`: the growth, and a group as large as the grown directory allows.
const QUICK_GROWTH: &[&str] = &["--grow-to", "5000", "--group-members", "2000"];
/// `--quick` without the growth.
const QUICK_NO_GROWTH: &[&str] = &["--grow-to", "0", "--group-members", "1000"];
const QUICK_NEIGHBOURS: &[&str] = &["--neighbour-seconds", "5"];
const QUICK_CYCLE: &[&str] = &["--cycle-users", "1000", "--cycle-groups", "10"];
/// The full run without the growth.
const NO_GROWTH: &[&str] = &["--grow-to", "0"];

/// What `cargo xtask bench` was asked for.
pub struct Options {
    quick: bool,
    sqlite: bool,
    postgres: bool,
    instances: u16,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Options { quick: false, sqlite: true, postgres: true, instances: 2 };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--sqlite" => options.postgres = false,
                "--postgres" => options.sqlite = false,
                "--instances" => {
                    let n = args.next().ok_or("--instances needs a number")?;
                    options.instances = n
                        .parse()
                        .ok()
                        .filter(|n| (1..=8).contains(n))
                        .ok_or(format!("--instances {n}: give a number from 1 to 8"))?;
                }
                other => return Err(format!("bench: unknown argument {other}")),
            }
        }
        if !options.sqlite && !options.postgres {
            return Err("bench: --sqlite and --postgres exclude each other (give neither for both)".into());
        }
        Ok(options)
    }
}

/// The release binaries, and where the runs keep their files.
struct Rig {
    scimpad: PathBuf,
    bench: PathBuf,
    dir: PathBuf,
    site: PathBuf,
    quick: bool,
}

/// A kind of database the runs use.
#[derive(Clone, Copy, PartialEq)]
enum Store {
    Sqlite,
    Postgres,
}

impl Store {
    fn name(self) -> &'static str {
        match self {
            Store::Sqlite => "SQLite",
            Store::Postgres => "PostgreSQL",
        }
    }

    /// A fresh, empty database for the run `run`: a new SQLite file under `dir`, or the
    /// `scimpad_bench` PostgreSQL database dropped and created again.
    fn fresh(self, dir: &Path, run: &str) -> Result<String, String> {
        match self {
            Store::Sqlite => fresh_sqlite(&dir.join(format!("scimpad-{run}.db"))),
            Store::Postgres => setup::postgres("scimpad_bench"),
        }
    }
}

/// One `scimpad-bench` run's summary (`--summary`), and what it is called in the comparison.
struct Summary {
    label: String,
    store: Store,
    /// Whether it is a throughput run, whose phases the comparison sets side by side.
    throughput: bool,
    json: Value,
}

pub fn bench(options: Options) -> Result<(), String> {
    setup::saml_libraries()?;
    // One invocation: the two packages share their dependencies' features, so nothing is built twice.
    cmd::run(&mut cargo(&["build", "--release", "--bins", "-p", "server", "-p", "scimpad-bench"]))?;
    let bin = target_dir().join("release");
    let dir = target_dir().join("bench");
    let site = dir.join("site");
    fs::create_dir_all(site.join("pkg")).map_err(|e| format!("cannot create {}: {e}", site.display()))?;
    // The server only checks that the console bundle exists; the SCIM runs never ask for it.
    fs::write(site.join("pkg").join("scimpad.js"), "").map_err(|e| format!("writing pkg/scimpad.js: {e}"))?;
    let rig = Rig {
        scimpad: bin.join("scimpad"),
        bench: bin.join("scimpad-bench"),
        dir,
        site,
        quick: options.quick,
    };

    let mut summaries = Vec::new();
    let stores = [(options.sqlite, Store::Sqlite), (options.postgres, Store::Postgres)];
    for store in stores.into_iter().filter(|(on, _)| *on).map(|(_, s)| s) {
        summaries.push(rig.throughput(store, 1)?);
        if store == Store::Postgres && options.instances > 1 {
            summaries.push(rig.throughput(store, options.instances)?);
        }
        summaries.push(rig.cycle(store)?);
        summaries.push(rig.neighbours(store)?);
    }
    compare(&summaries);
    first_load()
}

impl Rig {
    /// Starts `instances` servers on `db_url` (ports from [`PORT`]) with `flags`.
    fn servers(&self, db_url: &str, instances: u16, flags: &[&str]) -> Result<Vec<ServerProcess>, String> {
        // One after the other: the first applies the migrations.
        (0..instances)
            .map(|k| server_proc::start_with(&self.scimpad, db_url, PORT + k, &self.site, flags))
            .collect()
    }

    /// `scimpad-bench` against `servers`, with `args`, its summary written to `<run>.json`.
    fn drive(
        &self,
        servers: &[ServerProcess],
        run: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Value, String> {
        let urls: Vec<String> = servers.iter().map(|s| format!("{}/scim/v2", s.url())).collect();
        let pids: Vec<String> = servers.iter().map(|s| s.pid().to_string()).collect();
        let summary = self.dir.join(format!("{run}.json"));
        let _ = fs::remove_file(&summary);
        let mut bench = Command::new(&self.bench);
        bench
            .args(["--url", &urls.join(","), "--server-pid", &pids.join(",")])
            .arg("--summary")
            .arg(&summary)
            .args(args)
            .env_remove("SCIMPAD_BENCH_TOKEN")
            .envs(env.iter().copied());
        cmd::run(&mut bench)?;
        let text = fs::read_to_string(&summary).map_err(|e| format!("reading {}: {e}", summary.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", summary.display()))
    }

    /// Organisations `names` (name, admin email) with an API key each, their keys in the file
    /// `<run>-api-keys` (through a file: `cmd::run` echoes command lines).
    fn organisations(&self, db_url: &str, run: &str, names: &[(String, String)]) -> Result<PathBuf, String> {
        eprintln!("xtask: creating {} organisations with an API key each", names.len());
        let mut keys = Vec::with_capacity(names.len());
        for (name, email) in names {
            keys.push(server_proc::create_named_org_and_key(&self.scimpad, db_url, name, email, "bench")?);
        }
        let file = self.dir.join(format!("{run}-api-keys"));
        fs::write(&file, keys.join("\n") + "\n")
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        Ok(file)
    }

    /// The throughput phases on `instances` servers sharing a fresh `store` database.
    fn throughput(&self, store: Store, instances: u16) -> Result<Summary, String> {
        let run = format!("{}-throughput-x{instances}", store.name().to_lowercase());
        let db = store.fresh(&self.dir, &run)?;
        let servers = self.servers(&db, instances, &["--scim-rate", "0"])?;
        let key = server_proc::create_org_and_key(&self.scimpad, &db)?;
        // The scale-out run stops before the growth: it is compared with the single instance's
        // phases up to there.
        let args: Vec<&str> = match (self.quick, instances > 1) {
            (false, false) => Vec::new(),
            (false, true) => NO_GROWTH.to_vec(),
            (true, false) => [QUICK, QUICK_GROWTH].concat(),
            (true, true) => [QUICK, QUICK_NO_GROWTH].concat(),
        };
        let json = self.drive(
            &servers,
            &run,
            &args,
            &[
                ("SCIMPAD_BENCH_TOKEN", key.as_str()),
                ("SCIMPAD_BENCH_CONSOLE_EMAIL", server_proc::ADMIN_EMAIL),
                ("SCIMPAD_BENCH_CONSOLE_PASSWORD", server_proc::ADMIN_PASSWORD),
            ],
        )?;
        let label =
            if instances > 1 { format!("{} ×{instances}", store.name()) } else { store.name().to_owned() };
        Ok(Summary { label, store, throughput: true, json })
    }

    /// Entra's initial cycle in [`CYCLE_ORGS`] organisations at once, rate limit off (it measures
    /// how fast the server can go, against Entra's pace).
    fn cycle(&self, store: Store) -> Result<Summary, String> {
        let names = (1..=CYCLE_ORGS)
            .map(|k| (format!("Tenant {k}"), format!("admin@tenant{k}.example.com")))
            .collect();
        let run = ManyOrgs {
            run: "cycle",
            flags: &["--scim-rate", "0"],
            keys_flag: "--cycle-tokens-file",
            quick: QUICK_CYCLE,
        };
        self.many_organisations(store, &run, names)
    }

    /// The noisy-neighbour run, with the server's default limits.
    fn neighbours(&self, store: Store) -> Result<Summary, String> {
        let names = (1..=NEIGHBOURS)
            .map(|k| (format!("Neighbour {k:02}"), format!("admin@neighbour{k:02}.example.com")))
            .chain([("Flooder".to_owned(), "admin@flooder.example.com".to_owned())])
            .collect();
        let run = ManyOrgs {
            run: "neighbours",
            flags: &[],
            keys_flag: "--neighbour-tokens-file",
            quick: QUICK_NEIGHBOURS,
        };
        self.many_organisations(store, &run, names)
    }

    /// A run over organisations `names` (name, admin email) on one server and a fresh `store`
    /// database, their keys handed to `scimpad-bench` through `run.keys_flag`.
    fn many_organisations(
        &self,
        store: Store,
        run: &ManyOrgs,
        names: Vec<(String, String)>,
    ) -> Result<Summary, String> {
        let name = format!("{}-{}", store.name().to_lowercase(), run.run);
        let db = store.fresh(&self.dir, &name)?;
        let servers = self.servers(&db, 1, run.flags)?;
        let keys = self.organisations(&db, &name, &names)?;
        let keys = keys.to_string_lossy().to_string();
        let mut args = vec![run.keys_flag, keys.as_str()];
        if self.quick {
            args.extend(run.quick);
        }
        let json = self.drive(&servers, &name, &args, &[])?;
        Ok(Summary { label: store.name().to_owned(), store, throughput: false, json })
    }
}

/// A run of `scimpad-bench` over many organisations: its name, the server's flags, the flag that
/// hands it the keys file, its `--quick` sizes.
struct ManyOrgs {
    run: &'static str,
    flags: &'static [&'static str],
    keys_flag: &'static str,
    quick: &'static [&'static str],
}

/// Every throughput phase's pace on each run beside SQLite's, PostgreSQL's share of it against
/// [`POSTGRES_SHARE`], the figures of the Entra cycle, and the peak RSS per database.
fn compare(all: &[Summary]) {
    let summaries: Vec<&Summary> = all.iter().filter(|s| s.throughput).collect();
    // Columns: the labels in the order the runs came, each a phase → (pace, p50) map.
    let mut labels: Vec<&str> = Vec::new();
    for s in &summaries {
        if !labels.contains(&s.label.as_str()) {
            labels.push(&s.label);
        }
    }
    // Rows: phases in the order they were first seen.
    let mut phases: Vec<String> = Vec::new();
    let rows_of = |s: &&Summary| s.json["rows"].as_array().cloned().unwrap_or_default();
    for s in &summaries {
        for row in rows_of(s) {
            let phase = row["phase"].as_str().unwrap_or("?").to_owned();
            if !phases.contains(&phase) {
                phases.push(phase);
            }
        }
    }
    // A row's pace: its rate, or for a subset row (no rate of its own) pages per second at its p50.
    let pace = |label: &str, phase: &str| -> Option<f64> {
        summaries
            .iter()
            .filter(|s| s.label == label)
            .flat_map(rows_of)
            .find(|r| r["phase"] == phase)
            .and_then(|r| {
                r["rate"]
                    .as_f64()
                    .or_else(|| r["p50_ms"].as_f64().filter(|ms| *ms > 0.0).map(|ms| 1000.0 / ms))
            })
    };
    println!();
    println!("pace by database (requests/s; for a row without a rate of its own, 1000 / p50 ms):");
    let header: String = labels.iter().map(|l| format!("{l:>14}")).collect();
    println!("{:<48}{header}  PostgreSQL / SQLite (target ≥ {POSTGRES_SHARE})", "phase");
    let mut shortfalls = 0;
    for phase in &phases {
        let cells: String = labels
            .iter()
            .map(|l| pace(l, phase).map_or(format!("{:>14}", "-"), |v| format!("{v:>14.1}")))
            .collect();
        let verdict = match (pace("SQLite", phase), pace("PostgreSQL", phase)) {
            (Some(lite), Some(pg)) if lite > 0.0 => {
                let share = pg / lite;
                let met = share >= POSTGRES_SHARE;
                shortfalls += usize::from(!met);
                format!("  {share:.2} {}", if met { "met" } else { "NOT MET" })
            }
            _ => String::new(),
        };
        println!("{phase:<48}{cells}{verdict}");
    }
    for s in all {
        if let Some(figures) = s.json["figures"].as_object() {
            for (name, value) in figures {
                println!("{:<48}{:>14.1}  ({})", name, value.as_f64().unwrap_or(0.0), s.label);
            }
        }
    }
    if labels.contains(&"SQLite") && labels.contains(&"PostgreSQL") {
        println!("phases where PostgreSQL is below {POSTGRES_SHARE} of SQLite's pace: {shortfalls}");
    }
    for store in [Store::Sqlite, Store::Postgres] {
        let peak = all
            .iter()
            .filter(|s| s.store == store)
            .flat_map(|s| s.json["peak_rss_mib"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_f64())
            .fold(None, |max: Option<f64>, v| Some(max.map_or(v, |m| m.max(v))));
        if let Some(peak) = peak {
            println!(
                "server peak RSS over the whole benchmark on {}: {peak:.1} MiB (one process; target ≤ 150 MiB: {})",
                store.name(),
                if peak <= 150.0 { "met" } else { "NOT MET" }
            );
        }
    }
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

/// A fresh SQLite database at `path` (the file, its WAL and shared memory of an earlier run
/// removed); its URL.
fn fresh_sqlite(path: &Path) -> Result<String, String> {
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        if let Err(e) = fs::remove_file(&file)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Err(format!("cannot remove the previous {file}: {e}"));
        }
    }
    Ok(format!("sqlite://{}?mode=rwc", path.display()))
}
