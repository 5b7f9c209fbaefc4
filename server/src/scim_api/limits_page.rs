//! `GET /scim/limits`: the page `/ServiceProviderConfig`'s `documentationUri` points at (RFC 7643
//! §5), stating the per-request and per-resource limits (`scim::limits`) that the configuration's
//! standard fields cannot express. Public, like the fields it complements: it names no
//! organisation and needs no key.

use std::fmt::Write;

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

use super::{bulk, wire::MAX_PAYLOAD};

/// Where the page is served, below the public URL.
pub const PATH: &str = "/scim/limits";

/// The page: one row per limit, from the same constants the checks use.
pub async fn page() -> Response {
    let mut rows = String::new();
    let standard = [
        ("bulk.maxOperations", bulk::MAX_OPERATIONS, "operations in one /Bulk request"),
        ("bulk.maxPayloadSize", MAX_PAYLOAD, "bytes of any request body (413 beyond)"),
        ("filter.maxResults", domain::directory::MAX_PAGE_SIZE as usize, "resources in one list page"),
    ];
    for (name, value, meaning) in scim::limits::ALL.iter().chain(&standard) {
        let _ = write!(
            rows,
            "<tr><th scope=\"row\"><code>{name}</code></th><td>{value}</td><td>{meaning}</td></tr>"
        );
    }
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Scimpad SCIM limits</title></head>\
         <body><h1>SCIM limits</h1><p>A request past a limit is refused whole with 400 <code>invalidValue</code> \
         (413 for a body too large), with a detail naming the limit; nothing is truncated. Each organisation may also \
         send a limited number of requests per second: beyond it the answer is 429 with <code>Retry-After</code>.</p>\
         <table><thead><tr><th>limit</th><th>value</th><th>what it bounds</th></tr></thead><tbody>{rows}</tbody></table>\
         </body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}
