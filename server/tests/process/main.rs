//! The real `scimpad` binary as an operator runs it: it drains before it stops; its logs (text
//! and JSON) tell requests apart without ever holding a secret; its metrics parse as Prometheus
//! reads them; its backup, taken while it serves, restores into a fresh data directory.

mod backup;
mod binary;
mod metrics;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use binary::{DataDir, PASSWORD, Running};

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
            .form(&[("email", data.email.as_str()), ("password", PASSWORD)])
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
