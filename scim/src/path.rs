//! PATCH paths (RFC 7644 §3.5.2): `PATH = attrPath / valuePath [subAttr]`.
//!
//! Examples: `members`, `name.familyName`, `members[value eq "2819c223"]`,
//! `emails[type eq "work"].value`,
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`. Errors are 400
//! `invalidPath`. The grammar shares the filter lexer and parser, and their limits.

use std::fmt;

use crate::attr_path::AttrPath;
use crate::error::{ScimError, ScimType};
use crate::filter::{Filter, parser};

/// A parsed PATCH path.
///
/// With a value filter (`emails[type eq "work"].value`), `attr.sub_attr` is the sub-attribute
/// written after the brackets and `filter` selects elements of `attr.name`; without one,
/// `attr` is the whole path (`name.familyName`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute (and sub-attribute) targeted.
    pub attr: AttrPath,
    /// The value-selection filter over elements of a multi-valued attribute.
    pub filter: Option<Filter>,
}

impl PatchPath {
    /// Parses a PATCH path; failures are 400 `invalidPath`.
    pub fn parse(input: &str) -> Result<Self, ScimError> {
        parser::parse_path(input).map_err(|e| e.into_scim(ScimType::InvalidPath, input))
    }

    /// A path without value filter.
    pub fn attr(attr: AttrPath) -> Self {
        Self { attr, filter: None }
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(filter) = &self.filter else {
            return self.attr.fmt(f);
        };
        if let Some(schema) = &self.attr.schema {
            write!(f, "{schema}:")?;
        }
        write!(f, "{}[{filter}]", self.attr.name)?;
        if let Some(sub) = &self.attr.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for PatchPath {
    type Err = ScimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{CompValue, CompareOp};
    use proptest::prelude::*;

    fn path(s: &str) -> PatchPath {
        PatchPath::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn parses_the_shapes_entra_sends() {
        assert_eq!(path("members"), PatchPath::attr(AttrPath::new("members")));
        let p = path("name.familyName");
        assert_eq!(
            (p.attr.name.as_str(), p.attr.sub_attr.as_deref(), p.filter),
            ("name", Some("familyName"), None)
        );
        let p = path("members[value eq \"2819c223\"]");
        assert_eq!(p.attr, AttrPath::new("members"));
        assert_eq!(
            p.filter,
            Some(Filter::compare(
                AttrPath::new("value"),
                CompareOp::Eq,
                CompValue::String("2819c223".into())
            ))
        );
        let p = path("emails[type eq \"work\"].value");
        assert_eq!(p.attr.sub_attr.as_deref(), Some("value"));
        assert_eq!(p.to_string(), "emails[type eq \"work\"].value");
        let p = path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager");
        assert_eq!(p.attr.name, "manager");
        assert_eq!(
            p.attr.schema.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(path("roles[primary eq \"True\"].value").to_string(), "roles[primary eq \"True\"].value");
        assert_eq!(
            path("addresses[type eq \"work\" and primary eq true].streetAddress").to_string(),
            "addresses[type eq \"work\" and primary eq true].streetAddress"
        );
        assert_eq!(
            path("urn:ietf:params:scim:schemas:core:2.0:User:emails[TYPE EQ \"work\"]").to_string(),
            "urn:ietf:params:scim:schemas:core:2.0:User:emails[TYPE eq \"work\"]"
        );
        assert_eq!(
            path("members[value eq \"a\" or value eq \"b\"]").to_string(),
            "members[value eq \"a\" or value eq \"b\"]"
        );
    }

    #[test]
    fn rejects_malformed_paths_as_invalid_path() {
        for bad in [
            "",
            "   ",
            "members[",
            "members[]",
            "members[value eq]",
            "emails.value[type eq \"w\"]",
            "emails[type eq \"w\"].",
            "emails[type eq \"w\"].value.x",
            "emails[type eq \"w\"] x",
            "a b",
            "userName eq \"x\"",
            "1abc",
            "emails[type eq \"w\"][x pr]",
            "(members)",
            "emails[type eq \"w\"]value",
        ] {
            let err = PatchPath::parse(bad).expect_err(bad);
            assert_eq!((err.status, err.scim_type), (400, Some(ScimType::InvalidPath)), "{bad:?}");
        }
        let long = format!("members[{}value eq \"x\"{}]", "(".repeat(40), ")".repeat(40));
        assert!(PatchPath::parse(&long).expect_err("too deep").detail.contains("deep"));
    }

    fn arb_path() -> impl Strategy<Value = PatchPath> {
        let name = "[a-zA-Z][a-zA-Z0-9]{0,6}"
            .prop_filter("keyword", |s| !["and", "or", "not"].contains(&s.to_ascii_lowercase().as_str()));
        let schema = prop_oneof![
            Just(None),
            Just(Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_string())),
        ];
        let value = prop_oneof![
            any::<String>().prop_map(CompValue::String),
            any::<bool>().prop_map(CompValue::Bool),
            any::<i32>().prop_map(|n| CompValue::Number(n.into())),
        ];
        let filter =
            (name.clone(), value).prop_map(|(n, v)| Filter::compare(AttrPath::new(n), CompareOp::Eq, v));
        let filter = filter
            .prop_recursive(2, 6, 2, |inner| (inner.clone(), inner).prop_map(|(l, r)| Filter::and(l, r)));
        (schema, name.clone(), proptest::option::of(name), proptest::option::of(filter)).prop_map(
            |(schema, name, sub_attr, filter)| PatchPath {
                attr: AttrPath { schema, name, sub_attr },
                filter,
            },
        )
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = PatchPath::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_path_like_text(s in r#"[a-z0-9 \[\]".:$]{0,60}"#) {
            let _ = PatchPath::parse(&s);
        }

        #[test]
        fn display_parse_round_trips(p in arb_path()) {
            let text = p.to_string();
            prop_assert_eq!(PatchPath::parse(&text), Ok(p), "text: {}", text);
        }
    }
}
