//! `scimpad-bench`: a load benchmark of Scimpad's SCIM 2.0 service provider, driven the way
//! Microsoft Entra ID's provisioning service drives it.
//!
//! Why: Entra's gallery onboarding asks a SCIM endpoint to sustain **at least 25 requests/s per
//! tenant**; one Entra job was observed peaking just under 1,000 requests/minute, and every tenant
//! runs its own job in parallel, so one server must carry many tenants. Our targets, on a 2-core
//! machine with SQLite and this load generator on the same cores:
//! - **≥ 7,500** `userName` lookups/s, **≥ 3,000** creates/s and PATCHes/s;
//! - a group membership PATCH costs the same whether the group has 1,000 or 10,000 members
//!   (Entra adds members to one group batch by batch; a cost that grows with the group makes an
//!   initial cycle quadratic);
//! - a page of the user list costs the same at 10,000 and at 1,000,000 users, wherever it starts;
//! - the server's memory stays bounded (peak RSS of the server process, `--server-pid`);
//! - one organisation flooding the server does not hurt the others (noisy neighbour, below).
//!
//! With `--token`, the throughput phases (`phases`), against `--url` (the SCIM base, e.g.
//! `http://127.0.0.1:3030/scim/v2`), with a bounded number of concurrent requests (`--concurrency`
//! tokio tasks over one HTTP client), each phase bounded in count and in time (`--phase-timeout`):
//! 1. create `--users` users with Entra-shaped bodies (`POST /Users`);
//! 2. `--lookups` filter queries `userName eq "…"` for random existing users (Entra's matching read);
//! 3. `--patches` PATCH `replace name.familyName` on random users;
//! 4. `--group-members` member adds into one new group, `--batch` members per PATCH, one PATCH at a
//!    time, with the per-batch latency reported around three group sizes (10 %, 50 %, 100 %);
//! 5. list `--pages` pages of 100 (`startIndex` spread over the whole directory, one request at a
//!    time so each latency is the cost of one page, not a wait in the server's queue; the deepest
//!    tenth is reported apart, then the first, middle and last page on their own), then grow the
//!    directory to `--grow-to` users (a million by default; those creates are reported too), look
//!    users up and list pages again;
//! 6. with `--console-email`/`--console-password`, render the console's Users and Provisioning log
//!    pages on the server, signed in as the admin (target: p50 ≤ 20 ms at a million users).
//!
//! These push thousands of requests/s through one organisation: run them against a server whose
//! per-organisation SCIM rate limit is off (`scimpad --scim-rate 0`).
//!
//! With `--neighbour-tokens-file` instead, the noisy-neighbour run (`phases::noisy`), against a
//! server with its default limits: well-behaved organisations at Entra's pace, alone and then while
//! one more organisation floods the server.
//!
//! With `--cycle-tokens-file` instead, Entra's initial cycle in several organisations at once
//! (`phases::cycle`), against Entra's own pace of 12.5–100 objects/s per job.
//!
//! Several `--url`s (instances of the server on one PostgreSQL database) share the requests in
//! turn; `--server-pid` then names each instance's process. `--summary FILE` writes the report
//! as JSON too, for `cargo xtask bench` to print the databases side by side.
//!
//! The group phase needs that many users: it runs after the growth when phase 1 made too few.
//! Every response's status (and the shape of what the phase reads back) is checked; anything
//! unexpected stops the run with the request, the status and the start of the body (the
//! noisy-neighbour run counts the well-behaved organisations' non-2xx answers instead). Only
//! loopback URLs are accepted: this is a load generator for a server you started yourself
//! (`cargo xtask bench` does it all on fresh SQLite and PostgreSQL databases).

mod client;
mod entra;
mod phases;
mod report;
mod rng;

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;
use url::Url;

use crate::client::Bases;

/// The load generator shares the machine's cores with the server; the same allocator as the
/// server keeps its share small.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Users per list page.
const PAGE: usize = 100;
const MAX_COUNT: usize = 1_000_000;

