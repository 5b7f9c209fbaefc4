//! The console's pages over a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL) take any
//! page number a URL can carry: the last page holds the remainder, a page past it is empty with the
//! right totals, and no page number overflows an offset.

use domain::{
    accounts::{self, Actor, SignUp},
    activity::{self, LogFilter},
    browse::{self, Anchor, PAGE_SIZE, UserFilter, UserQuery},
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
                    anchor: None,
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

/// "Next" and "Previous" read by key (the person at the edge of the page shown) in either
/// direction, and meet the same pages the page numbers do; an anchor that is not one of the
/// organisation's people, or one past which nothing lies, falls back to the page number.
#[tokio::test]
async fn next_and_previous_by_key_meet_the_numbered_pages() {
    let db = test_db().await;
    let people = 2 * PAGE_SIZE as usize + 7;
    let (ada, _) = directory(&db, people).await;
    let (other, _) = directory(&db, 1).await;
    let stranger = browse::users(&db, &other, &query(1)).await.unwrap().rows[0].user.id.clone();
    let ids = |page: &browse::Page<browse::UserRow>| {
        page.rows.iter().map(|r| r.user.id.clone()).collect::<Vec<_>>()
    };
    for descending in [false, true] {
        let at = |page, anchor| UserQuery { descending, page, anchor, ..UserQuery::default() };
        let numbered: Vec<_> = numbered_pages(&db, &ada, descending).await;
        // Forward from page 1 by "Next", then back by "Previous".
        let mut page = browse::users(&db, &ada, &at(1, None)).await.unwrap();
        let mut forward = vec![ids(&page)];
        while page.page < page.pages {
            let last = page.rows.last().unwrap().user.id.clone();
            page = browse::users(&db, &ada, &at(page.page + 1, Some(Anchor::After(last)))).await.unwrap();
            forward.push(ids(&page));
        }
        assert_eq!(forward, numbered, "Next by key, descending: {descending}");
        let mut back = vec![ids(&page)];
        while page.page > 1 {
            let first = page.rows[0].user.id.clone();
            page = browse::users(&db, &ada, &at(page.page - 1, Some(Anchor::Before(first)))).await.unwrap();
            back.push(ids(&page));
        }
        back.reverse();
        assert_eq!(back, numbered, "Previous by key, descending: {descending}");

        // The key decides the rows, the number only labels them: after the 10th person come the
        // 11th to the 60th, whatever page the link calls that.
        let flat: Vec<String> = numbered.concat();
        let keyed = browse::users(&db, &ada, &at(2, Some(Anchor::After(flat[9].clone())))).await.unwrap();
        assert_eq!((keyed.page, ids(&keyed)), (2, flat[10..10 + PAGE_SIZE as usize].to_vec()));
        let keyed = browse::users(&db, &ada, &at(3, Some(Anchor::Before(flat[70].clone())))).await.unwrap();
        assert_eq!(ids(&keyed), flat[70 - PAGE_SIZE as usize..70].to_vec());

        // Another organisation's person, a made-up id, and the very last person: read by number.
        let last_person = numbered.last().unwrap().last().unwrap().clone();
        for anchor in [stranger.clone(), "no-such-person".to_owned(), last_person] {
            let page = browse::users(&db, &ada, &at(2, Some(Anchor::After(anchor.clone())))).await.unwrap();
            assert_eq!(ids(&page), numbered[1], "anchor {anchor}");
        }
    }
    // Another order ignores the anchor: the page number alone says which rows.
    let by_update =
        |page, anchor| UserQuery { sort: Some("updated".into()), page, anchor, ..UserQuery::default() };
    let plain = browse::users(&db, &ada, &by_update(2, None)).await.unwrap();
    let first = plain.rows[0].user.id.clone();
    let anchored = browse::users(&db, &ada, &by_update(2, Some(Anchor::After(first)))).await.unwrap();
    assert_eq!(ids(&anchored), ids(&plain));
}

/// Every page of the Users list by number, each page's ids.
async fn numbered_pages(db: &DatabaseConnection, ada: &Actor, descending: bool) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    for page in 1.. {
        let q = UserQuery { descending, page, ..UserQuery::default() };
        let rows = browse::users(db, ada, &q).await.unwrap();
        if rows.rows.is_empty() {
            break;
        }
        pages.push(rows.rows.into_iter().map(|r| r.user.id).collect());
    }
    pages
}
