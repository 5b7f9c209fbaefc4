//! The SCIM Tenant URL and API keys.

use leptos::prelude::*;

use super::upcoming::Upcoming;

/// The SCIM Tenant URL and API keys.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    view! { <Upcoming title="API keys" what="The SCIM Tenant URL and the API keys Entra ID uses as its Secret Token will be managed here." /> }
}
