//! What a run prints: one row per phase (requests, seconds, rate, p50/p99 latency, the server's
//! peak RSS so far), printed as it is measured so a run that stops still shows what it measured,
//! and the verdicts against the targets in `main.rs`'s header. With `--summary`, the rows, the
//! named figures and the peak RSS also go to a JSON file, from which `cargo xtask bench` sets the
//! runs on each database side by side.

use std::{path::Path, time::Duration};

use serde_json::{Value, json};

/// The label of console rows whose pages are read by offset (a page number alone), whose cost
/// grows with the depth: they are stated without the 20 ms target of the pager's pages.
pub const BY_OFFSET: &str = "random page number (by offset)";

/// One line of the report.
pub struct Row {
    phase: String,
    requests: usize,
    /// Wall-clock seconds; `None` for a subset of a concurrent phase (no rate of its own).
    seconds: Option<f64>,
    latencies: Vec<Duration>,
}

impl Row {
    pub fn new(phase: impl Into<String>, seconds: f64, latencies: Vec<Duration>) -> Self {
        Row::subset(phase, latencies).with_seconds(seconds)
    }

    pub fn subset(phase: impl Into<String>, mut latencies: Vec<Duration>) -> Self {
        latencies.sort_unstable();
        Row { phase: phase.into(), requests: latencies.len(), seconds: None, latencies }
    }

    fn with_seconds(mut self, seconds: f64) -> Self {
        self.seconds = Some(seconds);
        self
    }

    /// Nearest-rank percentile, in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1].as_secs_f64() * 1000.0
    }

    pub fn rate(&self) -> Option<f64> {
        self.seconds.filter(|s| *s > 0.0).map(|s| self.requests as f64 / s)
    }
}

/// Prints the table as it grows, so a run that stops still shows what it measured.
pub struct Report {
    rows: Vec<Row>,
    /// Figures that are not a row's rate or latency (e.g. objects/s of the Entra cycle), by name.
    figures: Vec<(String, f64)>,
    /// The server instances' processes.
    server_pids: Vec<u32>,
}

impl Report {
    /// An empty report; with `server_pids`, each row shows those processes' peak RSS so far.
    pub fn new(server_pids: Vec<u32>) -> Self {
        Report { rows: Vec::new(), figures: Vec::new(), server_pids }
    }

    pub fn header(&self) {
        let rss = if self.server_pids.is_empty() { "" } else { "  peak RSS MiB" };
        println!(
            "{:<40} {:>9} {:>9} {:>9} {:>9} {:>9}{rss}",
            "phase", "requests", "seconds", "req/s", "p50 ms", "p99 ms"
        );
        println!("{}", "-".repeat(40 + 5 * 10 + rss.len()));
    }

    pub fn push(&mut self, row: Row) {
        let rss = if self.server_pids.is_empty() {
            String::new()
        } else {
            let each: Vec<String> = self
                .server_pids
                .iter()
                .map(|pid| peak_rss_mib(*pid).map_or_else(|e| format!("({e})"), |mib| format!("{mib:.1}")))
                .collect();
            format!("  {:>12}", each.join(" + "))
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

    /// Prints and records a named figure.
    pub fn figure(&mut self, name: &str, value: f64, unit: &str) {
        println!("  {name:<44} {value:.1} {unit}");
        self.figures.push((name.to_owned(), value));
    }

    /// Writes the rows, the figures and each instance's peak RSS as JSON to `path`, if any.
    pub fn save(&self, path: Option<&Path>) -> Result<(), String> {
        let Some(path) = path else { return Ok(()) };
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                json!({
                    "phase": r.phase.trim(),
                    "requests": r.requests,
                    "rate": r.rate(),
                    "p50_ms": r.percentile_ms(50.0),
                    "p99_ms": r.percentile_ms(99.0),
                })
            })
            .collect();
        let figures: serde_json::Map<String, Value> =
            self.figures.iter().map(|(name, value)| (name.clone(), json!(value))).collect();
        let rss: Vec<Value> =
            self.server_pids.iter().map(|pid| peak_rss_mib(*pid).map_or(Value::Null, |m| json!(m))).collect();
        let text = json!({"rows": rows, "figures": figures, "peak_rss_mib": rss}).to_string();
        std::fs::write(path, text).map_err(|e| format!("--summary {}: {e}", path.display()))
    }

