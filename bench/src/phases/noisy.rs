//! The noisy-neighbour run: one organisation flooding the server must not hurt the others.
//!
//! Why: one server carries many tenants' Entra provisioning jobs, each needing ≥ 25 requests/s. A
//! client of one organisation gone wrong (a script in a loop, a retry storm) must meet its own
//! organisation's rate limit (429 with `Retry-After`) instead of slowing everyone down.
//!
//! Against a server with its default limits, each well-behaved organisation runs Entra's cycle —
//! probe `filter=userName eq "<new guid>"` (200, no match), create the user (201), replace its
//! `name.familyName` (200) — one request at a time, paced at `--neighbour-rate` requests/s, for
//! `--neighbour-seconds`. That runs twice: alone, then while one more organisation floods with
//! `--flood-concurrency` requests in flight in a tight loop (creates, PATCHes, pages of the user
//! list), which should mostly get 429s. The flood runs on a thread of its own, like a client on
//! another machine, so the well-behaved requests do not queue behind it inside this process.
//!
//! Targets: the well-behaved organisations' p99 with the flood at most twice their p99 without it,
//! and not one non-2xx answer among them. Those answers are counted and the first few shown, never
//! fatal; a 2xx of the wrong shape stops the run, as anywhere else in the benchmark.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use reqwest::Method;
use serde_json::Value;
use tokio::time::{self, MissedTickBehavior};
use url::Url;

use crate::{
    Args, PAGE,
    client::{self, Bases, Scim, excerpt, json_body},
    entra,
    report::{Report, Row},
};

/// The flood runs this long before the well-behaved organisations start, so they meet the
/// flooder once it has spent its burst allowance and is held at its rate.
const FLOOD_WARM_UP: Duration = Duration::from_secs(1);
/// How many unexpected answers (well-behaved non-2xx, flooder's neither 2xx nor 429) are shown.
const SHOWN: usize = 5;

/// What the well-behaved organisations saw in one run.
#[derive(Default)]
struct Seen {
    latencies: Vec<Duration>,
    non_2xx: usize,
    /// The first few non-2xx answers: request, status and the start of the body (or the error).
    samples: Vec<String>,
}

impl Seen {
    fn merge(&mut self, other: Seen) {
        self.latencies.extend(other.latencies);
        self.non_2xx += other.non_2xx;
        let room = SHOWN.saturating_sub(self.samples.len());
        self.samples.extend(other.samples.into_iter().take(room));
    }

    /// One request of a well-behaved organisation, timed. A non-2xx answer (or none) is counted
    /// and gives `None`; a 2xx other than `expect` is an error.
    async fn call(
        &mut self,
        scim: &Scim,
        method: Method,
        url: Url,
        body: Option<&Value>,
        expect: &[u16],
    ) -> Result<Option<Value>, String> {
        let what = format!("{method} {url}");
        let t0 = Instant::now();
        let answer = scim.exchange(method, url, body).await;
        self.latencies.push(t0.elapsed());
        let (status, bytes) = match answer {
            Ok((status, bytes)) if (200..300).contains(&status) => (status, bytes),
            Ok((status, bytes)) => {
                self.failed(format!("{what}: {status}: {}", excerpt(&bytes, 300)));
                return Ok(None);
            }
            Err(e) => {
                self.failed(e);
                return Ok(None);
            }
        };
        if !expect.contains(&status) {
            return Err(format!(
                "{what}: expected status {expect:?}, got {status}: {}",
                excerpt(&bytes, 600)
            ));
        }
        Ok(Some(json_body(&what, status, &bytes)?.unwrap_or(Value::Null)))
    }

    fn failed(&mut self, sample: String) {
        self.non_2xx += 1;
        if self.samples.len() < SHOWN {
            self.samples.push(sample);
        }
    }
}

/// The next request of a well-behaved organisation's cycle.
enum Step {
    Probe,
    Create,
    /// Replace the familyName of the user just created (by its id).
    Patch(String),
}