/// Load benchmark of Scimpad's SCIM endpoint (loopback only); see the source header for targets.
#[derive(Debug, Parser)]
#[command(name = "scimpad-bench", version, about, group(clap::ArgGroup::new("mode").required(true)))]
struct Args {
    /// SCIM base URL of a server on this machine, e.g. http://127.0.0.1:3030/scim/v2; several
    /// (comma-separated or repeated) for instances on one database, which share the requests.
    #[arg(long, env = "SCIMPAD_BENCH_URL", required = true, value_delimiter = ',')]
    url: Vec<String>,
    /// SCIM bearer token (an API key of an admin): runs the throughput phases.
    #[arg(long, env = "SCIMPAD_BENCH_TOKEN", hide_env_values = true, group = "mode")]
    token: Option<String>,
    /// A file of API keys, one per line, each of a different organisation: runs the
    /// noisy-neighbour phase instead. Every key but the last is a well-behaved organisation; the
    /// last one floods.
    #[arg(long, group = "mode")]
    neighbour_tokens_file: Option<PathBuf>,
    /// Pid of the server process, to report its peak RSS (VmHWM from /proc/PID/status); one per
    /// instance (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// Also write the report's rows as JSON to this file (`cargo xtask bench` prints the runs on
    /// each database side by side from them).
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Requests in flight at once (tokio tasks sharing one client).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Users created in phase 1.
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// Filter lookups by userName.
    #[arg(long, default_value_t = 20_000)]
    lookups: usize,
    /// PATCH replace operations.
    #[arg(long, default_value_t = 10_000)]
    patches: usize,
    /// Members added to one group (0 skips the group phase).
    #[arg(long, default_value_t = 10_000)]
    group_members: usize,
    /// Members per group PATCH.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Pages of 100 listed at each directory size (0 skips listing).
    #[arg(long, default_value_t = 500)]
    pages: usize,
    /// Directory size to grow to before looking up and listing again (at most --users means no
    /// growth).
    #[arg(long, default_value_t = 1_000_000)]
    grow_to: usize,
    /// Longest a phase may take, in seconds; a slower phase stops the run.
    #[arg(long, default_value_t = 1800)]
    phase_timeout: u64,
    /// Seed of the random choices (which users, which pages).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A file of API keys, one per line, each of a different organisation: runs the Entra-shaped
    /// initial cycle in all of them at once instead (`phases::cycle`).
    #[arg(long, group = "mode")]
    cycle_tokens_file: Option<PathBuf>,
    /// Entra cycle: users per organisation.
    #[arg(long, default_value_t = 12_500)]
    cycle_users: usize,
    /// Entra cycle: groups per organisation.
    #[arg(long, default_value_t = 125)]
    cycle_groups: usize,
    /// Entra cycle: members per group (each user is a member of one group).
    #[arg(long, default_value_t = 100)]
    cycle_group_size: usize,
    /// Entra cycle: members added per PATCH.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    cycle_batch: u16,
    /// Entra cycle: requests each organisation's job keeps in flight.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    cycle_concurrency: u16,
    /// Console sign-in email: with it (and the password) the console's Users and Provisioning log
    /// pages are timed as rendered on the server, at the end of the run.
    #[arg(long, env = "SCIMPAD_BENCH_CONSOLE_EMAIL")]
    console_email: Option<String>,
    /// Console sign-in password.
    #[arg(long, env = "SCIMPAD_BENCH_CONSOLE_PASSWORD", hide_env_values = true)]
    console_password: Option<String>,
    /// Console pages rendered per page kind.
    #[arg(long, default_value_t = 100)]
    console_pages: usize,
    /// Noisy neighbour: seconds each run of the well-behaved organisations lasts (once without,
    /// once with the flood).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    neighbour_seconds: u64,
    /// Noisy neighbour: requests per second of each well-behaved organisation (Entra's minimum is 25).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=1000))]
    neighbour_rate: u32,
    /// Noisy neighbour: requests the flooding organisation keeps in flight.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
    flood_concurrency: u16,
}

/// What a run does, from the arguments.
enum Mode {
    /// The throughput phases, with this key.
    Throughput { token: String },
    /// The Entra-shaped initial cycle in each of these organisations at once.
    Cycle { keys: Vec<String> },
    /// The noisy-neighbour run: well-behaved organisations' keys, then the flooder's.
    Neighbours { well_behaved: Vec<String>, flooder: String },
}

