//! Attribute definitions of the resources we serve (RFC 7643 §2, §3.1, §4.1–§4.3) and the
//! `/Schemas` documents rendered from them (RFC 7643 §7).
//!
//! One table drives everything that depends on attribute characteristics: name canonicalisation,
//! type checks, `caseExact` comparisons in filters, `returned` in projections and the discovery
//! documents, so what `/Schemas` says is what the server does. Deviations from the RFC tables,
//! on purpose: `userName` and Group `displayName` have `uniqueness: server` and
//! `caseExact: false` (Entra matches on both and requires unique group names).

use serde_json::{Map, Value, json};

use crate::attr_path::AttrPath;
use crate::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, SCHEMA_SCHEMA, USER_SCHEMA};

/// Attribute data types (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// A sequence of characters.
    String,
    /// `true` or `false`.
    Boolean,
    /// A real number.
    Decimal,
    /// A whole number.
    Integer,
    /// An `xsd:dateTime` string (RFC 3339 profile).
    DateTime,
    /// Base64-encoded bytes.
    Binary,
    /// A URI to a resource.
    Reference,
    /// A set of sub-attributes.
    Complex,
}

/// When an attribute may be changed (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    /// Set by the service provider only.
    ReadOnly,
    /// Freely updatable.
    ReadWrite,
    /// Set once (on creation or when first added), never changed.
    Immutable,
    /// Settable but never returned.
    WriteOnly,
}

/// When an attribute is returned (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// Always, whatever `attributes`/`excludedAttributes` say.
    Always,
    /// Never.
    Never,
    /// Unless excluded.
    Default,
    /// Only when named in `attributes`.
    Request,
}

/// How unique a value must be (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    /// No uniqueness requirement.
    None,
    /// Unique within the service provider's tenant.
    Server,
    /// Globally unique.
    Global,
}

macro_rules! wire_names {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The keyword used in schema documents.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }
    };
}

wire_names!(AttrType {
    String => "string", Boolean => "boolean", Decimal => "decimal", Integer => "integer",
    DateTime => "dateTime", Binary => "binary", Reference => "reference", Complex => "complex",
});
wire_names!(Mutability {
    ReadOnly => "readOnly", ReadWrite => "readWrite", Immutable => "immutable", WriteOnly => "writeOnly",
});
wire_names!(Returned { Always => "always", Never => "never", Default => "default", Request => "request" });
wire_names!(Uniqueness { None => "none", Server => "server", Global => "global" });

/// The characteristics of one attribute or sub-attribute (RFC 7643 §2.2, §7).
#[derive(Debug)]
pub struct AttributeDef {
    /// Canonical spelling of the attribute name.
    pub name: &'static str,
    /// Data type.
    pub attr_type: AttrType,
    /// Whether the value is a JSON array.
    pub multi_valued: bool,
    /// Whether the attribute must be present.
    pub required: bool,
    /// Whether string comparisons are case-sensitive.
    pub case_exact: bool,
    /// Who may change it.
    pub mutability: Mutability,
    /// When it is returned.
    pub returned: Returned,
    /// Uniqueness requirement.
    pub uniqueness: Uniqueness,
    /// Suggested values (e.g. `work`, `home` for email types).
    pub canonical_values: &'static [&'static str],
    /// Resource types a `reference` may point to.
    pub reference_types: &'static [&'static str],
    /// Sub-attributes of a complex attribute.
    pub sub_attributes: &'static [AttributeDef],
    /// Human-readable description.
    pub description: &'static str,
}

impl AttributeDef {
    pub(crate) const fn new(name: &'static str, attr_type: AttrType, description: &'static str) -> Self {
        Self {
            name,
            attr_type,
            multi_valued: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
            description,
        }
    }

