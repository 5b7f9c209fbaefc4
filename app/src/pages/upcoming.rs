//! Pages whose features arrive with SCIM provisioning. They say so plainly and show no data that
//! does not exist yet.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn Upcoming(title: &'static str, what: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <h1>{title}</h1>
        <section class="card empty" data-testid="upcoming">
            <p>{what}</p>
            <p>"This part of the console is not available yet."</p>
        </section>
    }
}

/// Users provisioned by Entra ID.
#[component]
pub fn UsersPage() -> impl IntoView {
    view! { <Upcoming title="Users" what="The people Microsoft Entra ID provisions over SCIM will be listed here." /> }
}

/// Groups provisioned by Entra ID.
#[component]
pub fn GroupsPage() -> impl IntoView {
    view! { <Upcoming title="Groups" what="Groups and their members, as Entra ID provisions them, will be listed here." /> }
}

/// Every SCIM request, newest first.
#[component]
pub fn ProvisioningLogPage() -> impl IntoView {
    view! { <Upcoming title="Provisioning log" what="Every SCIM request Entra ID sends will be recorded here." /> }
}

/// The SCIM Tenant URL and API keys.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    view! { <Upcoming title="API keys" what="The SCIM Tenant URL and the API keys Entra ID uses as its Secret Token will be managed here." /> }
}
