//! The pages email leads to (issue 13): "Forgot password?", and the pages the emailed links
//! open (reset a password, confirm an address, accept an invitation). A link's page only shows a
//! form; the form posts the token back, so a mail scanner that opens the link spends nothing.
//! Without email on the server, "Forgot password?" says so and who can help instead.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        AcceptInvitation, ConfirmEmail, RequestPasswordReset, ResetPassword, mail_enabled, open_invitation,
        reset_link,
    },
    components::form::{Field, FormError, last_error},
    resource,
};

/// The token of the link that opened this page.
fn link_token() -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get("token").unwrap_or_default()))
}

/// What a page says about a link that cannot be used, and where to go instead.
#[component]
fn LinkGone(
    message: &'static str,
    #[prop(optional)] next: Option<(&'static str, &'static str)>,
) -> impl IntoView {
    view! {
        <div class="banner error" role="alert" data-testid="link-gone">{message}</div>
        {next.map(|(href, label)| view! { <p class="switch"><a href=href>{label}</a></p> })}
    }
}

/// A card on the signed-out pages' background.
#[component]
fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="auth-page">
            <main class="auth-card" id="main">
                <h1>{title}</h1>
                {children()}
            </main>
        </div>
    }
}

/// "Forgot password?": asks for the address and answers the same whether or not it has an
/// account.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let error = last_error(action);
    let enabled = resource::new(|| (), |_| mail_enabled());
    let sent = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <AuthCard title="Reset your password">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match enabled.await {
                        Ok(true) => view! {
                            <Show
                                when=sent
                                fallback=move || view! {
                                    <p class="lead">"Enter the email you sign in with. We will send you a link to choose a new password."</p>
                                    <FormError error />
                                    <ActionForm action attr:novalidate=true attr:data-testid="forgot-form">
                                        <Field name="email" label="Email" kind="email" autocomplete="username" error />
                                        <button type="submit" class="button primary" disabled=move || action.pending().get()>
                                            "Send the link"
                                        </button>
                                    </ActionForm>
                                }
                            >
                                <p class="banner success" role="status" data-testid="reset-sent">
                                    "If an account signs in with that email, a link to reset its password is on its way. "
                                    "It works once, for 30 minutes. Check your spam folder if nothing arrives."
                                </p>
                            </Show>
                        }.into_any(),
                        _ => view! {
                            <p class="banner info" role="status" data-testid="mail-off">
                                "This server sends no email, so passwords cannot be reset by email here. "
                                "Ask another admin of your organisation to invite you again, or the server's operator to run "
                                <code>"scimpad user set-password --email you@example.com"</code> "."
                            </p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <p class="switch"><a href="/signin">"Back to sign in"</a></p>
        </AuthCard>
    }
}

/// Choose a new password with an emailed link; success signs this browser in.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let token = link_token();
    let action = ServerAction::<ResetPassword>::new();
    let error = last_error(action);
    let link = resource::new(move || token.get(), reset_link);
    view! {
        <AuthCard title="Choose a new password">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match link.await {
                        Ok(Some(email)) => view! {
                            <p class="lead">"For " <strong data-testid="reset-email">{email}</strong> ". Every other session of this account ends."</p>
                            <FormError error />
                            <ActionForm action attr:novalidate=true attr:data-testid="reset-form">
                                <input type="hidden" name="token" value=token.get_untracked() />
                                <Field name="password" label="New password" kind="password" autocomplete="new-password"
                                    hint="At least 10 characters; avoid common passwords." error />
                                <button type="submit" class="button primary" disabled=move || action.pending().get()>"Set password and sign in"</button>
                            </ActionForm>
                        }.into_any(),
                        _ => view! {
                            <LinkGone
                                message="This reset link no longer works: it was used, replaced by a newer one, or is more than 30 minutes old."
                                next=("/forgot-password", "Ask for a new link")
                            />
                        }.into_any(),
                    }
                })}
            </Suspense>
        </AuthCard>
    }
}

/// Confirm an address with an emailed link.
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let token = link_token();
    let action = ServerAction::<ConfirmEmail>::new();
    let error = last_error(action);
    let done = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <AuthCard title="Confirm your email address">
            <Show
                when=done
                fallback=move || view! {
                    <p class="lead">"One click proves this address is yours, so you can invite admins and claim email domains for single sign-on."</p>
                    <FormError error />
                    <ActionForm action attr:data-testid="confirm-form">
                        <input type="hidden" name="token" value=move || token.get() />
                        <button type="submit" class="button primary" disabled=move || action.pending().get()>"Confirm my email address"</button>
                    </ActionForm>
                }
            >
                <p class="banner success" role="status" data-testid="email-confirmed">"Your email address is confirmed."</p>
                <p class="switch"><a href="/">"Go to the console"</a></p>
            </Show>
        </AuthCard>
    }
}

/// Accept an invitation to administer: choose a name and a password, and be signed in.
#[component]
pub fn InvitationPage() -> impl IntoView {
    let token = link_token();
    let action = ServerAction::<AcceptInvitation>::new();
    let error = last_error(action);
    let offer = resource::new(move || token.get(), open_invitation);
    view! {
        <AuthCard title="Accept your invitation">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match offer.await {
                        Ok(Some(offer)) => view! {
                            <p class="lead" data-testid="invitation-offer">
                                "You are invited to be an admin of " <strong>{offer.organization}</strong>
                                ", signing in as " <strong>{offer.email}</strong> " with a password of your own."
                            </p>
                            <FormError error />
                            <ActionForm action attr:novalidate=true attr:data-testid="accept-form">
                                <input type="hidden" name="token" value=token.get_untracked() />
                                <Field name="name" label="Your name" autocomplete="name" value=offer.name error />
                                <Field name="password" label="Password" kind="password" autocomplete="new-password"
                                    hint="At least 10 characters; avoid common passwords." error />
                                <button type="submit" class="button primary" disabled=move || action.pending().get()>"Accept and sign in"</button>
                            </ActionForm>
                        }.into_any(),
                        _ => view! {
                            <LinkGone
                                message="This invitation no longer works: it was accepted, withdrawn, replaced by a newer one, or is more than 72 hours old. Ask the admin who invited you for a new one."
                            />
                        }.into_any(),
                    }
                })}
            </Suspense>
        </AuthCard>
    }
}
