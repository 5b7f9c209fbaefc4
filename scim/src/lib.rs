//! SCIM 2.0 protocol for Scimpad: schemas and resources (RFC 7643), filter and PATCH-path
//! grammar, the PATCH engine, list/query parameters, projections, discovery documents and SCIM
//! errors (RFC 7644), plus the normaliser that turns Microsoft Entra ID's PATCH dialects into
//! plain RFC operations. Pure: no IO, no database, no HTTP.
#![forbid(unsafe_code)]

mod attr_path;
mod coerce;
mod datetime;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod limits;
pub mod list;
mod object;
pub mod patch;
pub mod path;
pub mod projection;
pub mod resource;
pub mod schema;

pub use attr_path::AttrPath;
pub use error::{ScimError, ScimType};
pub use filter::{CompValue, CompareOp, Filter};
pub use list::{ListQuery, SortOrder, list_response};
pub use patch::{
    MemberChange, OpKind, PatchOperation, PatchOutcome, apply_patch, parse_patch, split_member_ops,
};
pub use path::PatchPath;
pub use projection::{parse_attribute_list, project};
pub use resource::{group_members, prepare_resource};
pub use schema::{AttributeDef, ResourceKind, SchemaDef};

/// The SCIM media type (RFC 7644 §3.1); every SCIM response carries it.
pub const MEDIA_TYPE: &str = "application/scim+json";
/// Core User schema (RFC 7643 §4.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Core Group schema (RFC 7643 §4.2).
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Schema of Schema resources (RFC 7643 §7).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// Schema of the service provider configuration (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// Schema of ResourceType resources (RFC 7643 §6).
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// PATCH request message (RFC 7644 §3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// List response message (RFC 7644 §3.4.2).
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// Search request message (RFC 7644 §3.4.3).
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// Error message (RFC 7644 §3.12).
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
