//! The throughput phases, in the order a run takes them (`Bench::run`), and what they share: the
//! organisation's client, the run's tag, the ids of the users created so far and the report. One
//! module per kind of phase; `noisy` is the separate noisy-neighbour run.

mod console;
pub mod cycle;
mod group;
mod list;
pub mod noisy;
mod users;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use crate::{
    Args,
    client::{self, Bases, Scim},
    report::Report,
};

/// What the concurrent requests of a phase share.
struct Ctx {
    scim: Scim,
    /// Distinguishes this run's userNames and group from earlier runs on the same database.
    tag: String,
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
            if self.args.lookups > 0 {
                self.lookups().await?;
            }
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
            self.console_writes(&email, &password).await?;
        }
        Ok(())
    }
}

/// The throughput phases against `bases` with the API key `token`, then their verdicts.
pub async fn throughput(bases: Bases, token: String, args: Args) -> Result<(), String> {
    let concurrency = usize::from(args.concurrency);
    let client = client::http_client(concurrency)?;
    let tag = run_tag();
    println!(
        "scimpad-bench against {bases}: {concurrency} concurrent requests (group adds and list pages: 1), run tag {tag}"
    );
    let ctx = Arc::new(Ctx { scim: Scim::new(client, bases, token), tag });
    let report = Report::new(args.server_pid.clone());
    report.header();
    let mut bench = Bench { ctx, args, report, ids: Arc::new(Vec::new()) };
    let total = Instant::now();
    bench.run().await?;
    bench.report.verdicts();
    println!("total time {:.1} s", total.elapsed().as_secs_f64());
    bench.report.save(bench.args.summary.as_deref())
}

/// Eight hex digits that set this run's names apart from an earlier run's on the same database.
pub fn run_tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}
