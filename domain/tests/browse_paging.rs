//! The console's pages over a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL) take any
//! page number a URL can carry: the last page holds the remainder, a page past it is empty with the
//! right totals, and no page number overflows an offset.

use domain::{
    accounts::{self, Actor, SignUp},
    activity::{self, LogFilter},
    browse::{self, PAGE_SIZE, UserFilter, UserQuery},
    directory::{Projection, Scope, groups, users},
    sea_orm::DatabaseConnection,
    testing::{test_db, unique_email},
};
use serde_json::json;

async fn admin(db: &DatabaseConnection) -> Actor {
    let email = unique_email("paging");
    let input = SignUp {
        organization: "Contoso".into(),
        name: "Ada Admin".into(),
        email,
        password: "correct horse battery".into(),
    };
    accounts::sign_up(db, &domain::testing::no_mail(), domain::testing::origin(), input).await.unwrap()
}

/// An organisation with `people` provisioned users (besides its admin) and one group holding the
/// first three of them; returns the admin and the group's id.
async fn directory(db: &DatabaseConnection, people: usize) -> (Actor, String) {
    let ada = admin(db).await;
    let scope = Scope { org_id: ada.org_id.clone(), base_url: "https://scimpad.example/scim/v2".into() };
    let mut ids = Vec::new();
    for _ in 0..people {
        let body =
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": unique_email("p")});
        ids.push(users::create(db, &scope, &body, &Projection::default()).await.unwrap().id);
    }
    let members: Vec<_> = ids.iter().take(3).map(|id| json!({"value": id})).collect();
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng", "members": members});
    let group = groups::create(db, &scope, &body, &Projection::default()).await.unwrap().id;
    (ada, group)
}

fn query(page: u64) -> UserQuery {
    UserQuery { page, ..UserQuery::default() }
}

#[tokio::test]
async fn the_last_page_holds_the_remainder_and_the_next_one_is_empty() {
    let db = test_db().await;
    let (ada, _) = directory(&db, PAGE_SIZE as usize + 1).await;
    let total = PAGE_SIZE + 2; // and the admin

    let first = browse::users(&db, &ada, &query(0)).await.unwrap();
    assert_eq!((first.page, first.pages, first.total, first.rows.len()), (1, 2, total, PAGE_SIZE as usize));
    let last = browse::users(&db, &ada, &query(2)).await.unwrap();
    assert_eq!((last.page, last.pages, last.rows.len()), (2, 2, 2));
    let past = browse::users(&db, &ada, &query(3)).await.unwrap();
    assert_eq!((past.page, past.pages, past.total, past.rows.len()), (3, 2, total, 0));
}

/// Pages in the second half of the order are read from its end: walking every page must still meet
/// each person once, in the order of the whole list, whatever the sort and its direction.
#[tokio::test]
async fn every_page_from_either_end_lists_each_person_once_in_order() {
    let db = test_db().await;
    let people = 2 * PAGE_SIZE as usize + 7;
    let (ada, _) = directory(&db, people).await;
    let scim_only = UserFilter { source: Some(domain::accounts::Source::Scim), ..UserFilter::default() };
    // Every provisioned person has no display name: that order is the ids' alone.
    for sort in [None, Some("display_name"), Some("updated")] {
        for (filter, total) in [(UserFilter::default(), people + 1), (scim_only.clone(), people)] {
            for descending in [false, true] {
                let at = |page| UserQuery {
                    filter: filter.clone(),
                    sort: sort.map(str::to_owned),
                    descending,
                    page,
                };
                let mut walked = Vec::new();
                let mut page = 1;
                loop {
                    let rows = browse::users(&db, &ada, &at(page)).await.unwrap();
                    assert_eq!(rows.total, total as u64, "{sort:?} {filter:?}");
                    if rows.rows.is_empty() {
                        break;
                    }
                    walked.extend(rows.rows.into_iter().map(|r| (r.user.user_name_lower, r.user.id)));
                    page += 1;
                }
                let mut expected = walked.clone();
                if sort.is_none() {
                    expected.sort();
                    if descending {
                        expected.reverse();
                    }
                    assert_eq!(walked, expected, "by user name, descending: {descending}");
                }
                let mut unique = walked.iter().map(|(_, id)| id).collect::<Vec<_>>();
                unique.sort();
                unique.dedup();
                assert_eq!(unique.len(), total, "{sort:?} {filter:?} descending: {descending}");
            }
        }
    }
}

#[tokio::test]
async fn any_u64_page_is_an_empty_page_with_the_right_totals() {
    let db = test_db().await;
    let (ada, group) = directory(&db, 3).await;
    let at = domain::clock::now_ms();
    let event = domain::testing::log_event(ada.org_id.as_str(), at, "create", 201);
    domain::provisioning_log::store(&db, vec![event]).await.unwrap();

    for page in [u64::MAX, u64::MAX / PAGE_SIZE + 1, u64::MAX / PAGE_SIZE + 2] {
        let people = browse::users(&db, &ada, &query(page)).await.unwrap();
        assert_eq!((people.page, people.pages, people.total, people.rows.len()), (page, 1, 4, 0));
        let searched = UserQuery {
            filter: UserFilter { search: Some("p.".into()), ..UserFilter::default() },
            descending: true,
            ..query(page)
        };
        assert_eq!(browse::users(&db, &ada, &searched).await.unwrap().rows.len(), 0);

        let list = browse::groups(&db, &ada, None, page).await.unwrap();
        assert_eq!((list.page, list.total, list.rows.len()), (page, 1, 0));

        let detail = browse::group(&db, &ada, &group, page).await.unwrap();
        assert_eq!((detail.members.page, detail.members.total, detail.members.rows.len()), (page, 3, 0));

        let log = activity::log_page(&db, &ada, &LogFilter::default(), page).await.unwrap();
        assert_eq!((log.page, log.total, log.events.len()), (page, 1, 0));
    }
    // And the pages that exist still read.
    assert_eq!(browse::group(&db, &ada, &group, 1).await.unwrap().members.rows.len(), 3);
    assert_eq!(activity::log_page(&db, &ada, &LogFilter::default(), 1).await.unwrap().events.len(), 1);
}
