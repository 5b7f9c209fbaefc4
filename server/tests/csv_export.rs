//! The console's CSV exports (`/export/users.csv`, `/export/log.csv`): exactly the rows the pages'
//! filters select, on every page; only the signed-in admin's organisation's rows; refused to the
//! signed-out (like every console page) and to members; bad parameters a 400 that names them;
//! cells no spreadsheet evaluates; and 5,000 users streamed whole, in chunks. On SQLite, and on
//! PostgreSQL with `TEST_DATABASE_URL`, like every test here.

mod support;

use std::{collections::HashMap, time::Instant};

use domain::{
    accounts::{Role, Source},
    clock::now_ms,
    entities::{group, group_member, provisioning_event as event, user},
    ids::OrgId,
    sea_orm::{
        ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
        QueryFilter, TransactionTrait,
    },
    testing::unique_email,
};
use reqwest::Client;
use serde_json::{Value, json};
use support::{PASSWORD, Scim, ScimOrg, TestApp, location};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A downloaded CSV: its header and its rows, each by column name.
struct Csv {
    header: Vec<String>,
    rows: Vec<HashMap<String, String>>,
}

impl Csv {
    fn parse(body: &str) -> Self {
        let mut reader = csv::Reader::from_reader(body.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        let rows = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                assert_eq!(r.len(), header.len(), "every row has every column");
                header.iter().cloned().zip(r.iter().map(str::to_owned)).collect()
            })
            .collect();
        Self { header, rows }
    }

    /// Column `name` of every row, in order.
    fn column(&self, name: &str) -> Vec<String> {
        self.rows.iter().map(|r| r[name].clone()).collect()
    }

    /// The row whose `userName` is `user_name`.
    fn user(&self, user_name: &str) -> &HashMap<String, String> {
        self.rows.iter().find(|r| r["userName"] == user_name).unwrap_or_else(|| panic!("{user_name} missing"))
    }
}

/// An organisation whose admin is signed in on `client`.
async fn signed_in_org(app: &TestApp) -> (ScimOrg, Client) {
    let org = app.scim_org().await;
    let client = app.client();
    assert_eq!(app.sign_in(&client, &org.admin.email, PASSWORD).await.status(), 200);
    (org, client)
}

