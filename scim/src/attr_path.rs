//! Attribute paths: `attrPath = [URI ":"] ATTRNAME *1subAttr` (RFC 7644 §3.10, used by filters
//! §3.4.2.2, PATCH paths §3.5.2, `sortBy` and `attributes` lists).
//!
//! Parsing is purely syntactic; names keep the client's spelling. Resolving against a schema
//! (case-insensitive, canonical spelling) is `ResourceKind::resolve`.

use std::fmt;

/// An attribute reference such as `userName`, `name.givenName` or
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN qualifying the name, if any.
    pub schema: Option<String>,
    /// The attribute name.
    pub name: String,
    /// The sub-attribute name, if any.
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// An unqualified path without sub-attribute.
    pub fn new(name: impl Into<String>) -> Self {
        Self { schema: None, name: name.into(), sub_attr: None }
    }

    /// Parses `[URI ":"] ATTRNAME ["." subAttr]`. A URI is recognised by its `urn:` scheme and
    /// ends at the last `:`. Names are `ALPHA *(ALPHA / DIGIT / "-" / "_")`; a leading `$` is
    /// also accepted so that `members.$ref` can be named.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let (schema, rest) = match text.get(..4) {
            Some(scheme) if scheme.eq_ignore_ascii_case("urn:") => {
                let colon = text.rfind(':').ok_or("invalid schema URN")?;
                let (urn, rest) = (&text[..colon], &text[colon + 1..]);
                if !urn.chars().all(is_urn_char) || urn.ends_with(':') {
                    return Err("invalid schema URN");
                }
                (Some(urn.to_string()), rest)
            }
            _ => (None, text),
        };
        let (name, sub_attr) = match rest.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        if !is_attr_name(name) {
            return Err("expected an attribute name");
        }
        if let Some(sub) = sub_attr
            && !is_attr_name(sub)
        {
            return Err("expected a sub-attribute name after '.'");
        }
        Ok(Self { schema, name: name.to_string(), sub_attr: sub_attr.map(str::to_string) })
    }

    /// Whether this path names `name` (case-insensitively) with no sub-attribute, ignoring any
    /// schema qualifier.
    pub fn is_plain(&self, name: &str) -> bool {
        self.sub_attr.is_none() && self.name.eq_ignore_ascii_case(name)
    }
}

fn is_urn_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ":.-_+%/=;$@!*',()?#~".contains(c)
}

/// `ATTRNAME = ALPHA *(nameChar)`, plus the `$ref` spelling.
pub(crate) fn is_attr_name(name: &str) -> bool {
    let body = name.strip_prefix('$').unwrap_or(name);
    let mut chars = body.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_sub_and_urn_paths() {
        assert_eq!(AttrPath::parse("userName"), Ok(AttrPath::new("userName")));
        let p = AttrPath::parse("name.givenName").expect("valid");
        assert_eq!((p.name.as_str(), p.sub_attr.as_deref()), ("name", Some("givenName")));
        let p = AttrPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value")
            .expect("valid");
        assert_eq!(p.schema.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
        assert_eq!(p.name, "manager");
        assert_eq!(p.sub_attr.as_deref(), Some("value"));
        assert_eq!(p.to_string(), "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
        assert_eq!(AttrPath::parse("members.$ref").expect("valid").to_string(), "members.$ref");
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in [
            "",
            "1abc",
            "name.",
            ".name",
            "a.b.c",
            "na me",
            "urn:",
            "urn:x:",
            "urn:a::b",
            "emails[",
            "a\"b",
            "urn:x y:z",
        ] {
            assert!(AttrPath::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn is_plain_ignores_case_and_schema() {
        let p = AttrPath::parse("urn:ietf:params:scim:schemas:core:2.0:Group:Members").expect("valid");
        assert!(p.is_plain("members"));
        assert!(!AttrPath::parse("members.value").expect("valid").is_plain("members"));
    }
}
