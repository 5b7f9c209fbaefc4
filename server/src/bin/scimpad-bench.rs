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
//! - a page of the user list costs the same at 10,000 and at 100,000 users, wherever it starts;
//! - the server's memory stays bounded (peak RSS of the server process, `--server-pid`).
//!
//! What it does, against `--url` (the SCIM base, e.g. `http://127.0.0.1:3030/scim/v2`) with the
//! bearer `--token`, with a bounded number of concurrent requests (`--concurrency` tokio tasks over
//! one HTTP client), each phase bounded in count and in time (`--phase-timeout`):
//! 1. create `--users` users with Entra-shaped bodies (`POST /Users`);
//! 2. `--lookups` filter queries `userName eq "…"` for random existing users (Entra's matching read);
//! 3. `--patches` PATCH `replace name.familyName` on random users;
//! 4. `--group-members` member adds into one new group, `--batch` members per PATCH, one PATCH at a
//!    time, with the per-batch latency reported around three group sizes (10 %, 50 %, 100 %);
//! 5. list `--pages` pages of 100 (`startIndex` spread over the whole directory, one request at a
//!    time so each latency is the cost of one page, not a wait in the server's queue; the deepest
//!    tenth is reported apart), then grow the directory to `--grow-to` users (those creates are
//!    reported too) and list pages again;
//! 6. with `--console-email`/`--console-password`, render the console's Users and Provisioning log
//!    pages on the server, signed in as the admin (target: p50 ≤ 20 ms at 100,000 users and events).
//!
//! The group phase needs that many users: it runs after the growth when phase 1 made too few.
//! Every response's status (and the shape of what the phase reads back) is checked; anything
//! unexpected stops the run with the request, the status and the start of the body. Only loopback
//! URLs are accepted: this is a load generator for a server you started yourself
//! (`cargo xtask bench` does it all on a fresh SQLite database).

use std::{
    future::Future,
    process::ExitCode,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use clap::Parser;
use reqwest::{Client, Method, header};

use serde_json::{Value, json};
use url::Url;

/// The load generator shares the machine's cores with the server; the same allocator as the
/// server keeps its share small.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SCIM_JSON: &str = "application/scim+json";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const PAGE: usize = 100;

/// Load benchmark of Scimpad's SCIM endpoint (loopback only); see the source header for targets.
#[derive(Debug, Parser)]
#[command(name = "scimpad-bench", version, about)]
struct Args {
    /// SCIM base URL of a server on this machine, e.g. http://127.0.0.1:3030/scim/v2
    #[arg(long, env = "SCIMPAD_BENCH_URL")]
    url: String,
    /// SCIM bearer token (an API key of an admin).
    #[arg(long, env = "SCIMPAD_BENCH_TOKEN", hide_env_values = true)]
    token: String,
    /// Pid of the server process, to report its peak RSS (VmHWM from /proc/PID/status).
    #[arg(long)]
    server_pid: Option<u32>,
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
    /// Directory size to grow to before listing again (at most --users means no growth).
    #[arg(long, default_value_t = 100_000)]
    grow_to: usize,
    /// Longest a phase may take, in seconds; a slower phase stops the run.
    #[arg(long, default_value_t = 1800)]
    phase_timeout: u64,
    /// Seed of the random choices (which users, which pages).
    #[arg(long, default_value_t = 1)]
    seed: u64,
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
}

const MAX_COUNT: usize = 1_000_000;

impl Args {
    fn check(&self) -> Result<Url, String> {
        let base =
            Url::parse(self.url.trim_end_matches('/')).map_err(|e| format!("--url {}: {e}", self.url))?;
        let loopback = match base.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        };
        if !loopback || (base.scheme() != "http" && base.scheme() != "https") {
            return Err(format!(
                "--url {} must be an http(s) URL on loopback (127.0.0.1, ::1, localhost)",
                self.url
            ));
        }
        if self.token.trim().is_empty() {
            return Err("--token is empty".into());
        }
        for (name, n) in [
            ("--users", self.users),
            ("--lookups", self.lookups),
            ("--patches", self.patches),
            ("--group-members", self.group_members),
            ("--pages", self.pages),
            ("--grow-to", self.grow_to),
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
        Ok(base)
    }
}

/// One line of the report.
struct Row {
    phase: String,
    requests: usize,
    /// Wall-clock seconds; `None` for a subset of a concurrent phase (no rate of its own).
    seconds: Option<f64>,
    latencies: Vec<Duration>,
}

impl Row {
    fn new(phase: impl Into<String>, seconds: f64, latencies: Vec<Duration>) -> Self {
        Row::subset(phase, latencies).with_seconds(seconds)
    }

    fn subset(phase: impl Into<String>, mut latencies: Vec<Duration>) -> Self {
        latencies.sort_unstable();
        Row { phase: phase.into(), requests: latencies.len(), seconds: None, latencies }
    }

    fn with_seconds(mut self, seconds: f64) -> Self {
        self.seconds = Some(seconds);
        self
    }

    /// Nearest-rank percentile, in milliseconds.
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1].as_secs_f64() * 1000.0
    }

    fn rate(&self) -> Option<f64> {
        self.seconds.filter(|s| *s > 0.0).map(|s| self.requests as f64 / s)
    }
}

