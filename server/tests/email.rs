//! Email that works (issue 13, items 3 and 4), over HTTP against a real SMTP server on loopback:
//! confirming an address, "Forgot password?", inviting password admins, and what each says on a
//! server without email.

mod support;

use domain::{
    entities::{audit_event, email_link},
    sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr},
    testing::unique_email,
};
use reqwest::Client;
use serde_json::Value;
use support::{PASSWORD, TestApp, location, smtp_sink::SmtpSink};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// A server that sends email to a fresh sink, behind a trusted proxy on loopback (see [`visitor`]).
async fn with_mail() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_configured(
        false,
        &[
            "--smtp-url",
            &sink.url,
            "--smtp-from",
            "Scimpad <no-reply@scimpad.test>",
            "--trusted-proxies",
            "127.0.0.1,::1",
        ],
    )
    .await;
    (app, sink)
}

/// A browser of its own network, so throttling counters never carry over between tests (or runs
/// on one PostgreSQL database).
fn visitor(app: &TestApp) -> Client {
    app.client_from(&domain::testing::client().addr.0.to_string())
}

/// Calls server function `name` with `form` as `client`; returns status and JSON body.
async fn call(app: &TestApp, client: &Client, name: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let res = client.post(app.at(&format!("/api/{name}"))).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The audit kinds of the organisation `email`'s person belongs to, oldest first.
async fn audited(app: &TestApp, email: &str) -> Vec<String> {
    let org = app.person(email).await.org_id;
    audit_event::Entity::find()
        .filter(audit_event::Column::OrgId.eq(org))
        .order_by_asc(audit_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

/// A signed-up admin whose confirmation link has been followed.
async fn confirmed_admin(app: &TestApp, sink: &SmtpSink) -> (Client, String) {
    let (client, email) = (app.client(), unique_email("ada"));
    assert_eq!(app.sign_up(&client, &email).await.status(), 200);
    let token = sink.latest_to(&email).await.token("/confirm-email");
    assert_eq!(call(app, &client, "confirm_email", &[("token", &token)]).await.0, 200);
    (client, email)
}

#[tokio::test]
async fn without_a_relay_email_features_say_they_are_off_and_nothing_waits_for_them() {
    let app = TestApp::spawn().await;
    let (client, email) = (app.client(), unique_email("ada"));
    assert_eq!(app.sign_up(&client, &email).await.status(), 200);

    let (status, me) = call(&app, &client, "current_user", &[]).await;
    assert_eq!((status, me["address"].as_str()), (200, Some("MailOff")));
    assert_eq!(call(&app, &client, "mail_enabled", &[]).await.1, Value::Bool(false));
    for (name, form) in [
        ("request_password_reset", vec![("email", email.as_str())]),
        ("resend_confirmation", vec![]),
        ("invite_admin", vec![("name", "Bo"), ("email", "bo@example.com")]),
    ] {
        let (status, body) = call(&app, &client, name, &form).await;
        assert_eq!(status, 409, "{name}: {body}");
        assert!(body.to_string().contains("sends no email"), "{name}: {body}");
    }
    // An unconfirmable address holds nothing back.
    let (status, body) = call(&app, &client, "add_sso_domain", &[("domain", "contoso-off.example")]).await;
    assert_eq!(status, 200, "{body}");
    // The forgot-password page says so plainly, with the operator's way back.
    let page = app.client().get(app.at("/forgot-password")).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("This server sends no email") && page.contains("scimpad user set-password"),
        "{page}"
    );
}

#[tokio::test]
async fn sign_up_sends_a_confirmation_link_that_confirms_once_and_unlocks_domains_and_invitations() {
    let (app, sink) = with_mail().await;
    let (client, email) = (app.client(), unique_email("ada"));
    assert_eq!(app.sign_up(&client, &email).await.status(), 200);

    let mail = sink.latest_to(&email).await;
    assert_eq!(mail.subject, "Confirm your email address for Scimpad");
    assert!(mail.link("/confirm-email").starts_with(&app.at("/confirm-email?token=")), "{}", mail.body);
    assert_eq!(call(&app, &client, "current_user", &[]).await.1["address"], "Unconfirmed");
    let console = client.get(app.at("/")).send().await.unwrap().text().await.unwrap();
    assert!(console.contains("data-testid=\"confirm-banner\""), "the console shows the banner");

    // Until then: no domain claims, no invitations.
    for (name, form) in [
        ("add_sso_domain", vec![("domain", "contoso-unconfirmed.example")]),
        ("invite_admin", vec![("name", "Bo"), ("email", "bo@example.com")]),
    ] {
        let (status, body) = call(&app, &client, name, &form).await;
        assert_eq!(status, 409, "{name}: {body}");
        assert!(body.to_string().contains("Confirm your email address first"), "{name}: {body}");
    }

    // Opening the link's page (as a mail scanner would) spends nothing; the form's post does.
    let token = mail.token("/confirm-email");
    let page = app.client().get(mail.link("/confirm-email")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let stranger = app.client();
    assert_eq!(call(&app, &stranger, "confirm_email", &[("token", &token)]).await.0, 200);
    let (status, body) = call(&app, &stranger, "confirm_email", &[("token", &token)]).await;
    assert_eq!(status, 409, "a link works once: {body}");
    assert!(body.to_string().contains("no longer works"), "{body}");

    assert_eq!(call(&app, &client, "current_user", &[]).await.1["address"], "Confirmed");
    let console = client.get(app.at("/")).send().await.unwrap().text().await.unwrap();
    assert!(!console.contains("data-testid=\"confirm-banner\""));
    let (status, body) =
        call(&app, &client, "add_sso_domain", &[("domain", "contoso-confirmed.example")]).await;
    assert_eq!(status, 200, "{body}");
    assert!(audited(&app, &email).await.contains(&"email_confirmed".to_owned()));
}

#[tokio::test]
async fn a_new_confirmation_link_replaces_the_old_and_a_changed_address_needs_confirming_again() {
    let (app, sink) = with_mail().await;
    let (client, email) = (app.client(), unique_email("ada"));
    assert_eq!(app.sign_up(&client, &email).await.status(), 200);
    let first = sink.nth_to(&email, 1).await.token("/confirm-email");
    assert_eq!(call(&app, &client, "resend_confirmation", &[]).await.0, 200);
    let second = sink.nth_to(&email, 2).await.token("/confirm-email");
    assert_eq!(call(&app, &client, "confirm_email", &[("token", &first)]).await.0, 409, "replaced");
    assert_eq!(call(&app, &client, "confirm_email", &[("token", &second)]).await.0, 200);
    let (status, body) = call(&app, &client, "resend_confirmation", &[]).await;
    assert_eq!(status, 409, "nothing left to confirm: {body}");

    // A new address is unconfirmed until a link sent to it is followed.
    let moved = unique_email("ada.moved");
    let (status, body) = call(&app, &client, "update_profile", &[("name", "Ada"), ("email", &moved)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["address"], "Unconfirmed");
    let token = sink.latest_to(&moved).await.token("/confirm-email");
    assert_eq!(call(&app, &client, "confirm_email", &[("token", &token)]).await.0, 200);
    assert_eq!(call(&app, &client, "current_user", &[]).await.1["address"], "Confirmed");
}

#[tokio::test]
async fn forgot_password_answers_alike_sends_one_working_link_and_ends_every_session() {
    let (app, sink) = with_mail().await;
    let (session, email) = (app.client(), unique_email("ada"));
    assert_eq!(app.sign_up(&session, &email).await.status(), 200);
    sink.nth_to(&email, 1).await; // the confirmation

    // An address without an account gets the same answer and no email.
    let nobody = unique_email("nobody");
    let visitor = visitor(&app);
    assert_eq!(
        call(&app, &visitor, "request_password_reset", &[("email", &nobody)]).await,
        (200, Value::Null)
    );
    assert_eq!(
        call(&app, &visitor, "request_password_reset", &[("email", &email)]).await,
        (200, Value::Null)
    );
    let first = sink.nth_to(&email, 2).await;
    assert_eq!(first.subject, "Reset your Scimpad password");
    assert!(sink.to(&nobody).await.is_empty());

    // A newer link replaces the older.
    assert_eq!(
        call(&app, &visitor, "request_password_reset", &[("email", &email.to_uppercase())]).await.0,
        200
    );
    let second = sink.nth_to(&email, 3).await;
    let (old, token) = (first.token("/reset-password"), second.token("/reset-password"));
    let (status, body) =
        call(&app, &visitor, "reset_password", &[("token", &old), ("password", NEW_PASSWORD)]).await;
    assert_eq!(status, 409, "{body}");

    // The page names the account; a weak password is refused and the link still works after.
    let page = visitor.get(second.link("/reset-password")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&email.to_lowercase()), "{page}");
    let (status, body) =
        call(&app, &visitor, "reset_password", &[("token", &token), ("password", "short")]).await;
    assert_eq!((status, body["Invalid"]["field"].as_str()), (400, Some("password")), "{body}");
    let res = visitor
        .post(app.at("/api/reset_password"))
        .form(&[("token", token.as_str()), ("password", NEW_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!((res.status().as_u16(), location(&res).as_deref()), (200, Some("/")), "signed in");
    assert_eq!(
        call(&app, &visitor, "current_user", &[]).await.1["address"],
        "Confirmed",
        "the mail was read"
    );

    // The session opened at sign-up has ended; the old password no longer works; the new does.
    assert_eq!(call(&app, &session, "current_user", &[]).await.0, 401);
    assert_eq!(app.sign_in(&app.client(), &email, PASSWORD).await.status(), 401);
    assert_eq!(app.sign_in(&app.client(), &email, NEW_PASSWORD).await.status(), 200);
    let (status, _) =
        call(&app, &visitor, "reset_password", &[("token", &token), ("password", NEW_PASSWORD)]).await;
    assert_eq!(status, 409, "a link works once");
    let kinds = audited(&app, &email).await;
    assert_eq!(kinds.iter().filter(|k| *k == "password_reset_requested").count(), 2, "{kinds:?}");
    assert!(kinds.contains(&"password_reset".to_owned()), "{kinds:?}");
}

#[tokio::test]
async fn a_reset_link_dies_after_thirty_minutes_and_with_a_password_change() {
    let (app, sink) = with_mail().await;
    let (session, email) = (app.client(), unique_email("ada"));
    assert_eq!(app.sign_up(&session, &email).await.status(), 200);
    let visitor = visitor(&app);

    assert_eq!(call(&app, &visitor, "request_password_reset", &[("email", &email)]).await.0, 200);
    let token = sink.nth_to(&email, 2).await.token("/reset-password");
    let row = email_link::Entity::find()
        .filter(email_link::Column::Purpose.eq(email_link::Purpose::ResetPassword))
        .filter(email_link::Column::Email.eq(email.to_lowercase()))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the link is stored");
    assert_ne!(row.token_hash, token, "stored hashed, never in clear");
    assert_eq!(row.expires_at - row.created_at, 30 * 60 * 1000);
    email_link::Entity::update_many()
        .col_expr(email_link::Column::ExpiresAt, Expr::value(row.created_at))
        .filter(email_link::Column::Id.eq(&row.id))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(call(&app, &visitor, "reset_link", &[("token", &token)]).await.1, Value::Null);
    let (status, _) =
        call(&app, &visitor, "reset_password", &[("token", &token), ("password", NEW_PASSWORD)]).await;
    assert_eq!(status, 409, "expired");

    assert_eq!(call(&app, &visitor, "request_password_reset", &[("email", &email)]).await.0, 200);
    let token = sink.nth_to(&email, 3).await.token("/reset-password");
    let form = [("current_password", PASSWORD), ("new_password", "yet another passphrase")];
    assert_eq!(call(&app, &session, "change_password", &form).await.0, 200);
    let (status, _) =
        call(&app, &visitor, "reset_password", &[("token", &token), ("password", NEW_PASSWORD)]).await;
    assert_eq!(status, 409, "a password change withdraws the link");
}

#[tokio::test]
async fn forgot_password_is_throttled_per_client_like_sign_in() {
    let (app, sink) = with_mail().await;
    let (session, email) = (app.client(), unique_email("ada"));
    assert_eq!(app.sign_up(&session, &email).await.status(), 200);
    let visitor = visitor(&app);
    for _ in 0..domain::throttle::MAX_FAILURES {
        assert_eq!(call(&app, &visitor, "request_password_reset", &[("email", &email)]).await.0, 200);
    }
    let (status, body) = call(&app, &visitor, "request_password_reset", &[("email", &email)]).await;
    assert_eq!(status, 429, "{body}");
    // Asking for links locks nobody's sign-in.
    assert_eq!(app.sign_in(&app.client(), &email, PASSWORD).await.status(), 200);
    // One confirmation and at most four reset letters in the window (the per-recipient allowance).
    sink.nth_to(&email, 5).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.to(&email).await.len(), domain::mail::MAX_LETTERS_PER_RECIPIENT as usize);
}

#[tokio::test]
async fn an_admin_invites_a_password_admin_who_accepts_once() {
    let (app, sink) = with_mail().await;
    let (admin, admin_email) = confirmed_admin(&app, &sink).await;
    let invitee = unique_email("grace");

    let (status, body) =
        call(&app, &admin, "invite_admin", &[("name", "Grace Hopper"), ("email", &invitee)]).await;
    assert_eq!(status, 200, "{body}");
    let mail = sink.latest_to(&invitee).await;
    assert!(mail.subject.contains("invites you to administer"), "{}", mail.subject);
    let (_, list) = call(&app, &admin, "list_invitations", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        (list[0]["email"].as_str(), list[0]["expired"].as_bool()),
        (Some(invitee.as_str()), Some(false))
    );

    let guest = app.client();
    let page = guest.get(mail.link("/invitation")).send().await.unwrap();
    assert_eq!(page.status(), 200, "the link's page opens without a session");
    assert!(page.text().await.unwrap().contains("Grace Hopper"), "the name comes filled in");
    let token = mail.token("/invitation");
    let res = guest
        .post(app.at("/api/accept_invitation"))
        .form(&[("token", token.as_str()), ("name", "Grace B. Hopper"), ("password", NEW_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!((res.status().as_u16(), location(&res).as_deref()), (200, Some("/")));
    let (_, me) = call(&app, &guest, "current_user", &[]).await;
    assert_eq!((me["is_admin"].as_bool(), me["address"].as_str()), (Some(true), Some("Confirmed")));
    assert_eq!(me["name"], "Grace B. Hopper");
    assert_eq!(app.sign_in(&app.client(), &invitee, NEW_PASSWORD).await.status(), 200);
    assert_eq!(app.person(&invitee).await.org_id, app.person(&admin_email).await.org_id);

    let (status, _) = call(
        &app,
        &app.client(),
        "accept_invitation",
        &[("token", &token), ("name", "X"), ("password", NEW_PASSWORD)],
    )
    .await;
    assert_eq!(status, 409, "an invitation works once");
    assert_eq!(call(&app, &admin, "list_invitations", &[]).await.1, serde_json::json!([]));
    let kinds = audited(&app, &admin_email).await;
    assert!(
        kinds.contains(&"admin_invited".to_owned()) && kinds.contains(&"invitation_accepted".to_owned()),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn invitations_are_replaced_withdrawn_expire_and_refuse_taken_addresses_and_members() {
    let (app, sink) = with_mail().await;
    let (admin, admin_email) = confirmed_admin(&app, &sink).await;
    let invitee = unique_email("lin");
    let invite = |email: String| {
        let (app, admin) = (&app, &admin);
        async move { call(app, admin, "invite_admin", &[("name", "Lin"), ("email", &email)]).await }
    };
    let accept = |token: String| {
        let app = &app;
        async move {
            call(
                app,
                &app.client(),
                "accept_invitation",
                &[("token", &token), ("name", "Lin"), ("password", NEW_PASSWORD)],
            )
            .await
            .0
        }
    };

    // Inviting the same address again replaces the invitation.
    assert_eq!(invite(invitee.clone()).await.0, 200);
    assert_eq!(invite(invitee.clone()).await.0, 200);
    let first = sink.nth_to(&invitee, 1).await.token("/invitation");
    let second = sink.nth_to(&invitee, 2).await.token("/invitation");
    assert_eq!(call(&app, &admin, "list_invitations", &[]).await.1.as_array().unwrap().len(), 1);
    assert_eq!(accept(first).await, 409);

    // Withdrawn.
    let id = call(&app, &admin, "list_invitations", &[]).await.1[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(call(&app, &admin, "revoke_invitation", &[("id", &id)]).await.0, 200);
    assert_eq!(accept(second).await, 409);
    assert!(audited(&app, &admin_email).await.contains(&"invitation_revoked".to_owned()));

    // Expired: listed as such, its page says it no longer works.
    assert_eq!(invite(invitee.clone()).await.0, 200);
    let token = sink.nth_to(&invitee, 3).await.token("/invitation");
    email_link::Entity::update_many()
        .col_expr(email_link::Column::ExpiresAt, Expr::value(1_i64))
        .filter(email_link::Column::Email.eq(invitee.to_lowercase()))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(call(&app, &admin, "list_invitations", &[]).await.1[0]["expired"], true);
    assert_eq!(call(&app, &app.client(), "open_invitation", &[("token", &token)]).await.1, Value::Null);
    assert_eq!(accept(token).await, 409);

    // An address that already signs in somewhere cannot be invited.
    let (status, body) = invite(admin_email.clone()).await;
    assert_eq!((status, body["Invalid"]["field"].as_str()), (400, Some("email")), "{body}");

    // A member cannot invite.
    let person = app.person(&admin_email).await;
    let member = domain::accounts::load_actor(&app.db, &person.id, domain::origin::Origin::CommandLine)
        .await
        .unwrap()
        .map(|a| domain::accounts::Actor { role: domain::accounts::Role::Member, ..a })
        .unwrap();
    let outbox = domain::mail::Outbox::off(&app.url);
    let refused = domain::invitations::invite(&app.db, &outbox, &member, "Lin", &unique_email("x")).await;
    assert!(matches!(refused, Err(domain::DomainError::Forbidden)), "{refused:?}");
}

#[tokio::test]
async fn the_operator_sets_a_password_from_the_command_line_and_ends_the_sessions() {
    use std::{io::Write, process::Command};
    let app = TestApp::spawn().await;
    let (session, email) = (app.client(), unique_email("ada"));
    assert_eq!(app.sign_up(&session, &email).await.status(), 200);
    let set_password = |who: &str, password: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scimpad"))
            .args(["--database-url", &app.db_url, "user", "set-password", "--email", who])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(password).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = set_password(&email, b"short\n");
    let refused = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && refused.contains("at least 10 characters"), "{refused}");
    let out = set_password(&unique_email("nobody"), b"a brand new passphrase\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no active account"), "{out:?}");
    let out = set_password(&email, b"a brand new passphrase\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    assert_eq!(call(&app, &session, "current_user", &[]).await.0, 401, "sessions ended");
    assert_eq!(app.sign_in(&app.client(), &email, NEW_PASSWORD).await.status(), 200);
    assert!(audited(&app, &email).await.contains(&"password_reset".to_owned()));
}
