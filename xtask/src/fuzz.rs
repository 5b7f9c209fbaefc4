//! `cargo xtask fuzz [--seconds N]`: every cargo-fuzz target of `scim/fuzz` for a bounded time.
//!
//! Why: the `scim` crate parses what any API-key holder sends (filters, PATCH paths and bodies,
//! resources, list queries); its fuzz targets check that no input panics and that parsing and
//! printing round-trip. This runs them the way `scim/fuzz/README.md` describes, with nothing to
//! remember: cargo-fuzz is installed from crates.io when missing (0.13.x), the stable toolchain is
//! used with `RUSTC_BOOTSTRAP=1`, without a sanitizer (`-s none`), in a target directory of its own
//! (`$CARGO_TARGET_DIR/fuzz`, so the fuzz workspace's builds never churn the main one), at `nice 19`.
//! Each target (`cargo fuzz list`) runs for `--seconds` (default 60), writing new inputs to
//! `$CARGO_TARGET_DIR/fuzz/corpus/<target>` and reading the committed seeds of
//! `scim/fuzz/corpus/<target>` too; an input running over 10 s counts as a hang. The command fails
//! when a target fails, with the path of the input libFuzzer saved (`scim/fuzz/artifacts/…`).

use std::{
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use crate::cmd::{self, root, target_dir};

const DEFAULT_SECONDS: u64 = 60;
/// cargo-fuzz releases this was written for (`cargo install --version` requirement).
const CARGO_FUZZ_VERSION: &str = "~0.13";
/// libFuzzer's `-timeout`: one input taking longer is reported (and saved) as a hang.
const INPUT_TIMEOUT_SECONDS: u64 = 10;

/// What one target's run came to.
struct Outcome {
    target: String,
    /// Inputs executed, from libFuzzer's final statistics.
    executions: Option<u64>,
    /// Inputs libFuzzer saved because they crashed, hung or ran out of memory.
    artifacts: Vec<PathBuf>,
    /// Why the run failed, when it did.
    failure: Option<String>,
}

/// Runs every target for `--seconds` (from `args`, the words after `fuzz`).
pub fn fuzz(args: &[String]) -> Result<(), String> {
    let seconds = seconds(args)?;
    let crate_dir = root().join("scim").join("fuzz");
    let work = target_dir().join("fuzz");
    cargo_fuzz_installed(&work)?;
    cmd::run(&mut cargo_fuzz(&crate_dir, &work, &["build", "-s", "none"]))?;
    let targets = targets(&crate_dir, &work)?;
    eprintln!("xtask: fuzzing {} targets for {seconds} s each: {}", targets.len(), targets.join(", "));
    let outcomes: Vec<Outcome> = targets
        .iter()
        .map(|target| run_target(&crate_dir, &work, target, seconds))
        .collect::<Result<_, _>>()?;

    eprintln!("xtask: == fuzzing, {seconds} s per target ==");
    for outcome in &outcomes {
        let executions = outcome.executions.map_or("? executions".to_owned(), |n| format!("{n} executions"));
        let result = outcome.failure.as_deref().unwrap_or("no crash");
        eprintln!("xtask:   {:<12} {executions:>20}  {result}", outcome.target);
        for artifact in &outcome.artifacts {
            eprintln!("xtask:     input saved at {}", artifact.display());
        }
    }
    let failed: Vec<&str> =
        outcomes.iter().filter(|o| o.failure.is_some()).map(|o| o.target.as_str()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(format!(
        "fuzz target(s) failed: {}\n  reproduce with `cd scim/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none <target> <input>` \
         (scim/fuzz/README.md), then add a regression test in scim/src/",
        failed.join(", ")
    ))
}

/// `--seconds N` from the arguments, or the default.
fn seconds(args: &[String]) -> Result<u64, String> {
    match args.iter().position(|a| a == "--seconds") {
        None => Ok(DEFAULT_SECONDS),
        Some(i) => args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| "--seconds needs a whole number of seconds above 0".to_owned()),
    }
}

/// `cargo <args>` for the fuzz workspace: niced, run in `scim/fuzz`, building into `work`.
fn cargo_at(crate_dir: &Path, work: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("nice");
    cmd.args(["-n", "19"])
        .arg(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(crate_dir)
        .env("CARGO_TARGET_DIR", work)
        // cargo-fuzz passes `-Z` flags; this lets the stable toolchain take them.
        .env("RUSTC_BOOTSTRAP", "1");
    cmd
}

fn cargo_fuzz(crate_dir: &Path, work: &Path, args: &[&str]) -> Command {
    let mut all = vec!["fuzz"];
    all.extend(args);
    cargo_at(crate_dir, work, &all)
}

/// Installs cargo-fuzz from crates.io unless `cargo fuzz` already works (whatever its version).
fn cargo_fuzz_installed(work: &Path) -> Result<(), String> {
    let version = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["fuzz", "--version"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if let Some(version) = version {
        eprintln!("xtask: using {version}");
        return Ok(());
    }
    // Its own build directory: `cargo install` would otherwise build in (and lock) $CARGO_TARGET_DIR.
    let build = work.join("cargo-install");
    cmd::run(&mut cargo_at(
        &root(),
        &build,
        &["install", "cargo-fuzz", "--locked", "--version", CARGO_FUZZ_VERSION],
    ))
    .map_err(|e| format!("{e}\n  cargo-fuzz is needed: `cargo install cargo-fuzz --locked` (crates.io)"))
}

/// The targets, as `cargo fuzz list` names them.
fn targets(crate_dir: &Path, work: &Path) -> Result<Vec<String>, String> {
    let mut list = cargo_fuzz(crate_dir, work, &["list"]);
    let line = cmd::describe(&list);
    let out = list.stderr(Stdio::inherit()).output().map_err(|e| format!("cannot start {line}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{line} failed ({})", out.status));
    }
    let targets: Vec<String> =
        String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_owned).collect();
    if targets.is_empty() {
        return Err(format!("{line} listed no targets"));
    }
    Ok(targets)
}

/// Fuzzes `target` for `seconds`, passing libFuzzer's output through (without its per-input
/// progress lines) and reading from it the executions and any saved input.
fn run_target(crate_dir: &Path, work: &Path, target: &str, seconds: u64) -> Result<Outcome, String> {
    let corpus = work.join("corpus").join(target);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let seeds = crate_dir.join("corpus").join(target);
    let mut run = cargo_fuzz(crate_dir, work, &["run", "-s", "none", target]);
    // New inputs go to the first corpus directory, so the committed seeds stay as they are.
    run.arg(&corpus);
    if seeds.is_dir() {
        run.arg(&seeds);
    }
    run.arg("--").args([
        format!("-max_total_time={seconds}"),
        format!("-timeout={INPUT_TIMEOUT_SECONDS}"),
        "-print_final_stats=1".to_owned(),
    ]);
    let line = cmd::describe(&run);
    eprintln!("xtask: $ {line}");
    let mut child = run.stderr(Stdio::piped()).spawn().map_err(|e| format!("cannot start {line}: {e}"))?;
    let mut outcome =
        Outcome { target: target.to_owned(), executions: None, artifacts: Vec::new(), failure: None };
    if let Some(stderr) = child.stderr.take() {
        let mut reader = BufReader::new(stderr);
        let (mut raw, mut quiet) = (Vec::new(), Quiet::default());
        let mut out = std::io::stderr();
        while reader.read_until(b'\n', &mut raw).map_err(|e| format!("{line}: reading output: {e}"))? > 0 {
            let text = String::from_utf8_lossy(&raw);
            observe(&mut outcome, crate_dir, text.trim_end());
            if !quiet.skips(&text) {
                let _ = out.write_all(&raw);
            }
            raw.clear();
        }
    }
    let status = child.wait().map_err(|e| format!("{line}: {e}"))?;
    if !outcome.artifacts.is_empty() {
        outcome.failure = Some(format!("FAILED: libFuzzer saved {} input(s)", outcome.artifacts.len()));
    } else if !status.success() {
        outcome.failure = Some(format!("FAILED: {line} exited with {status}"));
    }
    Ok(outcome)
}

/// Which of libFuzzer's lines are not passed through: many, and not needed afterwards.
#[derive(Default)]
struct Quiet {
    in_dictionary: bool,
}

impl Quiet {
    /// Per-input lines (`#1234\tNEW …`, `#1234\tREDUCE …`, `\tNEW_FUNC…`) and the dictionary it
    /// recommends at the end (`###### Recommended dictionary. ######` … `End of …`).
    fn skips(&mut self, line: &str) -> bool {
        if line.starts_with("###### Recommended dictionary") {
            self.in_dictionary = true;
        } else if line.starts_with("###### End of recommended dictionary") {
            self.in_dictionary = false;
            return true;
        }
        let per_input = (line.starts_with('#')
            && matches!(line.split_whitespace().nth(1), Some("NEW" | "REDUCE")))
            || line.trim_start().starts_with("NEW_FUNC");
        self.in_dictionary || per_input
    }
}

/// Takes what matters from one line of libFuzzer's output.
fn observe(outcome: &mut Outcome, crate_dir: &Path, line: &str) {
    if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
        outcome.executions = n.trim().parse().ok();
    } else if let Some((_, path)) = line.split_once("Test unit written to ") {
        // Relative to libFuzzer's working directory, the fuzz crate.
        outcome.artifacts.push(crate_dir.join(path.trim()));
    }
}