/// Prints the table as it grows, so a run that stops still shows what it measured.
struct Report {
    rows: Vec<Row>,
    server_pid: Option<u32>,
}

impl Report {
    fn header(&self) {
        let rss = if self.server_pid.is_some() { "  peak RSS MiB" } else { "" };
        println!(
            "{:<40} {:>9} {:>9} {:>9} {:>9} {:>9}{rss}",
            "phase", "requests", "seconds", "req/s", "p50 ms", "p99 ms"
        );
        println!("{}", "-".repeat(40 + 5 * 10 + rss.len()));
    }

    fn push(&mut self, row: Row) {
        let rss = match self.server_pid.map(peak_rss_mib) {
            Some(Ok(mib)) => format!("  {mib:>12.1}"),
            Some(Err(e)) => format!("  ({e})"),
            None => String::new(),
        };
        let or_dash =
            |v: Option<f64>, decimals: usize| v.map_or("-".to_owned(), |v| format!("{v:.decimals$}"));
        println!(
            "{:<40} {:>9} {:>9} {:>9} {:>9.2} {:>9.2}{rss}",
            row.phase,
            row.requests,
            or_dash(row.seconds, 2),
            or_dash(row.rate(), 1),
            row.percentile_ms(50.0),
            row.percentile_ms(99.0)
        );
        self.rows.push(row);
    }

    fn find(&self, prefix: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.phase.starts_with(prefix))
    }
}

/// Peak resident set size of a process (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> Result<f64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or_else(|| format!("no VmHWM in /proc/{pid}/status"))?;
    let kb: f64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .map_err(|e| format!("VmHWM of {pid}: {e}"))?;
    Ok(kb / 1024.0)
}

/// SplitMix64: small, seedable, good enough to pick users and pages.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The HTTP side: one client, the base URL, the token.
struct Scim {
    client: Client,
    base: Url,
    token: String,
}

impl Scim {
    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(&format!("{}/{}", self.base.path().trim_end_matches('/'), path));
        url
    }

    /// Sends one request; fails unless the status is one of `expect`. Returns the JSON body, if any.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        expect: &[u16],
    ) -> Result<Option<Value>, String> {
        let what = format!("{method} {url}");
        let mut request =
            self.client.request(method, url).bearer_auth(&self.token).header(header::ACCEPT, SCIM_JSON);
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body).map_err(|e| format!("{what}: encoding body: {e}"))?;
            request = request.header(header::CONTENT_TYPE, SCIM_JSON).body(bytes);
        }
        let response = request.send().await.map_err(|e| format!("{what}: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| format!("{what}: reading body: {e}"))?;
        if !expect.contains(&status) {
            let text = String::from_utf8_lossy(&bytes);
            let excerpt: String = text.chars().take(600).collect();
            return Err(format!("{what}: expected status {expect:?}, got {status}: {excerpt}"));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            let excerpt: String = String::from_utf8_lossy(&bytes).chars().take(300).collect();
            format!("{what}: status {status} but the body is not JSON ({e}): {excerpt}")
        })
    }
}

