//! The console and the API stay up on requests nobody planned for: any page number in a URL answers
//! a normal page (no offset overflow), and a handler that panics answers 500 — a SCIM error under
//! `/scim/v2`, a short page elsewhere — with the panic logged but never sent to the client, and the
//! connection kept. Also the Groups page's membership-replace setting: only admins read or change
//! it, and a value outside the two choices is refused.

mod support;

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

use axum::{Router, routing::get};
use clap::Parser;
use domain::testing::unique_email;
use serde_json::{Value, json};
use support::{PASSWORD, Scim, TestApp, create_user, location, unique_user};

/// The largest page number a URL can carry that still parses.
const MAX_PAGE: &str = "18446744073709551615";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Everything this test binary logs, installed before any server starts (the servers' own
/// `telemetry::init` then leaves it in place): every test calls it first.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .init();
        logs
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A signed-in admin (browser client) of an organisation with a group of two people.
async fn admin_with_a_group(app: &TestApp) -> (reqwest::Client, Scim, String) {
    let org = app.scim_org().await;
    let client = app.client();
    assert_eq!(app.sign_in(&client, &org.admin.email, PASSWORD).await.status(), 200);
    let scim = app.scim(&org.key);
    let (a, b) = (create_user(&scim, &unique_user("a")).await, create_user(&scim, &unique_user("b")).await);
    let group = scim
        .post(
            "/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng"}),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let id = group.body["id"].as_str().unwrap().to_owned();
    let ops = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]});
    assert_eq!(scim.patch(&format!("/Groups/{id}"), ops).await.status, 204);
    (client, scim, id)
}

async fn page(client: &reqwest::Client, url: String) -> String {
    let res = client.get(&url).send().await.unwrap_or_else(|e| panic!("{url}: the connection failed: {e}"));
    assert_eq!(res.status(), 200, "{url}: {:?}", location(&res));
    res.text().await.unwrap()
}

