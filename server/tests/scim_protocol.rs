//! The protocol around the resources: discovery, paging, sorting, projections, search, bulk,
//! errors for bad input, tenant isolation and the provisioning log.

mod support;

use serde_json::{Value, json};
use support::{TestApp, create_user, unique_user, urlencode};

#[tokio::test]
async fn discovery_documents_describe_what_is_supported() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let config = scim.get("/ServiceProviderConfig").await;
    assert_eq!(config.status, 200);
    assert_eq!(config.body["patch"]["supported"], true);
    assert_eq!(config.body["bulk"]["supported"], true);
    assert_eq!(config.body["bulk"]["maxOperations"], 1000);
    assert_eq!(config.body["bulk"]["maxPayloadSize"], 1_048_576);
    assert_eq!(config.body["filter"]["maxResults"], 1000);
    assert_eq!(config.body["etag"]["supported"], true);
    // The limits SCIM has no field for are on the documentation page it points to.
    let docs = config.body["documentationUri"].as_str().unwrap();
    assert_eq!(docs, app.at("/scim/limits"));
    let page = reqwest::get(docs).await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    for (name, value, _) in scim::limits::ALL {
        assert!(page.contains(&format!("<code>{name}</code></th><td>{value}</td>")), "{name} missing");
    }
    let types = scim.get("/ResourceTypes").await;
    assert_eq!(types.body["totalResults"], 2);
    assert_eq!(scim.get("/ResourceTypes/User").await.body["endpoint"], "/Users");
    let schemas = scim.get("/Schemas").await;
    let ids: Vec<&str> =
        schemas.body["Resources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:core:2.0:User"));
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:core:2.0:Group"));
    let user = scim.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").await;
    assert_eq!(user.body["name"], "User");
    assert_eq!(scim.get("/Schemas/urn:nope").await.status, 404);
    assert_eq!(scim.get("/ResourceTypes/Nope").await.status, 404);

    let wrong_method = scim.post("/ServiceProviderConfig", json!({})).await;
    assert_eq!(
        (wrong_method.status, wrong_method.header("content-type")),
        (405, Some("application/scim+json"))
    );
    let me = scim.get("/Me").await;
    assert_eq!((me.status, me.body["status"].clone()), (501, json!("501")));
    assert_eq!(scim.get("/Nothing").await.status, 404);
}

#[tokio::test]
async fn pages_sorts_and_projections() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    for i in 0..5 {
        create_user(&scim, &format!("page{i}.{}", unique_user("u"))).await;
    }
    // The admin who signed up is a user of the organisation too: 6 in all.
    let page = scim.get("/Users?startIndex=2&count=2").await.body;
    assert_eq!(
        (page["totalResults"].clone(), page["itemsPerPage"].clone(), page["startIndex"].clone()),
        (json!(6), json!(2), json!(2))
    );
    let zero = scim.get("/Users?count=0").await.body;
    assert_eq!((zero["totalResults"].clone(), zero["Resources"].clone()), (json!(6), json!([])));
    let beyond = scim.get("/Users?startIndex=1000000&count=10").await.body;
    assert_eq!(beyond["Resources"], json!([]));
    let clamped = scim.get("/Users?startIndex=-5&count=99999999999").await;
    assert_eq!((clamped.status, clamped.body["startIndex"].clone()), (200, json!(1)));

    let desc = scim.get("/Users?sortBy=userName&sortOrder=descending").await.body;
    let names: Vec<String> = desc["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_lowercase())
        .collect();
    let mut expected = names.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(names, expected);

    let slim = scim.get("/Users?attributes=userName&count=1").await.body;
    let keys: Vec<&String> = slim["Resources"][0].as_object().unwrap().keys().collect();
    assert!(keys.contains(&&"userName".to_string()) && keys.contains(&&"id".to_string()), "{keys:?}");
    assert!(!keys.contains(&&"emails".to_string()));
    let sw = scim.get(&format!("/Users?filter={}", urlencode("userName sw \"page3.\""))).await.body;
    assert_eq!(sw["totalResults"], 1);
    let complex = scim
        .get(&format!(
            "/Users?filter={}",
            urlencode("(userName sw \"page1.\" or userName sw \"page2.\") and not (active eq false)")
        ))
        .await
        .body;
    assert_eq!(complex["totalResults"], 2);
    let search = scim.post("/Users/.search", json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName co \"page4\"", "count": 10})).await;
    assert_eq!((search.status, search.body["totalResults"].clone()), (200, json!(1)));
    let root = scim.post("/.search", json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName co \"page4\""})).await;
    assert_eq!((root.status, root.body["totalResults"].clone()), (200, json!(1)));
}