/// One well-behaved organisation: Entra's cycle, one request per `period` from `first` until
/// `until`. `prefix` makes its userNames unique to this organisation and run.
async fn behave(
    scim: Arc<Scim>,
    prefix: String,
    period: Duration,
    first: time::Instant,
    until: time::Instant,
) -> Result<Seen, String> {
    let mut ticks = time::interval_at(first, period);
    // A slow answer delays the next request rather than bunching the missed ones: Entra waits for
    // each answer before it sends the next request.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut seen = Seen::default();
    let mut step = Step::Probe;
    let mut n = 0;
    while ticks.tick().await < until {
        step = match step {
            Step::Probe => {
                let mut url = scim.url("Users");
                entra::filter_user_name(&mut url, &format!("{}@neighbour.example.com", uuid::Uuid::new_v4()));
                if let Some(body) = seen.call(&scim, Method::GET, url, None, &[200]).await? {
                    let total = body.get("totalResults").and_then(Value::as_u64);
                    if total != Some(0) {
                        return Err(format!("probe of a new userName: totalResults {total:?}, expected 0"));
                    }
                }
                Step::Create
            }
            Step::Create => {
                n += 1;
                let user_name = format!("{prefix}.{n:06}@neighbour.example.com");
                let body = entra::user(&user_name, &format!("ext-{prefix}-{n}"), n);
                match seen.call(&scim, Method::POST, scim.url("Users"), Some(&body), &[201]).await? {
                    Some(created) => {
                        let id = created.get("id").and_then(Value::as_str).ok_or_else(|| {
                            format!("POST Users ({user_name}): 201 without an \"id\": {created}")
                        })?;
                        Step::Patch(id.to_owned())
                    }
                    None => Step::Probe,
                }
            }
            Step::Patch(id) => {
                let family = format!("Neighbour{n}");
                let body = entra::replace_family_name(&family);
                let url = scim.url(&format!("Users/{id}"));
                if let Some(reply) = seen.call(&scim, Method::PATCH, url, Some(&body), &[200, 204]).await? {
                    let got = reply.pointer("/name/familyName").and_then(Value::as_str);
                    if !reply.is_null() && got != Some(family.as_str()) {
                        return Err(format!(
                            "PATCH Users/{id}: familyName is {got:?} after replacing it with {family:?}"
                        ));
                    }
                }
                Step::Probe
            }
        };
    }
    Ok(seen)
}

/// All well-behaved organisations for `--neighbour-seconds`, each at `--neighbour-rate`, their
/// starts spread over one period so their requests interleave. Returns the elapsed seconds and
/// what they saw.
async fn well_behaved(orgs: &[Arc<Scim>], run: &str, tag: &str, args: &Args) -> Result<(f64, Seen), String> {
    let period = Duration::from_secs(1) / args.neighbour_rate;
    let start = time::Instant::now();
    let until = start + Duration::from_secs(args.neighbour_seconds);
    let tasks: Vec<_> = orgs
        .iter()
        .enumerate()
        .map(|(k, scim)| {
            let first = start + period.mul_f64(k as f64 / orgs.len() as f64);
            tokio::spawn(behave(scim.clone(), format!("{run}{k:02}.{tag}"), period, first, until))
        })
        .collect();
    let mut seen = Seen::default();
    for task in tasks {
        seen.merge(task.await.map_err(|e| format!("a well-behaved organisation's task failed: {e}"))??);
    }
    Ok((start.elapsed().as_secs_f64(), seen))
}

/// What the flooding organisation got.
#[derive(Default)]
struct Flood {
    ok: usize,
    too_many: usize,
    other: usize,
    latencies: Vec<Duration>,
    /// The first few answers that were neither 2xx nor 429.
    samples: Vec<String>,
}

impl Flood {
    fn merge(&mut self, other: Flood) {
        self.ok += other.ok;
        self.too_many += other.too_many;
        self.other += other.other;
        self.latencies.extend(other.latencies);
        let room = SHOWN.saturating_sub(self.samples.len());
        self.samples.extend(other.samples.into_iter().take(room));
    }

    fn count(&mut self, what: String, answer: Result<(u16, Vec<u8>), String>) {
        match answer {
            Ok((200..=299, _)) => self.ok += 1,
            Ok((429, _)) => self.too_many += 1,
            Ok((status, bytes)) => self.other(format!("{what}: {status}: {}", excerpt(&bytes, 300))),
            Err(e) => self.other(e),
        }
    }

    fn other(&mut self, sample: String) {
        self.other += 1;
        if self.samples.len() < SHOWN {
            self.samples.push(sample);
        }
    }
}

/// The flooding organisation: `concurrency` requests in flight until `stop`, cycling through a
/// create, a PATCH of one user of its own and a page of the user list. Returns what it got and
/// for how many seconds it flooded.
async fn flood(
    scim: Scim,
    concurrency: usize,
    tag: String,
    stop: Arc<AtomicBool>,
) -> Result<(f64, Flood), String> {
    let scim = Arc::new(scim);
    // Its own user to PATCH, made before the flood, while its burst allowance is whole.
    let victim =
        entra::user(&format!("flood.victim.{tag}@flood.example.com"), &format!("ext-flood-{tag}"), 0);
    let created = scim.send(Method::POST, scim.url("Users"), Some(&victim), &[201]).await?;
    let victim = created
        .as_ref()
        .and_then(|b| b.get("id"))
        .and_then(Value::as_str)
        .map(|id| scim.url(&format!("Users/{id}")))
        .ok_or_else(|| format!("flooder's POST Users: 201 without an \"id\": {created:?}"))?;
    let mut page = scim.url("Users");
    page.query_pairs_mut().append_pair("startIndex", "1").append_pair("count", &PAGE.to_string());
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (scim, next, stop, victim, page, tag) =
                (scim.clone(), next.clone(), stop.clone(), victim.clone(), page.clone(), tag.clone());
            tokio::spawn(async move {
                let mut got = Flood::default();
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let (method, url, body) = match n % 3 {
                        0 => {
                            let user_name = format!("flood.{n:07}.{tag}@flood.example.com");
                            let body = entra::user(&user_name, &format!("ext-flood-{tag}-{n}"), n);
                            (Method::POST, scim.url("Users"), Some(body))
                        }
                        1 => (
                            Method::PATCH,
                            victim.clone(),
                            Some(entra::replace_family_name(&format!("Flood{n}"))),
                        ),
                        _ => (Method::GET, page.clone(), None),
                    };
                    let what = format!("{method} {url}");
                    let t0 = Instant::now();
                    let answer = scim.exchange(method, url, body.as_ref()).await;
                    got.latencies.push(t0.elapsed());
                    got.count(what, answer);
                }
                got
            })
        })
        .collect();
    let mut got = Flood::default();
    for task in tasks {
        got.merge(task.await.map_err(|e| format!("a flooding task failed: {e}"))?);
    }
    Ok((start.elapsed().as_secs_f64(), got))
}

