//! Requests shaped the way Microsoft Entra ID's provisioning service sends them (entra-scim.md), so
//! the server is measured on the work Entra gives it: the matching read by `userName`, the create
//! body of a user, the PATCH replacing one attribute, a group and its member adds.

use serde_json::{Value, json};
use url::Url;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The non-standard schema URN Entra puts in a group's create body (entra-scim.md §2.7).
const ENTRA_GROUP_SCHEMA: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Adds Entra's matching query, `filter=userName eq "<user_name>"`, to a `/Users` URL.
pub fn filter_user_name(url: &mut Url, user_name: &str) {
    url.query_pairs_mut().append_pair("filter", &format!("userName eq \"{user_name}\""));
}

/// Entra's matching read of a group, `excludedAttributes=members&filter=displayName eq "<name>"`,
/// added to a `/Groups` URL (entra-scim.md §2.7).
pub fn filter_display_name(url: &mut Url, display_name: &str) {
    url.query_pairs_mut()
        .append_pair("excludedAttributes", "members")
        .append_pair("filter", &format!("displayName eq \"{display_name}\""));
}

/// A create body as Entra sends it (entra-scim.md §2.2); `i` varies the names.
pub fn user(user_name: &str, external_id: &str, i: usize) -> Value {
    let given = format!("Given{i}");
    let family = format!("Family{}", i % 997);
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": format!("{given} {family}"), "familyName": family, "givenName": given},
        "roles": []
    })
}

/// The PATCH replacing `name.familyName`.
pub fn replace_family_name(family: &str) -> Value {
    json!({
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "name.familyName", "value": family}]
    })
}

/// A group's create body as Entra sends it (entra-scim.md §2.7): no members.
pub fn group(display_name: &str, external_id: &str) -> Value {
    json!({
        "schemas": [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA],
        "externalId": external_id,
        "displayName": display_name,
        "meta": {"resourceType": "Group"}
    })
}

/// The PATCH adding the users `ids` to a group's members.
pub fn add_members(ids: &[String]) -> Value {
    let members: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    json!({
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "add", "path": "members", "value": members}]
    })
}
