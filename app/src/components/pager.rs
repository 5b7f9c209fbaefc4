//! Offset paging for lists whose state lives in the URL: "Previous" / "Next" are plain links that
//! keep the page's other query parameters (its filters), so every page is a shareable URL, the
//! back button walks the pages, and paging works before hydration or without JavaScript.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

/// The query parameter holding the 1-based page number.
pub const PAGE_PARAM: &str = "page";

/// `path` with `query`'s non-empty parameters, `set` applied on top (an empty value removes the
/// parameter). Any change other than the page itself goes back to page 1.
pub fn href_with(path: &str, query: &ParamsMap, set: &[(&str, &str)]) -> String {
    let resets_page = set.iter().any(|(k, _)| *k != PAGE_PARAM);
    let mut kept: ParamsMap = query
        .latest_values()
        .filter(|(k, v)| {
            let replaced = set.iter().any(|(s, _)| s == k) || (resets_page && k.as_ref() == PAGE_PARAM);
            !v.is_empty() && !replaced
        })
        .map(|(k, v)| (k.to_string(), v.to_owned()))
        .collect();
    for (k, v) in set.iter().filter(|(_, v)| !v.is_empty()) {
        kept.replace(k.to_string(), v.to_string());
    }
    format!("{path}{}", kept.to_query_string())
}

/// `path` with `query`'s filters and page `page` (page 1 leaves the parameter out).
fn page_href(path: &str, query: &ParamsMap, page: u64) -> String {
    let page = if page > 1 { page.to_string() } else { String::new() };
    href_with(path, query, &[(PAGE_PARAM, &page)])
}

/// "Showing 51–100 of 230" with links to the neighbouring pages.
#[component]
pub fn Pager(
    /// The list page's path, e.g. `/log`.
    #[prop(into)]
    path: String,
    /// The current query (filters), kept in the links.
    query: ParamsMap,
    /// The current page, 1-based.
    page: u64,
    page_size: u64,
    /// Matches on all pages.
    total: u64,
) -> impl IntoView {
    let pages = total.div_ceil(page_size.max(1)).max(1);
    let first = (page - 1) * page_size + 1;
    let last = (page * page_size).min(total);
    let status = if first > total {
        format!("Page {page} of {pages}: nothing here")
    } else {
        format!("Showing {first}–{last} of {total}")
    };
    let prev = (page > 1).then(|| page_href(&path, &query, (page - 1).min(pages)));
    let next = (page < pages).then(|| page_href(&path, &query, page + 1));
    view! {
        <nav class="pager" aria-label="Pages">
            <span class="pager-status" data-testid="pager-status">{status}</span>
            {prev.map(|href| view! { <a href=href rel="prev" class="button secondary" data-testid="pager-prev">"← Previous"</a> })}
            {next.map(|href| view! { <a href=href rel="next" class="button secondary" data-testid="pager-next">"Next →"</a> })}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters_and_drop_blank_ones() {
        let query: ParamsMap =
            [("result", "error"), ("key", ""), ("page", "3"), ("operation", "create")].into_iter().collect();
        assert_eq!(page_href("/log", &query, 4), "/log?result=error&operation=create&page=4");
        assert_eq!(page_href("/log", &query, 1), "/log?result=error&operation=create");
        assert_eq!(page_href("/log", &ParamsMap::new(), 1), "/log");
    }

    #[test]
    fn changing_a_filter_or_sort_returns_to_page_one() {
        let query: ParamsMap = [("q", "ann"), ("page", "3"), ("sort", "email")].into_iter().collect();
        assert_eq!(
            href_with("/users", &query, &[("sort", "updated"), ("dir", "desc")]),
            "/users?q=ann&sort=updated&dir=desc"
        );
        assert_eq!(href_with("/users", &query, &[("q", "")]), "/users?sort=email");
    }
}
