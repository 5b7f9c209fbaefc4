//! The HTTP side of the load generator: a keep-alive client, an organisation's bearer requests
//! against the SCIM base (checked, or returned whatever their status), and `run_phase`, which
//! spreads a phase's requests over a bounded number of tasks and times each one.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::{Client, Method, header};
use serde_json::Value;
use url::Url;

use crate::rng::Rng;

const SCIM_JSON: &str = "application/scim+json";

/// A client keeping up to `pool` connections open (one per request in flight); no proxy, since
/// the server is on loopback; 60 s at most per request.
pub fn http_client(pool: usize) -> Result<Client, String> {
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(pool)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// The first `max` characters of a response body, for a message.
pub fn excerpt(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(bytes).chars().take(max).collect()
}

/// The SCIM base URLs of the server instances under test (several instances on one PostgreSQL
/// database share the load): each request goes to the next one in turn.
#[derive(Clone, Debug)]
pub struct Bases {
    urls: Arc<[Url]>,
    next: Arc<AtomicUsize>,
}

impl Bases {
    /// `urls` must not be empty (`Args::check` ensures it).
    pub fn new(urls: Vec<Url>) -> Self {
        assert!(!urls.is_empty(), "at least one SCIM base URL");
        Bases { urls: urls.into(), next: Arc::new(AtomicUsize::new(0)) }
    }

    /// The first instance's base (where the console is signed in to).
    pub fn first(&self) -> &Url {
        &self.urls[0]
    }

    fn pick(&self) -> &Url {
        &self.urls[self.next.fetch_add(1, Ordering::Relaxed) % self.urls.len()]
    }
}

impl std::fmt::Display for Bases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let urls: Vec<&str> = self.urls.iter().map(Url::as_str).collect();
        f.write_str(&urls.join(" + "))
    }
}

/// One organisation's SCIM requests: a (shared) client, the instances' base URLs, the
/// organisation's key.
pub struct Scim {
    client: Client,
    bases: Bases,
    token: String,
}

impl Scim {
    pub fn new(client: Client, bases: Bases, token: String) -> Self {
        Scim { client, bases, token }
    }

    pub fn base(&self) -> &Url {
        self.bases.first()
    }

    /// `path` under the SCIM base of the next instance in turn.
    pub fn url(&self, path: &str) -> Url {
        let base = self.bases.pick();
        let mut url = base.clone();
        url.set_path(&format!("{}/{}", base.path().trim_end_matches('/'), path));
        url
    }

    /// Sends one request and returns its status and body, whatever the status; fails only when no
    /// answer arrives. Errors start with `what` (method and URL).
    async fn transfer(
        &self,
        what: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<(u16, Vec<u8>), String> {
        let mut request =
            self.client.request(method, url).bearer_auth(&self.token).header(header::ACCEPT, SCIM_JSON);
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body).map_err(|e| format!("{what}: encoding body: {e}"))?;
            request = request.header(header::CONTENT_TYPE, SCIM_JSON).body(bytes);
        }
        let response = request.send().await.map_err(|e| format!("{what}: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| format!("{what}: reading body: {e}"))?;
        Ok((status, bytes.into()))
    }

    /// Sends one request; returns its status and body whatever the status (the noisy-neighbour
    /// run counts statuses instead of stopping at the first unexpected one).
    pub async fn exchange(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<(u16, Vec<u8>), String> {
        self.transfer(&format!("{method} {url}"), method, url, body).await
    }

    /// Sends one request; fails unless the status is one of `expect`. Returns the JSON body, if any.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        expect: &[u16],
    ) -> Result<Option<Value>, String> {
        let what = format!("{method} {url}");
        let (status, bytes) = self.transfer(&what, method, url, body).await?;
        if !expect.contains(&status) {
            let excerpt = excerpt(&bytes, 600);
            return Err(format!("{what}: expected status {expect:?}, got {status}: {excerpt}"));
        }
        json_body(&what, status, &bytes)
    }
}

/// The JSON of a body; `None` for an empty one.
pub fn json_body(what: &str, status: u16, bytes: &[u8]) -> Result<Option<Value>, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes).map(Some).map_err(|e| {
        let excerpt = excerpt(bytes, 300);
        format!("{what}: status {status} but the body is not JSON ({e}): {excerpt}")
    })
}

/// Runs `total` calls of `op(i, random)` on `concurrency` tasks; returns the elapsed seconds and,
/// per call, its index, result and latency. The first error stops all tasks and is returned; so is
/// running past `limit`.
pub async fn run_phase<T, F, Fut>(
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