/// What the phases share.
struct Ctx {
    scim: Scim,
    /// Distinguishes this run's userNames and group from earlier runs on the same database.
    tag: String,
}

impl Ctx {
    fn user_name(&self, i: usize) -> String {
        format!("bench.{i:06}.{}@bench.example.com", self.tag)
    }

    /// A create body as Entra sends it (entra-scim.md §2.2).
    fn user_body(&self, i: usize) -> Value {
        let user_name = self.user_name(i);
        let given = format!("Given{i}");
        let family = format!("Family{}", i % 997);
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "externalId": format!("ext-{}-{i}", self.tag),
            "userName": user_name,
            "active": true,
            "emails": [{"primary": true, "type": "work", "value": user_name}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": format!("{given} {family}"), "familyName": family, "givenName": given},
            "roles": []
        })
    }

    async fn create_user(&self, i: usize) -> Result<String, String> {
        let body =
            self.scim.send(Method::POST, self.scim.url("Users"), Some(&self.user_body(i)), &[201]).await?;
        body.as_ref()
            .and_then(|b| b.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("POST Users (user {i}): 201 without an \"id\": {body:?}"))
    }

    async fn lookup(&self, i: usize, id: &str) -> Result<(), String> {
        let mut url = self.scim.url("Users");
        url.query_pairs_mut().append_pair("filter", &format!("userName eq \"{}\"", self.user_name(i)));
        let body = self.scim.send(Method::GET, url, None, &[200]).await?.unwrap_or(Value::Null);
        let total = body.get("totalResults").and_then(Value::as_u64);
        let found = body.pointer("/Resources/0/id").and_then(Value::as_str);
        if total != Some(1) || found != Some(id) {
            return Err(format!(
                "filter userName eq {:?}: expected exactly user {id}, got totalResults {total:?}, first id {found:?}",
                self.user_name(i)
            ));
        }
        Ok(())
    }

    async fn patch_user(&self, id: &str, family: &str) -> Result<(), String> {
        let body = json!({
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "replace", "path": "name.familyName", "value": family}]
        });
        let reply = self
            .scim
            .send(Method::PATCH, self.scim.url(&format!("Users/{id}")), Some(&body), &[200, 204])
            .await?;
        if let Some(reply) = reply {
            let got = reply.pointer("/name/familyName").and_then(Value::as_str);
            if got != Some(family) {
                return Err(format!(
                    "PATCH Users/{id}: familyName is {got:?} after replacing it with {family:?}"
                ));
            }
        }
        Ok(())
    }

    async fn list_page(&self, start_index: usize, at_least: usize) -> Result<(), String> {
        let mut url = self.scim.url("Users");
        url.query_pairs_mut()
            .append_pair("startIndex", &start_index.to_string())
            .append_pair("count", &PAGE.to_string());
        let body = self.scim.send(Method::GET, url, None, &[200]).await?.unwrap_or(Value::Null);
        let total = body.get("totalResults").and_then(Value::as_u64).unwrap_or(0) as usize;
        let items = body.get("Resources").and_then(Value::as_array).map_or(0, Vec::len);
        if total < at_least || items != PAGE {
            return Err(format!(
                "GET Users?startIndex={start_index}&count={PAGE}: expected {PAGE} resources of at least \
                 {at_least}, got {items} of totalResults {total}"
            ));
        }
        Ok(())
    }
}