/// Walks a list three at a time; pages in the list's second half are read from its end, and the
/// walk must still meet every user once, in the order of the whole list.
#[tokio::test]
async fn every_page_from_either_end_lists_each_user_once_in_order() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    for i in 0..11 {
        create_user(&scim, &format!("walk{i:02}.{}", unique_user("u"))).await;
    }
    let filter = urlencode("userName sw \"walk\"");
    // `active` is the same for everyone: the order is then the id's alone.
    for (query, total) in [
        ("sortBy=userName".to_owned(), 12),
        (format!("sortBy=userName&filter={filter}"), 11),
        ("sortBy=active".to_owned(), 12),
        (format!("sortBy=active&filter={filter}"), 11),
    ] {
        for order in ["ascending", "descending"] {
            let whole = scim.get(&format!("/Users?{query}&sortOrder={order}&count=100")).await.body;
            let ids = |page: &Value| -> Vec<String> {
                let resources = page["Resources"].as_array().unwrap();
                resources.iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect()
            };
            let expected = ids(&whole);
            assert_eq!(expected.len(), total, "{query}");
            let mut walked = Vec::new();
            for start in (1..=total).step_by(3) {
                let page =
                    scim.get(&format!("/Users?{query}&sortOrder={order}&startIndex={start}&count=3")).await;
                assert_eq!((page.status, page.body["totalResults"].clone()), (200, json!(total)), "{query}");
                walked.extend(ids(&page.body));
            }
            assert_eq!(walked, expected, "{query} {order}");
        }
    }
}

#[tokio::test]
async fn bad_input_gets_4xx_scim_errors_never_5xx() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let raw = |body: String| {
        let scim = scim.clone();
        async move {
            let res = scim
                .client
                .post(format!("{}/Users", scim.base))
                .bearer_auth(&scim.token)
                .header("content-type", "application/scim+json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
            let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
            assert_eq!(content_type, "application/scim+json");
            assert_eq!(body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
            (status, body["scimType"].as_str().unwrap_or_default().to_owned())
        }
    };
    assert_eq!(raw("{\"userName\": ".into()).await, (400, "invalidSyntax".into()));
    assert_eq!(raw("[1,2,3]".into()).await, (400, "invalidSyntax".into()));
    assert_eq!(raw("".into()).await, (400, "invalidSyntax".into()));
    assert_eq!(raw(json!({"userName": ""}).to_string()).await, (400, "invalidValue".into()));
    assert_eq!(raw(json!({"userName": 42}).to_string()).await, (400, "invalidValue".into()));
    assert_eq!(
        raw(json!({"userName": "x@y.z", "active": "maybe"}).to_string()).await,
        (400, "invalidValue".into())
    );
    assert_eq!(raw(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000))).await.0, 400);
    let huge = json!({"userName": "big@x.y", "nickName": "x".repeat(1_100_000)}).to_string();
    assert_eq!(raw(huge).await.0, 413);

    let bad_filter = scim.get(&format!("/Users?filter={}", urlencode("userName eq"))).await;
    assert_eq!((bad_filter.status, bad_filter.body["scimType"].clone()), (400, json!("invalidFilter")));
    let deep = format!("{}userName eq \"x\"{}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(scim.get(&format!("/Users?filter={}", urlencode(&deep))).await.status, 400);
    let unknown_attr = scim.get(&format!("/Users?filter={}", urlencode("shoeSize eq 42"))).await;
    assert_eq!(unknown_attr.status, 400);
    assert_eq!(scim.get("/Users?startIndex=abc").await.status, 400);
    assert_eq!(scim.get("/Users?sortBy=photos").await.status, 400);

    let id = create_user(&scim, &unique_user("ops")).await;
    let bad_op = scim
        .patch(&format!("/Users/{id}"), json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "explode", "path": "userName"}]}))
        .await;
    assert_eq!(bad_op.status, 400);
    let bad_path = scim
        .patch(&format!("/Users/{id}"), json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "emails[type eq", "value": "x"}]}))
        .await;
    assert_eq!((bad_path.status, bad_path.body["scimType"].clone()), (400, json!("invalidPath")));
    let no_ops = scim
        .patch(&format!("/Users/{id}"), json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}))
        .await;
    assert_eq!(no_ops.status, 400);
    // A rejected PATCH changed nothing (atomic).
    let atomic = scim
        .patch(&format!("/Users/{id}"), json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
            {"op": "replace", "path": "displayName", "value": "Changed"}, {"op": "replace", "path": "userName", "value": ""}]}))
        .await;
    assert_eq!(atomic.status, 400);
    assert!(scim.get(&format!("/Users/{id}")).await.body.get("displayName").is_none());
}

