//! What a hostile tenant sends, and what every SCIM endpoint answers: always a 4xx with an
//! RFC 7644 §3.12 error body (never a 5xx, never axum's plain text), on SQLite and PostgreSQL
//! alike; bounded work per request (members, values, operations, resource size); and a fair share
//! of the API per organisation (429 with `Retry-After`).

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{Reply, Scim, TestApp, create_user, unique_user};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Asserts `r` is a SCIM error with `status` (and `scim_type`, if given).
fn assert_scim_error(r: &Reply, status: u16, scim_type: Option<&str>, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.body);
    assert_eq!(r.header("content-type"), Some("application/scim+json"), "{what}");
    assert_eq!(r.body["schemas"], json!([ERROR]), "{what}");
    assert_eq!(r.body["status"], status.to_string(), "{what}");
    if let Some(t) = scim_type {
        assert_eq!(r.body["scimType"], t, "{what}: {}", r.body);
    }
}

/// A raw request whose body may not be JSON; the reply's body must be JSON all the same.
async fn raw(scim: &Scim, method: Method, path: &str, body: Option<&str>) -> Reply {
    let mut req = scim.client.request(method, format!("{}{path}", scim.base)).bearer_auth(&scim.token);
    if let Some(body) = body {
        req = req.header("content-type", "application/scim+json").body(body.to_owned());
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not a JSON body: {text:?}"));
    Reply { status, headers, body }
}

/// (method, path, body, expected status, expected scimType).
type Case = (Method, String, Option<String>, u16, Option<&'static str>);

#[tokio::test]
async fn every_endpoint_answers_bad_ids_queries_and_bodies_with_a_scim_error() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let user = create_user(&scim, &unique_user("target")).await;
    let group =
        scim.post("/Groups", json!({"displayName": "Target"})).await.body["id"].as_str().unwrap().to_owned();
    let nul_user = json!({"userName": "nul\u{0}name"});
    let nul_patch = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "a\u{0}b"}]});
    let nul_key = json!({"userName": "ok", "urn:x\u{0}": 1});
    let bulk_nul = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{"method": "DELETE", "path": "/Users/\u{0}"}]});

    let mut cases: Vec<Case> = Vec::new();
    for (endpoint, id) in [("Users", &user), ("Groups", &group)] {
        for bad_id in ["%00", &format!("{id}%00"), "%FF%FE", "a%C3%28b"] {
            let path = format!("/{endpoint}/{bad_id}");
            let expected = if bad_id.contains("%00") { "invalidValue" } else { "invalidSyntax" };
            cases.push((Method::GET, path.clone(), None, 400, Some(expected)));
            cases.push((Method::DELETE, path.clone(), None, 400, Some(expected)));
            cases.push((
                Method::PUT,
                path.clone(),
                Some(json!({"userName": "x", "displayName": "x"}).to_string()),
                400,
                Some(expected),
            ));
            cases.push((Method::PATCH, path, Some(nul_patch.to_string()), 400, None));
        }
        let filter_nul = format!("/{endpoint}?filter=userName+eq+%22a%00b%22");
        cases.push((Method::GET, filter_nul, None, 400, Some("invalidValue")));
        cases.push((Method::GET, format!("/{endpoint}?startIndex=%00"), None, 400, Some("invalidValue")));
        cases.push((
            Method::GET,
            format!("/{endpoint}/{id}?attributes=%00"),
            None,
            400,
            Some("invalidValue"),
        ));
        cases.push((
            Method::POST,
            format!("/{endpoint}"),
            Some(nul_user.to_string()),
            400,
            Some("invalidValue"),
        ));
        cases.push((
            Method::POST,
            format!("/{endpoint}"),
            Some(nul_key.to_string()),
            400,
            Some("invalidValue"),
        ));
        cases.push((
            Method::PATCH,
            format!("/{endpoint}/{id}"),
            Some(nul_patch.to_string()),
            400,
            Some("invalidValue"),
        ));
        cases.push((
            Method::PUT,
            format!("/{endpoint}/{id}"),
            Some(nul_user.to_string()),
            400,
            Some("invalidValue"),
        ));
        cases.push((
            Method::POST,
            format!("/{endpoint}/.search"),
            Some(json!({"filter": "userName eq \"\u{0}\""}).to_string()),
            400,
            Some("invalidValue"),
        ));
        cases.push((
            Method::POST,
            format!("/{endpoint}"),
            Some("{not json".into()),
            400,
            Some("invalidSyntax"),
        ));
        cases.push((Method::POST, format!("/{endpoint}"), Some(String::new()), 400, Some("invalidSyntax")));
        cases.push((
            Method::POST,
            format!("/{endpoint}"),
            Some("[".repeat(10_000)),
            400,
            Some("invalidSyntax"),
        ));
        cases.push((
            Method::PATCH,
            format!("/{endpoint}/{id}"),
            Some("\"just a string\"".into()),
            400,
            Some("invalidSyntax"),
        ));
    }
    cases.push((Method::POST, "/Bulk".into(), Some(bulk_nul.to_string()), 400, Some("invalidValue")));
    cases.push((
        Method::POST,
        "/.search".into(),
        Some(json!({"filter": "x eq \"\u{0}\""}).to_string()),
        400,
        Some("invalidValue"),
    ));
    cases.push((Method::GET, "/Schemas/%FF".into(), None, 400, Some("invalidSyntax")));
    cases.push((Method::GET, "/ResourceTypes/%00".into(), None, 400, Some("invalidValue")));
    cases.push((Method::GET, "/Users/a/b".into(), None, 404, None));
    cases.push((Method::TRACE, "/Users".into(), None, 405, None));
    cases.push((Method::GET, format!("/Users/{}", "x".repeat(8_000)), None, 404, None));
    cases.push((
        Method::GET,
        format!("/Users?filter={}", "(".repeat(5_000)),
        None,
        400,
        Some("invalidFilter"),
    ));
    cases.push((Method::GET, "/Users?startIndex=18446744073709551616&count=-1".into(), None, 200, None));

    for (method, path, body, status, scim_type) in cases {
        let what = format!("{method} {path}");
        let r = raw(&scim, method, &path, body.as_deref()).await;
        if status == 200 {
            assert_eq!(r.status, 200, "{what}: {}", r.body);
        } else {
            assert_scim_error(&r, status, scim_type, &what);
        }
    }
    // Nothing hostile was stored, and the directory still answers.
    assert_eq!(scim.get("/Users").await.body["totalResults"], 2, "the admin and the target");
}

