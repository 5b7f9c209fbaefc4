//! Groups provisioned by Entra ID.

use leptos::prelude::*;

use super::upcoming::Upcoming;

/// Groups provisioned by Entra ID.
#[component]
pub fn GroupsPage() -> impl IntoView {
    view! { <Upcoming title="Groups" what="Groups and their members, as Entra ID provisions them, will be listed here." /> }
}
