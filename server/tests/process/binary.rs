//! The real binary and a data directory of its own, as an operator runs them.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::{Client, StatusCode};

pub const PASSWORD: &str = "correct horse battery";

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A data directory with a stand-in console bundle (the server only checks it exists).
pub struct DataDir {
    dir: PathBuf,
    url: String,
    /// The email of the admin [`DataDir::organisation_with_key`] makes (unique, as a shared
    /// PostgreSQL database may hold earlier runs' organisations).
    pub email: String,
}

impl DataDir {
    /// A directory whose database is the SQLite file `scimpad.db` in it.
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("scimpad-process-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("site/pkg")).unwrap();
        std::fs::write(dir.join("site/pkg/scimpad.js"), "").unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("scimpad.db").display());
        let email = format!("ada-{}@fabrikam.example", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        Self { dir, url, email }
    }

    /// A directory whose database is the test pass's (`TEST_DATABASE_URL`, PostgreSQL), or its
    /// own SQLite file without one.
    pub fn on_test_database() -> Self {
        let mut data = Self::new();
        if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
            data.url = url;
        }
        data
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    pub fn database_url(&self) -> &str {
        &self.url
    }

    /// Runs a command-line subcommand on this directory's database, `stdin` on its input; its stdout.
    pub fn command(&self, args: &[&str], stdin: &str) -> String {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_scimpad"))
            .args(["--database-url", self.database_url(), "--log", "warn"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a subcommand that must fail; what it said on stderr.
    pub fn command_fails(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_scimpad"))
            .args(["--database-url", self.database_url(), "--log", "warn"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} succeeded: {}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// An organisation with an admin (`PASSWORD`) and an API key, made on the command line; the key.
    pub fn organisation_with_key(&self) -> String {
        let org =
            ["org", "create", "--name", "Fabrikam", "--admin-name", "Ada", "--admin-email", &self.email];
        self.command(&org, &format!("{PASSWORD}\n"));
        let key = ["api-key", "create", "--admin-email", &self.email, "--name", "Entra"];
        self.command(&key, "").trim().to_owned()
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server running on a free loopback port, its stderr captured.
pub struct Running {
    child: Child,
    /// Its stderr, read as it comes: a pipe nobody reads fills up and then blocks the server.
    logs: std::thread::JoinHandle<String>,
    pub base: String,
    pub client: Client,
}

impl Running {
    pub async fn start(data: &DataDir, flags: &[&str]) -> Self {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_scimpad"))
            .args(["--database-url", data.database_url(), "--bind", &format!("127.0.0.1:{port}")])
            .args(["--secure-cookies", "false", "--site-root", &data.path("site")])
            .args(["--secret-key-file", &data.path("secret.key")])
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let client = Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let logs = std::thread::spawn(move || {
            let mut logs = String::new();
            std::io::Read::read_to_string(&mut stderr, &mut logs).unwrap();
            logs
        });
        let running = Self { child, logs, base: format!("http://127.0.0.1:{port}"), client };
        for _ in 0..200 {
            if running.get("/readyz").await.is_ok_and(|r| r.status() == StatusCode::OK) {
                return running;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready");
    }

    pub async fn get(&self, path: &str) -> reqwest::Result<reqwest::Response> {
        self.client.get(format!("{}{path}", self.base)).send().await
    }

    pub fn terminate(&self) {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success());
    }

    /// Waits for the process to end after [`Running::terminate`]; whether it stopped cleanly, and
    /// everything it logged.
    pub async fn stopped(mut self) -> (bool, String) {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status.success(), self.logs.join().unwrap());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.child.kill();
        panic!("the server did not stop");
    }
}
