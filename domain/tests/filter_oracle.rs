//! SCIM filters lowered to SQL find exactly the users the in-memory reference evaluator
//! (`scim::filter::matches`) accepts, on the real database (SQLite, or PostgreSQL with
//! TEST_DATABASE_URL).

use std::collections::BTreeSet;

use domain::{
    accounts::{self, SignUp},
    directory::{Projection, Scope, users},
    testing::{test_db, unique_email},
};
use scim::{Filter, ListQuery, ResourceKind};
use serde_json::{Value, json};

fn people(tag: &str) -> Vec<Value> {
    let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    vec![
        json!({"userName": format!("Alice.{tag}@Contoso.com"), "externalId": "A-1", "displayName": "Alice Smith", "title": "Dr",
               "name": {"givenName": "Alice", "familyName": "Smith"}, "active": true,
               "emails": [{"type": "work", "value": "alice@contoso.com", "primary": true}, {"type": "home", "value": "al@home.example"}],
               ent: {"employeeNumber": "100", "department": "Research"}}),
        json!({"userName": format!("bob.{tag}@contoso.com"), "externalId": "a-1", "displayName": "Bob Jones", "active": false,
               "name": {"givenName": "Bob", "familyName": "Jones"}, "emails": [{"type": "work", "value": "BOB@contoso.com"}],
               ent: {"employeeNumber": "200", "department": "Sales"}}),
        json!({"userName": format!("carol.{tag}@fabrikam.com"), "title": "Drummer", "nickName": "Caz", "active": true,
               "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}], ent: {"department": "research"}}),
        json!({"userName": format!("dave.{tag}@fabrikam.com"), "displayName": "dave", "userType": "Contractor",
               "emails": [{"type": "home", "value": "dave@home.example"}]}),
    ]
}

const FILTERS: &[&str] = &[
    "userName sw \"alice.\"",
    "userName ew \"@fabrikam.com\"",
    "userName co \"CONTOSO\"",
    "externalId eq \"A-1\"",
    "externalId eq \"a-1\"",
    "externalId pr",
    "not (externalId pr)",
    "displayName eq \"ALICE SMITH\"",
    "displayName ne \"bob jones\"",
    "title sw \"dr\"",
    "title eq \"Dr\" or nickName eq \"caz\"",
    "active eq true",
    "active eq false and name.familyName eq \"jones\"",
    "name.givenName pr",
    "emails[type eq \"work\"].value eq \"bob@contoso.com\"",
    "emails[type eq \"work\" and value co \"alice\"]",
    "emails.value ew \".example\"",
    "emails pr",
    "phoneNumbers[type eq \"mobile\"]",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"research\"",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber gt \"150\"",
    "userType eq \"Contractor\" or (active eq false and not (title pr))",
    "meta.created gt \"2000-01-01T00:00:00Z\"",
    "not (userName sw \"a\" or userName sw \"b\")",
];

#[tokio::test]
async fn every_filter_finds_what_the_reference_evaluator_finds() {
    let db = test_db().await;
    let admin = accounts::sign_up(
        &db,
        &domain::testing::no_mail(),
        domain::testing::origin(),
        SignUp {
            organization: "Oracle".into(),
            name: "Admin".into(),
            email: unique_email("oracle"),
            password: "correct horse battery".into(),
        },
    )
    .await
    .unwrap();
    let scope = Scope { org_id: admin.org_id.clone(), base_url: "https://scimpad.test/scim/v2".into() };
    let tag = uuid::Uuid::new_v4().simple().to_string();
    for person in people(&tag) {
        users::create(&db, &scope, &person, &Projection::default()).await.unwrap();
    }
    let all =
        users::list(&db, &scope, &ListQuery { start_index: 1, count: Some(1000), ..Default::default() })
            .await
            .unwrap();
    let everyone = all["Resources"].as_array().unwrap().clone();
    assert_eq!(everyone.len(), 5, "four people and the admin");

    for text in FILTERS {
        let filter = Filter::parse(text).unwrap();
        let expected: BTreeSet<String> = everyone
            .iter()
            .filter(|u| scim::filter::matches(&filter, u, ResourceKind::User))
            .map(|u| u["userName"].as_str().unwrap().to_owned())
            .collect();
        let query =
            ListQuery { filter: Some(filter), start_index: 1, count: Some(1000), ..Default::default() };
        let found = users::list(&db, &scope, &query).await.unwrap_or_else(|e| panic!("{text}: {e:?}"));
        let got: BTreeSet<String> = found["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["userName"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, expected, "{text}");
        assert_eq!(found["totalResults"], json!(expected.len()), "{text}");
    }
}
