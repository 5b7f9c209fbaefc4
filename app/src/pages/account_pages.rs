//! The two pages a visitor without a session starts from: sign in (with the way to "Forgot
//! password?") and sign up. Both are plain forms that post to a server function, so they also
//! work before (or without) hydration.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{SignIn, SignUp},
    components::form::{Field, FormError, last_error},
};

/// Sign in with email and password.
#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = last_error(action);
    view! {
        <Title text="Sign in" />
        <div class="auth-page">
            <main class="auth-card" id="main">
                <h1>"Sign in to Scimpad"</h1>
                <FormError error />
                <ActionForm action attr:novalidate=true attr:data-testid="signin-form">
                    <Field name="email" label="Email" kind="email" autocomplete="username" error />
                    <Field name="password" label="Password" kind="password" autocomplete="current-password" error />
                    <button type="submit" class="button primary" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
                <p class="switch"><a href="/forgot-password" data-testid="forgot-password">"Forgot password?"</a></p>
                <SsoForm />
                <p class="switch">"New to Scimpad? " <a href="/signup">"Create an organisation"</a></p>
            </main>
        </div>
    }
}

/// "Sign in with SSO": a plain GET form to the server's SSO start, which finds the organisation
/// by its sign-in name or the email's domain and sends the browser to its identity provider.
#[component]
fn SsoForm() -> impl IntoView {
    view! {
        <form method="get" action=crate::routes::SSO_START class="sso-form" data-testid="sso-form">
            <h2 class="divider">"or"</h2>
            <div class="field">
                <label for="field-who">"Work email or organisation sign-in name"</label>
                <input id="field-who" name="who" type="text" autocomplete="username" required=true />
            </div>
            <button type="submit" class="button secondary" data-testid="sso-submit">"Sign in with SSO"</button>
        </form>
    }
}

/// Create an organisation and its first admin.
#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = last_error(action);
    view! {
        <Title text="Create your organisation" />
        <div class="auth-page">
            <main class="auth-card" id="main">
                <h1>"Create your organisation"</h1>
                <p class="lead">"You will be its first admin: you create the API key Microsoft Entra ID uses to provision your people."</p>
                <FormError error />
                <ActionForm action attr:novalidate=true attr:data-testid="signup-form">
                    <Field name="organization" label="Organisation name" autocomplete="organization" error />
                    <Field name="name" label="Your name" autocomplete="name" error />
                    <Field name="email" label="Work email" kind="email" autocomplete="email" error />
                    <Field
                        name="password"
                        label="Password"
                        kind="password"
                        autocomplete="new-password"
                        hint="At least 10 characters; avoid common passwords."
                        error
                    />
                    <button type="submit" class="button primary" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Creating…" } else { "Create organisation" }}
                    </button>
                </ActionForm>
                <p class="switch">"Already have an account? " <a href="/signin">"Sign in"</a></p>
            </main>
        </div>
    }
}
