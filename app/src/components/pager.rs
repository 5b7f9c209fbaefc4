//! Offset paging for lists whose state lives in the URL: "Previous" / "Next" are plain links that
//! keep the page's other query parameters (its filters), so every page is a shareable URL, the
//! back button walks the pages, and paging works before hydration or without JavaScript.
//!
//! The page number is whatever the URL says, up to `u64::MAX`: a page past the end reads "nothing
//! here" with a link back to the last page, and no arithmetic on it may overflow.
//!
//! A list read by key as well ([`Anchors`]: the Users page in user-name order) gets links that
//! also name the row at the page's edge — `after=<last id>` on "Next", `before=<first id>` on
//! "Previous" — so the server seeks to the neighbouring page instead of stepping over every row
//! before it. Page 1 is linked plainly: it is cheap by number, and the true first page even when
//! rows were added before the anchor meanwhile.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

/// The query parameter holding the 1-based page number.
pub const PAGE_PARAM: &str = "page";
/// The query parameter naming the row the page follows ("Next" by key).
pub const AFTER_PARAM: &str = "after";
/// The query parameter naming the row the page precedes ("Previous" by key).
pub const BEFORE_PARAM: &str = "before";
/// The parameters that say where in the list a page is, as opposed to which list it is.
const POSITION: [&str; 3] = [PAGE_PARAM, AFTER_PARAM, BEFORE_PARAM];

/// The ids of the first and last rows shown, for links that read the neighbouring pages by key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchors {
    pub first: String,
    pub last: String,
}

/// `path` with `query`'s non-empty parameters, `set` applied on top (an empty value removes the
/// parameter). Any change other than the position itself goes back to page 1.
pub fn href_with(path: &str, query: &ParamsMap, set: &[(&str, &str)]) -> String {
    let resets_page = set.iter().any(|(k, _)| !POSITION.contains(k));
    let mut kept: ParamsMap = query
        .latest_values()
        .filter(|(k, v)| {
            let replaced = set.iter().any(|(s, _)| s == k) || (resets_page && POSITION.contains(&k.as_ref()));
            !v.is_empty() && !replaced
        })
        .map(|(k, v)| (k.to_string(), v.to_owned()))
        .collect();
    for (k, v) in set.iter().filter(|(_, v)| !v.is_empty()) {
        kept.replace(k.to_string(), v.to_string());
    }
    format!("{path}{}", kept.to_query_string())
}

/// `path` with `query`'s filters and page `page` (page 1 leaves the parameter out), read from
/// `anchor` (an [`AFTER_PARAM`] or [`BEFORE_PARAM`] and a row id) when given; page 1 never is.
fn page_href(path: &str, query: &ParamsMap, page: u64, anchor: Option<(&str, &str)>) -> String {
    let (page, anchor) = if page > 1 { (page.to_string(), anchor) } else { (String::new(), None) };
    // The anchor's parameter gets its id; the other one is removed (an empty value).
    let id = |param: &str| anchor.filter(|(p, _)| *p == param).map_or("", |(_, id)| id);
    href_with(
        path,
        query,
        &[(PAGE_PARAM, &page), (AFTER_PARAM, id(AFTER_PARAM)), (BEFORE_PARAM, id(BEFORE_PARAM))],
    )
}

/// The status line for page `page` (1-based) of `total` matches, `page_size` to a page:
/// "Showing 51–100 of 230", or "Page 9 of 5: nothing here" past the end.
fn status(page: u64, page_size: u64, total: u64) -> String {
    let page_size = page_size.max(1);
    let first = page.saturating_sub(1).checked_mul(page_size).and_then(|skipped| skipped.checked_add(1));
    match first.filter(|first| *first <= total) {
        Some(first) => {
            let last = first.saturating_add(page_size - 1).min(total);
            format!("Showing {first}–{last} of {total}")
        }
        None => format!("Page {page} of {}: nothing here", pages(page_size, total)),
    }
}

/// The number of pages `total` matches fill (at least one, even when empty).
fn pages(page_size: u64, total: u64) -> u64 {
    total.div_ceil(page_size.max(1)).max(1)
}

/// The pages "Previous" and "Next" lead to from page `page`; past the end, "Previous" goes back
/// to the last page.
fn neighbours(page: u64, pages: u64) -> (Option<u64>, Option<u64>) {
    let prev = (page > 1).then(|| page.saturating_sub(1).min(pages));
    let next = (page < pages).then(|| page.saturating_add(1));
    (prev, next)
}

