//! `/metrics` after some traffic, read as Prometheus reads it: on the metrics listener
//! (`--metrics-bind`) without credentials, on the public listener only with `--metrics-token`,
//! and nowhere without either. Runs on the test pass's database (PostgreSQL in its second pass).

use prometheus_parse::{Scrape, Value};
use reqwest::StatusCode;
use serde_json::json;

use crate::binary::{DataDir, PASSWORD, Running, free_port};

const TOKEN: &str = "a-metrics-token-that-is-long-enough-0123";

/// Parses a scrape's body as the exposition format.
fn parse(body: &str) -> Scrape {
    Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).expect("the body parses as Prometheus text")
}

/// The value of the counter or gauge `name` whose labels include `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))?;
    match sample.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(v),
        _ => None,
    }
}

/// How many observations the histogram `name` with `labels` holds (its `+Inf` bucket).
fn observations(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let Some(sample) = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
    else {
        return 0.0;
    };
    let Value::Histogram(buckets) = &sample.value else { panic!("{name} is no histogram: {sample:?}") };
    assert!(buckets.len() > 2, "{name} has buckets: {buckets:?}");
    buckets.iter().find(|b| b.less_than.is_infinite()).map(|b| b.count).expect("an +Inf bucket")
}

#[tokio::test]
async fn metrics_count_what_happened_without_naming_anyone_and_are_served_only_where_asked() {
    let data = DataDir::on_test_database();
    let key = data.organisation_with_key();
    let metrics_port = free_port();
    let bind = format!("127.0.0.1:{metrics_port}");
    let server = Running::start(&data, &["--metrics-bind", &bind, "--metrics-token", TOKEN]).await;
    let scim = |path: &str| format!("{}/scim/v2{path}", server.base);

    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "metered@fabrikam.example"});
    let created = server.client.post(scim("/Users")).bearer_auth(&key).json(&user).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let missing = server.client.get(scim("/Users/nobody")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let refused = server.client.get(scim("/Users")).bearer_auth("scimpad_forged_key").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    for password in [PASSWORD, "not the password"] {
        server
            .client
            .post(format!("{}/api/sign_in", server.base))
            .header("origin", &server.base)
            .form(&[("email", data.email.as_str()), ("password", password)])
            .send()
            .await
            .unwrap();
    }
    let sso = server.get("/sso/start?who=no-such-organisation").await.unwrap();
    assert_eq!(sso.status(), StatusCode::NOT_FOUND);

    // The metrics listener: no credentials needed.
    let scraped = server.client.get(format!("http://{bind}/metrics")).send().await.unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    let content_type = scraped.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let body = scraped.text().await.unwrap();
    let metrics = parse(&body);

    let scim_requests = |operation: &str, status: &str| {
        value(&metrics, "scimpad_scim_requests_total", &[("operation", operation), ("status", status)])
    };
    assert_eq!(scim_requests("create", "201"), Some(1.0), "{body}");
    assert_eq!(scim_requests("get", "404"), Some(1.0), "{body}");
    assert_eq!(scim_requests("list", "401"), Some(1.0), "{body}");
    let latency = "scimpad_scim_request_duration_seconds";
    assert_eq!(observations(&metrics, latency, &[("operation", "create")]), 1.0, "{body}");
    let sign_ins = |outcome: &str| {
        value(&metrics, "scimpad_sign_ins_total", &[("method", "password"), ("outcome", outcome)])
    };
    assert_eq!((sign_ins("success"), sign_ins("failure")), (Some(1.0), Some(1.0)), "{body}");
    let unknown = [("reason", "unknown_organisation")];
    assert_eq!(value(&metrics, "scimpad_sso_refusals_total", &unknown), Some(1.0), "{body}");
    assert!(value(&metrics, "scimpad_sessions_signed_in", &[]).is_some_and(|n| n >= 1.0), "{body}");
    assert!(value(&metrics, "scimpad_db_pool_connections", &[("state", "in_use")]).is_some(), "{body}");
    assert!(value(&metrics, "scimpad_db_pool_connections", &[("state", "idle")]).is_some(), "{body}");
    let pool_max = value(&metrics, "scimpad_db_pool_max_connections", &[]);
    assert!(pool_max.is_some_and(|n| n >= 1.0), "{body}");
    assert!(value(&metrics, "scimpad_provisioning_log_queue_depth", &[]).is_some(), "{body}");
    let batches = observations(&metrics, "scimpad_group_commit_batch_writes", &[]);
    if data.database_url().starts_with("sqlite:") {
        // The user's creation (and the provisioning log's batches) went through group commit.
        assert!(batches >= 1.0, "{body}");
    } else {
        assert_eq!(batches, 0.0, "PostgreSQL writes commit on their own: {body}");
    }
    // No label carries an organisation, a person or a key.
    for sample in &metrics.samples {
        for label in ["org_id", "organisation", "user", "user_name", "email", "key"] {
            assert!(sample.labels.get(label).is_none(), "{sample:?}");
        }
    }
    for secret in [key.as_str(), data.email.as_str(), "metered@fabrikam.example"] {
        assert!(!body.contains(secret), "the metrics hold {secret}");
    }

    // The public listener: only to the token's bearer.
    let public = format!("{}/metrics", server.base);
    let anonymous = server.client.get(&public).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let wrong = server.client.get(&public).bearer_auth(format!("{TOKEN}x")).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let bearer = server.client.get(&public).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
    let again = parse(&bearer.text().await.unwrap());
    assert!(
        value(&again, "scimpad_scim_requests_total", &[("operation", "create"), ("status", "201")]).is_some()
    );
    server.terminate();
    let (clean, _) = server.stopped().await;
    assert!(clean);

    // Without either flag there are no metrics anywhere.
    let plain_data = DataDir::new();
    let plain = Running::start(&plain_data, &[]).await;
    let none = plain.client.get(format!("{}/metrics", plain.base)).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    plain.terminate();
    let (clean, _) = plain.stopped().await;
    assert!(clean);
}