impl Args {
    fn check(&self) -> Result<(Bases, Mode), String> {
        let bases = self.url.iter().map(|url| loopback_url(url)).collect::<Result<Vec<_>, _>>()?;
        if bases.is_empty() {
            return Err("give at least one --url".into());
        }
        if !self.server_pid.is_empty() && self.server_pid.len() != bases.len() {
            return Err(format!(
                "{} --server-pid for {} --url: give one per instance",
                self.server_pid.len(),
                bases.len()
            ));
        }
        for (name, n) in [
            ("--users", self.users),
            ("--lookups", self.lookups),
            ("--patches", self.patches),
            ("--group-members", self.group_members),
            ("--pages", self.pages),
            ("--grow-to", self.grow_to),
            ("--cycle-users", self.cycle_users),
            ("--cycle-groups", self.cycle_groups),
        ] {
            if n > MAX_COUNT {
                return Err(format!("{name} {n} is more than {MAX_COUNT}"));
            }
        }
        if self.users < PAGE {
            return Err(format!("--users must be at least {PAGE} (one full page)"));
        }
        if self.batch == 0 || self.batch > 1000 {
            return Err("--batch must be between 1 and 1000".into());
        }
        if self.group_members > self.users.max(self.grow_to) {
            return Err(format!(
                "--group-members {} needs that many users: raise --users or --grow-to",
                self.group_members
            ));
        }
        if self.cycle_groups * self.cycle_group_size > self.cycle_users {
            return Err(format!(
                "--cycle-groups {} of --cycle-group-size {} need that many users: raise --cycle-users",
                self.cycle_groups, self.cycle_group_size
            ));
        }
        let mode = match (&self.token, &self.neighbour_tokens_file, &self.cycle_tokens_file) {
            (Some(token), _, _) if token.trim().is_empty() => return Err("--token is empty".into()),
            (Some(token), _, _) => Mode::Throughput { token: token.clone() },
            (None, Some(file), _) => {
                let mut keys = keys_in("--neighbour-tokens-file", file)?;
                let flooder = keys.pop().filter(|_| !keys.is_empty()).ok_or_else(|| {
                    format!(
                        "--neighbour-tokens-file {}: needs at least two keys (well-behaved ones, then the flooder's)",
                        file.display()
                    )
                })?;
                Mode::Neighbours { well_behaved: keys, flooder }
            }
            (None, None, Some(file)) => {
                let keys = keys_in("--cycle-tokens-file", file)?;
                if keys.is_empty() {
                    return Err(format!("--cycle-tokens-file {}: no keys", file.display()));
                }
                Mode::Cycle { keys }
            }
            (None, None, None) => {
                return Err("give --token, --neighbour-tokens-file or --cycle-tokens-file".into());
            }
        };
        Ok((Bases::new(bases), mode))
    }
}

/// `url` parsed, if it is an http(s) URL on loopback.
fn loopback_url(url: &str) -> Result<Url, String> {
    let base = Url::parse(url.trim_end_matches('/')).map_err(|e| format!("--url {url}: {e}"))?;
    let loopback = match base.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if !loopback || (base.scheme() != "http" && base.scheme() != "https") {
        return Err(format!("--url {url} must be an http(s) URL on loopback (127.0.0.1, ::1, localhost)"));
    }
    Ok(base)
}

/// The API keys in `file`, one per line (blank lines skipped).
fn keys_in(flag: &str, file: &std::path::Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{flag} {}: {e}", file.display()))?;
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
}

async fn bench(args: Args) -> Result<(), String> {
    let (bases, mode) = args.check()?;
    for pid in &args.server_pid {
        report::peak_rss_mib(*pid).map_err(|e| format!("--server-pid {pid}: {e}"))?;
    }
    match mode {
        Mode::Throughput { token } => phases::throughput(bases, token, args).await,
        Mode::Neighbours { well_behaved, flooder } => {
            phases::noisy::run(bases, &well_behaved, flooder, &args).await
        }
        Mode::Cycle { keys } => phases::cycle::run(bases, &keys, &args).await,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match bench(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scimpad-bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}
