//! Phase 4: members added to one new group `--batch` at a time, one PATCH after the other, with the
//! per-batch latency around three group sizes: Entra fills a group batch by batch, so a PATCH
//! whose cost grows with the group makes an initial cycle quadratic.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use super::Bench;
use crate::{entra, report::Row};

impl Bench {
    /// One group, members added `batch` at a time, one PATCH after the other so each latency is
    /// that of a known group size.
    pub(super) async fn group(&mut self) -> Result<(), String> {
        let (target, batch) = (self.args.group_members, self.args.batch);
        eprintln!("scimpad-bench: group member adds up to {target} ...");
        let scim = &self.ctx.scim;
        let body =
            entra::group(&format!("Bench Group {}", self.ctx.tag), &format!("ext-group-{}", self.ctx.tag));
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
            let patch = entra::add_members(&self.ids[size..end]);
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
}
