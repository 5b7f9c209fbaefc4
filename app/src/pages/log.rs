//! Every SCIM request, newest first.

use leptos::prelude::*;

use super::upcoming::Upcoming;

/// Every SCIM request, newest first.
#[component]
pub fn ProvisioningLogPage() -> impl IntoView {
    view! { <Upcoming title="Provisioning log" what="Every SCIM request Entra ID sends will be recorded here." /> }
}