#[tokio::test]
async fn member_lists_are_bounded_and_checked_in_linear_time() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let max = scim::limits::MAX_MEMBERS_PER_REQUEST;
    // The hostile body from the issue: ~30,000 bare member ids in a 240 KB POST.
    let ids: Vec<Value> = (0..30_000).map(|i| json!({"value": format!("{i:x}")})).collect();
    let r = scim.post("/Groups", json!({"displayName": "Huge", "members": ids})).await;
    assert_scim_error(&r, 400, Some("invalidValue"), "POST /Groups with 30,000 members");
    assert!(r.body["detail"].as_str().unwrap().contains(&format!("at most {max}")), "{}", r.body);

    // At the limit: accepted, the unknown ids ignored and named in a bounded summary.
    let ids: Vec<Value> = (0..max).map(|i| json!({"value": format!("unknown-{i}")})).collect();
    let r = scim.post("/Groups", json!({"displayName": "At the limit", "members": ids})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let group = r.body["id"].as_str().unwrap().to_owned();

    let over: Vec<Value> = (0..=max).map(|i| json!({"value": format!("u{i}")})).collect();
    for ops in [
        json!([{"op": "add", "path": "members", "value": over}]),
        json!([{"op": "replace", "value": {"members": over}}]),
        json!([{"op": "add", "path": "members", "value": over[..max / 2 + 1]},
               {"op": "remove", "path": "members", "value": over[..max / 2]}]),
    ] {
        let r =
            scim.patch(&format!("/Groups/{group}"), json!({"schemas": [PATCH_OP], "Operations": ops})).await;
        assert_scim_error(&r, 400, Some("invalidValue"), "PATCH over the member limit");
    }
    let r = scim.put(&format!("/Groups/{group}"), json!({"displayName": "x", "members": over})).await;
    assert_scim_error(&r, 400, Some("invalidValue"), "PUT over the member limit");
}