/// Runs `total` calls of `op(i, random)` on `concurrency` tasks; returns the elapsed seconds and,
/// per call, its index, result and latency. The first error stops all tasks and is returned; so is
/// running past `limit`.
async fn run_phase<T, F, Fut>(
    total: usize,
    concurrency: usize,
    limit: Duration,
    seed: u64,
    op: F,
) -> Result<(f64, Vec<(usize, T, Duration)>), String>
where
    T: Send + 'static,
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, String>> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency.min(total.max(1)) {
        let (op, next, stop) = (op.clone(), next.clone(), stop.clone());
        let mut rng = Rng(seed ^ (worker as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || stop.load(Ordering::Relaxed) {
                    return Ok(out);
                }
                if start.elapsed() > limit {
                    stop.store(true, Ordering::Relaxed);
                    return Err(format!(
                        "did not finish within {} s ({i} of {total} started)",
                        limit.as_secs()
                    ));
                }
                let t0 = Instant::now();
                match op(i, rng.next()).await {
                    Ok(v) => out.push((i, v, t0.elapsed())),
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
        }));
    }
    let mut results = Vec::with_capacity(total);
    let mut first_error = None;
    for task in tasks {
        match task.await {
            Ok(Ok(out)) => results.extend(out),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(format!("a request task failed: {e}"));
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok((start.elapsed().as_secs_f64(), results)),
    }
}

struct Bench {
    ctx: Arc<Ctx>,
    args: Args,
    report: Report,
    /// Server ids of the users created so far, by index.
    ids: Arc<Vec<String>>,
}

impl Bench {
    fn limit(&self) -> Duration {
        Duration::from_secs(self.args.phase_timeout)
    }

    fn concurrency(&self) -> usize {
        usize::from(self.args.concurrency)
    }

    /// Creates users `from..to` and appends their ids.
    async fn create_users(&mut self, from: usize, to: usize, phase: String) -> Result<(), String> {
        eprintln!("scimpad-bench: {phase} ...");
        let ctx = self.ctx.clone();
        let (secs, mut created) =
            run_phase(to - from, self.concurrency(), self.limit(), self.args.seed, move |i, _| {
                let ctx = ctx.clone();
                async move { ctx.create_user(from + i).await }
            })
            .await
            .map_err(|e| format!("{phase}: {e}"))?;
        let latencies = created.iter().map(|(_, _, d)| *d).collect();
        created.sort_unstable_by_key(|(i, _, _)| *i);
        let mut ids = self.ids.as_ref().clone();
        ids.extend(created.into_iter().map(|(_, id, _)| id));
        self.ids = Arc::new(ids);
        self.report.push(Row::new(phase, secs, latencies));
        Ok(())
    }

    async fn lookups(&mut self) -> Result<(), String> {
        let phase = format!("filter userName eq (of {})", self.ids.len());
        eprintln!("scimpad-bench: {phase} ...");
        let (ctx, ids) = (self.ctx.clone(), self.ids.clone());
        let seed = self.args.seed.wrapping_add(1);
        let (secs, done) =
            run_phase(self.args.lookups, self.concurrency(), self.limit(), seed, move |_, r| {
                let (ctx, ids) = (ctx.clone(), ids.clone());
                async move {
                    let i = (r % ids.len() as u64) as usize;
                    ctx.lookup(i, &ids[i]).await
                }
            })
            .await
            .map_err(|e| format!("{phase}: {e}"))?;
        self.report.push(Row::new(phase, secs, done.iter().map(|(_, (), d)| *d).collect()));
        Ok(())
    }

    async fn patches(&mut self) -> Result<(), String> {
        let phase = "PATCH replace name.familyName".to_owned();
        eprintln!("scimpad-bench: {phase} ...");
        let (ctx, ids) = (self.ctx.clone(), self.ids.clone());
        let seed = self.args.seed.wrapping_add(2);
        let (secs, done) =
            run_phase(self.args.patches, self.concurrency(), self.limit(), seed, move |n, r| {
                let (ctx, ids) = (ctx.clone(), ids.clone());
                async move {
                    let i = (r % ids.len() as u64) as usize;
                    ctx.patch_user(&ids[i], &format!("Patched{n}")).await
                }
            })
            .await
            .map_err(|e| format!("{phase}: {e}"))?;
        self.report.push(Row::new(phase, secs, done.iter().map(|(_, (), d)| *d).collect()));
        Ok(())
    }

