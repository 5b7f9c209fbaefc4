//! The Entra-shaped initial cycle (issue 14): several organisations' provisioning jobs at once,
//! each driving its directory from empty the way Entra's first cycle does (entra-scim.md §2).
//!
//! Why: Entra provisions each tenant with a job of its own, and the jobs of all the tenants on one
//! server run in parallel. An initial cycle is the heaviest thing a job does: for every assigned
//! user the matching read (`filter=userName eq`, no match) and the create; for every group the
//! matching read (`excludedAttributes=members&filter=displayName eq`) and the create; then the
//! members, added in PATCHes of `--cycle-batch`. Microsoft sizes an initial cycle at 0.01–0.08
//! minutes per user, group or member, i.e. 12.5–100 objects/s per job (entra-scim.md §5): a
//! server keeps up when every organisation's cycle goes faster than 100 objects/s while all of
//! them run.
//!
//! Each organisation runs its cycle with `--cycle-concurrency` requests in flight (Entra's
//! concurrency is not documented; it has been seen sending PATCHes to one group at once), users
//! first, then groups, then members. At the end each organisation's directory is checked: the
//! user count, every group's member count. Objects are counted as Microsoft does: one per user,
//! per group and per membership.

use std::{sync::Arc, time::Duration};

use reqwest::Method;
use serde_json::Value;

use crate::{
    Args,
    client::{self, Bases, Scim, run_phase},
    entra,
    report::{Report, Row},
};

/// Entra's fastest initial-cycle pace per job, in objects/s (entra-scim.md §5).
const ENTRA_FASTEST: f64 = 100.0;

/// The sizes of one organisation's cycle.
#[derive(Clone, Copy)]
struct Shape {
    users: usize,
    groups: usize,
    group_size: usize,
    batch: usize,
    concurrency: usize,
    limit: Duration,
}

impl Shape {
    fn objects(&self) -> usize {
        self.users + self.groups + self.groups * self.group_size
    }
}

/// One organisation's job.
struct Job {
    scim: Scim,
    /// Which organisation, in names (`org3`).
    org: usize,
    tag: String,
}

/// What one organisation's cycle measured.
struct Cycle {
    seconds: f64,
    latencies: Vec<Duration>,
}

impl Job {
    fn user_name(&self, i: usize) -> String {
        format!("cycle.{i:06}.{}@org{}.example.com", self.tag, self.org)
    }

    fn group_name(&self, g: usize) -> String {
        format!("Cycle {} group {g:04}", self.tag)
    }

    /// A matching read that must find nothing (the object is new to the directory).
    async fn expect_no_match(&self, url: url::Url) -> Result<(), String> {
        let what = url.to_string();
        let body = self.scim.send(Method::GET, url, None, &[200]).await?.unwrap_or(Value::Null);
        match body.get("totalResults").and_then(Value::as_u64) {
            Some(0) => Ok(()),
            other => Err(format!("GET {what}: expected no match, got totalResults {other:?}")),
        }
    }

    /// `POST` to `resource` and the new object's id.
    async fn create(&self, resource: &str, body: &Value) -> Result<String, String> {
        let created = self.scim.send(Method::POST, self.scim.url(resource), Some(body), &[201]).await?;
        created
            .as_ref()
            .and_then(|b| b.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("POST {resource}: 201 without an \"id\": {created:?}"))
    }

    async fn user(&self, i: usize) -> Result<String, String> {
        let user_name = self.user_name(i);
        let mut url = self.scim.url("Users");
        entra::filter_user_name(&mut url, &user_name);
        self.expect_no_match(url).await?;
        let external_id = format!("{}-org{}-user-{i}", self.tag, self.org);
        self.create("Users", &entra::user(&user_name, &external_id, i)).await
    }

    async fn group(&self, g: usize) -> Result<String, String> {
        let name = self.group_name(g);
        let mut url = self.scim.url("Groups");
        entra::filter_display_name(&mut url, &name);
        self.expect_no_match(url).await?;
        let external_id = format!("{}-org{}-group-{g}", self.tag, self.org);
        self.create("Groups", &entra::group(&name, &external_id)).await
    }

    async fn add_members(&self, group_id: &str, members: &[String]) -> Result<(), String> {
        let url = self.scim.url(&format!("Groups/{group_id}"));
        self.scim.send(Method::PATCH, url, Some(&entra::add_members(members)), &[200, 204]).await?;
        Ok(())
    }