    const fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::String, description)
    }

    const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::Boolean, description)
    }

    const fn reference(
        name: &'static str,
        reference_types: &'static [&'static str],
        description: &'static str,
    ) -> Self {
        let mut def = Self::new(name, AttrType::Reference, description);
        def.reference_types = reference_types;
        def
    }

    const fn complex(
        name: &'static str,
        sub_attributes: &'static [AttributeDef],
        description: &'static str,
    ) -> Self {
        let mut def = Self::new(name, AttrType::Complex, description);
        def.sub_attributes = sub_attributes;
        def
    }

    const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    const fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    const fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    const fn unique(mut self) -> Self {
        self.uniqueness = Uniqueness::Server;
        self
    }

    const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }

    /// Looks a sub-attribute up by name, case-insensitively (RFC 7643 §2.1).
    pub fn sub_attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        find_attr(self.sub_attributes, name)
    }

    /// Whether this is a complex attribute.
    pub fn is_complex(&self) -> bool {
        self.attr_type == AttrType::Complex
    }

    /// The RFC 7643 §7 JSON description of this attribute.
    pub fn to_json(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("name".into(), self.name.into());
        doc.insert("type".into(), self.attr_type.as_str().into());
        doc.insert("multiValued".into(), self.multi_valued.into());
        doc.insert("description".into(), self.description.into());
        doc.insert("required".into(), self.required.into());
        if self.is_complex() {
            let subs = self.sub_attributes.iter().map(Self::to_json).collect();
            doc.insert("subAttributes".into(), Value::Array(subs));
        } else {
            doc.insert("caseExact".into(), self.case_exact.into());
        }
        if !self.canonical_values.is_empty() {
            doc.insert("canonicalValues".into(), self.canonical_values.into());
        }
        if self.attr_type == AttrType::Reference {
            doc.insert("referenceTypes".into(), self.reference_types.into());
        }
        doc.insert("mutability".into(), self.mutability.as_str().into());
        doc.insert("returned".into(), self.returned.as_str().into());
        if !self.is_complex() {
            doc.insert("uniqueness".into(), self.uniqueness.as_str().into());
        }
        Value::Object(doc)
    }
}

fn find_attr(attrs: &'static [AttributeDef], name: &str) -> Option<&'static AttributeDef> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// A schema: a URN and its attributes (RFC 7643 §7).
#[derive(Debug)]
pub struct SchemaDef {
    /// The schema URN.
    pub id: &'static str,
    /// Human-readable name.
    pub name: &'static str,
    /// Human-readable description.
    pub description: &'static str,
    /// Top-level attributes.
    pub attributes: &'static [AttributeDef],
}

impl SchemaDef {
    /// Looks a top-level attribute up by name, case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        find_attr(self.attributes, name)
    }

    /// The Schema resource (RFC 7643 §7) without `meta`; see `discovery::schemas` for the
    /// served form.
    pub fn to_json(&self) -> Value {
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(AttributeDef::to_json).collect::<Vec<_>>(),
        })
    }
}

use AttrType as T;
use Mutability as M;

const TYPE_WORK_HOME_OTHER: &[&str] = &["work", "home", "other"];

const fn value_sub(description: &'static str) -> AttributeDef {
    AttributeDef::string("value", description)
}
const fn display_sub() -> AttributeDef {
    AttributeDef::string("display", "A human-readable name, primarily used for display purposes.")
}
const fn primary_sub() -> AttributeDef {
    AttributeDef::boolean("primary", "Whether this is the preferred value; 'true' appears at most once.")
}
const fn type_sub(values: &'static [&'static str]) -> AttributeDef {
    AttributeDef::string("type", "A label indicating the value's function.").canonical(values)
}

/// The common attributes of every resource (RFC 7643 §3.1). They are not listed in the
/// `/Schemas` documents, as the RFC allows, but resolve for paths, filters and projections.
pub static COMMON_ATTRIBUTES: &[AttributeDef] = &[
    AttributeDef::string("id", "Unique identifier assigned by the service provider.")
        .case_exact()
        .mutability(M::ReadOnly)
        .returned(Returned::Always)
        .unique(),
    AttributeDef::string("externalId", "Identifier assigned by the provisioning client.").case_exact(),
    AttributeDef::complex(
        "meta",
        &[
            AttributeDef::string("resourceType", "The name of the resource type.")
                .case_exact()
                .mutability(M::ReadOnly),
            AttributeDef::new("created", T::DateTime, "When the resource was added.").mutability(M::ReadOnly),
            AttributeDef::new("lastModified", T::DateTime, "When the resource last changed.")
                .mutability(M::ReadOnly),
            AttributeDef::reference("location", &["uri"], "The URI of the resource.")
                .case_exact()
                .mutability(M::ReadOnly),
            AttributeDef::string("version", "The version (ETag) of the resource.")
                .case_exact()
                .mutability(M::ReadOnly),
        ],
        "Resource metadata maintained by the service provider.",
    )
    .mutability(M::ReadOnly)
    .returned(Returned::Always),
];

