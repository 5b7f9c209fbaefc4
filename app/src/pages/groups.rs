//! Groups: the organisation's groups with member counts and search, and one group's members,
//! paged. State lives in the URL like the users table.
//!
//! The groups page also holds the one setting about groups, what a SCIM `replace` of `members`
//! does: admins look here when memberships are not what Entra shows, so the choice sits beside
//! the counts it explains.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::Form,
    hooks::{use_params_map, use_query_map},
};

use super::users::StatusBadge;
use crate::{
    api::{MemberReplaceMode, SaveMemberReplace, get_group, list_groups, member_replace_setting},
    components::{
        form::{FormError, last_error},
        pager::Pager,
        table::TableBox,
        time::When,
    },
    resource,
};

fn param(q: &leptos_router::params::ParamsMap, key: &str) -> Option<String> {
    q.get(key).filter(|v| !v.is_empty())
}

/// The groups table.
#[component]
pub fn GroupsPage() -> impl IntoView {
    let query = use_query_map();
    let groups = resource::new(
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
                        <TableBox label="Groups">
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
                        </TableBox>
                        <Pager path="/groups" query=query.get_untracked() page=page.page page_size=page.page_size total=page.total />
                    }.into_any(),
                    Err(e) => view! { <p class="banner error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <MemberReplaceCard />
    }
}

/// The two choices of the membership-replace setting: value, name, explanation.
const MEMBER_REPLACE_CHOICES: [(MemberReplaceMode, &str, &str); 2] = [
    (
        MemberReplaceMode::Additive,
        "Additive",
        "(recommended for Microsoft Entra ID): a replace adds the listed members and removes nobody",
    ),
    (
        MemberReplaceMode::Exact,
        "Exact",
        "(RFC 7644): a replace makes the members exactly the listed ones; use only if your identity provider sends complete member lists",
    ),
];

/// The organisation's "Membership replace" setting. Admins only: for anyone else the server
/// refuses to read it and nothing is shown. A plain form, so it saves before hydration too.
#[component]
fn MemberReplaceCard() -> impl IntoView {
    let save = ServerAction::<SaveMemberReplace>::new();
    let setting = resource::new(move || save.version().get(), |_| member_replace_setting());
    let error = last_error(save);
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                setting.await.ok().map(|current| {
                    let name = MEMBER_REPLACE_CHOICES.iter().find(|c| c.0 == current).map_or("", |c| c.1);
                    view! {
                        <section class="card member-replace" aria-labelledby="member-replace-heading" data-testid="member-replace">
                            <h2 id="member-replace-heading">"Membership replace"</h2>
                            <p>
                                "What Scimpad does when the identity provider sends a " <code>"replace"</code>
                                " of a group's members. Now: " <strong data-testid="member-replace-current">{name}</strong> "."
                            </p>
                            <FormError error />
                            <Show when=saved>
                                <p class="banner success" role="status" data-testid="member-replace-saved">"Saved."</p>
                            </Show>
                            <ActionForm action=save attr:data-testid="member-replace-form">
                                <fieldset>
                                    <legend class="sr-only">"Membership replace"</legend>
                                    {MEMBER_REPLACE_CHOICES.iter().map(|&(mode, name, explanation)| {
                                        let id = format!("member-replace-{}", mode.as_str());
                                        view! {
                                            <div class="field radio">
                                                <input type="radio" id=id.clone() name="mode" value=mode.as_str() checked={mode == current} />
                                                <label for=id><strong>{name}</strong>" "{explanation}</label>
                                            </div>
                                        }
                                    }).collect_view()}
                                </fieldset>
                                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("mode"))}</p>
                                <button type="submit" class="button primary narrow" disabled=move || save.pending().get()>"Save"</button>
                            </ActionForm>
                        </section>
                    }
                })
            })}
        </Transition>
    }
}

/// One group and its members, paged.
#[component]
pub fn GroupDetailPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let group = resource::new(
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
                                {if g.members.total == 0 {
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
