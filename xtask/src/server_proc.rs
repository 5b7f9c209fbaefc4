//! A `scimpad` server run by the xtask for a test pass, and the organisations and API keys that
//! SCIM clients need. Shared by the SCIM conformance run (`conformance.rs`) and the benchmark
//! (`bench.rs`, whose throughput run starts the server with its rate limit off and whose
//! noisy-neighbour run provisions many organisations), so there is one way to start a server,
//! wait for it and provision it.
//!
//! `start` refuses a port that already answers (a server left over from an earlier run would
//! otherwise be the one tested) and returns once `/healthz` says 200. The server is stopped when
//! the returned [`ServerProcess`] is dropped, on every path out of the caller.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

/// How long a server may take to answer `/healthz` (migrations on a fresh database included).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The password of the organisation's first admin (`create_org_and_key`).
pub const ADMIN_PASSWORD: &str = "a long password 123";
/// The first admin's email, which owns the API key.
pub const ADMIN_EMAIL: &str = "admin@example.com";

/// A running `scimpad`; dropping it stops the server (SIGTERM, then SIGKILL after 10 s).
pub struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    /// The server's public URL, e.g. `http://127.0.0.1:3020` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's process id (the benchmark reads its peak memory).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // A graceful stop lets the server finish in-flight requests and close the database.
        let term = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        if term.map(|s| s.success()).unwrap_or(false) {
            let deadline = Instant::now() + STOP_TIMEOUT;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `bin` on `db_url`, listening on 127.0.0.1:`port`, serving the console from `site_root`,
/// and waits until `GET /healthz` answers 200.
pub fn start(bin: &Path, db_url: &str, port: u16, site_root: &Path) -> Result<ServerProcess, String> {
    start_with(bin, db_url, port, site_root, &[])
}

/// [`start`] with more server flags, e.g. `["--scim-rate", "0"]`.
pub fn start_with(
    bin: &Path,
    db_url: &str,
    port: u16,
    site_root: &Path,
    flags: &[&str],
) -> Result<ServerProcess, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
        return Err(format!(
            "port {port} is already in use: stop what listens on {addr} (a server left from an earlier run?)"
        ));
    }
    let url = format!("http://{addr}");
    let mut cmd = Command::new(bin);
    cmd.args(["--database-url", db_url, "--bind", &addr.to_string(), "--public-url", &url])
        .args(["--secure-cookies", "false", "--log", "warn", "--site-root"])
        .arg(site_root)
        .args(flags)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    eprintln!("xtask: starting {} on {url}", bin.display());
    let child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let mut server = ServerProcess { child, url };
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = server.child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("{} exited before it answered /healthz ({status})", bin.display()));
        }
        if healthz_ok(addr) {
            return Ok(server);
        }
        if Instant::now() > deadline {
            let secs = START_TIMEOUT.as_secs();
            return Err(format!("{}/healthz did not answer 200 within {secs}s", server.url));
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Whether `GET /healthz` on `addr` answers 200 (plain HTTP/1.1, no client library needed).
fn healthz_ok(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut status_line = [0u8; 12];
    stream.read_exact(&mut status_line).is_ok() && status_line.ends_with(b" 200")
}

/// Creates the organisation "Conformance" with the admin [`ADMIN_EMAIL`] and an API key owned by
/// that admin, with the `scimpad` CLI on `db_url`; returns the key.
pub fn create_org_and_key(bin: &Path, db_url: &str) -> Result<String, String> {
    create_named_org_and_key(bin, db_url, "Conformance", ADMIN_EMAIL, "conformance")
}

/// Creates the organisation `org_name` whose first admin is `admin_email` (password
/// [`ADMIN_PASSWORD`]) and an API key `key_name` owned by that admin, with the `scimpad` CLI on
/// `db_url`; returns the key. An email belongs to one account: each organisation needs its own.
pub fn create_named_org_and_key(
    bin: &Path,
    db_url: &str,
    org_name: &str,
    admin_email: &str,
    key_name: &str,
) -> Result<String, String> {
    let mut org = Command::new(bin);
    org.args(["--database-url", db_url, "--log", "warn", "org", "create", "--name", org_name])
        .args(["--admin-name", "Admin", "--admin-email", admin_email])
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut child = org.spawn().map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // The password is the first line of standard input; dropping stdin closes it.
        stdin.write_all(format!("{ADMIN_PASSWORD}\n").as_bytes()).map_err(|e| format!("org create: {e}"))?;
    }
    let status = child.wait().map_err(|e| format!("org create: {e}"))?;
    if !status.success() {
        return Err(format!("`scimpad org create --name {org_name}` failed ({status})"));
    }

    let out = Command::new(bin)
        .args(["--database-url", db_url, "--log", "warn", "api-key", "create", "--admin-email", admin_email])
        .args(["--name", key_name])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!("`scimpad api-key create` failed ({})", out.status));
    }
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(format!(
            "`scimpad api-key create` should print the key alone on stdout, printed {} bytes{}",
            out.stdout.len(),
            if key.is_empty() { "" } else { " with whitespace inside" }
        ));
    }
    Ok(key)
}