    fn find(&self, prefix: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.phase.starts_with(prefix))
    }

    /// The throughput targets, measured against what ran.
    pub fn verdicts(&self) {
        println!();
        println!(
            "targets (this machine, SQLite, load generator included; Entra itself needs ≥ 25 req/s per tenant):"
        );
        for (prefix, target) in
            [("create users 0", 3000.0), ("filter userName", 7500.0), ("PATCH replace", 3000.0)]
        {
            if let Some(row) = self.find(prefix) {
                let rate = row.rate().unwrap_or(0.0);
                println!(
                    "  {:<44} {:.0} req/s, p99 {:.1} ms  (target ≥ {target:.0} req/s): {}",
                    row.phase,
                    rate,
                    row.percentile_ms(99.0),
                    met(rate >= target)
                );
            }
        }
        for row in self.rows.iter().filter(|r| r.phase.starts_with("console SSR /users")) {
            let p50 = row.percentile_ms(50.0);
            let verdict = if row.phase.ends_with(BY_OFFSET) {
                "no target: a page number alone is read by offset, its cost grows with the depth".to_owned()
            } else {
                format!("target p50 ≤ 20 ms: {}", met(p50 <= 20.0))
            };
            println!(
                "  {:<44} p50 {p50:.1} ms, p99 {:.1} ms  ({verdict})",
                row.phase,
                row.percentile_ms(99.0)
            );
        }
        let checkpoints: Vec<&Row> =
            self.rows.iter().filter(|r| r.phase.starts_with("  group add")).collect();
        if let (Some(first), Some(last)) = (checkpoints.first(), checkpoints.last()) {
            flat("group PATCH p50, smallest vs largest group", first, last);
        }
        let lists: Vec<&Row> = self.rows.iter().filter(|r| r.phase.starts_with("list pages")).collect();
        if let (Some(first), Some(last)) = (lists.first(), lists.last())
            && lists.len() > 1
        {
            flat("list page p50, small vs large directory", first, last);
        }
        self.peak_rss();
    }

    /// The noisy-neighbour targets: the well-behaved organisations' p99 with the flood at most
    /// twice the p99 without it, and not one non-2xx answer among them.
    /// (`quiet` and `loud`: p99 in ms without and with the flood).
    pub fn noisy_verdict(&self, quiet: f64, loud: f64, non_2xx: usize) {
        println!(
            "noisy neighbour: p99 with flood {loud:.2} ms vs {quiet:.2} ms without (≤ 2× target: {}); \
             non-2xx among well-behaved: {non_2xx} (target 0: {})",
            met(loud <= 2.0 * quiet),
            met(non_2xx == 0)
        );
        self.peak_rss();
    }

    pub fn peak_rss(&self) {
        for &pid in &self.server_pids {
            match peak_rss_mib(pid) {
                Ok(mib) => println!("  server peak RSS (VmHWM of pid {pid}): {mib:.1} MiB"),
                Err(e) => println!("  server peak RSS: unavailable ({e})"),
            }
        }
    }
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT MET" }
}

/// "Flat" means the larger case's median is within 1.5× (+2 ms for noise) of the smaller's: ten
/// times the data may not cost much more per request.
fn flat(what: &str, small: &Row, large: &Row) {
    let (a, b) = (small.percentile_ms(50.0), large.percentile_ms(50.0));
    println!("  {what:<44} {a:.2} ms → {b:.2} ms  (flat: within 1.5× + 2 ms): {}", met(b <= 1.5 * a + 2.0));
}

/// Peak resident set size of a process (VmHWM), in MiB.
pub fn peak_rss_mib(pid: u32) -> Result<f64, String> {
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
