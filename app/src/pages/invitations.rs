//! Inviting password admins (issue 13, item 4), on the Users page: the break-glass way in for
//! the day single sign-on is down. Admins invite an address, see the invitations still open (and
//! those expired this week), and withdraw them.

use leptos::prelude::*;

use crate::{
    api::{InviteAdmin, RevokeInvitation, list_invitations, mail_enabled},
    components::{
        form::{Field, FormError, last_error},
        table::TableBox,
        time::When,
    },
    dto::InvitationRow,
    resource,
};

/// The Users page's card for inviting password admins.
#[component]
pub fn InviteAdminsCard() -> impl IntoView {
    let enabled = resource::new(|| (), |_| mail_enabled());
    view! {
        <details class="card" data-testid="invitations-card">
            <summary>"Password admins: invite an admin who signs in with a password, for when single sign-on is down"</summary>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    if enabled.await.unwrap_or(false) {
                        view! { <Invitations /> }.into_any()
                    } else {
                        view! {
                            <p class="banner info" role="status" data-testid="invite-off">
                                "Inviting by email needs email, and this server sends none: its operator can turn it on with "
                                <code>"--smtp-url"</code> " (see the README)."
                            </p>
                        }.into_any()
                    }
                })}
            </Suspense>
        </details>
    }
}

/// The invite form and the open invitations.
#[component]
fn Invitations() -> impl IntoView {
    let invite = ServerAction::<InviteAdmin>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let error = last_error(invite);
    let revoke_error = last_error(revoke);
    let list =
        resource::new(move || (invite.version().get(), revoke.version().get()), |_| list_invitations());
    let sent = move || matches!(invite.value().get(), Some(Ok(())));
    view! {
        <p>
            "The invitee gets an email with a link to choose a name and a password (it works once, for 72 hours) "
            "and becomes an admin who signs in with their email and that password, even when the organisation requires single sign-on."
        </p>
        <FormError error />
        <Show when=sent>
            <p class="banner success" role="status" data-testid="invite-sent">"Invitation sent."</p>
        </Show>
        <ActionForm action=invite attr:class="inline-form" attr:novalidate=true attr:data-testid="invite-form">
            <Field name="name" label="Their name" autocomplete="off" error />
            <Field name="email" label="Their email" kind="email" autocomplete="off" error />
            <button type="submit" class="button primary narrow" disabled=move || invite.pending().get()>"Send invitation"</button>
        </ActionForm>
        <FormError error=revoke_error />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="muted" data-testid="no-invitations">"No open invitations."</p> }.into_any(),
                    Ok(rows) => view! {
                        <TableBox label="Invitations">
                            <table class="data" data-testid="invitations">
                                <caption class="sr-only">"Invitations"</caption>
                                <thead><tr>
                                    <th scope="col">"Email"</th>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Invited by"</th>
                                    <th scope="col">"Sent"</th>
                                    <th scope="col">"Expires"</th>
                                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                                </tr></thead>
                                <tbody>{rows.into_iter().map(|row| invitation_row(row, revoke)).collect_view()}</tbody>
                            </table>
                        </TableBox>
                    }.into_any(),
                    Err(e) => view! { <p class="banner error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn invitation_row(row: InvitationRow, revoke: ServerAction<RevokeInvitation>) -> impl IntoView {
    let expiry = if row.expired {
        view! { <span class="badge deactivated">"expired"</span> }.into_any()
    } else {
        view! { <When iso=Some(row.expires_at) /> }.into_any()
    };
    let label = format!("Withdraw the invitation of {}", row.email);
    view! {
        <tr data-testid="invitation-row">
            <td>{row.email}</td>
            <td>{row.name}</td>
            <td>{row.invited_by}</td>
            <td><When iso=Some(row.sent_at) /></td>
            <td>{expiry}</td>
            <td>
                <ActionForm action=revoke>
                    <input type="hidden" name="id" value=row.id />
                    <button type="submit" class="button secondary narrow" data-testid="revoke-invitation" aria-label=label>
                        "Withdraw"
                    </button>
                </ActionForm>
            </td>
        </tr>
    }
}