    /// One group, members added `batch` at a time, one PATCH after the other so each latency is
    /// that of a known group size.
    async fn group(&mut self) -> Result<(), String> {
        let (target, batch) = (self.args.group_members, self.args.batch);
        eprintln!("scimpad-bench: group member adds up to {target} ...");
        let scim = &self.ctx.scim;
        let body = json!({"schemas": [GROUP_SCHEMA], "displayName": format!("Bench Group {}", self.ctx.tag)});
        let created = scim.send(Method::POST, scim.url("Groups"), Some(&body), &[201]).await?;
        let group_id = created
            .as_ref()
            .and_then(|b| b.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("POST Groups: 201 without an \"id\": {created:?}"))?;
        let url = scim.url(&format!("Groups/{group_id}"));
        let start = Instant::now();
        // (group size after the batch, latency)
        let mut batches: Vec<(usize, Duration)> = Vec::new();
        let mut size = 0;
        while size < target {
            if start.elapsed() > self.limit() {
                return Err(format!("group member adds: not done within {} s", self.args.phase_timeout));
            }
            let end = (size + batch).min(target);
            let members: Vec<Value> = self.ids[size..end].iter().map(|id| json!({"value": id})).collect();
            let patch = json!({
                "schemas": [PATCH_SCHEMA],
                "Operations": [{"op": "add", "path": "members", "value": members}]
            });
            let t0 = Instant::now();
            scim.send(Method::PATCH, url.clone(), Some(&patch), &[200, 204])
                .await
                .map_err(|e| format!("group member adds at {size} members: {e}"))?;
            batches.push((end, t0.elapsed()));
            size = end;
        }
        let secs = start.elapsed().as_secs_f64();
        self.check_group_size(&group_id, target).await?;
        let all: Vec<Duration> = batches.iter().map(|(_, d)| *d).collect();
        self.report.push(Row::new(format!("group add {batch}/PATCH, 0→{target} members"), secs, all));
        // The latency around three group sizes: the (up to) ten batches that reached each.
        for checkpoint in [target / 10, target / 2, target] {
            let window = 10 * batch;
            let near: Vec<Duration> = batches
                .iter()
                .filter(|(after, _)| *after <= checkpoint && *after + window > checkpoint)
                .map(|(_, d)| *d)
                .collect();
            if near.is_empty() {
                continue;
            }
            let secs = near.iter().map(Duration::as_secs_f64).sum();
            self.report.push(Row::new(
                format!("  group add, batches up to {checkpoint} members"),
                secs,
                near,
            ));
        }
        Ok(())
    }

    /// Reads the group back and checks it has `expected` members (nothing was lost).
    async fn check_group_size(&self, group_id: &str, expected: usize) -> Result<(), String> {
        let scim = &self.ctx.scim;
        let group = scim.send(Method::GET, scim.url(&format!("Groups/{group_id}")), None, &[200]).await?;
        let members = group.as_ref().and_then(|g| g.get("members")).and_then(Value::as_array).map(Vec::len);
        if members != Some(expected) {
            return Err(format!("GET Groups/{group_id}: expected {expected} members, got {members:?}"));
        }
        Ok(())
    }

