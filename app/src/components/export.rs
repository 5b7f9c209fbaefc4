//! "Export CSV" on a filtered list: a plain link to the list's export route carrying the page's
//! current filters (its sort and page number are not the export's business), so the download holds
//! exactly the rows the filters select, on every page. A plain `download` link: the browser saves
//! the server's streamed file itself, works before hydration, and the router leaves it alone.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

/// `path` with the non-empty parameters among `filters` that `query` holds.
pub fn export_href(path: &str, query: &ParamsMap, filters: &[&str]) -> String {
    let kept: ParamsMap = filters
        .iter()
        .filter_map(|name| query.get(name).filter(|v| !v.trim().is_empty()).map(|v| (name.to_string(), v)))
        .collect();
    format!("{path}{}", kept.to_query_string())
}

/// The export link of a list at `path`-with-`query`, whose `filters` the export honours;
/// `what` says what it downloads, e.g. "the 230 users these filters select".
#[component]
pub fn ExportLink(
    /// The export route, e.g. `app::routes::USERS_EXPORT`.
    path: &'static str,
    /// The list's filter parameters, as its export reads them.
    filters: &'static [&'static str],
    /// The list page's current query.
    query: ParamsMap,
    /// For the link's description.
    #[prop(into)]
    what: String,
    test_id: &'static str,
) -> impl IntoView {
    let href = export_href(path, &query, filters);
    view! {
        <a class="button secondary" href=href download rel="external" title=format!("Download {what} as a CSV file") data-testid=test_id>
            "Export CSV"
        </a>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_carries_the_filters_only() {
        let query: ParamsMap =
            [("q", "ann"), ("status", ""), ("role", "admin"), ("sort", "email"), ("page", "3")]
                .into_iter()
                .collect();
        let filters = &["q", "status", "source", "role"];
        assert_eq!(export_href("/export/users.csv", &query, filters), "/export/users.csv?q=ann&role=admin");
        assert_eq!(export_href("/export/log.csv", &ParamsMap::new(), &["result"]), "/export/log.csv");
    }
}
