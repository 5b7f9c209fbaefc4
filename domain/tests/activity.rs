//! The provisioning log page, the activity chart's buckets and the dashboard overview against a
//! real database (SQLite, or PostgreSQL with TEST_DATABASE_URL): filters, paging, bucketing in SQL,
//! organisation scoping and the admin-only rule.

use domain::{
    DomainError,
    accounts::{self, Actor, Role, SignUp, Source},
    activity::{self, Bucket, LogFilter, Outcome, PAGE_SIZE},
    api_keys,
    entities::{group, user},
    ids::KeyId,
    provisioning_log::Event,
    sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait},
    testing::{test_db, unique_email},
};
use serde_json::json;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// A fixed "now" (2025-12-10T12:30:00Z), so bucket boundaries are known.
const NOW: i64 = 1_765_369_800_000;

async fn admin(db: &DatabaseConnection) -> Actor {
    accounts::sign_up(
        db,
        &domain::testing::no_mail(),
        domain::testing::origin(),
        SignUp {
            organization: "Contoso".into(),
            name: "Ada Admin".into(),
            email: unique_email("activity"),
            password: "correct horse battery".into(),
        },
    )
    .await
    .unwrap()
}

fn member_of(admin: &Actor) -> Actor {
    Actor {
        user_id: domain::ids::UserId::new(uuid::Uuid::new_v4().to_string()),
        role: Role::Member,
        ..admin.clone()
    }
}

fn event(actor: &Actor, at: i64, operation: &str, status: u16) -> Event {
    domain::testing::log_event(actor.org_id.as_str(), at, operation, status)
}

async fn record(db: &DatabaseConnection, events: Vec<Event>) {
    domain::provisioning_log::store(db, events).await.unwrap();
}

async fn add_user(db: &DatabaseConnection, actor: &Actor, source: Source, active: bool) {
    let name = unique_email("u");
    user::Entity::insert(user::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        org_id: Set(actor.org_id.to_string()),
        user_name: Set(name.clone()),
        user_name_lower: Set(name.to_lowercase()),
        external_id: Set(None),
        display_name: Set(None),
        given_name: Set(None),
        family_name: Set(None),
        email: Set(None),
        email_lower: Set(None),
        active: Set(active),
        role: Set(Role::Member),
        source: Set(source),
        entra_tenant_id: Set(None),
        entra_object_id: Set(None),
        resource: Set(json!({"userName": name, "active": active})),
        version: Set(1),
        created_at: Set(NOW),
        updated_at: Set(NOW),
    })
    .exec(db)
    .await
    .unwrap();
}

fn summaries(page: &activity::LogPage) -> Vec<&str> {
    page.events.iter().map(|e| e.summary.as_str()).collect()
}