    /// `--pages` pages of 100 at start indexes spread evenly over the directory, in random order,
    /// one request at a time: with a queue in front of the database, concurrent latencies would
    /// measure the queue and hide what a deep `startIndex` costs.
    async fn list(&mut self) -> Result<(), String> {
        let users = self.ids.len();
        let pages = self.args.pages;
        let phase = format!("list pages of {PAGE} at {users} users");
        eprintln!("scimpad-bench: {phase} ...");
        let last_start = users - PAGE + 1;
        let mut starts: Vec<usize> =
            (0..pages).map(|k| 1 + k * (last_start - 1) / pages.saturating_sub(1).max(1)).collect();
        let mut rng = Rng(self.args.seed.wrapping_add(3));
        for k in (1..starts.len()).rev() {
            starts.swap(k, (rng.next() % (k as u64 + 1)) as usize);
        }
        let starts = Arc::new(starts);
        let ctx = self.ctx.clone();
        let order = starts.clone();
        let (secs, done) = run_phase(pages, 1, self.limit(), 0, move |k, _| {
            let ctx = ctx.clone();
            let start = order[k];
            async move { ctx.list_page(start, users).await }
        })
        .await
        .map_err(|e| format!("{phase}: {e}"))?;
        // Same latencies, split by where the page starts: the deepest tenth shows an OFFSET scan.
        let latencies = done.iter().map(|(_, (), d)| *d).collect();
        let deep_from = 1 + (last_start - 1) * 9 / 10;
        let deep: Vec<Duration> =
            done.iter().filter(|(k, (), _)| starts[*k] > deep_from).map(|(_, (), d)| *d).collect();
        self.report.push(Row::new(phase, secs, latencies));
        if !deep.is_empty() {
            self.report.push(Row::subset(format!("  of which startIndex > {deep_from}"), deep));
        }
        Ok(())
    }

    async fn run(&mut self) -> Result<(), String> {
        let users = self.args.users;
        let grow_to = self.args.grow_to.max(users);
        self.create_users(0, users, format!("create users 0→{users}")).await?;
        if self.args.lookups > 0 {
            self.lookups().await?;
        }
        if self.args.patches > 0 {
            self.patches().await?;
        }
        let group_early = self.args.group_members > 0 && self.args.group_members <= users;
        if group_early {
            self.group().await?;
        }
        if self.args.pages > 0 {
            self.list().await?;
        }
        if grow_to > users {
            self.create_users(users, grow_to, format!("create users {users}→{grow_to}")).await?;
            if self.args.pages > 0 {
                self.list().await?;
            }
        }
        if self.args.group_members > 0 && !group_early {
            self.group().await?;
        }
        if let (Some(email), Some(password)) =
            (self.args.console_email.clone(), self.args.console_password.clone())
        {
            self.console(&email, &password).await?;
        }
        Ok(())
    }

