//! Raw HTTP/1.1 on real sockets: request-targets with characters clients forget to percent-encode
//! (Entra ID's raw quotes in filters) reach the router, on keep-alive and pipelined connections,
//! around Content-Length and chunked bodies, while spaces and control bytes are still refused.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{TestApp, create_user, entra_user, unique_user};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
    time::timeout,
};

const PATIENCE: Duration = Duration::from_secs(20);

/// One client connection, written and read byte for byte.
struct Raw {
    stream: BufReader<TcpStream>,
}

/// A parsed response.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Every response our router produces carries a request id; hyper's own refusals do not.
    fn reached_the_router(&self) -> bool {
        self.header("x-request-id").is_some()
    }
}

impl Raw {
    async fn connect(app: &TestApp) -> Self {
        let addr = app.url.trim_start_matches("http://");
        Self { stream: BufReader::new(TcpStream::connect(addr).await.unwrap()) }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).await.unwrap();
    }

    async fn response(&mut self) -> Response {
        timeout(PATIENCE, self.read_response()).await.expect("a response in time")
    }

    async fn line(&mut self) -> String {
        let mut line = Vec::new();
        self.stream.read_until(b'\n', &mut line).await.unwrap();
        assert!(line.ends_with(b"\r\n"), "a CRLF-terminated line, got {:?}", String::from_utf8_lossy(&line));
        String::from_utf8(line).unwrap().trim_end().to_owned()
    }

    async fn read_response(&mut self) -> Response {
        let status_line = self.line().await;
        let mut parts = status_line.splitn(3, ' ');
        assert_eq!(parts.next(), Some("HTTP/1.1"), "{status_line}");
        let status = parts.next().unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            let line = self.line().await;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let mut response = Response { status, headers, body: Vec::new() };
        if let Some(len) = response.header("content-length") {
            let mut body = vec![0; len.parse().unwrap()];
            self.stream.read_exact(&mut body).await.unwrap();
            response.body = body;
        } else if response.header("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
            response.body = self.chunked_body().await;
        } else {
            self.stream.read_to_end(&mut response.body).await.unwrap();
        }
        response
    }

    async fn chunked_body(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let size_line = self.line().await;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap().trim(), 16).unwrap();
            if size == 0 {
                while !self.line().await.is_empty() {}
                return body;
            }
            let mut chunk = vec![0; size + 2];
            self.stream.read_exact(&mut chunk).await.unwrap();
            assert!(chunk.ends_with(b"\r\n"));
            body.extend_from_slice(&chunk[..size]);
        }
    }

    /// Whether the server has closed the connection (EOF, or a reset after its refusal).
    async fn closed(&mut self) -> bool {
        let mut byte = [0; 1];
        matches!(timeout(PATIENCE, self.stream.read(&mut byte)).await, Ok(Ok(0) | Err(_)))
    }
}

/// A GET with the filter's quotes raw, as Entra sends it.
fn raw_filter_get(key: &str, user_name: &str) -> Vec<u8> {
    format!(
        "GET /scim/v2/Users?filter=userName+eq+\"{user_name}\" HTTP/1.1\r\nHost: scimpad\r\n\
         Authorization: Bearer {key}\r\nAccept: application/scim+json\r\n\r\n"
    )
    .into_bytes()
}