#[tokio::test]
async fn values_operations_and_resource_size_are_bounded() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let user = create_user(&scim, &unique_user("bounded")).await;
    let roles: Vec<Value> =
        (0..=scim::limits::MAX_VALUES).map(|i| json!({"value": format!("r{i}")})).collect();
    let r = scim.post("/Users", json!({"userName": unique_user("roles"), "roles": roles})).await;
    assert_scim_error(&r, 400, Some("invalidValue"), "POST with too many roles");
    let long = "x".repeat(3 * scim::limits::MAX_IDENTIFIER_BYTES);
    for body in [
        json!({"userName": long}),
        json!({"userName": unique_user("ext"), "externalId": long}),
        json!({"userName": unique_user("mail"), "emails": [{"value": long, "type": "work"}]}),
    ] {
        let r = scim.post("/Users", body).await;
        assert_scim_error(&r, 400, Some("invalidValue"), "POST with an over-long identifier");
    }
    let r = scim.post("/Groups", json!({"displayName": long})).await;
    assert_scim_error(&r, 400, Some("invalidValue"), "POST /Groups with an over-long displayName");
    let big = "x".repeat(scim::limits::MAX_RESOURCE_BYTES);
    let r = scim.post("/Users", json!({"userName": unique_user("big"), "title": big})).await;
    assert_scim_error(&r, 400, Some("invalidValue"), "POST of an oversized user");
    let op = json!({"op": "replace", "path": "title", "value": "t"});
    let ops = vec![op; scim::limits::MAX_OPERATIONS + 1];
    let r = scim.patch(&format!("/Users/{user}"), json!({"schemas": [PATCH_OP], "Operations": ops})).await;
    assert_scim_error(&r, 400, Some("invalidValue"), "PATCH with too many operations");
    let r = scim
        .patch(
            &format!("/Users/{user}"),
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": big}]}),
        )
        .await;
    assert_scim_error(&r, 400, Some("invalidValue"), "PATCH to an oversized user");
    let stored = scim.get(&format!("/Users/{user}")).await;
    assert!(stored.body.get("title").is_none(), "nothing of a refused PATCH is stored");
}

#[tokio::test]
async fn an_organisation_over_its_budget_gets_429_and_others_do_not() {
    let app = TestApp::spawn_configured(false, &["--scim-rate", "1", "--scim-burst", "5"]).await;
    let flooder = app.scim(&app.scim_org().await.key);
    let neighbour = app.scim(&app.scim_org().await.key);
    for i in 0..5 {
        assert_eq!(flooder.get("/Users?count=1").await.status, 200, "request {i} is within the burst");
    }
    let started = std::time::Instant::now();
    let refused = flooder.get("/Users?count=1").await;
    assert_scim_error(&refused, 429, None, "over the budget");
    // Held about a second (a flooder's requests wait instead of turning into more refusals).
    assert!(started.elapsed() >= server::scim_api::rate_limit::HOLD / 2, "{:?}", started.elapsed());
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After: {retry_after}");
    assert_eq!(neighbour.get("/Users?count=1").await.status, 200, "another organisation is not limited");
    // A bulk request spends one request per operation.
    let bulk = |n: usize| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
               "Operations": (0..n).map(|_| json!({"method": "DELETE", "path": "/Users/none"})).collect::<Vec<_>>()})
    };
    for _ in 0..3 {
        neighbour.get("/Users?count=1").await;
    }
    let r = neighbour.post("/Bulk", bulk(3)).await;
    assert_scim_error(&r, 429, None, "a bulk larger than what is left");
    tokio::time::sleep(std::time::Duration::from_millis(1100 * retry_after)).await;
    assert_eq!(flooder.get("/Users?count=1").await.status, 200, "the budget refills");
}
