//! Health endpoints and request ids.

mod support;

use support::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer_and_every_response_has_a_request_id() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let health = client.get(app.at("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(!health.headers()["x-request-id"].is_empty());
    let ready = client.get(app.at("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let said: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(said["status"], "ready");
    for check in ["database", "writer", "log"] {
        assert_eq!(said[check], "ok", "{check}: {said}");
    }

    let echoed = client.get(app.at("/healthz")).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn readyz_reports_an_unreachable_database() {
    let app = TestApp::spawn().await;
    app.db.clone().close().await.unwrap();
    let ready = reqwest::get(app.at("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);
    let said: serde_json::Value = ready.json().await.unwrap();
    assert_eq!((&said["status"], &said["database"]), (&"unavailable".into(), &"unreachable".into()));
}

/// The real binary, told to stop with SIGTERM: `/readyz` turns 503 ("draining") at once while
/// requests are still answered for `--drain-seconds`, then the server stops cleanly.
#[tokio::test]
async fn a_stopping_server_is_not_ready_but_still_serves_while_it_drains() {
    use std::{process::Command, time::Duration};
    let dir = std::env::temp_dir().join(format!("scimpad-drain-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("site/pkg")).unwrap();
    std::fs::write(dir.join("site/pkg/scimpad.js"), "").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let mut server = Command::new(env!("CARGO_BIN_EXE_scimpad"))
        .args(["--database-url", &format!("sqlite://{}?mode=rwc", path("scimpad.db"))])
        .args(["--bind", &format!("127.0.0.1:{port}"), "--secure-cookies", "false", "--log", "warn"])
        .args(["--site-root", &path("site"), "--secret-key-file", &path("secret.key")])
        .args(["--drain-seconds", "3"])
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let readyz = || async { client.get(format!("{base}/readyz")).send().await };
    let mut ready = None;
    for _ in 0..200 {
        if let Ok(r) = readyz().await {
            ready = Some(r.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ready, Some(reqwest::StatusCode::OK), "the server started and is ready");

    let stopped = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(stopped.success());
    let mut draining = None;
    for _ in 0..40 {
        let r = readyz().await.expect("still serving while draining");
        if r.status() == 503 {
            draining = Some(r.json::<serde_json::Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let draining = draining.expect("/readyz turned 503 within a second of SIGTERM");
    assert_eq!(draining["status"], "draining");
    assert_eq!(draining["database"], "ok");
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "requests are still served while draining");

    let mut exited = None;
    for _ in 0..300 {
        if let Some(status) = server.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Some(status) = exited else {
        let _ = server.kill();
        panic!("the server did not stop after draining");
    };
    assert!(status.success(), "a clean stop: {status}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn unknown_pages_and_assets_are_404() {
    let app = TestApp::spawn().await;
    let client = app.client();
    app.sign_up(&client, &domain::testing::unique_email("lost")).await;
    let page = client.get(app.at("/no-such-page")).send().await.unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("Page not found"));
    let asset = client.get(app.at("/pkg/missing.js")).send().await.unwrap();
    assert_eq!(asset.status(), 404);
}
