//! The provisioning log: every SCIM request Entra ID sends, newest first, above an activity chart
//! of the last day and week. Filters and the page number live in the URL query string — the
//! filter form is a GET form and the pager is made of links — so the back button, reloading and
//! sharing a link all show the same rows, with or without JavaScript; "Export CSV" downloads every
//! row the filters select.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map, params::ParamsMap};

use crate::{
    api::{LogEntry, LogPage, activity_chart, provisioning_log},
    components::{
        export::ExportLink,
        filter::select,
        pager::{PAGE_PARAM, Pager},
        time,
    },
    error::AppError,
    resource, routes,
};

/// The log's filters and page, as read from the URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct LogQuery {
    result: Option<String>,
    operation: Option<String>,
    resource: Option<String>,
    key: Option<String>,
    page: Option<u64>,
}

impl LogQuery {
    fn from_params(q: &ParamsMap) -> Self {
        let given = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
        Self {
            result: given("result"),
            operation: given("operation"),
            resource: given("resource"),
            key: given("key"),
            page: given(PAGE_PARAM).and_then(|p| p.parse().ok()),
        }
    }

    fn filtered(&self) -> bool {
        self.result.is_some() || self.operation.is_some() || self.resource.is_some() || self.key.is_some()
    }
}

/// Every SCIM request, newest first.
#[component]
pub fn ProvisioningLogPage() -> impl IntoView {
    let query = use_query_map();
    // Blocking: the server renders the rows in place rather than streaming them out of order
    // (which needs JavaScript to swap them in), so the GET filter form and the pager links also
    // work without JavaScript.
    let log = resource::blocking(
        move || LogQuery::from_params(&query.get()),
        |q| provisioning_log(q.result, q.operation, q.resource, q.key, q.page),
    );
    let chart = resource::blocking(|| (), |_| activity_chart());
    view! {
        <Title text="Provisioning log" />
        <h1>"Provisioning log"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading activity…"</p> }>
            {move || Suspend::new(async move {
                chart.await.ok().map(|c| view! {
                    <section class="card activity" aria-labelledby="activity-heading">
                        <h2 id="activity-heading">"Activity"</h2>
                        <div class="charts">
                            <chart::BarChart id="chart-hourly" title="Requests per hour, last 24 hours (UTC)" buckets=c.hourly label_every=6 />
                            <chart::BarChart id="chart-daily" title="Requests per day, last 7 days (UTC)" buckets=c.daily label_every=1 />
                        </div>
                    </section>
                })
            })}
        </Suspense>
        <Transition fallback=|| view! { <p class="loading">"Loading the log…"</p> }>
            {move || Suspend::new(async move {
                let q = LogQuery::from_params(&query.get_untracked());
                match log.await {
                    // Filters are pointless until there is something to filter.
                    Ok(page) => view! {
                        {(page.total > 0 || q.filtered()).then(|| view! { <Filters q=q.clone() page=page.clone() /> })}
                        <Rows q query=query.get_untracked() page />
                    }
                    .into_any(),
                    Err(AppError::Forbidden) => view! {
                        <p class="banner error" role="alert" data-testid="forbidden">
                            "Only admins of your organisation can see the provisioning log."
                        </p>
                    }
                    .into_any(),
                    Err(e) => view! {
                        <p class="banner error" role="alert">{e.to_string()} " " <a href="/log">"Show the whole log"</a></p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// The filter form: a GET form, so submitting it is a navigation to the filtered URL.
#[component]
fn Filters(q: LogQuery, page: LogPage) -> impl IntoView {
    let same = |v: Vec<String>| v.into_iter().map(|s| (s.clone(), s)).collect::<Vec<_>>();
    let results =
        vec![("success".to_owned(), "Success".to_owned()), ("error".to_owned(), "Error".to_owned())];
    let keys = page.keys.into_iter().map(|k| (k.id, k.label)).collect();
    view! {
        <Form method="GET" action="/log" attr:class="filters card" attr:aria-label="Filter the log" attr:data-testid="log-filters">
            {select("result", "Result", q.result, results)}
            {select("operation", "Operation", q.operation, same(page.operations))}
            {select("resource", "Resource type", q.resource, same(page.resource_types))}
            {select("key", "API key", q.key, keys)}
            <div class="filter-actions">
                <button type="submit" class="button secondary">"Apply filters"</button>
                <a href="/log">"Clear"</a>
            </div>
        </Form>
    }
}

/// The page's rows, its empty state, and the pager.
#[component]
fn Rows(q: LogQuery, query: ParamsMap, page: LogPage) -> impl IntoView {
    if page.total == 0 {
        return if q.filtered() {
            view! {
                <p class="card empty log-empty" data-testid="log-empty">"No requests match these filters. " <a href="/log">"Clear the filters"</a></p>
            }
            .into_any()
        } else {
            view! {
                <div class="card empty log-empty" data-testid="log-empty">
                    <p>"No SCIM requests yet: paste the Tenant URL and a key into Entra and click Test Connection."</p>
                    <p><a href="/settings/api-keys">"Get the Tenant URL and an API key"</a></p>
                </div>
            }
            .into_any()
        };
    }
    let noun = if page.total == 1 { "request" } else { "requests" };
    let what = format!("the {} {noun} these filters select", page.total);
    view! {
        <div class="list-tools">
            <p class="log-count" aria-live="polite">{format!("{} {noun}", page.total)}</p>
            <ExportLink path=routes::LOG_EXPORT filters=routes::LOG_FILTERS query=query.clone() what test_id="export-log" />
        </div>
        <ol class="log" data-testid="log">
            {page.entries.into_iter().map(|e| view! { <Row e /> }).collect_view()}
        </ol>
        <Pager path="/log" query page=page.page page_size=page.page_size total=page.total />
    }
    .into_any()
}

/// One request: a one-line summary that expands to the details.
#[component]
fn Row(e: LogEntry) -> impl IntoView {
    let error = e.is_error();
    let badge = match &e.scim_type {
        Some(t) => format!("{} {t}", e.status),
        None => e.status.to_string(),
    };
    let what = if e.summary.is_empty() { e.path.clone() } else { e.summary.clone() };
    let resource = match (&e.resource_type, &e.resource_id) {
        (Some(t), Some(id)) => format!("{t} {id}"),
        (Some(t), None) => t.clone(),
        (None, _) => "—".to_owned(),
    };
    view! {
        <li class="log-row" class:error=error data-testid="log-row" data-status=e.status>
            <details>
                <summary>
                    <time datetime=e.at.clone()>{time::with_seconds(&e.at)}</time>
                    <span class="status" data-testid="log-status">
                        {error.then(|| view! { <span class="sr-only">"Error "</span> })}
                        {badge}
                    </span>
                    <span class="op">{format!("{} {}", e.method, e.operation)}</span>
                    <span class="what">{what}</span>
                </summary>
                <dl class="facts">
                    <dt>"Path"</dt><dd><code>{e.path}</code></dd>
                    <dt>"Resource"</dt><dd>{resource}</dd>
                    <dt>"Summary"</dt><dd>{if e.summary.is_empty() { "—".to_owned() } else { e.summary }}</dd>
                    <dt>"Duration"</dt><dd>{format!("{} ms", e.duration_ms)}</dd>
                    <dt>"API key"</dt><dd>{e.key.unwrap_or_else(|| "—".to_owned())}</dd>
                    <dt>"Status"</dt><dd>{e.status}</dd>
                    {e.scim_type.map(|t| view! { <dt>"scimType"</dt><dd><code>{t}</code></dd> })}
                    {e.detail.map(|d| view! { <dt>"Detail"</dt><dd class="detail">{d}</dd> })}
                </dl>
            </details>
        </li>
    }
}

/// The activity chart: stacked bars (successes below, errors above) drawn as inline SVG, with a
/// text alternative (title, description) and the numbers in a table for screen readers and
/// anyone who wants them exactly.
mod chart {
    use leptos::prelude::*;

    use crate::api::ChartBucket;

    const WIDTH: f64 = 600.0;
    const HEIGHT: f64 = 180.0;
    const LEFT: f64 = 36.0;
    const RIGHT: f64 = 8.0;
    const TOP: f64 = 10.0;
    const BOTTOM: f64 = 24.0;

    /// A bar's parts in SVG units: x, width, and (y, height) of the success and error segments.
    struct Bar {
        x: f64,
        width: f64,
        success: (f64, f64),
        errors: (f64, f64),
    }

    fn bars(buckets: &[ChartBucket], max: u64) -> Vec<Bar> {
        let slot = (WIDTH - LEFT - RIGHT) / buckets.len().max(1) as f64;
        let unit = (HEIGHT - TOP - BOTTOM) / max.max(1) as f64;
        let base = HEIGHT - BOTTOM;
        buckets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let ok_h = b.success as f64 * unit;
                let err_h = b.errors as f64 * unit;
                Bar {
                    x: LEFT + i as f64 * slot + slot * 0.15,
                    width: slot * 0.7,
                    success: (base - ok_h, ok_h),
                    errors: (base - ok_h - err_h, err_h),
                }
            })
            .collect()
    }

    /// What the chart says, in words.
    fn describe(buckets: &[ChartBucket]) -> String {
        let total: u64 = buckets.iter().map(|b| b.success + b.errors).sum();
        let errors: u64 = buckets.iter().map(|b| b.errors).sum();
        match buckets.iter().max_by_key(|b| b.success + b.errors) {
            Some(busiest) if total > 0 => format!(
                "{total} requests, {errors} failed. Busiest: {} with {}.",
                busiest.label,
                busiest.success + busiest.errors
            ),
            _ => "No requests in this period.".to_owned(),
        }
    }

    /// One series as a bar chart; every `label_every`-th bar, counted back from the newest, is
    /// labelled on the x axis.
    #[component]
    pub fn BarChart(
        id: &'static str,
        title: &'static str,
        buckets: Vec<ChartBucket>,
        label_every: usize,
    ) -> impl IntoView {
        let max = buckets.iter().map(|b| b.success + b.errors).max().unwrap_or(0);
        let title_id = format!("{id}-title");
        let desc_id = format!("{id}-desc");
        let labelledby = format!("{title_id} {desc_id}");
        let base = HEIGHT - BOTTOM;
        let count = buckets.len();
        let marks = bars(&buckets, max)
            .into_iter()
            .zip(&buckets)
            .enumerate()
            .map(|(i, (bar, b))| {
                let tip = format!("{}: {} succeeded, {} failed", b.label, b.success, b.errors);
                let label = (count - 1 - i).is_multiple_of(label_every.max(1)).then(|| b.label.clone());
                let center = format!("{:.1}", bar.x + bar.width / 2.0);
                view! {
                    <g>
                        <title>{tip}</title>
                        {(b.success > 0).then(|| view! {
                            <rect class="bar-ok" data-count=b.success x=format!("{:.1}", bar.x) y=format!("{:.1}", bar.success.0)
                                width=format!("{:.1}", bar.width) height=format!("{:.1}", bar.success.1) />
                        })}
                        {(b.errors > 0).then(|| view! {
                            <rect class="bar-error" data-count=b.errors x=format!("{:.1}", bar.x) y=format!("{:.1}", bar.errors.0)
                                width=format!("{:.1}", bar.width) height=format!("{:.1}", bar.errors.1) />
                        })}
                        {label.map(|l| view! { <text class="axis" x=center y=format!("{:.1}", HEIGHT - 6.0) text-anchor="middle">{l}</text> })}
                    </g>
                }
            })
            .collect_view();
        view! {
            <figure class="chart">
                <svg
                    viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                    role="img"
                    aria-labelledby=labelledby
                    data-testid=id
                    data-max=max
                >
                    <title id=title_id>{title}</title>
                    <desc id=desc_id>{describe(&buckets)}</desc>
                    {(max > 0).then(|| view! {
                        <line class="gridline" x1=LEFT x2=WIDTH - RIGHT y1=TOP y2=TOP />
                        <text class="axis" x=LEFT - 6.0 y=TOP + 4.0 text-anchor="end">{max}</text>
                    })}
                    {(max == 0).then(|| view! {
                        <text class="axis" x=WIDTH / 2.0 y=HEIGHT / 2.0 text-anchor="middle">"No requests"</text>
                    })}
                    <line class="baseline" x1=LEFT x2=WIDTH - RIGHT y1=base y2=base />
                    <text class="axis" x=LEFT - 6.0 y=base text-anchor="end">"0"</text>
                    {marks}
                </svg>
                <figcaption>
                    <span class="chart-title">{title}</span>
                    <span class="legend"><span class="swatch ok"></span>"Success" <span class="swatch error"></span>"Error"</span>
                </figcaption>
                <details class="chart-data">
                    <summary>"Show the numbers"</summary>
                    <table class="data">
                        <caption>{title}</caption>
                        <thead><tr><th scope="col">"Time"</th><th scope="col">"Succeeded"</th><th scope="col">"Failed"</th></tr></thead>
                        <tbody>
                            {buckets.into_iter().map(|b| view! {
                                <tr><th scope="row">{b.label}</th><td>{b.success}</td><td>{b.errors}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </details>
            </figure>
        }
    }
}
