//! The real `scimpad` binary as an operator runs it, over a SQLite file of its own: it drains
//! before it stops, and its logs (text and JSON) tell requests apart without ever holding a secret.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::{Client, StatusCode};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";

/// A data directory with a stand-in console bundle (the server only checks it exists).
struct DataDir(PathBuf);

impl DataDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("scimpad-process-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("site/pkg")).unwrap();
        std::fs::write(dir.join("site/pkg/scimpad.js"), "").unwrap();
        Self(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.path("scimpad.db"))
    }

    /// Runs a command-line subcommand on this directory's database, `stdin` on its input; its stdout.
    fn command(&self, args: &[&str], stdin: &str) -> String {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_scimpad"))
            .args(["--database-url", &self.database_url(), "--log", "warn"])
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

    /// An organisation with an admin (`PASSWORD`) and an API key, made on the command line; the key.
    fn organisation_with_key(&self) -> String {
        let org = [
            "org",
            "create",
            "--name",
            "Fabrikam",
            "--admin-name",
            "Ada",
            "--admin-email",
            "ada@fabrikam.example",
        ];
        self.command(&org, &format!("{PASSWORD}\n"));
        let key = ["api-key", "create", "--admin-email", "ada@fabrikam.example", "--name", "Entra"];
        self.command(&key, "").trim().to_owned()
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The server running on a free loopback port, its stderr captured.
struct Running {
    child: Child,
    base: String,
    client: Client,
}

impl Running {
    async fn start(data: &DataDir, flags: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_scimpad"))
            .args(["--database-url", &data.database_url(), "--bind", &format!("127.0.0.1:{port}")])
            .args(["--secure-cookies", "false", "--site-root", &data.path("site")])
            .args(["--secret-key-file", &data.path("secret.key")])
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let client = Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
        let running = Self { child, base: format!("http://127.0.0.1:{port}"), client };
        for _ in 0..200 {
            if running.get("/readyz").await.is_ok_and(|r| r.status() == StatusCode::OK) {
                return running;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready");
    }

    async fn get(&self, path: &str) -> reqwest::Result<reqwest::Response> {
        self.client.get(format!("{}{path}", self.base)).send().await
    }

    fn terminate(&self) {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success());
    }

    /// Waits for the process to end after [`Running::terminate`]; whether it stopped cleanly, and
    /// everything it logged.
    async fn stopped(mut self) -> (bool, String) {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut logs = String::new();
                std::io::Read::read_to_string(&mut self.child.stderr.take().unwrap(), &mut logs).unwrap();
                return (status.success(), logs);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.child.kill();
        panic!("the server did not stop");
    }
}

/// Told to stop with SIGTERM, the server answers `/readyz` 503 ("draining") at once while it
/// still serves requests for `--drain-seconds`, then stops cleanly.
#[tokio::test]
async fn a_stopping_server_is_not_ready_but_still_serves_while_it_drains() {
    let data = DataDir::new();
    let server = Running::start(&data, &["--drain-seconds", "3"]).await;
    server.terminate();
    let mut draining = None;
    for _ in 0..40 {
        let ready = server.get("/readyz").await.expect("still serving while draining");
        if ready.status() == StatusCode::SERVICE_UNAVAILABLE {
            draining = Some(ready.json::<Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let draining = draining.expect("/readyz turned 503 within a second of SIGTERM");
    assert_eq!((&draining["status"], &draining["database"]), (&"draining".into(), &"ok".into()));
    let health = server.get("/healthz").await.unwrap();
    assert_eq!(health.status(), StatusCode::OK, "requests are still served while draining");
    let (clean, _) = server.stopped().await;
    assert!(clean, "a clean stop after draining");
}

/// A SCIM request, a refused one and a console sign-in, logged as JSON and as text: with JSON,
/// every line is an object and the SCIM request's response line carries its request id, its
/// organisation and its operation; in neither format do the API key, its secret part or the
/// password appear.
#[tokio::test]
async fn logs_name_the_request_and_its_organisation_and_hold_no_secret() {
    for format in ["json", "text"] {
        let data = DataDir::new();
        let key = data.organisation_with_key();
        let server = Running::start(&data, &["--log-format", format, "--log", "info"]).await;
        let request_id = format!("probe-{format}-{}", uuid::Uuid::new_v4());
        let users = server
            .client
            .get(format!("{}/scim/v2/Users?filter=userName%20eq%20%22x%22", server.base))
            .bearer_auth(&key)
            .header("x-request-id", &request_id)
            .send()
            .await
            .unwrap();
        assert_eq!(users.status(), StatusCode::OK);
        let last = if key.ends_with('x') { 'y' } else { 'x' };
        let forged = format!("{}{last}", &key[..key.len() - 1]);
        let refused = server
            .client
            .get(format!("{}/scim/v2/Users", server.base))
            .bearer_auth(&forged)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        let sign_in = server
            .client
            .post(format!("{}/api/sign_in", server.base))
            .header("origin", &server.base)
            .form(&[("email", "ada@fabrikam.example"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(sign_in.status().is_success() || sign_in.status().is_redirection(), "{}", sign_in.status());
        server.terminate();
        let (clean, logs) = server.stopped().await;
        assert!(clean);

        // `scimpad_<public id>_<secret>`; the secret's base64url may hold `_` itself.
        let secret = key.splitn(3, '_').nth(2).unwrap();
        for (what, text) in
            [("the API key", key.as_str()), ("its secret", secret), ("the password", PASSWORD)]
        {
            assert!(!logs.contains(text), "{format} logs hold {what}:\n{logs}");
        }
        assert!(logs.contains(&request_id), "{format} logs name the request:\n{logs}");
        if format == "json" {
            let lines: Vec<Value> = logs
                .lines()
                .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
                .collect();
            let response = lines
                .iter()
                .find(|l| l["span"]["request_id"] == request_id.as_str() && l["status"].is_number())
                .unwrap_or_else(|| panic!("no response line for the SCIM request:\n{logs}"));
            assert_eq!(response["status"], 200);
            let request = &response["span"];
            assert_eq!((&request["method"], &request["path"]), (&"GET".into(), &"/scim/v2/Users".into()));
            assert_eq!(request["operation"], "list");
            assert!(request["org_id"].as_str().is_some_and(|id| !id.is_empty()), "{response}");
            let refused = lines
                .iter()
                .find(|l| l["status"] == 401)
                .unwrap_or_else(|| panic!("no response line for the refused request:\n{logs}"));
            assert!(
                refused["span"].get("org_id").is_none(),
                "a refused key names no organisation: {refused}"
            );
        }
    }
}
