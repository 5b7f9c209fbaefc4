//! Timestamps as the console shows them: `2026-12-01 14:05 UTC` from the RFC 3339 strings the
//! server functions return (the full value stays in a `<time datetime>` attribute).

use leptos::prelude::*;

/// `2026-12-01T14:05:09.123Z` → `2026-12-01 14:05 UTC`.
pub fn short(iso: &str) -> String {
    match (iso.get(0..10), iso.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => iso.to_owned(),
    }
}

/// `2025-12-10T12:30:05.123Z` → `2025-12-10 12:30:05 UTC`: the logs need seconds.
pub fn with_seconds(iso: &str) -> String {
    match (iso.get(0..10), iso.get(11..19)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => iso.to_owned(),
    }
}

/// A `<time>` element for `iso`, or `fallback` when there is none.
#[component]
pub fn When(iso: Option<String>, #[prop(default = "—")] fallback: &'static str) -> impl IntoView {
    match iso {
        Some(iso) => view! { <time datetime=iso.clone()>{short(&iso)}</time> }.into_any(),
        None => view! { <span class="muted">{fallback}</span> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shortens_rfc3339() {
        assert_eq!(super::short("2026-12-01T14:05:09.123Z"), "2026-12-01 14:05 UTC");
        assert_eq!(super::short("garbage"), "garbage");
        assert_eq!(super::with_seconds("2026-12-01T14:05:09.123Z"), "2026-12-01 14:05:09 UTC");
        assert_eq!(super::with_seconds("garbage"), "garbage");
    }
}
