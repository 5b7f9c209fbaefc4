//! Phases 6 and 7, signed in as the organisation's admin: the console's Users and Provisioning
//! log pages rendered on the server, at the size the SCIM phases left the directory and the log;
//! then a console write (a profile save) alone and while SCIM creates keep the server's writer
//! busy — how long an admin waits behind Entra's traffic (issue 12: on SQLite the console and
//! SCIM write through different connections, so the console's write waits for the lock).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::Client;

use super::Bench;
use crate::{
    report::{BY_OFFSET, Row},
    rng::Rng,
};

/// How a timed console page is reached.
#[derive(Clone, Copy)]
enum Depth {
    /// Page 1.
    First,
    /// The pager's "Next" at a random depth: a page read by key, after a random person.
    NextByKey,
    /// A random page number of this many, typed into the URL: read by offset.
    Number(u64),
}

impl Depth {
    fn label(self) -> &'static str {
        match self {
            Depth::First => "page 1",
            Depth::NextByKey => "Next at random depth",
            Depth::Number(_) => BY_OFFSET,
        }
    }
}

/// A console session: the client holding its cookie, and the server's origin.
struct Console {
    client: Client,
    origin: String,
}

impl Bench {
    /// Signs in to the console as `email`.
    async fn sign_in(&self, email: &str, password: &str) -> Result<Console, String> {
        let origin =
            self.ctx.scim.base().as_str().trim_end_matches('/').trim_end_matches("/scim/v2").to_owned();
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
        Ok(Console { client, origin })
    }

    /// Times server-side rendering of the console's Users and Provisioning log pages, one request
    /// at a time, signed in as the organisation's admin: the first page, then deeper pages, each
    /// way of reaching them its own row (mixed in one row, the first pages' speed would set the
    /// p50). On Users, "Next" at a random depth is what the pager's links cost (by key: after a
    /// random person); a random page number typed into the URL is read by offset, and its row
    /// shows how that cost grows with the directory.
    pub(super) async fn console(&mut self, email: &str, password: &str) -> Result<(), String> {
        let Console { client, origin } = self.sign_in(email, password).await?;
        let users = self.ids.len() as u64;
        let mut rng = Rng(self.args.seed.wrapping_add(7));
        let user_pages = users / 50 + 1;
        let kinds = [
            (format!("/users at {users} users"), "/users", Depth::First),
            (format!("/users at {users} users"), "/users", Depth::NextByKey),
            (format!("/users at {users} users"), "/users", Depth::Number(user_pages)),
            ("/log".to_owned(), "/log", Depth::First),
            ("/log".to_owned(), "/log", Depth::Number(100)),
        ];
        for (name, path, depth) in kinds {
            let phase = format!("console SSR {name}, {}", depth.label());
            eprintln!("scimpad-bench: {phase} ...");
            let start = Instant::now();
            let mut latencies = Vec::with_capacity(self.args.console_pages);
            for _ in 0..self.args.console_pages {
                let query = match depth {
                    Depth::First => "page=1".to_owned(),
                    Depth::NextByKey => {
                        let k = rng.next() % users.max(1);
                        let after = self.ids.get(k as usize).cloned().unwrap_or_default();
                        format!("page={}&after={after}", 2 + k / 50)
                    }
                    Depth::Number(pages) => format!("page={}", 1 + rng.next() % pages),
                };
                let t0 = Instant::now();
                let res = client
                    .get(format!("{origin}{path}?{query}"))
                    .send()
                    .await
                    .map_err(|e| format!("{phase}: {e}"))?;
                let status = res.status();
                let body = res.text().await.map_err(|e| format!("{phase}: {e}"))?;
                if !status.is_success() || !body.contains("</html>") {
                    return Err(format!("{phase}: GET {path}?{query} answered {status}"));
                }
                latencies.push(t0.elapsed());
            }
            self.report.push(Row::new(phase, start.elapsed().as_secs_f64(), latencies));
        }
        Ok(())
    }

    /// Times `--console-pages` profile saves one at a time, first with SCIM idle, then while
    /// `--concurrency` SCIM creates are in flight without pause.
    pub(super) async fn console_writes(&mut self, email: &str, password: &str) -> Result<(), String> {
        let console = self.sign_in(email, password).await?;
        let idle = "console write, SCIM idle".to_owned();
        self.profile_saves(&console, email, idle).await?;

        let stop = Arc::new(AtomicBool::new(false));
        // Indexes far above the users the run creates, so the flood's userNames never collide.
        let next = Arc::new(AtomicUsize::new(10_000_000));
        let flood: Vec<_> = (0..self.concurrency())
            .map(|_| {
                let (ctx, stop, next) = (self.ctx.clone(), stop.clone(), next.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        ctx.create_user(next.fetch_add(1, Ordering::Relaxed)).await?;
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        // Let the flood reach its pace before the first save.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let busy = format!("console write, {} SCIM creates in flight", self.concurrency());
        let saved = self.profile_saves(&console, email, busy).await;
        stop.store(true, Ordering::Relaxed);
        for task in flood {
            task.await.map_err(|e| format!("SCIM flood: {e}"))??;
        }
        let created = next.load(Ordering::Relaxed) - 10_000_000;
        eprintln!("scimpad-bench: the flood created {created} users");
        saved
    }

    /// `--console-pages` profile saves of the admin (name changes, same email), one at a time.
    async fn profile_saves(&mut self, console: &Console, email: &str, phase: String) -> Result<(), String> {
        eprintln!("scimpad-bench: {phase} ...");
        let start = Instant::now();
        let mut latencies = Vec::with_capacity(self.args.console_pages);
        for n in 0..self.args.console_pages {
            let name = format!("Bench Admin {n}");
            let t0 = Instant::now();
            let res = console
                .client
                .post(format!("{}/api/update_profile", console.origin))
                .header("origin", &console.origin)
                .form(&[("name", name.as_str()), ("email", email)])
                .send()
                .await
                .map_err(|e| format!("{phase}: {e}"))?;
            if !res.status().is_success() {
                return Err(format!("{phase}: update_profile answered {}", res.status()));
            }
            latencies.push(t0.elapsed());
        }
        self.report.push(Row::new(phase, start.elapsed().as_secs_f64(), latencies));
        Ok(())
    }
}
