//! Phases 1–3: creating users, Entra's matching read (`filter=userName eq "…"`) of random users,
//! and PATCH `replace name.familyName` on random users, each at `--concurrency`.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;

use super::{Bench, Ctx};
use crate::{client::run_phase, entra, report::Row};

impl Ctx {
    fn user_name(&self, i: usize) -> String {
        format!("bench.{i:06}.{}@bench.example.com", self.tag)
    }

    pub(super) async fn create_user(&self, i: usize) -> Result<String, String> {
        let body = entra::user(&self.user_name(i), &format!("ext-{}-{i}", self.tag), i);
        let body = self.scim.send(Method::POST, self.scim.url("Users"), Some(&body), &[201]).await?;
        body.as_ref()
            .and_then(|b| b.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("POST Users (user {i}): 201 without an \"id\": {body:?}"))
    }

    async fn lookup(&self, i: usize, id: &str) -> Result<(), String> {
        let mut url = self.scim.url("Users");
        entra::filter_user_name(&mut url, &self.user_name(i));
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
        let body = entra::replace_family_name(family);
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
}

impl Bench {
    /// Creates users `from..to` and appends their ids.
    pub(super) async fn create_users(&mut self, from: usize, to: usize, phase: String) -> Result<(), String> {
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

    pub(super) async fn lookups(&mut self) -> Result<(), String> {
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

    pub(super) async fn patches(&mut self) -> Result<(), String> {
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
}