/// `urn:ietf:params:scim:schemas:core:2.0:User` (RFC 7643 §4.1).
pub static USER: SchemaDef = SchemaDef {
    id: USER_SCHEMA,
    name: "User",
    description: "User Account",
    attributes: &[
        AttributeDef::string("userName", "Unique identifier for the User, used to sign in.")
            .required()
            .unique(),
        AttributeDef::complex(
            "name",
            &[
                AttributeDef::string("formatted", "The full name, formatted for display."),
                AttributeDef::string("familyName", "The family name (last name)."),
                AttributeDef::string("givenName", "The given name (first name)."),
                AttributeDef::string("middleName", "The middle name(s)."),
                AttributeDef::string("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
                AttributeDef::string("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
            ],
            "The components of the user's real name.",
        ),
        AttributeDef::string("displayName", "The name of the User, suitable for display."),
        AttributeDef::string("nickName", "The casual way to address the user."),
        AttributeDef::reference("profileUrl", &["external"], "A URI of the User's profile."),
        AttributeDef::string("title", "The user's title, such as 'Vice President'."),
        AttributeDef::string("userType", "The relationship to the organisation, e.g. 'Employee'."),
        AttributeDef::string("preferredLanguage", "Preferred written or spoken language."),
        AttributeDef::string("locale", "Default location for localisation."),
        AttributeDef::string("timezone", "Time zone in IANA 'Olson' format."),
        AttributeDef::boolean("active", "The User's administrative status."),
        AttributeDef::string("password", "The User's cleartext password (write-only).")
            .mutability(M::WriteOnly)
            .returned(Returned::Never),
        AttributeDef::complex(
            "emails",
            &[
                value_sub("The email address, canonicalised per RFC 5321."),
                display_sub(),
                type_sub(TYPE_WORK_HOME_OTHER),
                primary_sub(),
            ],
            "Email addresses for the User.",
        )
        .multi(),
        AttributeDef::complex(
            "phoneNumbers",
            &[
                value_sub("The phone number, stored as sent."),
                display_sub(),
                type_sub(&["work", "home", "mobile", "fax", "pager", "other"]),
                primary_sub(),
            ],
            "Phone numbers for the User.",
        )
        .multi(),
        AttributeDef::complex(
            "ims",
            &[
                value_sub("The instant messaging address."),
                display_sub(),
                type_sub(&["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
                primary_sub(),
            ],
            "Instant messaging addresses for the User.",
        )
        .multi(),
        AttributeDef::complex(
            "photos",
            &[
                AttributeDef::reference("value", &["external"], "The URL of the photo."),
                display_sub(),
                type_sub(&["photo", "thumbnail"]),
                primary_sub(),
            ],
            "URLs of photos of the User.",
        )
        .multi(),
        AttributeDef::complex(
            "addresses",
            &[
                AttributeDef::string("formatted", "The full mailing address, formatted."),
                AttributeDef::string("streetAddress", "The street address component."),
                AttributeDef::string("locality", "The city or locality component."),
                AttributeDef::string("region", "The state or region component."),
                AttributeDef::string("postalCode", "The zip code or postal code component."),
                AttributeDef::string("country", "The country name component."),
                type_sub(TYPE_WORK_HOME_OTHER),
                primary_sub(),
            ],
            "Physical mailing addresses for the User.",
        )
        .multi(),
        AttributeDef::complex(
            "groups",
            &[
                AttributeDef::string("value", "The id of the Group.").mutability(M::ReadOnly),
                AttributeDef::reference("$ref", &["User", "Group"], "The URI of the Group.")
                    .mutability(M::ReadOnly),
                AttributeDef::string("display", "The Group's display name.").mutability(M::ReadOnly),
                AttributeDef::string("type", "How the membership was derived.")
                    .canonical(&["direct", "indirect"])
                    .mutability(M::ReadOnly),
            ],
            "The Groups the user belongs to; maintained by the service provider.",
        )
        .multi()
        .mutability(M::ReadOnly),
        AttributeDef::complex(
            "entitlements",
            &[
                value_sub("The value of an entitlement."),
                display_sub(),
                AttributeDef::string("type", "A label indicating the entitlement's function."),
                primary_sub(),
            ],
            "Entitlements of the User.",
        )
        .multi(),
        AttributeDef::complex(
            "roles",
            &[
                value_sub("The value of a role."),
                display_sub(),
                AttributeDef::string("type", "A label indicating the role's function."),
                primary_sub(),
            ],
            "Roles of the User.",
        )
        .multi(),
        AttributeDef::complex(
            "x509Certificates",
            &[
                AttributeDef::new("value", T::Binary, "A DER-encoded X.509 certificate.").case_exact(),
                display_sub(),
                AttributeDef::string("type", "A label indicating the certificate's function."),
                primary_sub(),
            ],
            "X.509 certificates issued to the User.",
        )
        .multi(),
    ],
};

/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` (RFC 7643 §4.3).
pub static ENTERPRISE_USER: SchemaDef = SchemaDef {
    id: ENTERPRISE_USER_SCHEMA,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &[
        AttributeDef::string("employeeNumber", "Organisation-assigned employee number."),
        AttributeDef::string("costCenter", "Name of a cost center."),
        AttributeDef::string("organization", "Name of an organisation."),
        AttributeDef::string("division", "Name of a division."),
        AttributeDef::string("department", "Name of a department."),
        AttributeDef::complex(
            "manager",
            &[
                AttributeDef::string("value", "The id of the SCIM resource of the manager."),
                AttributeDef::reference("$ref", &["User"], "The URI of the manager's resource."),
                AttributeDef::string("displayName", "The manager's display name.").mutability(M::ReadOnly),
            ],
            "The User's manager.",
        ),
    ],
};

/// `urn:ietf:params:scim:schemas:core:2.0:Group` (RFC 7643 §4.2).
pub static GROUP: SchemaDef = SchemaDef {
    id: GROUP_SCHEMA,
    name: "Group",
    description: "Group",
    attributes: &[
        AttributeDef::string("displayName", "A human-readable name for the Group.").required().unique(),
        AttributeDef::complex(
            "members",
            &[
                AttributeDef::string("value", "The id of the member resource.").mutability(M::Immutable),
                AttributeDef::reference("$ref", &["User", "Group"], "The URI of the member.")
                    .mutability(M::Immutable),
                AttributeDef::string("display", "The member's display name.").mutability(M::ReadOnly),
                AttributeDef::string("type", "The type of the member.")
                    .canonical(&["User", "Group"])
                    .mutability(M::Immutable),
            ],
            "A list of members of the Group.",
        )
        .multi(),
    ],
};

/// Every schema this crate defines, core schemas first.
pub fn all_schemas() -> [&'static SchemaDef; 3] {
    [&USER, &GROUP, &ENTERPRISE_USER]
}

/// The resource types we serve (RFC 7643 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// `/Users`.
    User,
    /// `/Groups`.
    Group,
}

/// An attribute path resolved against a resource type's schemas.
#[derive(Debug, Clone, Copy)]
pub struct ResolvedAttr {
    /// The extension schema whose URN-named object holds the attribute; `None` for core and
    /// common attributes, which live at the top level of the resource.
    pub extension: Option<&'static SchemaDef>,
    /// The top-level attribute.
    pub attr: &'static AttributeDef,
    /// The sub-attribute, when the path names one.
    pub sub: Option<&'static AttributeDef>,
}

impl ResolvedAttr {
    /// The innermost definition the path names.
    pub fn leaf(&self) -> &'static AttributeDef {
        self.sub.unwrap_or(self.attr)
    }

    /// The path in canonical spelling: extension attributes qualified by their URN, core
    /// attributes unqualified.
    pub fn canonical_path(&self) -> AttrPath {
        AttrPath {
            schema: self.extension.map(|s| s.id.to_string()),
            name: self.attr.name.to_string(),
            sub_attr: self.sub.map(|s| s.name.to_string()),
        }
    }

    /// Whether this is the common `id` attribute.
    pub fn is_id(&self) -> bool {
        self.extension.is_none() && self.attr.name == "id"
    }
}

impl ResourceKind {
    /// The resource type name (`meta.resourceType`).
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }

    /// The endpoint path relative to the SCIM base URL.
    pub fn endpoint(self) -> &'static str {
        match self {
            Self::User => "/Users",
            Self::Group => "/Groups",
        }
    }

    /// The core schema.
    pub fn core_schema(self) -> &'static SchemaDef {
        match self {
            Self::User => &USER,
            Self::Group => &GROUP,
        }
    }

    /// The schema extensions this resource type supports.
    pub fn extensions(self) -> &'static [&'static SchemaDef] {
        static USER_EXTENSIONS: [&SchemaDef; 1] = [&ENTERPRISE_USER];
        match self {
            Self::User => &USER_EXTENSIONS,
            Self::Group => &[],
        }
    }

    /// The extension with this URN (case-insensitive).
    pub fn extension(self, urn: &str) -> Option<&'static SchemaDef> {
        self.extensions().iter().copied().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// The core schema or an extension with this URN (case-insensitive).
    pub fn schema(self, urn: &str) -> Option<&'static SchemaDef> {
        let core = self.core_schema();
        if core.id.eq_ignore_ascii_case(urn) { Some(core) } else { self.extension(urn) }
    }

    /// Resolves an attribute path (case-insensitive, optionally URN-qualified). Unqualified
    /// names are looked up in the core schema, the common attributes and then the extensions
    /// (Entra sends `manager` unqualified). `None` for anything unknown, including a
    /// sub-attribute of a non-complex attribute.
    pub fn resolve(self, path: &AttrPath) -> Option<ResolvedAttr> {
        let core = self.core_schema();
        let (extension, attr) = match path.schema.as_deref() {
            Some(urn) if urn.eq_ignore_ascii_case(core.id) => (None, self.core_attribute(&path.name)?),
            Some(urn) => {
                let ext = self.extension(urn)?;
                (Some(ext), ext.attribute(&path.name)?)
            }
            None => match self.core_attribute(&path.name) {
                Some(attr) => (None, attr),
                None => {
                    self.extensions().iter().find_map(|ext| Some((Some(*ext), ext.attribute(&path.name)?)))?
                }
            },
        };
        let sub = match path.sub_attr.as_deref() {
            Some(sub) => Some(attr.sub_attribute(sub)?),
            None => None,
        };
        Some(ResolvedAttr { extension, attr, sub })
    }

    /// A core-schema or common attribute by name, case-insensitively.
    pub(crate) fn core_attribute(self, name: &str) -> Option<&'static AttributeDef> {
        self.core_schema().attribute(name).or_else(|| find_attr(COMMON_ATTRIBUTES, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(kind: ResourceKind, path: &str) -> Option<ResolvedAttr> {
        kind.resolve(&AttrPath::parse(path).ok()?)
    }

    fn canonical(kind: ResourceKind, path: &str) -> Option<String> {
        resolve(kind, path).map(|r| r.canonical_path().to_string())
    }

    #[test]
    fn resolves_case_insensitively_to_canonical_spelling() {
        use ResourceKind::*;
        assert_eq!(canonical(User, "USERNAME").as_deref(), Some("userName"));
        assert_eq!(canonical(User, "name.GIVENNAME").as_deref(), Some("name.givenName"));
        assert_eq!(canonical(User, "Emails.Value").as_deref(), Some("emails.value"));
        assert_eq!(canonical(User, "externalid").as_deref(), Some("externalId"));
        assert_eq!(canonical(User, "meta.lastmodified").as_deref(), Some("meta.lastModified"));
        assert_eq!(canonical(Group, "displayname").as_deref(), Some("displayName"));
        assert_eq!(canonical(Group, "members.$REF").as_deref(), Some("members.$ref"));
    }

    #[test]
    fn resolves_urn_qualified_names() {
        let kind = ResourceKind::User;
        assert_eq!(
            canonical(kind, "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName").as_deref(),
            Some("name.familyName")
        );
        let ext = resolve(kind, "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EmployeeNumber");
        let ext = ext.expect("enterprise attribute resolves");
        assert_eq!(ext.extension.map(|s| s.id), Some(ENTERPRISE_USER_SCHEMA));
        assert_eq!(ext.attr.name, "employeeNumber");
        assert_eq!(
            canonical(kind, "manager.value").as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value")
        );
    }

    #[test]
    fn unknown_and_misplaced_names_do_not_resolve() {
        use ResourceKind::*;
        assert!(resolve(User, "favouriteColour").is_none());
        assert!(resolve(User, "userName.first").is_none());
        assert!(resolve(User, "name.nope").is_none());
        assert!(resolve(Group, "userName").is_none());
        assert!(resolve(Group, "manager").is_none());
        assert!(resolve(User, "urn:ietf:params:scim:schemas:core:2.0:Group:displayName").is_none());
        assert!(resolve(User, "urn:example:unknown:attr").is_none());
    }

    #[test]
    fn characteristics_match_the_rfc_and_entra_needs() {
        let user_name = USER.attribute("userName").expect("userName");
        assert!(user_name.required && !user_name.case_exact);
        assert_eq!(user_name.uniqueness, Uniqueness::Server);
        let external_id = find_attr(COMMON_ATTRIBUTES, "externalId").expect("externalId");
        assert!(external_id.case_exact);
        let group_name = GROUP.attribute("displayName").expect("displayName");
        assert!(group_name.required && !group_name.case_exact);
        assert_eq!(group_name.uniqueness, Uniqueness::Server);
        let password = USER.attribute("password").expect("password");
        assert_eq!(password.returned, Returned::Never);
        assert_eq!(password.mutability, Mutability::WriteOnly);
        let groups = USER.attribute("groups").expect("groups");
        assert_eq!(groups.mutability, Mutability::ReadOnly);
        assert!(resolve(ResourceKind::User, "id").is_some_and(|r| r.is_id()));
        assert!(!resolve(ResourceKind::User, "externalId").is_some_and(|r| r.is_id()));
    }

    #[test]
    fn user_schema_has_every_rfc_attribute() {
        let names: Vec<_> = USER.attributes.iter().map(|a| a.name).collect();
        assert_eq!(
            names,
            [
                "userName",
                "name",
                "displayName",
                "nickName",
                "profileUrl",
                "title",
                "userType",
                "preferredLanguage",
                "locale",
                "timezone",
                "active",
                "password",
                "emails",
                "phoneNumbers",
                "ims",
                "photos",
                "addresses",
                "groups",
                "entitlements",
                "roles",
                "x509Certificates",
            ]
        );
        let manager = ENTERPRISE_USER.attribute("manager").expect("manager");
        let subs: Vec<_> = manager.sub_attributes.iter().map(|a| a.name).collect();
        assert_eq!(subs, ["value", "$ref", "displayName"]);
        let members = GROUP.attribute("members").expect("members");
        let subs: Vec<_> = members.sub_attributes.iter().map(|a| a.name).collect();
        assert_eq!(subs, ["value", "$ref", "display", "type"]);
    }

    #[test]
    fn schema_document_renders_characteristics() {
        let doc = GROUP.to_json();
        assert_eq!(doc["schemas"], json!([SCHEMA_SCHEMA]));
        assert_eq!(doc["id"], GROUP_SCHEMA);
        assert_eq!(
            doc["attributes"][0],
            json!({
                "name": "displayName", "type": "string", "multiValued": false,
                "description": "A human-readable name for the Group.", "required": true,
                "caseExact": false, "mutability": "readWrite", "returned": "default",
                "uniqueness": "server"
            })
        );
        let members = &doc["attributes"][1];
        assert_eq!(members["multiValued"], true);
        assert!(members.get("caseExact").is_none());
        assert_eq!(members["subAttributes"][1]["referenceTypes"], json!(["User", "Group"]));
        assert_eq!(members["subAttributes"][3]["canonicalValues"], json!(["User", "Group"]));
    }

    #[test]
    fn resource_kind_metadata() {
        assert_eq!(ResourceKind::User.endpoint(), "/Users");
        assert_eq!(ResourceKind::Group.name(), "Group");
        assert_eq!(ResourceKind::User.core_schema().id, USER_SCHEMA);
        assert_eq!(ResourceKind::User.extensions().len(), 1);
        assert!(ResourceKind::Group.extensions().is_empty());
        assert!(ResourceKind::User.extension(&ENTERPRISE_USER_SCHEMA.to_uppercase()).is_some());
        assert_eq!(all_schemas().len(), 3);
    }
}
