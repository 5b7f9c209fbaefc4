//! The console's home page: a greeting and, for admins, the directory's counts, provisioning
//! health, and a setup checklist that ticks itself as the organisation goes from "API key
//! created" to "first SCIM request" to "first user provisioned".

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{Overview, current_user, dashboard_overview},
    components::time::When,
    resource,
};

/// Greets the signed-in person and, for admins, shows how provisioning is going.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let me = resource::new(|| (), |_| current_user());
    // Members have no provisioning to manage: ask only for an admin's overview, so a member's
    // home page is a plain 200 rather than a refused request.
    let overview = resource::new(
        || (),
        move |_| async move {
            match me.await {
                Ok(u) if u.is_admin => dashboard_overview().await.map(Some),
                Ok(_) => Ok(None),
                Err(e) => Err(e),
            }
        },
    );
    view! {
        <Title text="Dashboard" />
        <h1>"Dashboard"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                me.await.ok().map(|u| view! {
                    <p data-testid="welcome">"Welcome, " {u.name} ". You are signed in to " <strong>{u.organization}</strong> "."</p>
                })
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p class="loading">"Loading provisioning status…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(Some(o)) => view! { <Counts o=o.clone() /> <Health o=o.clone() /> <Checklist o /> }.into_any(),
                    Ok(None) => view! {
                        <p>"Your account is managed by your organisation's identity provider. See " <a href="/settings/profile">"your profile"</a> "."</p>
                    }.into_any(),
                    Err(e) => view! { <p class="banner error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Users and groups Entra ID has provisioned.
#[component]
fn Counts(o: Overview) -> impl IntoView {
    view! {
        <section aria-labelledby="counts-heading">
            <h2 id="counts-heading" class="sr-only">"Provisioned directory"</h2>
            <dl class="stats">
                <div class="stat">
                    <dt>"Active users"</dt>
                    <dd data-testid="stat-active-users">{o.active_users}</dd>
                </div>
                <div class="stat">
                    <dt>"Deactivated users"</dt>
                    <dd data-testid="stat-deactivated-users">{o.deactivated_users}</dd>
                </div>
                <div class="stat">
                    <dt>"Groups"</dt>
                    <dd data-testid="stat-groups">{o.groups}</dd>
                </div>
            </dl>
            <p class="note">"Counts of the people and groups Microsoft Entra ID provisioned over SCIM."</p>
        </section>
    }
}

/// When Entra last reached us successfully, and how many requests failed lately.
#[component]
fn Health(o: Overview) -> impl IntoView {
    let errors = o.errors_last_24h;
    view! {
        <section class="card health" aria-labelledby="health-heading" data-testid="health">
            <h2 id="health-heading">"Provisioning health"</h2>
            <dl class="facts">
                <dt>"Last successful SCIM request"</dt>
                <dd data-testid="last-success">
                    <When iso=o.last_success fallback="None yet" />
                    {o.last_success_ago.map(|ago| format!(" ({ago})"))}
                </dd>
                <dt>"Errors in the last 24 hours"</dt>
                <dd data-testid="errors-24h" class:health-bad={errors > 0}>
                    {errors}
                    {(errors > 0).then(|| view! { " · " <a href="/log?result=error">"See the failed requests"</a> })}
                </dd>
            </dl>
        </section>
    }
}

/// One setup step: ticked when `done`, with what to do next otherwise.
fn step(testid: &'static str, done: bool, title: &'static str, todo: impl IntoView) -> impl IntoView {
    view! {
        <li class="step" class:done=done data-testid=testid data-done=done.to_string()>
            <span class="tick" aria-hidden="true">{if done { "✓" } else { "" }}</span>
            <span class="sr-only">{if done { "Done: " } else { "To do: " }}</span>
            <span class="step-title">{title}</span>
            {(!done).then(|| view! { <p class="step-todo">{todo}</p> })}
        </li>
    }
}

/// API key → first SCIM request → first provisioned user.
#[component]
fn Checklist(o: Overview) -> impl IntoView {
    let request_todo = if o.only_failures {
        view! {
            "Requests arrive but fail. " <a href="/log?result=error">"See why in the provisioning log"</a> "."
        }
        .into_any()
    } else {
        view! {
            "In Entra ID, paste the Tenant URL and your key into the app's Provisioning settings and click "
            "Test Connection."
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="setup-heading">
            <h2 id="setup-heading">"Set up provisioning"</h2>
            <ol class="checklist" data-testid="checklist">
                {step(
                    "check-key",
                    o.key_created,
                    "Create an API key",
                    view! { <a href="/settings/api-keys">"Create one on the API keys page"</a> " to get the Tenant URL and Secret Token." },
                )}
                {step("check-request", o.request_succeeded, "Entra ID reaches Scimpad", request_todo)}
                {step(
                    "check-user",
                    o.user_provisioned,
                    "First user provisioned",
                    "Assign users or groups to the app in Entra ID and start provisioning.",
                )}
            </ol>
        </section>
    }
}
