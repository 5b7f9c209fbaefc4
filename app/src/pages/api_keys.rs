//! Settings → API keys: what to paste into Entra (Tenant URL and a key as Secret Token), the
//! organisation's keys with when each last reached us, and create / regenerate / revoke with
//! the secret shown exactly once.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{ApiKeyRow, CreateApiKey, NewApiKey, RegenerateApiKey, RevokeApiKey, list_api_keys},
    components::{
        copy::CopyField,
        dialog::{Escape, Modal},
        form::{Field, FormError},
        table::TableBox,
        time::When,
    },
    error::AppError,
    resource,
};

/// Which destructive action is awaiting confirmation, for which key.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Confirm {
    Regenerate(String, String),
    Revoke(String, String),
}

/// The API keys page.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let regenerate = ServerAction::<RegenerateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = resource::new(
        move || (create.version().get(), regenerate.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    let revealed = RwSignal::new(None::<NewApiKey>);
    let confirm = RwSignal::new(None::<Confirm>);
    Effect::new(move |_| {
        if let Some(Ok(key)) = create.value().get() {
            revealed.set(Some(key));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(key)) = regenerate.value().get() {
            confirm.set(None);
            revealed.set(Some(key));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = revoke.value().get() {
            confirm.set(None);
        }
    });
    let create_error = Signal::derive(move || create.value().get().and_then(|r| r.err()));

    view! {
        <Title text="API keys" />
        <h1>"API keys"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading keys…"</p> }>
            {move || Suspend::new(async move {
                match keys.await {
                    Ok(view) => view! {
                        <section class="card" aria-labelledby="connect-heading">
                            <h2 id="connect-heading">"Connect Microsoft Entra ID"</h2>
                            <CopyField label="Tenant URL" value=view.tenant_url.clone() testid="tenant-url" />
                            <Guide />
                        </section>
                        <KeyTable keys=view.keys confirm />
                    }
                    .into_any(),
                    Err(AppError::Forbidden) => view! {
                        <p class="banner error" role="alert" data-testid="forbidden">
                            "Only admins of your organisation can see and manage API keys."
                        </p>
                    }
                    .into_any(),
                    Err(e) => view! { <p class="banner error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <ConfirmPanel confirm regenerate revoke />
        <section class="card" aria-labelledby="create-heading">
            <h2 id="create-heading">"Create a key"</h2>
            <FormError error=create_error />
            <ActionForm action=create attr:class="inline-form" attr:novalidate=true attr:data-testid="create-key-form">
                <Field name="name" label="Name" hint="e.g. \"Entra ID provisioning\"" error=create_error />
                <div class="field">
                    <label for="field-expiry">"Expires"</label>
                    <select id="field-expiry" name="expires_in_days">
                        <option value="0">"Never"</option>
                        <option value="30">"In 30 days"</option>
                        <option value="90">"In 90 days"</option>
                        <option value="180">"In 180 days"</option>
                        <option value="365">"In a year"</option>
                    </select>
                </div>
                <button type="submit" class="button primary" disabled=move || create.pending().get()>
                    "Create key"
                </button>
            </ActionForm>
        </section>
        <SecretDialog revealed />
    }
}

/// Where the Tenant URL and key go in Entra.
#[component]
fn Guide() -> impl IntoView {
    view! {
        <details class="guide">
            <summary>"Where to paste this"</summary>
            <ol>
                <li>"In the Microsoft Entra admin center, open Enterprise applications and your Scimpad app."</li>
                <li>"Open Provisioning, set Provisioning Mode to Automatic."</li>
                <li>"Under Admin Credentials, paste the Tenant URL above, and a key from this page as Secret Token."</li>
                <li>"Click Test Connection. The key's status below shows when the test arrived."</li>
            </ol>
        </details>
    }
}

fn status_line(key: &ApiKeyRow) -> String {
    let probe = key.last_probe_at.as_deref().map(crate::components::time::short);
    match (&key.last_request, probe) {
        (None, _) => "No request yet: paste it into Entra and click Test Connection.".to_owned(),
        (Some((at, status)), Some(probe)) => format!(
            "Last request {} (HTTP {status}); last Test Connection {probe}.",
            crate::components::time::short(at)
        ),
        (Some((at, status)), None) => {
            format!("Last request {} (HTTP {status}).", crate::components::time::short(at))
        }
    }
}

/// The organisation's keys.
#[component]
fn KeyTable(keys: Vec<ApiKeyRow>, confirm: RwSignal<Option<Confirm>>) -> impl IntoView {
    if keys.is_empty() {
        return view! {
            <p class="card empty" data-testid="no-keys">
                "No keys yet. Create one below, then paste it into Entra as the Secret Token."
            </p>
        }
        .into_any();
    }
    let rows = keys
        .into_iter()
        .map(|key| {
            let active = key.status == "active";
            let line = status_line(&key);
            let (id_regen, name_regen) = (key.id.clone(), key.name.clone());
            let (id_revoke, name_revoke) = (key.id.clone(), key.name.clone());
            view! {
                <tr data-testid="key-row" data-status=key.status.clone()>
                    <th scope="row">{key.name.clone()}<p class="hint" data-testid="key-activity">{line}</p></th>
                    <td><code>{key.prefix.clone()}</code></td>
                    <td><When iso=Some(key.created_at.clone()) /></td>
                    <td><When iso=key.last_used_at.clone() fallback="never" /></td>
                    <td><When iso=key.expires_at.clone() fallback="never" /></td>
                    <td><span class=format!("badge {}", key.status)>{key.status.clone()}</span></td>
                    <td class="actions">
                        <Show when=move || active>
                            <button type="button" class="button secondary" data-testid="regenerate"
                                on:click={
                                    let (id, name) = (id_regen.clone(), name_regen.clone());
                                    move |_| confirm.set(Some(Confirm::Regenerate(id.clone(), name.clone())))
                                }>"Regenerate"</button>
                            <button type="button" class="button danger" data-testid="revoke"
                                on:click={
                                    let (id, name) = (id_revoke.clone(), name_revoke.clone());
                                    move |_| confirm.set(Some(Confirm::Revoke(id.clone(), name.clone())))
                                }>"Revoke"</button>
                        </Show>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <TableBox label="API keys">
            <table class="data" data-testid="keys">
                <caption class="sr-only">"API keys"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Key"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </TableBox>
    }
    .into_any()
}

/// Explains and confirms regenerate / revoke.
#[component]
fn ConfirmPanel(
    confirm: RwSignal<Option<Confirm>>,
    regenerate: ServerAction<RegenerateApiKey>,
    revoke: ServerAction<RevokeApiKey>,
) -> impl IntoView {
    let cancel = Callback::new(move |()| confirm.set(None));
    let title = move || match confirm.get() {
        Some(Confirm::Regenerate(_, name)) => format!("Regenerate \"{name}\"?"),
        Some(Confirm::Revoke(_, name)) => format!("Revoke \"{name}\"?"),
        None => String::new(),
    };
    let text = move || match confirm.get() {
        Some(Confirm::Regenerate(..)) => {
            "The current key stops working immediately. Entra's provisioning fails until you paste the new \
             key into Admin Credentials → Secret Token and click Test Connection."
        }
        Some(Confirm::Revoke(..)) => {
            "The key stops working immediately and cannot be restored. Anything still using it, such as an \
             Entra provisioning job, gets 401 errors."
        }
        None => "",
    };
    let form = move || {
        confirm.get().map(|c| match c {
            Confirm::Regenerate(id, _) => view! {
                <ActionForm action=regenerate>
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="button danger" data-testid="confirm">"Regenerate key"</button>
                </ActionForm>
            }
            .into_any(),
            Confirm::Revoke(id, _) => view! {
                <ActionForm action=revoke>
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="button danger" data-testid="confirm">"Revoke key"</button>
                </ActionForm>
            }
            .into_any(),
        })
    };
    view! {
        <Modal
            open=Signal::derive(move || confirm.with(Option::is_some))
            labelledby="confirm-title"
            role="alertdialog"
            escape=Escape::Closes(cancel)
            testid="confirm-panel"
        >
            <h2 id="confirm-title">{title}</h2>
            <p>{text}</p>
            <div class="button-row">
                {form}
                <button type="button" class="button secondary" autofocus=true on:click=move |_| cancel.run(())>"Cancel"</button>
            </div>
        </Modal>
    }
}

/// Why Escape leaves the new key's dialog open.
const SHOWN_ONCE: &str = "Copy the key first: it is shown only once, so Escape does not close this dialog. \
     Choose \u{201c}I have copied it\u{201d} when it is safe in Entra or your password manager.";

/// Shows a new key's secret once. Escape does not close it (a key dismissed by accident is lost).
#[component]
fn SecretDialog(revealed: RwSignal<Option<NewApiKey>>) -> impl IntoView {
    let title = move || revealed.with(|k| k.as_ref().map(|k| format!("Your new key \"{}\"", k.name)));
    view! {
        <Modal
            open=Signal::derive(move || revealed.with(Option::is_some))
            labelledby="secret-title"
            escape=Escape::Refused(SHOWN_ONCE)
            testid="secret-dialog"
        >
            <h2 id="secret-title">{title}</h2>
            <p class="banner warning">
                <strong>"Copy it now: you won't see it again."</strong>
                " Paste it into Entra's Admin Credentials as the Secret Token."
            </p>
            {move || revealed.get().map(|key| view! { <CopyField label="Secret Token" value=key.secret testid="secret" /> })}
            <button type="button" class="button primary" data-testid="secret-done"
                on:click=move |_| revealed.set(None)>"I have copied it"</button>
        </Modal>
    }
}
