//! `scimpad backup` while the server takes SCIM writes, then `scimpad restore` into a fresh data
//! directory and over the original one: every user, group, membership and key the backup holds
//! answers as before, nothing committed after it does, and the refusals (an existing target, a
//! running server, a file that is no sound database) say why. SQLite only: PostgreSQL is backed
//! up with its own tools.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::binary::{DataDir, Running};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A SCIM client of one server.
struct Scim {
    client: Client,
    base: String,
    key: String,
}

impl Scim {
    fn of(server: &Running, key: &str) -> Self {
        Self { client: server.client.clone(), base: format!("{}/scim/v2", server.base), key: key.to_owned() }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Creates a user; its id.
    async fn create_user(&self, user_name: &str) -> Option<String> {
        let body = json!({"schemas": [USER_SCHEMA], "userName": user_name, "active": true});
        let (status, user) = self.send(reqwest::Method::POST, "/Users", Some(body)).await;
        (status == StatusCode::CREATED).then(|| user["id"].as_str().unwrap().to_owned())
    }

    /// Every user, by userName, with their id.
    async fn users(&self) -> BTreeMap<String, String> {
        let mut users = BTreeMap::new();
        loop {
            let path = format!("/Users?startIndex={}&count=500", users.len() + 1);
            let (status, page) = self.send(reqwest::Method::GET, &path, None).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let resources = page["Resources"].as_array().cloned().unwrap_or_default();
            if resources.is_empty() {
                return users;
            }
            for user in resources {
                users.insert(
                    user["userName"].as_str().unwrap().to_owned(),
                    user["id"].as_str().unwrap().to_owned(),
                );
            }
        }
    }

    /// A group's members' ids.
    async fn members(&self, group_id: &str) -> BTreeSet<String> {
        let (status, group) = self.send(reqwest::Method::GET, &format!("/Groups/{group_id}"), None).await;
        assert_eq!(status, StatusCode::OK, "{group}");
        group["members"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| m["value"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// A user the load created, and when its answer came relative to the backup.
struct Created {
    user_name: String,
    id: String,
    answered: Instant,
    sent: Instant,
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_everything_it_holds_and_nothing_after_it() {
    let data = DataDir::new();
    let key = data.organisation_with_key();
    let server = Running::start(&data, &["--scim-rate", "0"]).await;
    let scim = Arc::new(Scim::of(&server, &key));

    // What is there before the backup: users in groups.
    let mut seeded = BTreeMap::new();
    for n in 0..40 {
        let name = format!("seed-{n}@fabrikam.example");
        seeded.insert(name.clone(), scim.create_user(&name).await.expect("seed user"));
    }
    let ids: Vec<String> = seeded.values().cloned().collect();
    let mut groups = BTreeMap::new();
    for (g, chunk) in ids.chunks(10).enumerate() {
        let members: Vec<Value> = chunk.iter().map(|id| json!({"value": id})).collect();
        let body = json!({"schemas": [GROUP_SCHEMA], "displayName": format!("Team {g}"), "members": members});
        let (status, group) = scim.send(reqwest::Method::POST, "/Groups", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{group}");
        groups
            .insert(group["id"].as_str().unwrap().to_owned(), chunk.iter().cloned().collect::<BTreeSet<_>>());
    }

    // Load: two writers creating users until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let (scim, stop) = (scim.clone(), stop.clone());
            tokio::spawn(async move {
                let mut created = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let user_name = format!("load-{w}-{n}@fabrikam.example");
                    let sent = Instant::now();
                    if let Some(id) = scim.create_user(&user_name).await {
                        created.push(Created { user_name, id, answered: Instant::now(), sent });
                    }
                    n += 1;
                }
                created
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let backup_file = data.path("backup.db");
    let backup_started = Instant::now();
    let said = data.command(&["backup", &backup_file], "");
    let backup_ended = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut load = Vec::new();
    for worker in workers {
        load.extend(worker.await.unwrap());
    }
    assert!(said.contains("Backed up 1 organisations") && said.contains("integrity check"), "{said}");
    let before = load.iter().filter(|c| c.answered < backup_started).count();
    let after = load.iter().filter(|c| c.sent > backup_ended).count();
    assert!(before > 0 && after > 0, "the load ran before and after the backup ({before}, {after})");

    // The backup refuses to overwrite, and a restore refuses a running server.
    let again = data.command_fails(&["backup", &backup_file]);
    assert!(again.contains("exists"), "{again}");
    let busy = data.command_fails(&["restore", &backup_file]);
    assert!(busy.contains("stop it first"), "{busy}");
    server.terminate();
    assert!(server.stopped().await.0);

    // Into a fresh directory, and over the original one (which keeps what it replaced).
    let fresh = DataDir::new();
    let restored = fresh.command(&["restore", &backup_file], "");
    assert!(restored.contains("Restored 1 organisations"), "{restored}");
    let over = data.command(&["restore", &backup_file], "");
    assert!(over.contains("is kept as"), "{over}");
    let mut restored_users = Vec::new();
    for dir in [&fresh, &data] {
        let server = Running::start(dir, &[]).await;
        let scim = Scim::of(&server, &key);
        let users = scim.users().await;
        for (name, id) in &seeded {
            assert_eq!(users.get(name), Some(id), "seeded {name}");
        }
        for c in &load {
            if c.answered < backup_started {
                assert_eq!(
                    users.get(&c.user_name),
                    Some(&c.id),
                    "{} was created before the backup",
                    c.user_name
                );
            }
            if c.sent > backup_ended {
                assert!(!users.contains_key(&c.user_name), "{} was created after the backup", c.user_name);
            }
        }
        // The admin who made the organisation is one of its people too.
        let known: BTreeSet<&String> =
            seeded.keys().chain(load.iter().map(|c| &c.user_name)).chain([&data.email]).collect();
        let strangers: Vec<&String> = users.keys().filter(|name| !known.contains(name)).collect();
        assert!(strangers.is_empty(), "only users that were created: {strangers:?}");
        for (group_id, members) in &groups {
            assert_eq!(&scim.members(group_id).await, members, "group {group_id}");
        }
        let wrong = Scim { key: format!("{key}x"), ..Scim::of(&server, &key) };
        assert_eq!(wrong.send(reqwest::Method::GET, "/Users", None).await.0, StatusCode::UNAUTHORIZED);
        restored_users.push(users);
        server.terminate();
        assert!(server.stopped().await.0);
    }
    assert_eq!(restored_users[0], restored_users[1], "both restores hold the same");

    // A file that is no sound database is refused, and the database stays as it was.
    let garbage = fresh.path("garbage.db");
    std::fs::write(&garbage, vec![7u8; 8192]).unwrap();
    let refused = fresh.command_fails(&["restore", &garbage]);
    assert!(refused.contains("not a database") || refused.contains("integrity"), "{refused}");
    let server = Running::start(&fresh, &[]).await;
    assert_eq!(
        Scim::of(&server, &key).users().await,
        restored_users[0],
        "the refused restore changed nothing"
    );
    server.terminate();
    assert!(server.stopped().await.0);
}
