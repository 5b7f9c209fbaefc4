//! API keys as Entra's Secret Token: lifecycle, what makes a key stop working, and the command
//! line that creates organisations and keys.

mod support;

use domain::{
    DomainError, api_keys,
    entities::{api_key, user},
    sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait},
};
use support::{Scim, TestApp};

/// The status of `GET /Users` once it is `status`, within 5 s. For changes made behind the
/// server's back (here, rows written directly, as another instance or `psql` would): on
/// PostgreSQL the server's key cache hears of them through a notification (see
/// `domain::api_keys::cache`), which takes a moment.
async fn status_within_seconds(scim: &Scim, status: u16) -> u16 {
    let started = std::time::Instant::now();
    loop {
        let now = scim.get("/Users").await.status;
        if now == status || started.elapsed() > std::time::Duration::from_secs(5) {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn regenerate_revokes_the_old_key_at_once_and_revoke_ends_the_new_one() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    assert_eq!(app.scim(&org.key).get("/Users").await.status, 200);
    let keys = api_keys::list(&app.db, &org.admin).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].last_used_at.is_some(), "use is recorded");
    assert!(keys[0].prefix.starts_with("scimpad_") && !org.key.starts_with(&keys[0].prefix));

    let new = api_keys::regenerate(&app.db, &org.admin, &keys[0].id).await.unwrap();
    assert_eq!(new.info.name, "Entra ID");
    assert_eq!(app.scim(&org.key).get("/Users").await.status, 401);
    assert_eq!(app.scim(&new.secret).get("/Users").await.status, 200);
    assert!(matches!(
        api_keys::regenerate(&app.db, &org.admin, &keys[0].id).await,
        Err(DomainError::NotFound)
    ));

    api_keys::revoke(&app.db, &org.admin, &new.info.id).await.unwrap();
    assert_eq!(app.scim(&new.secret).get("/Users").await.status, 401);
    let stored = api_key::Entity::find_by_id(new.info.id.clone()).one(&app.db).await.unwrap().unwrap();
    assert_ne!(stored.secret_hash, new.secret, "only a hash is stored");
    assert!(!stored.secret_hash.contains(&new.secret[20..]));
}

#[tokio::test]
async fn expired_keys_and_keys_of_former_admins_are_refused() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let soon = domain::clock::now_ms() + 1000;
    let expiring = api_keys::create(&app.db, &org.admin, "short-lived", Some(soon)).await.unwrap();
    assert_eq!(app.scim(&expiring.secret).get("/Users").await.status, 200);
    let mut row: api_key::ActiveModel =
        api_key::Entity::find_by_id(expiring.info.id.clone()).one(&app.db).await.unwrap().unwrap().into();
    row.expires_at = Set(Some(domain::clock::now_ms() - 1));
    row.update(&app.db).await.unwrap();
    assert_eq!(status_within_seconds(&app.scim(&expiring.secret), 401).await, 401);

    assert!(matches!(
        api_keys::create(&app.db, &org.admin, "past", Some(1)).await,
        Err(DomainError::Invalid { field: "expires_at", .. })
    ));
    assert!(matches!(
        api_keys::create(&app.db, &org.admin, "  ", None).await,
        Err(DomainError::Invalid { field: "name", .. })
    ));

    // The owner is deactivated, or stops being an admin: every key they own stops working.
    let owner = || async {
        let found = user::Entity::find_by_id(org.admin.user_id.clone()).one(&app.db).await.unwrap();
        user::ActiveModel::from(found.unwrap())
    };
    let mut deactivated = owner().await;
    deactivated.active = Set(false);
    deactivated.update(&app.db).await.unwrap();
    assert_eq!(status_within_seconds(&app.scim(&org.key), 401).await, 401, "deactivated owner");
    let mut reactivated = owner().await;
    reactivated.active = Set(true);
    reactivated.update(&app.db).await.unwrap();
    assert_eq!(app.scim(&org.key).get("/Users").await.status, 200, "active admin again");
    let mut demoted = owner().await;
    demoted.role = Set(domain::accounts::Role::Member);
    demoted.update(&app.db).await.unwrap();
    assert_eq!(status_within_seconds(&app.scim(&org.key), 401).await, 401, "demoted owner");
}

#[tokio::test]
async fn members_cannot_manage_keys() {
    let app = TestApp::spawn().await;
    let org = app.scim_org().await;
    let member = domain::accounts::Actor { role: domain::accounts::Role::Member, ..org.admin.clone() };
    assert!(matches!(api_keys::create(&app.db, &member, "mine", None).await, Err(DomainError::Forbidden)));
    assert!(matches!(api_keys::list(&app.db, &member).await, Err(DomainError::Forbidden)));
}

#[tokio::test]
async fn the_command_line_creates_an_organisation_and_a_working_key() {
    use std::{io::Write, process::Command};
    let db_url = domain::testing::test_database_url();
    let bin = env!("CARGO_BIN_EXE_scimpad");
    let email = domain::testing::unique_email("cli");
    let mut org = Command::new(bin)
        .args([
            "--database-url",
            &db_url,
            "org",
            "create",
            "--name",
            "CLI Org",
            "--admin-name",
            "Cli Admin",
            "--admin-email",
            &email,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    org.stdin.take().unwrap().write_all(b"correct horse battery\n").unwrap();
    let out = org.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Created organisation CLI Org"));

    let key = Command::new(bin)
        .args([
            "--database-url",
            &db_url,
            "api-key",
            "create",
            "--admin-email",
            &email,
            "--name",
            "cli",
            "--expires-in-days",
            "30",
        ])
        .output()
        .unwrap();
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    let secret = String::from_utf8(key.stdout).unwrap().trim().to_owned();
    assert!(secret.starts_with("scimpad_"));

    // The key authenticates against that database.
    let db = domain::db::connect(&db_url).await.unwrap();
    let principal = api_keys::authenticate(&db, &api_keys::KeyCache::off(), &secret).await.unwrap();
    assert!(principal.is_ok());

    let unknown = Command::new(bin)
        .args([
            "--database-url",
            &db_url,
            "api-key",
            "create",
            "--admin-email",
            "nobody@example.com",
            "--name",
            "x",
        ])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr)
            .contains("no active account signs in with nobody@example.com")
    );
}
