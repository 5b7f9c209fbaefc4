//! Profile settings: the signed-in person's name, email, role, and password. Changing the
//! password ends every other session of theirs.
//!
//! For admins it also leads to the API keys: Microsoft's Entra tutorial for ProdPad, which admins
//! follow for apps like ours, says the key is under "Profile Settings → API key".

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{ChangePassword, UpdateProfile, current_user},
    components::form::{Field, FormError},
    dto::AddressStatus,
    resource,
};

/// What the profile says next to the email.
fn address_note(address: AddressStatus) -> &'static str {
    match address {
        AddressStatus::Confirmed => "(confirmed)",
        AddressStatus::Unconfirmed => "(not confirmed yet)",
        AddressStatus::MailOff | AddressStatus::NotApplicable => "",
    }
}

/// The profile page.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let update = ServerAction::<UpdateProfile>::new();
    let change = ServerAction::<ChangePassword>::new();
    let me = resource::new(move || update.version().get(), |_| current_user());
    view! {
        <Title text="Profile" />
        <h1>"Profile"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                me.await.ok().map(|u| view! {
                    <section class="card" aria-labelledby="profile-heading">
                        <h2 id="profile-heading">"You"</h2>
                        <dl class="facts" data-testid="profile">
                            <dt>"Name"</dt><dd>{u.name.clone()}</dd>
                            <dt>"Email"</dt>
                            <dd>
                                {u.email.clone()} " "
                                <span class="muted" data-testid="address-status">{address_note(u.address)}</span>
                            </dd>
                            <dt>"Organisation"</dt><dd>{u.organization.clone()}</dd>
                            <dt>"Role"</dt><dd data-testid="role">{if u.is_admin { "Admin" } else { "Member" }}</dd>
                        </dl>
                        <Show when=move || u.address == AddressStatus::MailOff>
                            <p class="hint" data-testid="mail-off">
                                "This server sends no email (no SMTP relay is configured), so addresses are not confirmed and “Forgot password?” is off. "
                                "If you forget your password, the server's operator can set a new one with "
                                <code>"scimpad user set-password"</code> "."
                            </p>
                        </Show>
                        <Show when=move || u.managed_by_idp>
                            <p class="hint" data-testid="managed-by-idp">
                                "You sign in with your organisation's single sign-on. Your name and email come from its identity provider (Microsoft Entra ID): change them there."
                            </p>
                        </Show>
                    </section>
                    <Show when=move || u.is_admin>
                        <ApiKeyPointer />
                    </Show>
                    <Show when=move || !u.managed_by_idp>
                        <EditProfile update change />
                    </Show>
                })
            })}
        </Transition>
    }
}

/// Where an admin following Entra's tutorial ("Profile Settings → API key") finds the key and the
/// Tenant URL to paste beside it.
#[component]
fn ApiKeyPointer() -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="api-key-heading" data-testid="profile-api-key">
            <h2 id="api-key-heading">"API key"</h2>
            <p>
                "Microsoft Entra ID provisions your people with an API key as its "
                <strong>"Secret Token"</strong> ", next to this server's " <strong>"Tenant URL"</strong>
                ". Both are on the API keys page, where you create, copy, regenerate and revoke keys."
            </p>
            <a class="button primary narrow" href="/settings/api-keys" data-testid="profile-api-key-link">
                "API keys and Tenant URL"
            </a>
        </section>
    }
}

/// Name, email and password forms, for people who sign in with a password.
#[component]
fn EditProfile(update: ServerAction<UpdateProfile>, change: ServerAction<ChangePassword>) -> impl IntoView {
    let update_error = Signal::derive(move || update.value().get().and_then(|r| r.err()));
    let change_error = Signal::derive(move || change.value().get().and_then(|r| r.err()));
    let saved = move || matches!(update.value().get(), Some(Ok(_)));
    let changed = move || matches!(change.value().get(), Some(Ok(())));
    view! {
        <section class="card" aria-labelledby="edit-heading">
            <h2 id="edit-heading">"Name and email"</h2>
            <FormError error=update_error />
            <Show when=saved><p class="banner success" role="status" data-testid="profile-saved">"Saved."</p></Show>
            <ActionForm action=update attr:novalidate=true attr:data-testid="profile-form">
                <Field name="name" label="Name" autocomplete="name" error=update_error />
                <Field name="email" label="Email" kind="email" autocomplete="email" hint="You sign in with this email." error=update_error />
                <button type="submit" class="button primary narrow" disabled=move || update.pending().get()>"Save"</button>
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            <FormError error=change_error />
            <Show when=changed>
                <p class="banner success" role="status" data-testid="password-changed">
                    "Password changed. Your other sessions have been signed out."
                </p>
            </Show>
            <ActionForm action=change attr:novalidate=true attr:data-testid="password-form">
                <Field name="current_password" label="Current password" kind="password" autocomplete="current-password" error=change_error />
                <Field name="new_password" label="New password" kind="password" autocomplete="new-password"
                    hint="At least 10 characters; avoid common passwords." error=change_error />
                <button type="submit" class="button primary narrow" disabled=move || change.pending().get()>"Change password"</button>
            </ActionForm>
        </section>
    }
}
