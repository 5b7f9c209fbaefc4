//! The signed-in console's frame: top bar, navigation, sign-out, the banner of an unconfirmed
//! email address, and the page outlet.
//! The server redirects to /signin before this renders when there is no session.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

use crate::{
    api::{ResendConfirmation, SignOut, current_user},
    components::form::{FormError, last_error},
    dto::AddressStatus,
};

/// Navigation entries: (href, label, admins only).
const NAV: &[(&str, &str, bool)] = &[
    ("/", "Dashboard", false),
    ("/users", "Users", true),
    ("/groups", "Groups", true),
    ("/log", "Provisioning log", true),
    ("/audit", "Audit log", true),
];
const SETTINGS: &[(&str, &str, bool)] = &[
    ("/settings/profile", "Profile", false),
    ("/settings/api-keys", "API keys", true),
    ("/settings/sso", "Single sign-on", true),
];

fn links(items: &'static [(&'static str, &'static str, bool)], admin: bool) -> impl IntoView {
    items
        .iter()
        .filter(move |(_, _, admin_only)| admin || !admin_only)
        .map(|(href, label, _)| view! { <li><A href=*href exact=true>{*label}</A></li> })
        .collect_view()
}

/// The console frame around every signed-in page.
#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <div class="console">
            <header class="topbar">
                <a class="brand" href="/">"Scimpad"</a>
                <Suspense fallback=|| view! { <span class="who">"…"</span> }>
                    {move || Suspend::new(async move {
                        me.await.ok().map(|u| view! {
                            <span class="who" data-testid="current-user">
                                <span class="who-name">{u.name}</span>
                                <span class="who-org">{u.organization}</span>
                            </span>
                        })
                    })}
                </Suspense>
                <ActionForm action=sign_out attr:class="signout">
                    <button type="submit" class="button secondary" data-testid="sign-out">"Sign out"</button>
                </ActionForm>
            </header>
            <nav class="sidebar" aria-label="Console">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let admin = me.await.map(|u| u.is_admin).unwrap_or(false);
                        view! {
                            <ul>{links(NAV, admin)}</ul>
                            <h2 class="nav-heading">"Settings"</h2>
                            <ul>{links(SETTINGS, admin)}</ul>
                        }
                    })}
                </Suspense>
            </nav>
            <main id="main" tabindex="-1">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        me.await
                            .ok()
                            .filter(|u| u.address == AddressStatus::Unconfirmed)
                            .map(|u| view! { <ConfirmBanner email=u.email /> })
                    })}
                </Suspense>
                <Outlet />
            </main>
        </div>
    }
}

/// Shown until the signed-in person confirms their address (with email on): what it holds back,
/// and a button for a new link.
#[component]
fn ConfirmBanner(email: String) -> impl IntoView {
    let resend = ServerAction::<ResendConfirmation>::new();
    let error = last_error(resend);
    let sent = move || matches!(resend.value().get(), Some(Ok(())));
    view! {
        <div class="banner info confirm-banner" role="status" data-testid="confirm-banner">
            <p>
                "Confirm your email address: we sent a link to " <strong>{email}</strong>
                ". Until you follow it, you cannot invite admins or claim email domains for single sign-on."
            </p>
            <Show
                when=sent
                fallback=move || view! {
                    <ActionForm action=resend attr:class="inline-form">
                        <button type="submit" class="button secondary narrow" data-testid="resend-confirmation"
                            disabled=move || resend.pending().get()>"Send a new link"</button>
                    </ActionForm>
                }
            >
                <p data-testid="confirmation-sent">"Sent. The new link replaces the one before."</p>
            </Show>
            <FormError error />
        </div>
    }
}
