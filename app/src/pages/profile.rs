//! Profile settings: who you are signed in as.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::current_user;

/// Shows the signed-in person's name, email, organisation and role.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    view! {
        <Title text="Profile" />
        <h1>"Profile"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                me.await.ok().map(|u| view! {
                    <dl class="facts" data-testid="profile">
                        <dt>"Name"</dt><dd>{u.name}</dd>
                        <dt>"Email"</dt><dd>{u.email}</dd>
                        <dt>"Organisation"</dt><dd>{u.organization}</dd>
                        <dt>"Role"</dt><dd>{if u.is_admin { "Admin" } else { "Member" }}</dd>
                    </dl>
                })
            })}
        </Suspense>
        <p class="note">"Editing your name, email and password comes with the next console release."</p>
    }
}
