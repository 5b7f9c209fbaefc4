//! Users: the people in the organisation — provisioned by Entra over SCIM or local — as a
//! server-paged table with search, status, source and role filters and sortable columns, all kept
//! in the URL (shareable, back button works, usable before hydration), and a CSV export of every
//! user the filters select; and one person's details,
//! where an admin makes them an admin or a member after a confirmation that says what changes.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{A, Form},
    hooks::{use_params_map, use_query_map},
};

use crate::{
    api::{
        SaveEntraAdminRole, SetUserRole, UserDetail, UserRow, UsersQuery, entra_admin_role, get_user,
        list_users,
    },
    components::{
        dialog::{Escape, Modal},
        export::ExportLink,
        form::{FormError, last_error},
        pager::{AFTER_PARAM, Anchors, BEFORE_PARAM, Pager, href_with},
        table::TableBox,
        time::When,
    },
    resource, routes,
};

fn param(q: &leptos_router::params::ParamsMap, key: &str) -> Option<String> {
    q.get(key).filter(|v| !v.is_empty())
}

/// A status badge for a user.
#[component]
pub fn StatusBadge(active: bool) -> impl IntoView {
    if active {
        view! { <span class="badge active">"active"</span> }
    } else {
        view! { <span class="badge deactivated">"deactivated"</span> }
    }
}

/// What provisioning cannot do to the organisation's last active admin, and why.
const LAST_ADMIN_NOTE: &str = "Last active admin — provisioning cannot deactivate or delete this person: \
     the API key Entra uses works only while an admin is active.";

/// Marks the organisation's last active admin, whom SCIM refuses to deactivate or delete: an
/// Entra admin who sees that refusal in the provisioning logs finds the person marked here.
#[component]
fn LastAdminBadge() -> impl IntoView {
    view! { <span class="badge last-admin" title=LAST_ADMIN_NOTE data-testid="last-admin">"last active admin"</span> }
}

/// A sortable column header: a link that sorts by `column`, toggling the direction.
#[component]
fn SortHeader(label: &'static str, column: &'static str) -> impl IntoView {
    let query = use_query_map();
    let current = move || query.with(|q| (param(q, "sort"), param(q, "dir")));
    let href = move || {
        let (sort, dir) = current();
        let desc = sort.as_deref() == Some(column) && dir.as_deref() != Some("desc");
        query
            .with(|q| href_with("/users", q, &[("sort", column), ("dir", if desc { "desc" } else { "asc" })]))
    };
    let aria = move || match current() {
        (Some(s), Some(d)) if s == column && d == "desc" => "descending",
        (Some(s), _) if s == column => "ascending",
        _ => "none",
    };
    view! { <th scope="col" aria-sort=aria><A href=href>{label}</A></th> }
}

fn role_label(role: &str) -> &'static str {
    if role == "admin" { "Admin" } else { "Member" }
}

fn user_rows(rows: Vec<UserRow>) -> impl IntoView {
    rows.into_iter()
        .map(|u| {
            view! {
                <tr data-testid="user-row">
                    <th scope="row"><a href=format!("/users/{}", u.id)>{u.user_name.clone()}</a></th>
                    <td>{u.display_name.clone().unwrap_or_default()}</td>
                    <td>{u.email.clone().unwrap_or_default()}</td>
                    <td>
                        <StatusBadge active=u.active />
                        {u.last_active_admin.then(|| view! { " " <LastAdminBadge /> })}
                    </td>
                    <td>{if u.source == "scim" { "SCIM" } else { "local" }}</td>
                    <td data-testid="user-role">{role_label(&u.role)}</td>
                    <td>{u.groups}</td>
                    <td><When iso=Some(u.updated_at.clone()) /></td>
                </tr>
            }
        })
        .collect_view()
}

