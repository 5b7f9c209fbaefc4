//! Discovery documents: `/ServiceProviderConfig` (RFC 7643 §5), `/ResourceTypes` (§6) and
//! `/Schemas` (§7), each with `meta.location` under the caller's SCIM base URL.
//!
//! The schema documents are rendered from `schema.rs`, the same table the engine uses, so
//! discovery (which Entra reads for gallery apps) always describes actual behaviour.

use serde_json::{Value, json};

use crate::schema::{ResourceKind, SchemaDef, all_schemas};
use crate::{RESOURCE_TYPE_SCHEMA, SERVICE_PROVIDER_CONFIG_SCHEMA};

/// What the service provider configuration advertises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProviderOptions {
    /// The SCIM base URL (`https://host/scim/v2`), without trailing slash.
    pub base_url: String,
    /// Human-facing documentation, if any.
    pub documentation_uri: Option<String>,
    /// Whether `/Bulk` is served.
    pub bulk_supported: bool,
    /// Most operations in one bulk request.
    pub bulk_max_operations: u64,
    /// Largest bulk payload, in bytes.
    pub bulk_max_payload_size: u64,
    /// Most resources one filtered query returns.
    pub filter_max_results: u64,
}

fn location(base_url: &str, path: &str) -> String {
    format!("{}{path}", base_url.trim_end_matches('/'))
}

fn meta(resource_type: &str, base_url: &str, path: &str) -> Value {
    json!({"resourceType": resource_type, "location": location(base_url, path)})
}

/// The ServiceProviderConfig resource.
pub fn service_provider_config(opts: &ServiceProviderOptions) -> Value {
    let mut config = json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": {"supported": true},
        "bulk": {
            "supported": opts.bulk_supported,
            "maxOperations": opts.bulk_max_operations,
            "maxPayloadSize": opts.bulk_max_payload_size,
        },
        "filter": {"supported": true, "maxResults": opts.filter_max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token: an API key created in the admin console.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": meta("ServiceProviderConfig", &opts.base_url, "/ServiceProviderConfig"),
    });
    if let (Some(uri), Some(map)) = (&opts.documentation_uri, config.as_object_mut()) {
        map.insert("documentationUri".into(), Value::from(uri.as_str()));
    }
    config
}

/// The ResourceType resource of `kind`.
pub fn resource_type(kind: ResourceKind, base_url: &str) -> Value {
    let extensions: Vec<Value> =
        kind.extensions().iter().map(|ext| json!({"schema": ext.id, "required": false})).collect();
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": kind.name(),
        "name": kind.name(),
        "endpoint": kind.endpoint(),
        "description": kind.core_schema().description,
        "schema": kind.core_schema().id,
        "schemaExtensions": extensions,
        "meta": meta("ResourceType", base_url, &format!("/ResourceTypes/{}", kind.name())),
    })
}

/// Every ResourceType resource (User, Group).
pub fn resource_types(base_url: &str) -> Vec<Value> {
    [ResourceKind::User, ResourceKind::Group].into_iter().map(|kind| resource_type(kind, base_url)).collect()
}

fn schema_resource(schema: &SchemaDef, base_url: &str) -> Value {
    let mut doc = schema.to_json();
    if let Some(map) = doc.as_object_mut() {
        map.insert("meta".into(), meta("Schema", base_url, &format!("/Schemas/{}", schema.id)));
    }
    doc
}

/// Every Schema resource (User, Group, Enterprise User).
pub fn schemas(base_url: &str) -> Vec<Value> {
    all_schemas().into_iter().map(|s| schema_resource(s, base_url)).collect()
}

