//! Users provisioned by Entra ID.

use leptos::prelude::*;

use super::upcoming::Upcoming;

/// Users provisioned by Entra ID.
#[component]
pub fn UsersPage() -> impl IntoView {
    view! { <Upcoming title="Users" what="The people Microsoft Entra ID provisions over SCIM will be listed here." /> }
}