#[tokio::test]
async fn the_log_is_newest_first_filtered_and_paged_within_the_organisation() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let other = admin(&db).await;
    let key = api_keys::create(&db, &ada, "Entra", None).await.unwrap();
    let keyed = Event { api_key_id: Some(KeyId::new(&key.info.id)), ..event(&ada, NOW - 10, "patch", 200) };
    let group_op = Event { resource_type: Some("Group".into()), ..event(&ada, NOW - 20, "create", 201) };
    record(
        &db,
        vec![
            event(&ada, NOW - 40, "create", 201),
            event(&ada, NOW - 30, "create", 409),
            group_op,
            keyed,
            event(&ada, NOW - 5, "get", 401),
            event(&other, NOW, "create", 201),
        ],
    )
    .await;

    let all = activity::log_page(&db, &ada, &LogFilter::default(), 1).await.unwrap();
    assert_eq!((all.total, all.page, all.page_size), (5, 1, PAGE_SIZE));
    assert_eq!(
        summaries(&all),
        [
            format!("get at {}", NOW - 5),
            format!("patch at {}", NOW - 10),
            format!("create at {}", NOW - 20),
            format!("create at {}", NOW - 30),
            format!("create at {}", NOW - 40),
        ]
    );

    let filter = |o: Option<&str>, op: Option<&str>, rt: Option<&str>, k: Option<&str>| {
        LogFilter::parse(o, op, rt, k).unwrap()
    };
    let statuses = |p: activity::LogPage| p.events.iter().map(|e| e.status).collect::<Vec<_>>();
    let errors = activity::log_page(&db, &ada, &filter(Some("error"), None, None, None), 1).await.unwrap();
    assert_eq!(statuses(errors), [401, 409]);
    let ok =
        activity::log_page(&db, &ada, &filter(Some("success"), Some("create"), None, None), 1).await.unwrap();
    assert_eq!(statuses(ok), [201, 201]);
    let groups = activity::log_page(&db, &ada, &filter(None, None, Some("Group"), None), 1).await.unwrap();
    assert_eq!(summaries(&groups), [format!("create at {}", NOW - 20)]);
    let by_key = activity::log_page(&db, &ada, &filter(Some(""), Some(""), None, Some(&key.info.id)), 1)
        .await
        .unwrap();
    assert_eq!(summaries(&by_key), [format!("patch at {}", NOW - 10)]);

    // Empty values mean "any"; unknown ones name the offending filter.
    assert_eq!(filter(Some(" "), Some(""), Some(""), Some("")), LogFilter::default());
    assert_eq!(filter(Some("error"), None, None, None).outcome, Some(Outcome::Error));
    for (o, op, rt, field) in [
        (Some("maybe"), None, None, "result"),
        (None, Some("drop"), None, "operation"),
        (None, None, Some("Role"), "resource"),
    ] {
        match LogFilter::parse(o, op, rt, None) {
            Err(DomainError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected {field} to be invalid, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_log_pages_by_offset_without_gaps_or_repeats() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let n = PAGE_SIZE + 7;
    // Pairs of events share a timestamp: the id breaks the tie, so pages stay disjoint.
    let events = (0..n).map(|i| event(&ada, NOW - (i as i64 / 2) * 1000, "get", 200)).collect();
    record(&db, events).await;

    let first = activity::log_page(&db, &ada, &LogFilter::default(), 0).await.unwrap();
    let second = activity::log_page(&db, &ada, &LogFilter::default(), 2).await.unwrap();
    let third = activity::log_page(&db, &ada, &LogFilter::default(), 3).await.unwrap();
    assert_eq!((first.page, first.total, first.events.len()), (1, n, PAGE_SIZE as usize));
    assert_eq!((second.total, second.events.len()), (n, 7));
    assert!(third.events.is_empty());
    let ids: Vec<i64> = first.events.iter().chain(&second.events).map(|e| e.id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(sorted.len(), n as usize);
    let times: Vec<i64> = first.events.iter().chain(&second.events).map(|e| e.at).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
}

#[tokio::test]
async fn activity_is_bucketed_per_hour_and_per_day_in_the_database() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let other = admin(&db).await;
    let this_hour = NOW - NOW % HOUR;
    let today = NOW - NOW % DAY;
    record(
        &db,
        vec![
            event(&ada, this_hour, "get", 200),
            event(&ada, NOW, "create", 201),
            event(&ada, NOW, "create", 409),
            event(&ada, this_hour - 1, "get", 500),
            event(&ada, this_hour - 23 * HOUR, "get", 200),
            // Just before the hourly window: only the daily series counts it.
            event(&ada, this_hour - 23 * HOUR - 1, "get", 200),
            event(&ada, today - 6 * DAY, "patch", 200),
            // Before the daily window.
            event(&ada, today - 6 * DAY - 1, "patch", 200),
            event(&other, NOW, "get", 200),
        ],
    )
    .await;

    let chart = activity::activity(&db, &ada, NOW).await.unwrap();
    assert_eq!(chart.hourly.len(), 24);
    assert_eq!(chart.daily.len(), 7);
    assert!(chart.hourly.windows(2).all(|w| w[1].start - w[0].start == HOUR));
    assert!(chart.daily.windows(2).all(|w| w[1].start - w[0].start == DAY));
    assert_eq!(chart.hourly[23], Bucket { start: this_hour, success: 2, errors: 1 });
    assert_eq!(chart.hourly[22], Bucket { start: this_hour - HOUR, success: 0, errors: 1 });
    assert_eq!(chart.hourly[0], Bucket { start: this_hour - 23 * HOUR, success: 1, errors: 0 });
    let hourly_total: u64 = chart.hourly.iter().map(|b| b.success + b.errors).sum();
    assert_eq!(hourly_total, 5);

    assert_eq!(chart.daily[0], Bucket { start: today - 6 * DAY, success: 1, errors: 0 });
    let daily_total: u64 = chart.daily.iter().map(|b| b.success + b.errors).sum();
    assert_eq!(daily_total, 7);
    let daily_errors: u64 = chart.daily.iter().map(|b| b.errors).sum();
    assert_eq!(daily_errors, 2);
}

#[tokio::test]
async fn the_overview_counts_the_directory_and_provisioning_health() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let fresh = activity::overview(&db, &ada, NOW).await.unwrap();
    assert_eq!(fresh, activity::Overview::default(), "the admin's own local account is not provisioned");

    api_keys::create(&db, &ada, "Entra", None).await.unwrap();
    add_user(&db, &ada, Source::Scim, true).await;
    add_user(&db, &ada, Source::Scim, true).await;
    add_user(&db, &ada, Source::Scim, false).await;
    add_user(&db, &ada, Source::Local, true).await;
    let other = admin(&db).await;
    add_user(&db, &other, Source::Scim, true).await;
    group::Entity::insert(group::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        org_id: Set(ada.org_id.to_string()),
        display_name: Set("Sales".into()),
        display_name_lower: Set(format!("sales-{}", uuid::Uuid::new_v4())),
        external_id: Set(None),
        resource: Set(json!({"displayName": "Sales"})),
        version: Set(1),
        created_at: Set(NOW),
        updated_at: Set(NOW),
    })
    .exec(&db)
    .await
    .unwrap();
    record(
        &db,
        vec![
            event(&ada, NOW - 2 * DAY, "create", 500),
            event(&ada, NOW - 3 * HOUR, "create", 201),
            event(&ada, NOW - 2 * HOUR, "create", 409),
            event(&ada, NOW - HOUR, "get", 401),
            event(&other, NOW, "get", 200),
        ],
    )
    .await;

    let seen = activity::overview(&db, &ada, NOW).await.unwrap();
    assert_eq!(
        seen,
        activity::Overview {
            active_users: 2,
            deactivated_users: 1,
            groups: 1,
            api_keys: 1,
            last_request_at: Some(NOW - HOUR),
            last_success_at: Some(NOW - 3 * HOUR),
            errors_last_24h: 2,
        }
    );
}