/// "Showing 51–100 of 230" with links to the neighbouring pages.
#[component]
pub fn Pager(
    /// The list page's path, e.g. `/log`.
    #[prop(into)]
    path: String,
    /// The current query (filters), kept in the links.
    query: ParamsMap,
    /// The current page, 1-based (0 reads as 1).
    page: u64,
    page_size: u64,
    /// Matches on all pages.
    total: u64,
    /// The rows at the page's edges, when the list reads its neighbouring pages by key.
    #[prop(default = None)]
    anchors: Option<Anchors>,
) -> impl IntoView {
    let page = page.max(1);
    let status = status(page, page_size, total);
    let (prev, next) = neighbours(page, pages(page_size, total));
    let before = anchors.as_ref().map(|a| (BEFORE_PARAM, a.first.as_str()));
    let after = anchors.as_ref().map(|a| (AFTER_PARAM, a.last.as_str()));
    let prev = prev.map(|p| page_href(&path, &query, p, before));
    let next = next.map(|p| page_href(&path, &query, p, after));
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
        assert_eq!(page_href("/log", &query, 4, None), "/log?result=error&operation=create&page=4");
        assert_eq!(page_href("/log", &query, 1, None), "/log?result=error&operation=create");
        assert_eq!(page_href("/log", &ParamsMap::new(), 1, None), "/log");
    }

    #[test]
    fn links_by_key_name_one_anchor_and_page_one_none() {
        let query: ParamsMap = [("q", "ann"), ("page", "3"), ("after", "u2")].into_iter().collect();
        assert_eq!(page_href("/users", &query, 4, Some((AFTER_PARAM, "u9"))), "/users?q=ann&page=4&after=u9");
        assert_eq!(
            page_href("/users", &query, 2, Some((BEFORE_PARAM, "u5"))),
            "/users?q=ann&page=2&before=u5"
        );
        assert_eq!(page_href("/users", &query, 1, Some((BEFORE_PARAM, "u5"))), "/users?q=ann");
        assert_eq!(
            page_href("/users", &query, 4, None),
            "/users?q=ann&page=4",
            "a plain link drops the anchor"
        );
    }

    #[test]
    fn changing_a_filter_or_sort_returns_to_page_one() {
        let query: ParamsMap =
            [("q", "ann"), ("page", "3"), ("before", "u7"), ("sort", "email")].into_iter().collect();
        assert_eq!(
            href_with("/users", &query, &[("sort", "updated"), ("dir", "desc")]),
            "/users?q=ann&sort=updated&dir=desc"
        );
        assert_eq!(href_with("/users", &query, &[("q", "")]), "/users?sort=email");
    }

    #[test]
    fn the_status_names_the_rows_shown() {
        assert_eq!(status(1, 50, 230), "Showing 1–50 of 230");
        assert_eq!(status(2, 50, 230), "Showing 51–100 of 230");
        assert_eq!(status(5, 50, 230), "Showing 201–230 of 230");
        assert_eq!(status(1, 50, 0), "Page 1 of 1: nothing here");
        assert_eq!(status(6, 50, 230), "Page 6 of 5: nothing here");
    }

    #[test]
    fn any_page_number_answers_without_overflow() {
        let max = u64::MAX;
        assert_eq!(status(max, 50, 230), format!("Page {max} of 5: nothing here"));
        assert_eq!(status(max, 50, max), format!("Page {max} of {}: nothing here", max.div_ceil(50)));
        assert_eq!(status(2, max, max), "Page 2 of 1: nothing here");
        assert_eq!(status(1, max, max), format!("Showing 1–{max} of {max}"));
        assert_eq!(status(1, 0, 3), "Showing 1–1 of 3", "a zero page size reads as one");
        assert_eq!(neighbours(max, 5), (Some(5), None), "Previous leads back to the last page");
        assert_eq!(neighbours(max, max), (Some(max - 1), None));
        assert_eq!(neighbours(max - 1, max), (Some(max - 2), Some(max)));
    }

    #[test]
    fn neighbours_of_pages_that_exist() {
        assert_eq!(neighbours(1, 1), (None, None));
        assert_eq!(neighbours(1, 5), (None, Some(2)));
        assert_eq!(neighbours(3, 5), (Some(2), Some(4)));
        assert_eq!(neighbours(5, 5), (Some(4), None));
    }
}