#[tokio::test]
async fn any_page_number_in_the_url_answers_a_normal_page() {
    captured_logs();
    let app = TestApp::spawn().await;
    let (client, _, group) = admin_with_a_group(&app).await;

    for path in ["/users", "/groups", "/log"] {
        let body = page(&client, app.at(&format!("{path}?page={MAX_PAGE}"))).await;
        if path == "/log" && body.contains("No SCIM requests yet") {
            continue; // the log writer has not stored the requests yet: an empty log has no pager
        }
        assert!(body.contains(&format!("Page {MAX_PAGE} of 1: nothing here")), "{path}: {body}");
        assert!(
            body.contains(&format!(r#"href="{path}" rel="prev""#)),
            "{path}: back to the last page: {body}"
        );
    }
    let body = page(&client, app.at(&format!("/groups/{group}?page={MAX_PAGE}"))).await;
    assert!(body.contains(&format!("Page {MAX_PAGE} of 1: nothing here")), "{body}");
    assert!(body.contains(r#"data-testid="group-member-total">2<"#), "{body}");
    assert!(!body.contains("No members."), "the group has members, just not on this page: {body}");

    // A number past u64 does not parse: the first page.
    let body = page(&client, app.at("/users?page=18446744073709551616")).await;
    assert!(body.contains("Showing 1–3 of 3"), "{body}");
    let body = page(&client, app.at("/users?page=0")).await;
    assert!(body.contains("Showing 1–3 of 3"), "{body}");
}

#[tokio::test]
async fn server_functions_take_any_page_number() {
    captured_logs();
    let app = TestApp::spawn().await;
    let (client, _, group) = admin_with_a_group(&app).await;
    let call = |endpoint: &str, form: Vec<(&'static str, String)>| {
        let req = client.post(app.at(&format!("/api/{endpoint}"))).form(&form);
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }
    };
    let max: u64 = MAX_PAGE.parse().unwrap();

    let users = call("list_users", vec![("page", MAX_PAGE.into())]).await;
    assert_eq!(
        (users["rows"].clone(), users["total"].clone(), users["page"].clone()),
        (json!([]), json!(3), json!(max))
    );
    let groups = call("list_groups", vec![("page", MAX_PAGE.into())]).await;
    assert_eq!((groups["rows"].clone(), groups["total"].clone()), (json!([]), json!(1)));
    let detail = call("get_group", vec![("id", group), ("page", MAX_PAGE.into())]).await;
    assert_eq!(
        (detail["members"]["rows"].clone(), detail["members"]["total"].clone()),
        (json!([]), json!(2))
    );
    let log = call("provisioning_log", vec![("page", MAX_PAGE.into())]).await;
    assert_eq!(log["page"], json!(max), "{log}");
    assert_eq!(log["entries"], json!([]), "{log}");
}

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    config: server::Config,
}

const SECRET: &str = "the panic message names internals 5b1e";

async fn boom() -> &'static str {
    panic!("{SECRET}")
}

/// A server whose routes are production's plus panicking ones (merged, nested, and under
/// `/scim/v2`), all behind exactly the production middleware.
async fn spawn_with_panics() -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let url = format!("http://{addr}");
    let db_url = domain::testing::test_database_url();
    let secret = "c2NpbXBhZC10ZXN0LWtleS0zMi1ieXRlcy1sb25nISE=";
    let args =
        ["scimpad", "--database-url", &db_url, "--bind", &addr, "--public-url", &url, "--secret-key", secret];
    let config = Args::try_parse_from(args).unwrap().config.validate(false).unwrap();
    let db = domain::db::connect(&db_url).await.unwrap();
    let (state, _background) = server::AppState::start(db.clone(), config);
    let routes = server::router::routes(&state)
        .merge(Router::new().route("/boom", get(boom)).route("/scim/v2/Boom", get(boom)))
        .nest("/nested", Router::new().route("/boom", get(boom)));
    let router = server::router::with_middleware(routes, state);
    tokio::spawn(async move { server::serve(listener, router).await.unwrap() });
    TestApp { url, db, db_url }
}

