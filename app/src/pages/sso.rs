//! Settings → Single sign-on: what to paste into Entra for SAML (Identifier, Reply URL, Sign on
//! URL, metadata) and OIDC (redirect URI), the two connections' forms, and the organisation's
//! SSO policy: its email domains, each proven by a DNS TXT record before it routes anyone (the
//! record to create with copy buttons, Verify, the state), and "require SSO". Modelled on how
//! Atlassian and Okta present SSO setup and domain verification: our values first with copy
//! buttons, then theirs.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{
        AddSsoDomain, DomainState, DomainView, RemoveSsoDomain, SaveOidcConnection, SaveSamlConnection,
        SaveSsoPolicy, SsoView, VerifySsoDomain, sso_settings,
    },
    components::{
        copy::CopyField,
        form::{Field, FormError, last_error},
        time::{When, short},
    },
    error::AppError,
    resource,
};

/// The actions of the policy card's domain list.
#[derive(Clone, Copy)]
struct DomainActions {
    add: ServerAction<AddSsoDomain>,
    verify: ServerAction<VerifySsoDomain>,
    remove: ServerAction<RemoveSsoDomain>,
}

/// The SSO settings page.
#[component]
pub fn SsoSettingsPage() -> impl IntoView {
    let saml = ServerAction::<SaveSamlConnection>::new();
    let oidc = ServerAction::<SaveOidcConnection>::new();
    let policy = ServerAction::<SaveSsoPolicy>::new();
    let domains =
        DomainActions { add: ServerAction::new(), verify: ServerAction::new(), remove: ServerAction::new() };
    let settings = resource::new(
        move || {
            (
                (saml.version().get(), oidc.version().get(), policy.version().get()),
                (domains.add.version().get(), domains.verify.version().get(), domains.remove.version().get()),
            )
        },
        |_| sso_settings(),
    );
    view! {
        <Title text="Single sign-on" />
        <h1>"Single sign-on"</h1>
        <p class="lead">"People Entra ID provisions sign in through your identity provider. Only active, provisioned people get in; deactivating someone in Entra signs them out."</p>
        <Transition fallback=|| view! { <p class="loading">"Loading SSO settings…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(v) => view! {
                        <SamlCard v=v.clone() action=saml />
                        <OidcCard v=v.clone() action=oidc />
                        <PolicyCard v action=policy domains />
                    }
                    .into_any(),
                    Err(AppError::Forbidden) => view! {
                        <p class="banner error" role="alert" data-testid="forbidden">
                            "Only admins of your organisation can see and change single sign-on."
                        </p>
                    }
                    .into_any(),
                    Err(e) => view! { <p class="banner error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A "Saved." line after a successful submission.
#[component]
fn Saved(saved: Signal<bool>, testid: &'static str) -> impl IntoView {
    view! { <Show when=move || saved.get()><p class="banner success" role="status" data-testid=testid>"Saved."</p></Show> }
}

#[component]
fn Enabled(checked: bool, testid: &'static str) -> impl IntoView {
    let id = format!("field-{testid}");
    view! {
        <div class="field checkbox">
            <input type="checkbox" id=id.clone() name="enabled" value="on" checked=checked data-testid=testid />
            <label for=id>"Enabled: people can sign in with this connection"</label>
        </div>
    }
}

#[component]
fn SamlCard(v: SsoView, action: ServerAction<SaveSamlConnection>) -> impl IntoView {
    let error = last_error(action);
    let saved = Signal::derive(move || matches!(action.value().get(), Some(Ok(()))));
    let s = v.saml.clone().unwrap_or_default();
    view! {
        <section class="card" aria-labelledby="saml-heading" data-testid="saml-card">
            <h2 id="saml-heading">"SAML 2.0 (Microsoft Entra gallery or custom app)"</h2>
            <h3>"1. In Entra: Single sign-on → SAML → Basic SAML Configuration"</h3>
            <CopyField label="Identifier (Entity ID)" value=v.sp_entity_id.clone() testid="saml-entity-id" />
            <CopyField label="Reply URL (Assertion Consumer Service URL)" value=v.acs_url.clone() testid="saml-acs-url" />
            <CopyField label="Sign on URL (optional)" value=v.sign_on_url.clone() testid="saml-sign-on-url" />
            <p class="hint">"Or upload our metadata: " <a href=v.sp_entity_id.clone()>"metadata XML"</a> ". Keep the default claims: Scimpad matches the signed-in person to the user provisioning created, by object ID or user principal name, never by email."</p>
            <h3>"2. From Entra: SAML Certificates and Set up"</h3>
            <FormError error />
            <Saved saved testid="saml-saved" />
            <ActionForm action attr:novalidate=true attr:data-testid="saml-form">
                <Field name="idp_entity_id" label="Microsoft Entra Identifier (IdP entity ID)" value=s.idp_entity_id.clone() hint="https://sts.windows.net/<tenant ID>/" error />
                <Field name="sso_url" label="Login URL (IdP sign-on URL)" value=s.sso_url.clone() hint="https://login.microsoftonline.com/<tenant ID>/saml2" error />
                <div class="field" class:invalid=move || error.get().and_then(|e| e.for_field("certificates")).is_some()>
                    <label for="field-certificates">"Signing certificate(s), Base64 (PEM)"</label>
                    <textarea id="field-certificates" name="certificates" rows="8" spellcheck="false" aria-describedby="field-certificates-hint field-certificates-error" data-testid="saml-certificates">{s.certificates_pem.clone()}</textarea>
                    <p class="hint" id="field-certificates-hint">"Paste Entra's Certificate (Base64). During a certificate rollover paste both the current and the new one; sign-ins signed by either are accepted."</p>
                    <p class="field-error" id="field-certificates-error" role="alert" data-testid="error-certificates">{move || error.get().and_then(|e| e.for_field("certificates"))}</p>
                </div>
                {(!s.certificates.is_empty()).then(|| view! {
                    <ul class="pinned" data-testid="saml-pinned">
                        {s.certificates.iter().map(|c| view! {
                            <li>{c.subject.clone()} ", expires " <When iso=Some(c.expires_at.clone()) /></li>
                        }).collect_view()}
                    </ul>
                })}
                <Enabled checked=s.enabled testid="saml-enabled" />
                <button type="submit" class="button primary narrow" disabled=move || action.pending().get()>"Save SAML"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn OidcCard(v: SsoView, action: ServerAction<SaveOidcConnection>) -> impl IntoView {
    let error = last_error(action);
    let saved = Signal::derive(move || matches!(action.value().get(), Some(Ok(()))));
    let o = v.oidc.clone().unwrap_or_default();
    let secret_hint = if o.has_secret {
        "A secret is saved and never shown. Leave blank to keep it; paste a new one to replace it."
    } else {
        "Entra → App registrations → Certificates & secrets → New client secret: paste its Value."
    };
    view! {
        <section class="card" aria-labelledby="oidc-heading" data-testid="oidc-card">
            <h2 id="oidc-heading">"OpenID Connect (Entra app registration)"</h2>
            <CopyField label="Redirect URI (Web platform)" value=v.redirect_uri.clone() testid="oidc-redirect-uri" />
            <FormError error />
            <Saved saved testid="oidc-saved" />
            <ActionForm action attr:novalidate=true attr:data-testid="oidc-form">
                <Field name="tenant" label="Directory (tenant) ID or issuer URL" value=o.issuer.clone() hint="Your tenant's ID; never common or organizations." error />
                <Field name="client_id" label="Application (client) ID" value=o.client_id.clone() error />
                <Field name="client_secret" label="Client secret" kind="password" autocomplete="new-password" required=false hint=secret_hint error />
                <Enabled checked=o.enabled testid="oidc-enabled" />
                <button type="submit" class="button primary narrow" disabled=move || action.pending().get()>"Save OIDC"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn PolicyCard(v: SsoView, action: ServerAction<SaveSsoPolicy>, domains: DomainActions) -> impl IntoView {
    let error = last_error(action);
    let saved = Signal::derive(move || matches!(action.value().get(), Some(Ok(()))));
    view! {
        <section class="card" aria-labelledby="policy-heading" data-testid="policy-card">
            <h2 id="policy-heading">"Sign-in policy"</h2>
            <p>"People choose “Sign in with SSO” and type " <strong data-testid="org-slug">{v.org_slug.clone()}</strong> " or their work email on one of your verified domains."</p>
            <Domains claims=v.domains.clone() max=v.max_domains actions=domains />
            <h3>"Require SSO"</h3>
            <FormError error />
            <Saved saved testid="policy-saved" />
            <ActionForm action attr:novalidate=true attr:data-testid="policy-form">
                <div class="field checkbox">
                    <input type="checkbox" id="field-sso-required" name="sso_required" value="on" checked=v.sso_required data-testid="sso-required" />
                    <label for="field-sso-required">"Require SSO: turn off password sign-in for everyone except admins (kept as break-glass)"</label>
                </div>
                <p class="field-error" role="alert">{move || error.get().and_then(|e| e.for_field("sso_required"))}</p>
                <button type="submit" class="button primary narrow" disabled=move || action.pending().get()>"Save policy"</button>
            </ActionForm>
        </section>
    }
}

/// The organisation's email domains: add one, the TXT record that proves each, Verify, Remove.
#[component]
fn Domains(claims: Vec<DomainView>, max: u64, actions: DomainActions) -> impl IntoView {
    let add_error = last_error(actions.add);
    let check_error = Signal::derive(move || {
        let verify = actions.verify.value().get().and_then(|r| r.err());
        verify.or_else(|| actions.remove.value().get().and_then(|r| r.err())).map(|e| e.to_string())
    });
    let verified = Signal::derive(move || matches!(actions.verify.value().get(), Some(Ok(()))));
    let list = if claims.is_empty() {
        view! { <p class="muted" data-testid="no-domains">"No domains yet."</p> }.into_any()
    } else {
        claims.into_iter().map(|claim| view! { <DomainItem claim actions /> }).collect_view().into_any()
    };
    view! {
        <section aria-labelledby="domains-heading" data-testid="domains">
            <h3 id="domains-heading">"Email domains"</h3>
            <p class="hint">"A domain routes “Sign in with SSO” to your identity provider only once you prove you control it: create the TXT record shown in its DNS, then click Verify. Scimpad re-checks verified records regularly (daily by default) and stops routing a domain whose record stays missing, so keep them published."</p>
            <Show when=move || check_error.get().is_some()>
                <p class="banner error" role="alert" data-testid="domain-error">{move || check_error.get()}</p>
            </Show>
            <Show when=move || verified.get()>
                <p class="banner success" role="status" data-testid="domain-verified">"Verified: people who type an email on this domain now go to your identity provider."</p>
            </Show>
            {list}
            <FormError error=add_error />
            <ActionForm action=actions.add attr:class="inline-form" attr:novalidate=true attr:data-testid="add-domain-form">
                <Field name="domain" label="Add a domain" hint="e.g. contoso.com" error=add_error />
                <button type="submit" class="button primary" data-testid="add-domain" disabled=move || actions.add.pending().get()>"Add domain"</button>
            </ActionForm>
            <p class="hint">{format!("Up to {max} domains.")}</p>
        </section>
    }
}

/// One claimed domain: its state, the record that proves it, and its buttons.
#[component]
fn DomainItem(claim: DomainView, actions: DomainActions) -> impl IntoView {
    let (state, badge, label) = match &claim.state {
        DomainState::Pending => ("pending", "badge", "Pending verification".to_owned()),
        DomainState::Verified { since } => {
            ("verified", "badge active", format!("Verified on {}", short(since)))
        }
        DomainState::Failing { failing_since, misses, .. } => (
            "failing",
            "badge expired",
            format!("Failing since {} ({misses} checks without the record)", short(failing_since)),
        ),
    };
    let help = match claim.state {
        DomainState::Pending => "Create this TXT record in the domain's DNS, then click Verify:",
        DomainState::Verified { .. } => "Keep this TXT record published:",
        DomainState::Failing { .. } => {
            "This record is missing. Publish it again, or the domain stops routing after three checks without it:"
        }
    };
    let checked = claim.last_checked_at.clone().map(|at| format!("Last checked {}.", short(&at)));
    let (verify, remove) = (actions.verify, actions.remove);
    let id = claim.id;
    view! {
        <section class="domain-claim" data-testid="domain-claim" data-domain=claim.domain.clone() data-state=state>
            <h4>
                <span data-testid="domain-name">{claim.domain.clone()}</span>" "
                <span class=badge data-testid="domain-state">{label}</span>
            </h4>
            <p class="hint">{help}</p>
            <CopyField label="TXT record name (host)" value=claim.record_name.clone() testid="domain-record-name" id=format!("record-name-{id}") />
            <CopyField label="TXT record value" value=claim.record_value.clone() testid="domain-record-value" id=format!("record-value-{id}") />
            <p class="hint" data-testid="domain-last-check">{checked}" "{claim.last_error.clone()}</p>
            <div class="button-row">
                {(!matches!(claim.state, DomainState::Verified { .. })).then(|| {
                    let id = id.clone();
                    view! {
                    <ActionForm action=verify>
                        <input type="hidden" name="id" value=id />
                        <button type="submit" class="button primary narrow" data-testid="domain-verify" disabled=move || verify.pending().get()>"Verify"</button>
                    </ActionForm>
                    }
                })}
                <ActionForm action=remove>
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="button danger" data-testid="domain-remove">"Remove"</button>
                </ActionForm>
            </div>
        </section>
    }
}