    /// How many users the organisation's directory holds (its admins are users too).
    async fn user_count(&self) -> Result<u64, String> {
        let mut url = self.scim.url("Users");
        url.query_pairs_mut().append_pair("count", "0");
        let body = self.scim.send(Method::GET, url, None, &[200]).await?.unwrap_or(Value::Null);
        body.get("totalResults")
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("org{}: GET Users?count=0 without totalResults: {body}", self.org))
    }

    /// The directory holds what the cycle made: `shape.users` more users than `before`, and each
    /// group its members.
    async fn check(&self, shape: Shape, before: u64, groups: &[String]) -> Result<(), String> {
        let users = self.user_count().await?;
        if users != before + shape.users as u64 {
            return Err(format!(
                "org{}: {users} users after the cycle, expected {before} + {}",
                self.org, shape.users
            ));
        }
        for id in groups {
            let url = self.scim.url(&format!("Groups/{id}"));
            let group = self.scim.send(Method::GET, url, None, &[200]).await?.unwrap_or(Value::Null);
            let members = group.get("members").and_then(Value::as_array).map_or(0, Vec::len);
            if members != shape.group_size {
                return Err(format!(
                    "org{}: group {id} has {members} members after the cycle, expected {}",
                    self.org, shape.group_size
                ));
            }
        }
        Ok(())
    }

    /// Users, then groups, then members, each at `shape.concurrency`; then the check.
    async fn run(self: Arc<Self>, shape: Shape, seed: u64) -> Result<Cycle, String> {
        let before = self.user_count().await?;
        let job = self.clone();
        let (users_secs, mut users) =
            run_phase(shape.users, shape.concurrency, shape.limit, seed, move |i, _| {
                let job = job.clone();
                async move { job.user(i).await }
            })
            .await
            .map_err(|e| format!("org{} users: {e}", self.org))?;
        let job = self.clone();
        let (groups_secs, mut groups) =
            run_phase(shape.groups, shape.concurrency, shape.limit, seed, move |g, _| {
                let job = job.clone();
                async move { job.group(g).await }
            })
            .await
            .map_err(|e| format!("org{} groups: {e}", self.org))?;
        let mut latencies: Vec<Duration> = users.iter().chain(&groups).map(|(_, _, d)| *d).collect();
        users.sort_unstable_by_key(|(i, _, _)| *i);
        groups.sort_unstable_by_key(|(g, _, _)| *g);
        let user_ids: Arc<Vec<String>> = Arc::new(users.into_iter().map(|(_, id, _)| id).collect());
        let group_ids: Arc<Vec<String>> = Arc::new(groups.into_iter().map(|(_, id, _)| id).collect());

        // Group g gets users g·size .. (g+1)·size, `batch` per PATCH: one user, one group.
        let per_group = shape.group_size.div_ceil(shape.batch);
        let (job, members, in_groups) = (self.clone(), user_ids.clone(), group_ids.clone());
        let (members_secs, patches) =
            run_phase(shape.groups * per_group, shape.concurrency, shape.limit, seed, move |p, _| {
                let (job, members, groups) = (job.clone(), members.clone(), in_groups.clone());
                async move {
                    let (g, k) = (p / per_group, p % per_group);
                    let from = g * shape.group_size + k * shape.batch;
                    let to = (from + shape.batch).min((g + 1) * shape.group_size);
                    job.add_members(&groups[g], &members[from..to]).await
                }
            })
            .await
            .map_err(|e| format!("org{} members: {e}", self.org))?;
        latencies.extend(patches.iter().map(|(_, (), d)| *d));
        self.check(shape, before, &group_ids).await?;
        Ok(Cycle { seconds: users_secs + groups_secs + members_secs, latencies })
    }
}

/// The initial cycle in every organisation of `keys` at once, against `bases`.
pub async fn run(bases: Bases, keys: &[String], args: &Args) -> Result<(), String> {
    let shape = Shape {
        users: args.cycle_users,
        groups: args.cycle_groups,
        group_size: args.cycle_group_size,
        batch: usize::from(args.cycle_batch),
        concurrency: usize::from(args.cycle_concurrency),
        limit: Duration::from_secs(args.phase_timeout),
    };
    let orgs = keys.len();
    let tag = super::run_tag();
    println!(
        "scimpad-bench Entra initial cycle against {bases}: {orgs} organisations at once, each {} users, \
         {} groups of {} ({} members per PATCH), {} requests in flight per organisation, run tag {tag}",
        shape.users, shape.groups, shape.group_size, shape.batch, shape.concurrency
    );
    let mut report = Report::new(args.server_pid.clone());
    report.header();
    let client = client::http_client(orgs * shape.concurrency)?;
    let started = std::time::Instant::now();
    let mut jobs = Vec::with_capacity(orgs);
    for (k, key) in keys.iter().enumerate() {
        let job = Arc::new(Job {
            scim: Scim::new(client.clone(), bases.clone(), key.clone()),
            org: k + 1,
            tag: tag.clone(),
        });
        jobs.push(tokio::spawn(job.run(shape, args.seed.wrapping_add(k as u64))));
    }
    let mut cycles = Vec::with_capacity(orgs);
    for (k, job) in jobs.into_iter().enumerate() {
        let cycle = job.await.map_err(|e| format!("org{}'s cycle task failed: {e}", k + 1))??;
        cycles.push(cycle);
    }
    let wall = started.elapsed().as_secs_f64();
    let objects = shape.objects();
    let mut slowest = f64::INFINITY;
    for (k, cycle) in cycles.into_iter().enumerate() {
        slowest = slowest.min(objects as f64 / cycle.seconds);
        report.push(Row::new(format!("cycle org{} (requests)", k + 1), cycle.seconds, cycle.latencies));
    }
    println!();
    report.figure("Entra cycle objects/s, slowest organisation", slowest, "objects/s");
    report.figure("Entra cycle objects/s, all organisations", (objects * orgs) as f64 / wall, "objects/s");
    println!(
        "  {objects} objects per organisation ({} users, {} groups, {} memberships), {orgs} organisations \
         in {wall:.1} s. Target: every organisation faster than Entra's fastest pace, {ENTRA_FASTEST:.0} \
         objects/s per job: {}",
        shape.users,
        shape.groups,
        shape.groups * shape.group_size,
        if slowest >= ENTRA_FASTEST { "met" } else { "NOT MET" }
    );
    report.peak_rss();
    report.save(args.summary.as_deref())
}
