//! Typed ids: an organisation's id cannot be passed where an API key's, a person's or a group's
//! is expected (issue 12). They are the UUID text they always were, in the database and
//! on the wire (`serde(transparent)`).

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The id of ", $what, ".")]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id `id` names (ids are made by the database layer; this only types them).
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&$name> for sea_orm::Value {
            fn from(id: &$name) -> Self {
                id.0.as_str().into()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

id!(OrgId, "an organisation");
id!(UserId, "a person: a console account or a provisioned user");
id!(KeyId, "an API key");
id!(GroupId, "a provisioned group");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_their_text_on_the_wire_and_in_queries() {
        let org = OrgId::new("8b0c…");
        assert_eq!(serde_json::to_string(&org).unwrap(), "\"8b0c…\"");
        assert_eq!(serde_json::from_str::<OrgId>("\"8b0c…\"").unwrap(), org);
        assert_eq!(sea_orm::Value::from(&org), sea_orm::Value::from("8b0c…"));
        assert_eq!(org.to_string(), "8b0c…");
    }
}