/// Starts the flood on a thread (and runtime) of its own; it runs until `stop` is set.
fn start_flood(
    bases: Bases,
    token: String,
    concurrency: usize,
    tag: String,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<Result<(f64, Flood), String>> {
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("flooder's runtime: {e}"))?;
        runtime.block_on(async move {
            let scim = Scim::new(client::http_client(concurrency)?, bases, token);
            flood(scim, concurrency, tag, stop).await
        })
    })
}

/// The noisy-neighbour run against `base`: `well_behaved` organisations' keys, and the key of the
/// organisation that floods.
pub async fn run(
    bases: Bases,
    well_behaved_keys: &[String],
    flooder: String,
    args: &Args,
) -> Result<(), String> {
    let orgs = well_behaved_keys.len();
    let (rate, seconds) = (args.neighbour_rate, args.neighbour_seconds);
    let concurrency = usize::from(args.flood_concurrency);
    let tag = super::run_tag();
    println!(
        "scimpad-bench noisy neighbour against {bases}: {orgs} well-behaved organisations at {rate} req/s each \
         for {seconds} s, without and then with one more organisation flooding ({concurrency} requests in \
         flight), run tag {tag}"
    );
    let mut report = Report::new(args.server_pid.clone());
    report.header();
    let client = client::http_client(orgs)?;
    let neighbours: Vec<Arc<Scim>> = well_behaved_keys
        .iter()
        .map(|key| Arc::new(Scim::new(client.clone(), bases.clone(), key.clone())))
        .collect();

    eprintln!("scimpad-bench: well-behaved organisations, no flood ...");
    let (secs, quiet) = well_behaved(&neighbours, "calm", &tag, args).await?;
    let quiet_row = Row::new(format!("{orgs} orgs × {rate} req/s, no flood"), secs, quiet.latencies);
    let (quiet_p99, quiet_rate) = (quiet_row.percentile_ms(99.0), quiet_row.rate().unwrap_or(0.0));
    report.push(quiet_row);

    eprintln!("scimpad-bench: well-behaved organisations while one floods ...");
    let stop = Arc::new(AtomicBool::new(false));
    let flooding = start_flood(bases.clone(), flooder, concurrency, tag.clone(), stop.clone());
    time::sleep(FLOOD_WARM_UP).await;
    let loud = if flooding.is_finished() {
        None
    } else {
        Some(well_behaved(&neighbours, "flood", &tag, args).await)
    };
    stop.store(true, Ordering::Relaxed);
    let flood = tokio::task::spawn_blocking(move || flooding.join())
        .await
        .map_err(|e| format!("waiting for the flood: {e}"))?
        .map_err(|_| "the flooding thread panicked".to_owned())??;
    let (secs, loud) = loud.ok_or("the flood stopped before the well-behaved organisations started")??;
    let loud_row = Row::new(format!("{orgs} orgs × {rate} req/s, 1 org flooding"), secs, loud.latencies);
    let (loud_p99, loud_rate) = (loud_row.percentile_ms(99.0), loud_row.rate().unwrap_or(0.0));
    report.push(loud_row);
    let (flood_secs, flood) = flood;
    let flood_row = Row::new(format!("flooder, {concurrency} in flight"), flood_secs, flood.latencies);
    let flood_rate = flood_row.rate().unwrap_or(0.0);
    report.push(flood_row);

    println!();
    let per_org = |total: f64| total / orgs as f64;
    println!(
        "  well-behaved: {:.1} req/s per organisation without the flood, {:.1} with it (paced at {rate}); \
         non-2xx: {} without, {} with",
        per_org(quiet_rate),
        per_org(loud_rate),
        quiet.non_2xx,
        loud.non_2xx
    );
    for sample in quiet.samples.iter().chain(&loud.samples).take(SHOWN) {
        println!("    {sample}");
    }
    println!(
        "  flooder: 2xx {}, 429 {}, other {}; {flood_rate:.1} req/s over {flood_secs:.1} s",
        flood.ok, flood.too_many, flood.other
    );
    for sample in &flood.samples {
        println!("    {sample}");
    }
    report.noisy_verdict(quiet_p99, loud_p99, quiet.non_2xx + loud.non_2xx);
    report.save(args.summary.as_deref())
}