/// A filter `<select>` named `name` whose value follows the URL's query parameter of that name
/// (so the back button restores it); the first option, "All", is the empty value.
fn query_select(
    name: &'static str,
    label: &'static str,
    options: &[(&'static str, &'static str)],
) -> impl IntoView {
    let query = use_query_map();
    let id = format!("users-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id name=name prop:value=move || query.with(|q| param(q, name).unwrap_or_default())>
                <option value="">"All"</option>
                {options.iter().map(|&(value, text)| view! { <option value=value>{text}</option> }).collect_view()}
            </select>
        </div>
    }
}

/// The users table.
#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let users = resource::new(
        move || query.get(),
        |q| {
            list_users(UsersQuery {
                q: param(&q, "q"),
                status: param(&q, "status"),
                source: param(&q, "source"),
                role: param(&q, "role"),
                sort: param(&q, "sort"),
                dir: param(&q, "dir"),
                page: param(&q, "page"),
                after: param(&q, AFTER_PARAM),
                before: param(&q, BEFORE_PARAM),
            })
        },
    );
    let value = move |key: &'static str| move || query.with(|q| param(q, key).unwrap_or_default());
    view! {
        <Title text="Users" />
        <h1>"Users"</h1>
        <EntraRoleCard />
        <super::invitations::InviteAdminsCard />
        <Form method="GET" action="" attr:class="inline-form filters" attr:role="search">
            <div class="field">
                <label for="users-q">"Search"</label>
                <input id="users-q" type="search" name="q" placeholder="Name, user name or email" prop:value=value("q") />
            </div>
            {query_select("status", "Status", &[("active", "Active"), ("deactivated", "Deactivated")])}
            {query_select("source", "Source", &[("scim", "SCIM"), ("local", "Local")])}
            {query_select("role", "Role", &[("admin", "Admin"), ("member", "Member")])}
            <button type="submit" class="button secondary">"Apply"</button>
        </Form>
        <Transition fallback=|| view! { <p class="loading">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(page) if page.total == 0 => view! {
                        <p class="card empty" data-testid="no-users">
                            "No users match. People appear here when Entra ID provisions them: create an API key and paste it into Entra's provisioning settings."
                        </p>
                    }.into_any(),
                    Ok(page) => {
                        // In the user-name order, "Next" and "Previous" name the people at the
                        // page's edges, and the server reads the neighbouring page from them by key.
                        let by_name = query.with_untracked(|q| param(q, "sort").is_none_or(|s| s == "user_name"));
                        let anchors = page.rows.first().zip(page.rows.last()).filter(|_| by_name).map(|(first, last)| {
                            Anchors { first: first.id.clone(), last: last.id.clone() }
                        });
                        view! {
                        <div class="list-tools">
                            <ExportLink
                                path=routes::USERS_EXPORT
                                filters=routes::USER_FILTERS
                                query=query.get_untracked()
                                what=format!("the {} {} these filters select", page.total, if page.total == 1 { "user" } else { "users" })
                                test_id="export-users"
                            />
                        </div>
                        <TableBox label="Users">
                            <table class="data" data-testid="users">
                                <caption class="sr-only">"Users"</caption>
                                <thead><tr>
                                    <SortHeader label="User name" column="user_name" />
                                    <SortHeader label="Display name" column="display_name" />
                                    <SortHeader label="Work email" column="email" />
                                    <SortHeader label="Status" column="status" />
                                    <th scope="col">"Source"</th>
                                    <th scope="col">"Role"</th>
                                    <th scope="col">"Groups"</th>
                                    <SortHeader label="Last change" column="updated" />
                                </tr></thead>
                                <tbody>{user_rows(page.rows)}</tbody>
                            </table>
                        </TableBox>
                        <Pager path="/users" query=query.get_untracked() page=page.page page_size=page.page_size total=page.total anchors=anchors />
                        }.into_any()
                    }
                    Err(e) => view! { <p class="banner error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One user: status, identifiers, groups, every SCIM attribute and recent provisioning events.
#[component]
pub fn UserDetailPage() -> impl IntoView {
    let params = use_params_map();
    let set_role = ServerAction::<SetUserRole>::new();
    let user = resource::new(
        move || (params.with(|p| p.get("id").unwrap_or_default()), set_role.version().get()),
        |(id, _)| get_user(id),
    );
    view! {
        <Title text="User" />
        <p><a href="/users">"← Users"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(u) => view! {
                        <h1 data-testid="user-name">{u.row.user_name.clone()}</h1>
                        {u.row.last_active_admin.then(|| view! {
                            <p class="banner warning" data-testid="last-admin-note">{LAST_ADMIN_NOTE}</p>
                        })}
                        <dl class="facts">
                            <dt>"Status"</dt><dd><StatusBadge active=u.row.active /></dd>
                            <dt>"Role"</dt><dd data-testid="role">{role_label(&u.row.role)}</dd>
                            <dt>"Display name"</dt><dd>{u.row.display_name.clone().unwrap_or_default()}</dd>
                            <dt>"Work email"</dt><dd>{u.row.email.clone().unwrap_or_default()}</dd>
                            <dt>"Source"</dt><dd>{if u.row.source == "scim" { "SCIM (provisioned by Entra ID)" } else { "local account" }}</dd>
                            <dt>"SCIM id"</dt><dd><code data-testid="scim-id">{u.row.id.clone()}</code></dd>
                            <dt>"externalId"</dt><dd><code>{u.external_id.clone().unwrap_or_default()}</code></dd>
                            <dt>"Created"</dt><dd><When iso=Some(u.created_at.clone()) /></dd>
                            <dt>"Last change"</dt><dd><When iso=Some(u.row.updated_at.clone()) /></dd>
                        </dl>
                        <RoleControl user=u.clone() action=set_role />
                        <section class="card">
                            <h2>"Groups"</h2>
                            {if u.groups.is_empty() {
                                view! { <p class="muted">"Not in any group."</p> }.into_any()
                            } else {
                                view! { <ul data-testid="user-groups">{u.groups.iter().map(|(id, name)| view! {
                                    <li><a href=format!("/groups/{id}")>{name.clone()}</a></li>
                                }).collect_view()}</ul> }.into_any()
                            }}
                        </section>
                        <section class="card">
                            <h2>"SCIM attributes"</h2>
                            <pre class="json" data-testid="scim-json">{u.scim_json.clone()}</pre>
                        </section>
                        <section class="card">
                            <h2>"Recent provisioning events"</h2>
                            {if u.events.is_empty() {
                                view! { <p class="muted">"No SCIM request has touched this user."</p> }.into_any()
                            } else {
                                view! { <ul class="events" data-testid="user-events">{u.events.iter().map(|e| view! {
                                    <li class:error={e.status >= 400}>
                                        <When iso=Some(e.at.clone()) />" "
                                        <code>{format!("{} {} → {}", e.method, e.operation, e.status)}</code>" "{e.summary.clone()}
                                    </li>
                                }).collect_view()}</ul> }.into_any()
                            }}
                        </section>
                    }.into_any(),
                    Err(e) => view! { <p class="banner error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What making `user` an admin or a member changes, for the confirmation.
fn role_consequence(user: &UserDetail, to_admin: bool) -> String {
    let name = &user.row.user_name;
    match (to_admin, user.is_you) {
        (true, _) => format!(
            "{name} will manage API keys, single sign-on, users, groups and the logs of this organisation, \
             and can change anyone's role, yours included."
        ),
        (false, true) => {
            "You will lose access to API keys, single sign-on, users, groups and the logs at once, \
             and the API keys you created stop working: Entra's provisioning with them fails until another \
             admin gives it a new key."
                .to_owned()
        }
        (false, false) => format!(
            "{name} keeps the dashboard and their profile only. API keys they created stop working at once: \
             if Entra uses one, give it a key of your own first."
        ),
    }
}

/// The person's role and the button that changes it, behind a confirmation that says what
/// changes. Refusals (such as the last active admin) show as an error beside it.
#[component]
fn RoleControl(user: UserDetail, action: ServerAction<SetUserRole>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let to_admin = user.row.role != "admin";
    let (button, target) = if to_admin { ("Make admin…", "admin") } else { ("Make member…", "member") };
    let title = format!("Make {} {}?", user.row.user_name, if to_admin { "an admin" } else { "a member" });
    let consequence = role_consequence(&user, to_admin);
    let id = user.row.id.clone();
    let error = move || action.value().get().and_then(|r| r.err());
    // Done either way: a refusal shows beside the button.
    Effect::new(move |_| {
        if action.value().with(Option::is_some) {
            confirming.set(false);
        }
    });
    let cancel = Callback::new(move |()| confirming.set(false));
    view! {
        <section class="card" aria-labelledby="role-heading">
            <h2 id="role-heading">"Role"</h2>
            <p class="muted">
                "Admins manage API keys, single sign-on, the directory and the logs; members see the dashboard and their profile."
            </p>
            {if user.row.role_from_entra {
                view! {
                    <p class="banner info" data-testid="role-from-entra">
                        "Entra sends this person's role (their app role assignment, in SCIM " <code>"roles"</code>
                        "). Change it in Entra under Enterprise applications → Users and groups; the next provisioning cycle brings it here."
                    </p>
                }.into_any()
            } else {
                view! {
                    <button type="button" class="button secondary" data-testid="change-role" on:click=move |_| confirming.set(true)>
                        {button}
                    </button>
                }.into_any()
            }}
            {move || error().map(|e| view! { <p class="banner error" role="alert" data-testid="role-error">{e.to_string()}</p> })}
            <Modal open=confirming labelledby="role-confirm-title" role="alertdialog" escape=Escape::Closes(cancel) testid="role-confirm">
                <h2 id="role-confirm-title">{title.clone()}</h2>
                <p>{consequence}</p>
                <div class="button-row">
                    <ActionForm action>
                        <input type="hidden" name="id" value=id />
                        <input type="hidden" name="role" value=target />
                        <button type="submit" class="button danger" data-testid="confirm-role">{title}</button>
                    </ActionForm>
                    <button type="button" class="button secondary" autofocus=true on:click=move |_| cancel.run(())>"Cancel"</button>
                </div>
            </Modal>
        </section>
    }
}

/// The organisation's Entra role mapping: which app role value makes an admin. Admins only: for
/// anyone else the server refuses to read it and nothing is shown. A plain form, so it saves
/// before hydration too.
#[component]
fn EntraRoleCard() -> impl IntoView {
    let save = ServerAction::<SaveEntraAdminRole>::new();
    let setting = resource::new(move || save.version().get(), |_| entra_admin_role());
    let error = last_error(save);
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                setting.await.ok().map(|current| view! {
                    <details class="card" data-testid="entra-role">
                        <summary>"Roles from Entra: the app role " <strong data-testid="entra-role-current">{current.clone()}</strong> " makes an admin"</summary>
                        <p>
                            "When Entra sends a person's app role assignment (SCIM " <code>"roles"</code> " or the sign-in's "
                            <code>"roles"</code> " claim), a role with this value makes them an admin and any other role a member. "
                            "People Entra sends no role for keep the role set here."
                        </p>
                        <FormError error />
                        <Show when=saved>
                            <p class="banner success" role="status" data-testid="entra-role-saved">"Saved."</p>
                        </Show>
                        <ActionForm action=save attr:class="inline-form" attr:data-testid="entra-role-form">
                            <div class="field">
                                <label for="entra-admin-role">"Admin app role value"</label>
                                <input id="entra-admin-role" name="admin_role" required maxlength="120" value=current />
                                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("admin_role"))}</p>
                            </div>
                            <button type="submit" class="button primary narrow" disabled=move || save.pending().get()>"Save"</button>
                        </ActionForm>
                    </details>
                })
            })}
        </Transition>
    }
}