#[tokio::test]
async fn a_panicking_console_handler_answers_a_500_page_and_logs_the_panic() {
    let logs = captured_logs();
    let app = spawn_with_panics().await;
    let client = app.client();
    assert_eq!(app.sign_up(&client, &unique_email("panic")).await.status(), 200);

    for path in ["/boom", "/nested/boom"] {
        let res = client.get(app.at(path)).send().await.unwrap_or_else(|e| panic!("{path}: dropped: {e}"));
        assert_eq!(res.status(), 500, "{path}");
        assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
        let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let body = res.text().await.unwrap();
        assert!(body.contains("Something went wrong on our side"), "{body}");
        assert!(!body.contains(SECRET), "the panic message stays in the log: {body}");
        let logged = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
        assert!(
            logged.lines().any(|l| l.contains("ERROR") && l.contains(SECRET) && l.contains(&request_id)),
            "the panic is logged with its request id {request_id}: {logged}"
        );
    }
    // The same client (and connection pool) goes on working.
    assert_eq!(client.get(app.at("/")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_panicking_scim_handler_answers_a_scim_error() {
    captured_logs();
    let app = spawn_with_panics().await;
    let res = app.scim("no key needed on this test route").get("/Boom").await;
    assert_eq!(res.status, 500);
    assert_eq!(res.header("content-type"), Some("application/scim+json"));
    assert_eq!(res.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
    assert_eq!(res.body["status"], "500");
    let detail = res.body["detail"].as_str().unwrap();
    assert!(!detail.is_empty() && !detail.contains(SECRET), "{detail}");
    assert!(res.header("x-request-id").is_some());

    // Production SCIM routes behind the same stack still answer.
    let res = app.scim("scimpad_bad").get("/Users").await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn only_admins_read_and_change_the_member_replace_setting() {
    use domain::{
        entities::user,
        sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait},
    };
    captured_logs();
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let admin = app.client();
    assert_eq!(app.sign_in(&admin, &org.admin.email, PASSWORD).await.status(), 200);
    let call = |client: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]| {
        client.post(app.at(&format!("/api/{endpoint}"))).form(form).send()
    };

    let read = call(&admin, "member_replace_setting", &[]).await.unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(read.json::<Value>().await.unwrap(), json!("Additive"), "the default");
    assert_eq!(call(&admin, "save_member_replace", &[("mode", "exact")]).await.unwrap().status(), 200);
    let read = call(&admin, "member_replace_setting", &[]).await.unwrap();
    assert_eq!(read.json::<Value>().await.unwrap(), json!("Exact"));
    let bogus = call(&admin, "save_member_replace", &[("mode", "everything")]).await.unwrap();
    assert_eq!(bogus.status(), 400);
    assert_eq!(
        domain::directory::settings::member_replace(&app.db, &org.admin).await.unwrap(),
        domain::directory::settings::MemberReplace::Exact,
        "a refused value changes nothing"
    );

    let page = admin.get(app.at("/groups")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Membership replace"), "{page}");
    assert!(page.contains(r#"id="member-replace-exact" name="mode" value="exact" checked"#), "{page}");

    // Someone who is not an admin (of their own organisation: the rule is the role).
    let email = unique_email("member");
    let other = app.client();
    assert_eq!(app.sign_up(&other, &email).await.status(), 200);
    let row = user::Entity::find_by_id(
        domain::accounts::command_line_actor(&app.db, &email).await.unwrap().unwrap().user_id,
    )
    .one(&app.db)
    .await
    .unwrap()
    .unwrap();
    let mut row: user::ActiveModel = row.into();
    row.role = Set(domain::accounts::Role::Member);
    row.update(&app.db).await.unwrap();
    assert_eq!(call(&other, "member_replace_setting", &[]).await.unwrap().status(), 403);
    assert_eq!(call(&other, "save_member_replace", &[("mode", "additive")]).await.unwrap().status(), 403);
    let groups = other.get(app.at("/groups")).send().await.unwrap();
    assert!(!groups.text().await.unwrap().contains("Membership replace"), "members never see the setting");
}

/// A NUL in any console input is refused with 400 before it reaches a query: PostgreSQL rejects
/// NUL in text (a 500 there, while SQLite would store it), so both databases answer alike.
#[tokio::test]
async fn a_nul_in_console_input_is_a_400_on_every_database() {
    captured_logs();
    let app = TestApp::spawn().await;
    let client = app.client();
    let email = unique_email("nul");
    assert_eq!(app.sign_up(&client, &email).await.status(), 200);
    let cases: [(&str, &[(&str, &str)]); 4] = [
        ("/api/sign_in", &[("email", "a\0b@example.com"), ("password", "whatever it is")]),
        ("/api/audit_log", &[("kind", ""), ("actor", "ad\0a")]),
        ("/api/list_users", &[("q", "x\0y")]),
        ("/api/add_sso_domain", &[("domain", "conto\0so.com")]),
    ];
    for (path, form) in cases {
        let res = client.post(app.at(path)).form(form).send().await.unwrap();
        assert_eq!(res.status(), 400, "{path}");
    }
    // Percent-encoded in a GET query string too.
    let res = client.get(app.at("/api/audit_log?kind=&actor=a%00b")).send().await.unwrap();
    assert_eq!(res.status(), 400);
    // A page with the same in its query string is refused alike.
    let res = client.get(app.at("/users?q=a%00b")).send().await.unwrap();
    assert_eq!(res.status(), 400);
    // And in a page's path: a user id that would reach a query.
    let res = client.get(app.at("/users/a%00b")).send().await.unwrap();
    assert_eq!(res.status(), 400);
    // Nothing else changed: the admin is still signed in and the console works.
    assert_eq!(client.get(app.at("/audit")).send().await.unwrap().status(), 200);
}