fn post_with_length(key: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: scimpad\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Checks a filter response found exactly `user_name`.
fn found_one(response: &Response, user_name: &str) {
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    assert_eq!(body["totalResults"], 1, "{body}");
    assert_eq!(body["Resources"][0]["userName"], user_name);
}

fn created(response: &Response, user_name: &str) {
    assert_eq!(response.status, 201, "{}", response.text());
    assert_eq!(response.json()["userName"], user_name);
}

#[tokio::test]
async fn raw_quotes_in_filters_work_on_a_keep_alive_connection_around_posts_with_quoted_bodies() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let existing = unique_user("raw-existing");
    create_user(&app.scim(&org.key), &existing).await;
    let mut conn = Raw::connect(&app).await;

    // One request after the other on one connection.
    conn.send(&raw_filter_get(&org.key, &existing)).await;
    found_one(&conn.response().await, &existing);
    let posted = unique_user("raw-posted");
    conn.send(&post_with_length(&org.key, &entra_user(&posted).to_string())).await;
    created(&conn.response().await, &posted);
    conn.send(&raw_filter_get(&org.key, &posted)).await;
    found_one(&conn.response().await, &posted);

    // The same three pipelined in one write, on the same connection.
    let pipelined = unique_user("raw-pipelined");
    let burst = [
        raw_filter_get(&org.key, &existing),
        post_with_length(&org.key, &entra_user(&pipelined).to_string()),
        raw_filter_get(&org.key, &pipelined),
    ]
    .concat();
    conn.send(&burst).await;
    found_one(&conn.response().await, &existing);
    created(&conn.response().await, &pipelined);
    found_one(&conn.response().await, &pipelined);
}

#[tokio::test]
async fn a_chunked_post_passes_untouched_and_the_connection_carries_on() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let user_name = unique_user("raw-chunked");
    let body = entra_user(&user_name).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    // Chunks cut mid-JSON, an extension with quotes, and a trailer field with quotes.
    let chunked = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: scimpad\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x};note=\"a b\"\r\n{first}\r\n{:X}\r\n{rest}\r\n0\r\nX-Note: \"done\"\r\n\r\n",
        first.len(),
        rest.len(),
        key = org.key,
    );
    let mut conn = Raw::connect(&app).await;
    conn.send(chunked.as_bytes()).await;
    created(&conn.response().await, &user_name);
    conn.send(&raw_filter_get(&org.key, &user_name)).await;
    found_one(&conn.response().await, &user_name);
}

#[tokio::test]
async fn raw_quotes_outside_scim_reach_the_router_too() {
    let app = TestApp::spawn().await;
    let mut conn = Raw::connect(&app).await;
    conn.send(b"GET /healthz?x=\"y\" HTTP/1.1\r\nHost: scimpad\r\n\r\n").await;
    let response = conn.response().await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(response.reached_the_router());
}

#[tokio::test]
async fn every_visible_character_in_a_path_or_query_reaches_the_router() {
    let app = TestApp::spawn().await;
    let mut conn = Raw::connect(&app).await;
    for byte in 0x21..=0x7e_u8 {
        let c = char::from(byte);
        for target in [format!("/healthz?x=a{c}b"), format!("/pkg/a{c}b")] {
            conn.send(format!("GET {target} HTTP/1.1\r\nHost: scimpad\r\n\r\n").as_bytes()).await;
            let response = conn.response().await;
            assert!(response.reached_the_router(), "{target:?}: {}", response.status);
            if target.starts_with("/healthz") {
                assert_eq!(response.status, 200, "{target:?}");
            }
        }
    }
}

#[tokio::test]
async fn spaces_and_control_bytes_in_a_target_are_still_refused_by_hyper() {
    let app = TestApp::spawn().await;
    for bad in [&b" "[..], b"\t", b"\x01", b"\x7f", b"\" \""] {
        let request = [&b"GET /healthz?x=a"[..], bad, b"b HTTP/1.1\r\nHost: scimpad\r\n\r\n"].concat();
        let mut conn = Raw::connect(&app).await;
        conn.send(&request).await;
        let response = conn.response().await;
        assert_eq!(response.status, 400, "{:?}", String::from_utf8_lossy(&request));
        assert!(!response.reached_the_router(), "hyper itself refuses {bad:?}");
        assert!(conn.closed().await);
    }
}

/// The premise: without the normalising listener, hyper refuses Entra's raw quotes by itself.
#[tokio::test]
async fn without_the_normalising_listener_hyper_refuses_raw_quotes() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let mut conn =
        Raw { stream: BufReader::new(TcpStream::connect(url.trim_start_matches("http://")).await.unwrap()) };
    conn.send(b"GET /healthz?x=\"y\" HTTP/1.1\r\nHost: scimpad\r\n\r\n").await;
    let refused = conn.response().await;
    assert_eq!((refused.status, refused.body.len()), (400, 0));
    assert!(conn.closed().await);
}