/// Downloads `path` (with its query) as `client`, checking it is a CSV attachment.
async fn download(app: &TestApp, client: &Client, path: &str) -> Csv {
    let res = client.get(app.at(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}: {:?}", location(&res));
    let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    let disposition = header("content-disposition").unwrap();
    let stem = if path.starts_with("/export/users.csv") { "users" } else { "provisioning-log" };
    let date = chrono::Utc::now().format("%Y-%m-%d");
    assert_eq!(disposition, format!("attachment; filename=\"{stem}-{date}.csv\""));
    let body = res.text().await.unwrap();
    assert!(body.ends_with("\r\n"), "RFC 4180 records end in CRLF");
    Csv::parse(&body)
}

/// Creates a user over SCIM from `body` (with the core schema added); returns its id.
async fn provision(scim: &Scim, mut body: Value) -> String {
    body["schemas"] = json!([USER_SCHEMA]);
    let r = scim.post("/Users", body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

/// Creates group `name` with `members` over SCIM.
async fn group_of(scim: &Scim, name: &str, members: &[&str]) {
    let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
    let r = scim
        .post("/Groups", json!({"schemas": [GROUP_SCHEMA], "displayName": name, "members": members}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// The Users page's filters, as its server function takes them.
type Filters<'a> = &'a [(&'a str, &'a str)];

/// The ids the Users page lists for `filters`, on every page.
async fn listed(app: &TestApp, client: &Client, filters: Filters<'_>) -> Vec<String> {
    let mut ids = Vec::new();
    for page in 1.. {
        let mut form: Vec<(&str, String)> = filters.iter().map(|(k, v)| (*k, v.to_string())).collect();
        form.push(("page", page.to_string()));
        let res = client.post(app.at("/api/list_users")).form(&form).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        let rows = page["rows"].as_array().unwrap();
        if rows.is_empty() {
            break;
        }
        ids.extend(rows.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
    }
    ids.sort();
    ids
}

/// Waits until the log writer has stored at least `n` events of `org`.
async fn logged(db: &DatabaseConnection, org: &OrgId, n: u64) {
    for _ in 0..200 {
        let stored = event::Entity::find().filter(event::Column::OrgId.eq(org)).count(db).await.unwrap();
        if stored >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the log writer did not store {n} events within 10 s");
}

#[tokio::test]
async fn the_users_export_holds_exactly_what_the_page_filters_select() {
    let app = TestApp::spawn().await;
    let (org, client) = signed_in_org(&app).await;
    let scim = app.scim(&org.key);
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let ann = format!("ann.{marker}@example.com");
    let bob = format!("bob.{marker}@example.com");
    let cy = unique_email("cy");
    let ann_id = provision(
        &scim,
        json!({"userName": ann, "externalId": "ext-ann", "displayName": "Ann Lee",
               "name": {"givenName": "Ann", "familyName": "Lee"},
               "emails": [{"value": ann, "type": "work", "primary": true}], "active": true}),
    )
    .await;
    let bob_id = provision(&scim, json!({"userName": bob, "displayName": "Bob", "active": false})).await;
    let cy_id = provision(&scim, json!({"userName": cy, "active": true})).await;
    group_of(&scim, "Ops", &[&ann_id]).await;
    group_of(&scim, "Engineering", &[&ann_id, &bob_id]).await;

    let all = download(&app, &client, "/export/users.csv").await;
    assert_eq!(
        all.header,
        [
            "id",
            "userName",
            "externalId",
            "displayName",
            "givenName",
            "familyName",
            "email",
            "active",
            "role",
            "source",
            "groups",
            "created",
            "lastModified"
        ]
    );
    let names = all.column("userName");
    assert_eq!(names.len(), 4, "the admin and three provisioned people");
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted, "in userName order");
    let a = all.user(&ann);
    assert_eq!(
        (a["id"].as_str(), a["externalId"].as_str(), a["displayName"].as_str(), a["givenName"].as_str()),
        (ann_id.as_str(), "ext-ann", "Ann Lee", "Ann")
    );
    assert_eq!(
        (a["familyName"].as_str(), a["email"].as_str(), a["active"].as_str()),
        ("Lee", ann.as_str(), "true")
    );
    assert_eq!((a["role"].as_str(), a["source"].as_str()), ("member", "scim"));
    assert_eq!(a["groups"], "Engineering; Ops", "group names by name");
    assert!(a["created"].ends_with('Z') && a["lastModified"].ends_with('Z'), "RFC 3339, UTC");
    let b = all.user(&bob);
    assert_eq!(
        (b["active"].as_str(), b["groups"].as_str(), b["email"].as_str()),
        ("false", "Engineering", "")
    );
    assert_eq!(all.user(&cy)["groups"], "");
    let admin = all.user(&org.admin.email);
    assert_eq!((admin["role"].as_str(), admin["source"].as_str()), ("admin", "local"));

    // Every filter, alone and together, selects what the page lists for it (all its pages).
    let cases: &[(&str, Filters, &[&str])] = &[
        ("status=deactivated", &[("status", "deactivated")], &[&bob_id]),
        ("status=active&source=scim", &[("status", "active"), ("source", "scim")], &[&ann_id, &cy_id]),
        ("role=admin", &[("role", "admin")], &[org.admin.user_id.as_str()]),
        ("source=local", &[("source", "local")], &[org.admin.user_id.as_str()]),
        ("q=ANN%20LEE", &[("q", "ANN LEE")], &[&ann_id]),
        (&format!("q={marker}"), &[("q", &marker)], &[&ann_id, &bob_id]),
        (&format!("q={marker}&status=active"), &[("q", &marker), ("status", "active")], &[&ann_id]),
        ("q=nobody-matches-this", &[("q", "nobody-matches-this")], &[]),
        ("status=&role=", &[], &[&ann_id, &bob_id, &cy_id, org.admin.user_id.as_str()]),
    ];
    for (query, filters, expected) in cases {
        let csv = download(&app, &client, &format!("/export/users.csv?{query}")).await;
        let mut ids = csv.column("id");
        ids.sort();
        let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(ids, expected, "{query}");
        assert_eq!(ids, listed(&app, &client, filters).await, "{query}: the page lists the same people");
    }
    // The page's sort and page number do not narrow the export.
    let paged = download(&app, &client, "/export/users.csv?sort=email&dir=desc&page=9").await;
    assert_eq!(paged.rows.len(), 4);
}

#[tokio::test]
async fn the_log_export_holds_what_the_log_filters_select_newest_first() {
    let app = TestApp::spawn().await;
    let (org, client) = signed_in_org(&app).await;
    let scim = app.scim(&org.key);
    let name = unique_email("logged");
    scim.get("/Users?filter=userName+eq+%22probe%22").await;
    let id = provision(&scim, json!({"userName": name})).await;
    let dup = scim.post("/Users", json!({"schemas": [USER_SCHEMA], "userName": name})).await;
    assert_eq!(dup.status, 409);
    logged(&app.db, &org.admin.org_id, 3).await;

    let all = download(&app, &client, "/export/log.csv").await;
    assert_eq!(
        all.header,
        [
            "time",
            "method",
            "path",
            "operation",
            "resourceType",
            "resourceId",
            "status",
            "scimType",
            "summary",
            "detail",
            "durationMs",
            "apiKey"
        ]
    );
    assert_eq!(all.column("operation"), ["create", "create", "list"], "newest first");
    assert_eq!(all.column("status"), ["409", "201", "200"]);
    assert_eq!(all.column("apiKey"), ["Entra ID"; 3]);
    let created = &all.rows[1];
    assert_eq!((created["method"].as_str(), created["path"].as_str()), ("POST", "/scim/v2/Users"));
    assert_eq!((created["resourceType"].as_str(), created["resourceId"].as_str()), ("User", id.as_str()));
    let times = all.column("time");
    assert!(times.windows(2).all(|w| w[0] >= w[1]) && times[0].ends_with('Z'));

    let errors = download(&app, &client, "/export/log.csv?result=error").await;
    assert_eq!(errors.rows.len(), 1);
    assert_eq!(
        (errors.rows[0]["status"].as_str(), errors.rows[0]["scimType"].as_str()),
        ("409", "uniqueness")
    );
    assert!(!errors.rows[0]["detail"].is_empty(), "the error's detail is exported");
    let creates = download(&app, &client, "/export/log.csv?operation=create&resource=User").await;
    assert_eq!(creates.column("status"), ["409", "201"]);
    let ok_lists = download(&app, &client, "/export/log.csv?result=success&operation=list").await;
    assert_eq!(ok_lists.column("status"), ["200"]);
    let keys = domain::api_keys::list(&app.db, &org.admin).await.unwrap();
    let by_key = download(&app, &client, &format!("/export/log.csv?key={}", keys[0].id)).await;
    assert_eq!(by_key.rows.len(), 3);
    let none = download(&app, &client, "/export/log.csv?key=no-such-key").await;
    assert!(none.rows.is_empty(), "a header row and nothing else");
}

#[tokio::test]
async fn another_organisations_rows_never_appear() {
    let app = TestApp::spawn().await;
    let (ours, client) = signed_in_org(&app).await;
    let theirs = app.scim_org().await;
    let (our_scim, their_scim) = (app.scim(&ours.key), app.scim(&theirs.key));
    let shared = uuid::Uuid::new_v4().simple().to_string();
    let mine = provision(&our_scim, json!({"userName": format!("mine.{shared}@example.com")})).await;
    let mut foreign = Vec::new();
    for i in 0..3 {
        foreign.push(
            provision(&their_scim, json!({"userName": format!("theirs{i}.{shared}@example.com")})).await,
        );
    }
    logged(&app.db, &ours.admin.org_id, 1).await;
    logged(&app.db, &theirs.admin.org_id, 3).await;

    for query in ["", "?source=scim", &format!("?q={shared}")] {
        let csv = download(&app, &client, &format!("/export/users.csv{query}")).await;
        let ids = csv.column("id");
        assert!(ids.contains(&mine), "{query}");
        assert!(foreign.iter().all(|id| !ids.contains(id)), "{query}: another organisation's user");
    }
    let their_key = domain::api_keys::list(&app.db, &theirs.admin).await.unwrap().remove(0);
    for query in ["", "?operation=create", &format!("?key={}", their_key.id)] {
        let csv = download(&app, &client, &format!("/export/log.csv{query}")).await;
        let resources = csv.column("resourceId");
        assert!(foreign.iter().all(|id| !resources.contains(id)), "{query}: another organisation's event");
        assert!(csv.column("apiKey").iter().all(|k| k == "Entra ID"));
    }
    let by_their_key = download(&app, &client, &format!("/export/log.csv?key={}", their_key.id)).await;
    assert!(by_their_key.rows.is_empty());
}

#[tokio::test]
async fn the_signed_out_are_sent_to_sign_in_and_members_are_refused() {
    let app = TestApp::spawn().await;
    let anonymous = app.client();
    let page = anonymous.get(app.at("/users")).send().await.unwrap();
    assert_eq!(page.status(), 303);
    for path in ["/export/users.csv", "/export/log.csv?result=error"] {
        let res = anonymous.get(app.at(path)).send().await.unwrap();
        assert_eq!(res.status(), page.status(), "{path}: what a console page answers");
        assert_eq!(location(&res), location(&page), "{path}");
        assert!(res.headers().get("content-disposition").is_none());
    }

    // A member of an organisation (not an admin) sees neither the Users page nor its export.
    let email = unique_email("member");
    let member = app.client();
    assert_eq!(app.sign_up(&member, &email).await.status(), 200);
    let mut row: user::ActiveModel = app.person(&email).await.into();
    row.role = Set(Role::Member);
    row.update(&app.db).await.unwrap();
    for path in ["/export/users.csv", "/export/log.csv"] {
        let res = member.get(app.at(path)).send().await.unwrap();
        assert_eq!(res.status(), 403, "{path}");
        assert!(res.headers().get("content-disposition").is_none());
        assert!(res.text().await.unwrap().contains("only admins"));
    }
}

#[tokio::test]
async fn bad_parameters_are_a_400_that_names_them() {
    let app = TestApp::spawn().await;
    let (_org, client) = signed_in_org(&app).await;
    let cases = [
        ("/export/users.csv?status=asleep", "status"),
        ("/export/users.csv?source=ldap", "source"),
        ("/export/users.csv?role=owner", "role"),
        ("/export/users.csv?q=a&q=b", "duplicate field `q`"),
        ("/export/log.csv?result=maybe", "result"),
        ("/export/log.csv?operation=drop", "operation"),
        ("/export/log.csv?resource=Printer", "resource"),
    ];
    for (path, named) in cases {
        let res = client.get(app.at(path)).send().await.unwrap();
        assert_eq!(res.status(), 400, "{path}");
        assert!(res.headers().get("content-disposition").is_none());
        let text = res.text().await.unwrap();
        assert!(text.contains(named), "{path}: {text}");
    }
    // The Users page refuses the same values (one parser for both).
    let res = client.post(app.at("/api/list_users")).form(&[("status", "asleep")]).send().await.unwrap();
    assert_eq!(res.status(), 400);
    // A NUL is refused before any query, as everywhere in the console.
    let res = client.get(app.at("/export/users.csv?q=a%00b")).send().await.unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn cells_a_spreadsheet_would_evaluate_are_made_text() {
    let app = TestApp::spawn().await;
    let (org, client) = signed_in_org(&app).await;
    let scim = app.scim(&org.key);
    let evil = format!("evil.{}@example.com", uuid::Uuid::new_v4().simple());
    let quoted = unique_email("quoted");
    provision(
        &scim,
        json!({"userName": evil, "externalId": "@SUM(A1:A9)", "displayName": "=HYPERLINK(\"https://evil.example\",\"Click\")",
               "name": {"givenName": "+1+1", "familyName": "-2"}, "active": true}),
    )
    .await;
    let tricky = "Smith, \"Jr\"\nsecond line";
    provision(&scim, json!({"userName": quoted, "displayName": tricky, "name": {"givenName": "\tTab", "familyName": "\r=1"}}))
        .await;
    let evil_id = scim.find_user(&evil).await[0]["id"].as_str().unwrap().to_owned();
    group_of(&scim, "=cmd|' /C calc'!A0", &[&evil_id]).await;

    let res = client.get(app.at("/export/users.csv")).send().await.unwrap();
    let body = res.text().await.unwrap();
    assert!(
        body.contains("\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"Click\"\")\""),
        "RFC 4180 quoting around the guarded cell: {body}"
    );
    let csv = Csv::parse(&body);
    let e = csv.user(&evil);
    assert_eq!(e["displayName"], "'=HYPERLINK(\"https://evil.example\",\"Click\")");
    assert_eq!((e["givenName"].as_str(), e["familyName"].as_str()), ("'+1+1", "'-2"));
    assert_eq!(e["externalId"], "'@SUM(A1:A9)");
    assert_eq!(e["groups"], "'=cmd|' /C calc'!A0");
    let q = csv.user(&quoted);
    assert_eq!(q["displayName"], tricky, "commas, quotes and newlines survive quoting");
    assert_eq!((q["givenName"].as_str(), q["familyName"].as_str()), ("'\tTab", "'\r=1"));
    assert_eq!(csv.user(&org.admin.email)["displayName"], "Ada Admin", "plain text is left alone");
}

/// `n` users of `org` named `<prefix><i>@example.com`, inserted directly in one transaction (the
/// export reads the indexed columns; SCIM would take minutes to create this many).
async fn insert_users(db: &DatabaseConnection, org: &OrgId, prefix: &str, n: usize) -> Vec<String> {
    let txn = db.begin().await.unwrap();
    let now = now_ms();
    let mut ids = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let rows: Vec<user::ActiveModel> = chunk
            .iter()
            .map(|i| {
                let id = uuid::Uuid::new_v4().to_string();
                ids.push(id.clone());
                let name = format!("{prefix}{i:05}@example.com");
                user::ActiveModel {
                    id: Set(id.clone()),
                    org_id: Set(org.to_string()),
                    user_name: Set(name.clone()),
                    user_name_lower: Set(name.to_lowercase()),
                    external_id: Set(Some(format!("ext-{i}"))),
                    display_name: Set(Some(format!("Person {i}"))),
                    given_name: Set(Some("Person".into())),
                    family_name: Set(Some(i.to_string())),
                    email: Set(Some(name.clone())),
                    email_lower: Set(Some(name.to_lowercase())),
                    active: Set(i % 10 != 0),
                    role: Set(Role::Member),
                    source: Set(Source::Scim),
                    entra_tenant_id: Set(None),
                    entra_object_id: Set(None),
                    resource: Set(json!({"schemas": [USER_SCHEMA], "id": id, "userName": name})),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
            })
            .collect();
        user::Entity::insert_many(rows).exec_without_returning(&txn).await.unwrap();
    }
    txn.commit().await.unwrap();
    ids
}

/// `n` groups of `org` with `member` in each, inserted directly.
async fn insert_groups_with(db: &DatabaseConnection, org: &OrgId, member: &str, n: usize) {
    let now = now_ms();
    let groups: Vec<(String, String)> =
        (0..n).map(|i| (uuid::Uuid::new_v4().to_string(), format!("Team {i:03}"))).collect();
    let rows = groups.iter().map(|(id, name)| group::ActiveModel {
        id: Set(id.clone()),
        org_id: Set(org.to_string()),
        display_name: Set(name.clone()),
        display_name_lower: Set(name.to_lowercase()),
        external_id: Set(None),
        resource: Set(json!({"schemas": [GROUP_SCHEMA], "id": id, "displayName": name})),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    });
    group::Entity::insert_many(rows).exec_without_returning(db).await.unwrap();
    let members = groups.iter().map(|(id, _)| group_member::ActiveModel {
        group_id: Set(id.clone()),
        user_id: Set(member.to_owned()),
        created_at: Set(now),
    });
    group_member::Entity::insert_many(members).exec_without_returning(db).await.unwrap();
}

#[tokio::test]
async fn five_thousand_users_stream_whole_in_chunks() {
    const PEOPLE: usize = 5_000;
    let app = TestApp::spawn().await;
    let (org, client) = signed_in_org(&app).await;
    let prefix = format!("p{}.", uuid::Uuid::new_v4().simple());
    let ids = insert_users(&app.db, &org.admin.org_id, &prefix, PEOPLE).await;
    // One person in 150 groups: the export names the first 100 and counts the rest.
    insert_groups_with(&app.db, &org.admin.org_id, &ids[1234], 150).await;

    let started = Instant::now();
    let res = client.get(app.at("/export/users.csv")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.content_length().is_none(), "streamed (chunked), not buffered whole");
    let mut body = Vec::new();
    let mut res = res;
    let mut pieces = 0;
    while let Some(piece) = res.chunk().await.unwrap() {
        body.extend_from_slice(&piece);
        pieces += 1;
    }
    let elapsed = started.elapsed();
    eprintln!("exported {PEOPLE} users: {} bytes in {pieces} pieces, {elapsed:?}", body.len());
    let csv = Csv::parse(std::str::from_utf8(&body).unwrap());
    assert_eq!(csv.rows.len(), PEOPLE + 1, "every person and the admin, across chunks of 1,000");
    let names: Vec<String> = csv.column("userName").into_iter().filter(|n| n.starts_with(&prefix)).collect();
    let expected: Vec<String> = (0..PEOPLE).map(|i| format!("{prefix}{i:05}@example.com")).collect();
    assert!(names == expected, "in userName order, none missing, none twice");
    let heavy = csv.user(&expected[1234]);
    let groups: Vec<&str> = heavy["groups"].split("; ").collect();
    assert_eq!(groups.len(), 101);
    assert_eq!((groups[0], groups[99], groups[100]), ("Team 000", "Team 099", "… and 50 more"));

    let deactivated = download(&app, &client, "/export/users.csv?status=deactivated").await;
    assert_eq!(deactivated.rows.len(), PEOPLE / 10, "a filter across chunks");
    assert!(deactivated.column("active").iter().all(|a| a == "false"));
}
