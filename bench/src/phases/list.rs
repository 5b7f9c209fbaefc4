//! Phase 5: pages of the user list (`startIndex` spread over the directory), whose cost must not
//! grow with the directory nor with how deep the page starts; then the first, middle and last
//! page on their own.

use std::{sync::Arc, time::Duration};

use reqwest::Method;
use serde_json::Value;

use super::{Bench, Ctx};
use crate::{PAGE, client::run_phase, report::Row, rng::Rng};

/// Requests for each of the first, middle and last page.
const AT_EACH_END: usize = 20;

impl Ctx {
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

impl Bench {
    /// `--pages` pages of 100 at start indexes spread evenly over the directory, in random order,
    /// one request at a time: with a queue in front of the database, concurrent latencies would
    /// measure the queue and hide what a deep `startIndex` costs.
    pub(super) async fn list(&mut self) -> Result<(), String> {
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
        for (which, start) in [("first", 1), ("middle", 1 + (last_start - 1) / 2), ("last", last_start)] {
            let ctx = self.ctx.clone();
            let (_, done) = run_phase(AT_EACH_END, 1, self.limit(), 0, move |_, _| {
                let ctx = ctx.clone();
                async move { ctx.list_page(start, users).await }
            })
            .await
            .map_err(|e| format!("{which} page at {users} users: {e}"))?;
            let latencies = done.iter().map(|(_, (), d)| *d).collect();
            self.report
                .push(Row::subset(format!("  {which} page of {users} (startIndex {start})"), latencies));
        }
        Ok(())
    }
}
