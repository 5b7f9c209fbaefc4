//! Arbitrary UTF-8 → `Filter::parse`. A parsed filter must print (`Display`, its canonical form)
//! to text that parses back to the same AST (unless that text exceeds the input limit), and
//! validating/evaluating it must not panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::filter::MAX_FILTER_LEN;
use scim::{Filter, ResourceKind};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(filter) = Filter::parse(text) else { return };
    let printed = filter.to_string();
    // The canonical form may be longer than the input (bare words gain quotes, control
    // characters become `\u00XX`), so it can exceed the input limit; that is not a round-trip bug.
    if printed.len() > MAX_FILTER_LEN {
        return;
    }
    let reparsed = Filter::parse(&printed).unwrap_or_else(|e| {
        panic!("{text:?} parsed to {filter:?}, printed as {printed:?}, which fails: {e}")
    });
    assert_eq!(reparsed, filter, "{text:?} printed as {printed:?}");
    assert_eq!(reparsed.to_string(), printed, "printing is not stable for {text:?}");

    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "u-1", "externalId": "alice", "userName": "alice@contoso.com", "active": true,
        "name": {"formatted": "Alice Smith", "familyName": "Smith", "givenName": "Alice"},
        "emails": [{"primary": true, "type": "work", "value": "alice@contoso.com"},
                   {"type": "home", "value": "a@example.org"}],
        "roles": [{"primary": true, "value": "Admin"}],
        "meta": {"created": "2024-01-02T03:04:05Z", "lastModified": "2024-01-02T03:04:05.123Z"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
            {"employeeNumber": "42", "manager": {"value": "u-26"}}
    });
    for kind in [ResourceKind::User, ResourceKind::Group] {
        let _ = scim::filter::validate(&filter, kind);
        let _ = scim::filter::matches(&filter, &user, kind);
    }
});
