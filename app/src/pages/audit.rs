//! The admin audit log: who signed in (or failed to), signed out, created, regenerated or revoked
//! an API key, changed SSO, a password or a sign-in email — when, from which address and browser
//! (`domain::audit`). It answers "who regenerated the key that broke provisioning, and when?".
//! Like the provisioning log, its filters and page live in the URL (a GET form and pager links),
//! so it works the same with or without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map, params::ParamsMap};

use crate::{
    api::{AuditEntry, AuditPage, audit_log},
    components::{
        filter::select,
        pager::{PAGE_PARAM, Pager},
        table::TableBox,
        time,
    },
    error::AppError,
    resource,
};

/// The page's path.
const PATH: &str = "/audit";

/// The filters and page, as read from the URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct AuditQuery {
    kind: Option<String>,
    actor: Option<String>,
    page: Option<u64>,
}

impl AuditQuery {
    fn from_params(q: &ParamsMap) -> Self {
        let given = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
        Self {
            kind: given("kind"),
            actor: given("actor"),
            page: given(PAGE_PARAM).and_then(|p| p.parse().ok()),
        }
    }

    fn filtered(&self) -> bool {
        self.kind.is_some() || self.actor.is_some()
    }
}

/// Every security-relevant event of the organisation, newest first.
#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    // Blocking, as the provisioning log: rows are rendered in place, so no JavaScript is needed.
    let log = resource::blocking(
        move || AuditQuery::from_params(&query.get()),
        |q| audit_log(q.kind, q.actor, q.page),
    );
    view! {
        <Title text="Audit log" />
        <h1>"Audit log"</h1>
        <p class="lead">"Sign-ins, sign-outs and every change to API keys, single sign-on and passwords in your organisation, with who did it, when and from where."</p>
        <Transition fallback=|| view! { <p class="loading">"Loading the audit log…"</p> }>
            {move || Suspend::new(async move {
                let q = AuditQuery::from_params(&query.get_untracked());
                match log.await {
                    Ok(page) => view! {
                        <Filters q=q.clone() kinds=page.kinds.clone() />
                        <Rows q query=query.get_untracked() page />
                    }
                    .into_any(),
                    Err(AppError::Forbidden) => view! {
                        <p class="banner error" role="alert" data-testid="forbidden">
                            "Only admins of your organisation can see the audit log."
                        </p>
                    }
                    .into_any(),
                    Err(e) => view! {
                        <p class="banner error" role="alert">{e.to_string()} " " <a href=PATH>"Show the whole audit log"</a></p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// The filter form: event kind and who (part of a name or email).
#[component]
fn Filters(q: AuditQuery, kinds: Vec<(String, String)>) -> impl IntoView {
    view! {
        <Form method="GET" action=PATH attr:class="filters card" attr:aria-label="Filter the audit log" attr:data-testid="audit-filters">
            {select("kind", "Event", q.kind, kinds)}
            <div class="filter">
                <label for="filter-actor">"Who"</label>
                <input id="filter-actor" name="actor" type="search" value=q.actor placeholder="Name or email" maxlength="300" />
            </div>
            <div class="filter-actions">
                <button type="submit" class="button secondary">"Apply filters"</button>
                <a href=PATH>"Clear"</a>
            </div>
        </Form>
    }
}

/// The events table, its empty state, and the pager.
#[component]
fn Rows(q: AuditQuery, query: ParamsMap, page: AuditPage) -> impl IntoView {
    if page.total == 0 {
        let text = if q.filtered() { "No events match these filters." } else { "No events yet." };
        return view! { <p class="card empty" data-testid="audit-empty">{text}</p> }.into_any();
    }
    let noun = if page.total == 1 { "event" } else { "events" };
    view! {
        <p class="log-count" aria-live="polite">{format!("{} {noun}", page.total)}</p>
        <TableBox label="Audit log">
            <table class="data" data-testid="audit">
                <thead>
                    <tr><th scope="col">"Time"</th><th scope="col">"Event"</th><th scope="col">"Who"</th><th scope="col">"From"</th><th scope="col">"Details"</th></tr>
                </thead>
                <tbody>{page.entries.into_iter().map(|e| view! { <Row e /> }).collect_view()}</tbody>
            </table>
        </TableBox>
        <Pager path=PATH query page=page.page page_size=page.page_size total=page.total />
    }
    .into_any()
}

/// One event.
#[component]
fn Row(e: AuditEntry) -> impl IntoView {
    view! {
        <tr data-testid="audit-row" data-kind=e.kind>
            <td><time datetime=e.at.clone()>{time::with_seconds(&e.at)}</time></td>
            <td data-testid="audit-kind">{e.kind_label}</td>
            <td data-testid="audit-actor">{e.actor}</td>
            <td data-testid="audit-from">
                {e.from}
                {e.user_agent.map(|ua| view! { <p class="hint" data-testid="audit-user-agent">{ua}</p> })}
            </td>
            <td data-testid="audit-detail">{if e.detail.is_empty() { "—".to_owned() } else { e.detail }}</td>
        </tr>
    }
}