#[tokio::test]
async fn a_key_sees_only_its_own_organisation() {
    let app = TestApp::spawn().await;
    let mine = app.scim(&app.scim_org().await.key);
    let theirs = app.scim(&app.scim_org().await.key);
    let name = unique_user("iso");
    let id = create_user(&theirs, &name).await;
    assert_eq!(mine.get(&format!("/Users/{id}")).await.status, 404);
    assert_eq!(
        mine.patch(
            &format!("/Users/{id}"),
            json!({"Operations": [{"op": "replace", "path": "active", "value": false}]})
        )
        .await
        .status,
        404
    );
    assert_eq!(mine.delete(&format!("/Users/{id}")).await.status, 404);
    assert!(mine.find_user(&name).await.is_empty());
    // The same userName may exist in both organisations.
    create_user(&mine, &name).await;
    assert_eq!(theirs.get(&format!("/Users/{id}")).await.body["active"], true);
}

#[tokio::test]
async fn bulk_runs_operations_in_order_with_bulk_id_references() {
    let app = TestApp::spawn().await;
    let scim = app.scim(&app.scim_org().await.key);
    let name = unique_user("bulk");
    let r = scim
        .post(
            "/Bulk",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "failOnErrors": 2, "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "u1", "data": support::entra_user(&name)},
                {"method": "POST", "path": "/Groups", "bulkId": "g1", "data": {"displayName": "Bulk group", "members": [{"value": "bulkId:u1"}]}},
                {"method": "PATCH", "path": "/Users/bulkId:u1", "data": {"Operations": [{"op": "replace", "path": "displayName", "value": "Bulky"}]}},
                {"method": "POST", "path": "/Users", "data": support::entra_user(&name)},
                {"method": "DELETE", "path": "/Groups/bulkId:nope"},
                {"method": "DELETE", "path": "/Groups/bulkId:g1"}
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let statuses: Vec<&str> =
        r.body["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "201", "200", "409", "409"], "stops after failOnErrors=2 failures");
    let user = &scim.find_user(&name).await[0];
    assert_eq!(user["displayName"], "Bulky");
    assert_eq!(user["groups"][0]["display"], "Bulk group");
    let too_many: Vec<Value> = (0..1001).map(|_| json!({"method": "DELETE", "path": "/Users/x"})).collect();
    let r = scim
        .post(
            "/Bulk",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": too_many}),
        )
        .await;
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn every_request_lands_in_the_provisioning_log() {
    use domain::{
        entities::provisioning_event as event,
        sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder},
    };
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let scim = app.scim(&org.key);
    scim.get("/Users?filter=userName+eq+%22probe%22").await;
    let id = create_user(&scim, &unique_user("logged")).await;
    scim.post("/Users", json!({"userName": ""})).await;
    let mut wrong_secret = org.key.clone();
    let last = if wrong_secret.ends_with('A') { "B" } else { "A" };
    wrong_secret.replace_range(wrong_secret.len() - 1.., last);
    app.scim(&wrong_secret).get("/Users").await; // a real key's id with the wrong secret
    let mut attempts = 0;
    let events = loop {
        attempts += 1;
        assert!(attempts < 200, "the log writer did not store 4 events within 10 s");
        let rows = event::Entity::find()
            .filter(event::Column::OrgId.eq(&org.admin.org_id))
            .order_by_asc(event::Column::Id)
            .all(&app.db)
            .await
            .unwrap();
        if rows.len() >= 4 {
            break rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let brief: Vec<(&str, &str, i16, Option<&str>)> = events
        .iter()
        .map(|e| (e.method.as_str(), e.operation.as_str(), e.status, e.scim_type.as_deref()))
        .collect();
    assert_eq!(
        brief,
        [
            ("GET", "list", 200, None),
            ("POST", "create", 201, None),
            ("POST", "create", 400, Some("invalidValue")),
            ("GET", "list", 401, None)
        ]
    );
    assert_eq!(events[0].summary, "filter userName eq \"probe\" → 0 result(s)");
    assert_eq!(events[0].path, "/scim/v2/Users?filter=userName+eq+%22probe%22");
    assert_eq!(events[1].resource_id.as_deref(), Some(id.as_str()));
    assert_eq!(events[1].resource_type.as_deref(), Some("User"));
    assert!(events[1].summary.starts_with("created user logged."), "{}", events[1].summary);
    assert!(events.iter().all(|e| !e.path.contains(&org.key) && !e.summary.contains(&org.key)));
}
