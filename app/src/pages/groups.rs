//! Groups: the organisation's groups with member counts and search, and one group's members,
//! paged. State lives in the URL like the users table.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::Form,
    hooks::{use_params_map, use_query_map},
};

use super::users::StatusBadge;
use crate::{
    api::{get_group, list_groups},
    components::{pager::Pager, time::When},
};

fn param(q: &leptos_router::params::ParamsMap, key: &str) -> Option<String> {
    q.get(key).filter(|v| !v.is_empty())
}

/// The groups table.
#[component]
pub fn GroupsPage() -> impl IntoView {
    let query = use_query_map();
    let groups = Resource::new(
        move || query.get(),
        |q| list_groups(param(&q, "q"), param(&q, "page").and_then(|p| p.parse().ok())),
    );
    view! {
        <Title text="Groups" />
        <h1>"Groups"</h1>
        <Form method="GET" action="" attr:class="inline-form filters" attr:role="search">
            <div class="field">
                <label for="groups-q">"Search"</label>
                <input id="groups-q" type="search" name="q" placeholder="Group name"
                    prop:value=move || query.with(|q| param(q, "q").unwrap_or_default()) />
            </div>
            <button type="submit" class="button secondary">"Search"</button>
        </Form>
        <Transition fallback=|| view! { <p class="loading">"Loading groups…"</p> }>
            {move || Suspend::new(async move {
                match groups.await {
                    Ok(page) if page.total == 0 => view! {
                        <p class="card empty" data-testid="no-groups">
                            "No groups yet. Groups appear when Entra ID provisions them (enable group provisioning in the Entra app's attribute mappings)."
                        </p>
                    }.into_any(),
                    Ok(page) => view! {
                        <div class="table-wrap">
                            <table class="data" data-testid="groups">
                                <caption class="sr-only">"Groups"</caption>
                                <thead><tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"externalId"</th>
                                    <th scope="col">"Members"</th>
                                    <th scope="col">"Last change"</th>
                                </tr></thead>
                                <tbody>{page.rows.into_iter().map(|g| view! {
                                    <tr data-testid="group-row">
                                        <th scope="row"><a href=format!("/groups/{}", g.id)>{g.name.clone()}</a></th>
                                        <td><code>{g.external_id.clone().unwrap_or_default()}</code></td>
                                        <td data-testid="member-count">{g.members}</td>
                                        <td><When iso=Some(g.updated_at.clone()) /></td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table>
                        </div>
                        <Pager path="/groups" query=query.get_untracked() page=page.page page_size=page.page_size total=page.total />
                    }.into_any(),
                    Err(e) => view! { <p class="banner error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One group and its members, paged.
#[component]
pub fn GroupDetailPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let group = Resource::new(
        move || (params.with(|p| p.get("id").unwrap_or_default()), query.with(|q| param(q, "page"))),
        |(id, page)| get_group(id, page.and_then(|p| p.parse().ok())),
    );
    view! {
        <Title text="Group" />
        <p><a href="/groups">"← Groups"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match group.await {
                    Ok(g) => {
                        let path = format!("/groups/{}", g.row.id);
                        view! {
                            <h1 data-testid="group-name">{g.row.name.clone()}</h1>
                            <dl class="facts">
                                <dt>"SCIM id"</dt><dd><code>{g.row.id.clone()}</code></dd>
                                <dt>"externalId"</dt><dd><code>{g.row.external_id.clone().unwrap_or_default()}</code></dd>
                                <dt>"Members"</dt><dd data-testid="group-member-total">{g.row.members}</dd>
                                <dt>"Created"</dt><dd><When iso=Some(g.created_at.clone()) /></dd>
                                <dt>"Last change"</dt><dd><When iso=Some(g.row.updated_at.clone()) /></dd>
                            </dl>
                            <section class="card">
                                <h2>"Members"</h2>
                                {if g.members.rows.is_empty() {
                                    view! { <p class="muted">"No members."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="members" data-testid="group-members">{g.members.rows.iter().map(|u| view! {
                                            <li><a href=format!("/users/{}", u.id)>{u.user_name.clone()}</a>" "<StatusBadge active=u.active /></li>
                                        }).collect_view()}</ul>
                                        <Pager path=path query=query.get_untracked() page=g.members.page page_size=g.members.page_size total=g.members.total />
                                    }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="banner error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
