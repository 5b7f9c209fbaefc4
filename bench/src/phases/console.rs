//! Phase 6: the console's Users and Provisioning log pages rendered on the server, signed in as
//! the organisation's admin, at the size the SCIM phases left the directory and the log.

use std::time::Instant;

use reqwest::Client;

use super::Bench;
use crate::{report::Row, rng::Rng};

impl Bench {
    /// Times server-side rendering of the console's Users and Provisioning log pages (first and
    /// random deeper pages), one request at a time, signed in as the organisation's admin.
    pub(super) async fn console(&mut self, email: &str, password: &str) -> Result<(), String> {
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
}