#[tokio::test]
async fn members_see_none_of_it() {
    let db = test_db().await;
    let ada = admin(&db).await;
    let member = member_of(&ada);
    let forbidden = |r: Result<(), DomainError>| assert!(matches!(r, Err(DomainError::Forbidden)), "{r:?}");
    forbidden(activity::log_page(&db, &member, &LogFilter::default(), 1).await.map(drop));
    forbidden(activity::activity(&db, &member, NOW).await.map(drop));
    forbidden(activity::overview(&db, &member, NOW).await.map(drop));
}

#[tokio::test]
async fn the_log_totals_match_its_rows_before_and_after_a_purge() {
    let db = test_db().await;
    let ada = admin(&db).await;
    // An hour long past, before every other test's events: the purge below spans organisations.
    let hour = 200_000 * HOUR;
    let minute = 60_000;
    record(
        &db,
        vec![
            event(&ada, hour - 5 * minute, "get", 200),
            event(&ada, hour + 10 * minute, "create", 201),
            event(&ada, hour + 20 * minute, "create", 409),
            event(&ada, hour + 50 * minute, "get", 200),
        ],
    )
    .await;
    let filter = |o: Option<&str>, op: Option<&str>| LogFilter::parse(o, op, None, None).unwrap();
    // Each view's total (from the hourly rollup, or counted for the operation filter) and its rows.
    let views = || async {
        let mut seen = Vec::new();
        for f in [
            filter(None, None),
            filter(Some("error"), None),
            filter(Some("success"), None),
            filter(None, Some("create")),
        ] {
            let page = activity::log_page(&db, &ada, &f, 1).await.unwrap();
            seen.push((page.total, page.events.len() as u64));
        }
        seen
    };
    assert_eq!(views().await, [(4, 4), (1, 1), (3, 3), (2, 2)]);

    // Mid-hour: the purge keeps the whole hour the cutoff falls in, rows and rollup alike.
    let purged = domain::provisioning_log::purge_before(&db, hour + 30 * minute).await.unwrap();
    assert!(purged >= 1);
    assert_eq!(views().await, [(3, 3), (1, 1), (2, 2), (2, 2)]);
}
