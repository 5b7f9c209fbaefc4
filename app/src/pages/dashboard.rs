//! The console's home page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::current_user;

/// Greets the signed-in admin and says what comes next.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
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
        <section class="card">
            <h2>"Provisioning"</h2>
            <p>
                "Counts of provisioned users and groups, provisioning health and a setup checklist "
                "will appear here once SCIM provisioning is available in Scimpad. Nothing has been provisioned yet."
            </p>
        </section>
    }
}
