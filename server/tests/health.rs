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