    /// Times server-side rendering of the console's Users and Provisioning log pages (first and
    /// random deeper pages), one request at a time, signed in as the organisation's admin.
    async fn console(&mut self, email: &str, password: &str) -> Result<(), String> {
        let origin =
            self.ctx.scim.base.as_str().trim_end_matches('/').trim_end_matches("/scim/v2").to_owned();
        let client = Client::builder()
            .no_proxy()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("console client: {e}"))?;
        let res = client
            .post(format!("{origin}/api/sign_in"))
            .header("origin", &origin)
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .map_err(|e| format!("console sign-in: {e}"))?;
        if !res.status().is_success() {
            return Err(format!("console sign-in answered {}", res.status()));
        }
        let users = self.ids.len() as u64;
        let mut rng = Rng(self.args.seed.wrapping_add(7));
        for (phase, path, pages) in [
            (format!("console SSR /users at {users} users"), "/users", users / 50 + 1),
            ("console SSR /log (newest first)".to_owned(), "/log", 100),
        ] {
            eprintln!("scimpad-bench: {phase} ...");
            let start = Instant::now();
            let mut latencies = Vec::with_capacity(self.args.console_pages);
            for n in 0..self.args.console_pages {
                let page = if n % 2 == 0 { 1 } else { 1 + rng.next() % pages };
                let t0 = Instant::now();
                let res = client
                    .get(format!("{origin}{path}?page={page}"))
                    .send()
                    .await
                    .map_err(|e| format!("{phase}: {e}"))?;
                let status = res.status();
                let body = res.text().await.map_err(|e| format!("{phase}: {e}"))?;
                if !status.is_success() || !body.contains("</html>") {
                    return Err(format!("{phase}: GET {path}?page={page} answered {status}"));
                }
                latencies.push(t0.elapsed());
            }
            self.report.push(Row::new(phase, start.elapsed().as_secs_f64(), latencies));
        }
        Ok(())
    }

    /// The targets of the header, measured against what ran.
    fn verdicts(&self) {
        let report = &self.report;
        println!();
        println!(
            "targets (this machine, SQLite, load generator included; Entra itself needs ≥ 25 req/s per tenant):"
        );
        for (prefix, target) in
            [("create users 0", 3000.0), ("filter userName", 7500.0), ("PATCH replace", 3000.0)]
        {
            if let Some(row) = report.find(prefix) {
                let rate = row.rate().unwrap_or(0.0);
                println!(
                    "  {:<44} {:.0} req/s, p99 {:.1} ms  (target ≥ {target:.0} req/s): {}",
                    row.phase,
                    rate,
                    row.percentile_ms(99.0),
                    if rate >= target { "met" } else { "NOT MET" }
                );
            }
        }
        for row in report.rows.iter().filter(|r| r.phase.starts_with("console SSR")) {
            let p50 = row.percentile_ms(50.0);
            println!(
                "  {:<44} p50 {p50:.1} ms, p99 {:.1} ms  (target p50 ≤ 20 ms): {}",
                row.phase,
                row.percentile_ms(99.0),
                if p50 <= 20.0 { "met" } else { "NOT MET" }
            );
        }
        let checkpoints: Vec<&Row> =
            report.rows.iter().filter(|r| r.phase.starts_with("  group add")).collect();
        if let (Some(first), Some(last)) = (checkpoints.first(), checkpoints.last()) {
            flat("group PATCH p50, smallest vs largest group", first, last);
        }
        let lists: Vec<&Row> = report.rows.iter().filter(|r| r.phase.starts_with("list pages")).collect();
        if let (Some(first), Some(last)) = (lists.first(), lists.last())
            && lists.len() > 1
        {
            flat("list page p50, small vs large directory", first, last);
        }
        if let Some(pid) = self.args.server_pid {
            match peak_rss_mib(pid) {
                Ok(mib) => println!("  server peak RSS (VmHWM of pid {pid}): {mib:.1} MiB"),
                Err(e) => println!("  server peak RSS: unavailable ({e})"),
            }
        }
    }
}

/// "Flat" means the larger case's median is within 1.5× (+2 ms for noise) of the smaller's: ten
/// times the data may not cost much more per request.
fn flat(what: &str, small: &Row, large: &Row) {
    let (a, b) = (small.percentile_ms(50.0), large.percentile_ms(50.0));
    let ok = b <= 1.5 * a + 2.0;
    println!(
        "  {what:<44} {a:.2} ms → {b:.2} ms  (flat: within 1.5× + 2 ms): {}",
        if ok { "met" } else { "NOT MET" }
    );
}

async fn bench(args: Args) -> Result<(), String> {
    let base = args.check()?;
    let concurrency = usize::from(args.concurrency);
    let client = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(concurrency)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let ctx = Arc::new(Ctx { scim: Scim { client, base: base.clone(), token: args.token.clone() }, tag });
    println!(
        "scimpad-bench against {base}: {concurrency} concurrent requests (group adds and list pages: 1), run tag {}",
        ctx.tag
    );
    if let Some(pid) = args.server_pid {
        peak_rss_mib(pid).map_err(|e| format!("--server-pid {pid}: {e}"))?;
    }
    let report = Report { rows: Vec::new(), server_pid: args.server_pid };
    report.header();
    let mut bench = Bench { ctx, args, report, ids: Arc::new(Vec::new()) };
    let total = Instant::now();
    bench.run().await?;
    bench.verdicts();
    println!("total time {:.1} s", total.elapsed().as_secs_f64());
    Ok(())
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