/// The Schema resource with this URN (`GET /Schemas/{id}`), case-insensitively.
pub fn schema(base_url: &str, id: &str) -> Option<Value> {
    all_schemas().into_iter().find(|s| s.id.eq_ignore_ascii_case(id)).map(|s| schema_resource(s, base_url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr_path::AttrPath;

    const BASE: &str = "https://scimpad.example/scim/v2/";

    #[test]
    fn service_provider_config_advertises_capabilities() {
        let opts = ServiceProviderOptions {
            base_url: BASE.into(),
            documentation_uri: Some("https://scimpad.example/docs/scim".into()),
            bulk_supported: true,
            bulk_max_operations: 1000,
            bulk_max_payload_size: 1_048_576,
            filter_max_results: 200,
        };
        let config = service_provider_config(&opts);
        assert_eq!(config["schemas"], json!([SERVICE_PROVIDER_CONFIG_SCHEMA]));
        assert_eq!(config["patch"], json!({"supported": true}));
        assert_eq!(
            config["bulk"],
            json!({"supported": true, "maxOperations": 1000, "maxPayloadSize": 1_048_576})
        );
        assert_eq!(config["filter"], json!({"supported": true, "maxResults": 200}));
        assert_eq!(config["changePassword"]["supported"], false);
        assert_eq!(config["sort"]["supported"], true);
        assert_eq!(config["etag"]["supported"], true);
        assert_eq!(config["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(config["documentationUri"], "https://scimpad.example/docs/scim");
        assert_eq!(config["meta"]["location"], "https://scimpad.example/scim/v2/ServiceProviderConfig");
        let without_docs =
            service_provider_config(&ServiceProviderOptions { documentation_uri: None, ..opts });
        assert!(without_docs.get("documentationUri").is_none());
    }

    #[test]
    fn resource_types_describe_endpoints_and_extensions() {
        let types = resource_types(BASE);
        assert_eq!(
            types[0],
            json!({"schemas": [RESOURCE_TYPE_SCHEMA], "id": "User", "name": "User", "endpoint": "/Users",
                "description": "User Account", "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
                "schemaExtensions": [{"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": false}],
                "meta": {"resourceType": "ResourceType", "location": "https://scimpad.example/scim/v2/ResourceTypes/User"}})
        );
        assert_eq!(types[1]["endpoint"], "/Groups");
        assert_eq!(types[1]["schemaExtensions"], json!([]));
    }

    #[test]
    fn schemas_tell_the_truth_about_the_engine() {
        let docs = schemas(BASE);
        assert_eq!(docs.len(), 3);
        let user = schema(BASE, "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER").expect("user schema");
        assert_eq!(
            user["meta"]["location"],
            "https://scimpad.example/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"
        );
        assert!(schema(BASE, "urn:nope").is_none());
        // Every attribute and sub-attribute the documents list resolves with the same traits.
        for doc in &docs {
            let id = doc["id"].as_str().unwrap_or_default();
            let kind = if id.ends_with("Group") { ResourceKind::Group } else { ResourceKind::User };
            for attr in doc["attributes"].as_array().into_iter().flatten() {
                let name = attr["name"].as_str().unwrap_or_default();
                let path = AttrPath { schema: Some(id.to_string()), name: name.to_string(), sub_attr: None };
                let resolved = kind.resolve(&path).expect("listed attributes resolve");
                assert_eq!(attr["caseExact"].as_bool().unwrap_or(false), resolved.attr.case_exact, "{name}");
                assert_eq!(attr["multiValued"], resolved.attr.multi_valued, "{name}");
                for sub in attr["subAttributes"].as_array().into_iter().flatten() {
                    let sub_name = sub["name"].as_str().unwrap_or_default();
                    let sub_path = AttrPath { sub_attr: Some(sub_name.to_string()), ..path.clone() };
                    assert!(kind.resolve(&sub_path).is_some(), "{name}.{sub_name}");
                }
            }
        }
        let user_name = &docs[0]["attributes"][0];
        assert_eq!(
            (user_name["name"].as_str(), user_name["uniqueness"].as_str(), user_name["caseExact"].as_bool()),
            (Some("userName"), Some("server"), Some(false))
        );
    }
}
