//! The signed-in console's frame: top bar, navigation, sign-out, the banner of an unconfirmed
//! email address, and the page outlet.
//! The server redirects to /signin before this renders when there is no session.
//!
//! The navigation is a sidebar on wide screens and, on small ones, a menu behind the top bar's
//! "Menu" button: the same `<nav>`, a native popover (so it opens, and Escape or a tap outside
//! closes it, before the page has hydrated), which the stylesheet shows as the sidebar when
//! there is room.

use leptos::{ev::MouseEvent, html, prelude::*, wasm_bindgen::JsCast, web_sys};
use leptos_router::components::{A, Outlet};

use crate::{
    api::{ResendConfirmation, SignOut, current_user},
    components::form::{FormError, last_error},
    dto::AddressStatus,
    resource,
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

/// The skip link's jump, done here once the app runs: the router would otherwise take the click
/// as a navigation and leave focus where it was.
fn skip_to_main(ev: MouseEvent) {
    let main = document().get_element_by_id("main").and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(main) = main {
        ev.prevent_default();
        let _ = main.focus();
    }
}

/// The console frame around every signed-in page.
#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let me = resource::new(|| (), |_| current_user());
    let sign_out = ServerAction::<SignOut>::new();
    let nav = NodeRef::<html::Nav>::new();
    // The page changes without a reload, so the small screens' menu closes itself on a link.
    let close_menu = move |ev: MouseEvent| {
        let link = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("a").ok()?);
        if let (Some(_), Some(nav)) = (link, nav.get_untracked()) {
            let _ = nav.hide_popover();
        }
    };
    view! {
        <a class="skip-link" href="#main" on:click=skip_to_main>"Skip to content"</a>
        <div class="console">
            <header class="topbar">
                <button type="button" class="button secondary menu-button" popovertarget="console-nav" data-testid="menu">
                    <span aria-hidden="true">"☰ "</span>"Menu"
                </button>
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
            <nav class="sidebar" id="console-nav" popover="auto" aria-label="Console" node_ref=nav on:click=close_menu>
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
