//! SCIM filters (RFC 7644 §3.4.2.2): the AST, its canonical string form, parsing with abuse
//! limits, and an in-memory evaluator.
//!
//! Grammar: `or` < `and` < `not (…)` / `(…)` / attribute expressions, keywords, operators and
//! attribute names case-insensitive. Beyond the RFC we accept Entra's habits: an unquoted value
//! that is not `true`/`false`/`null`/a number is a string (`externalId eq jyoung`), and a value
//! path followed by a sub-attribute comparison (`emails[type eq "work"].value eq "x"`), which is
//! represented as `emails[type eq "work" and value eq "x"]` (same meaning: one element satisfies
//! both). The database layer lowers the AST to SQL; [`matches()`] is the reference semantics.

mod eval;
mod lexer;
pub(crate) mod parser;

use std::fmt;

use serde_json::{Number, Value};

use crate::attr_path::AttrPath;
use crate::error::{ScimError, ScimType};

pub(crate) use eval::matches_element;
pub use eval::{matches, validate};

/// Longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 8 * 1024;
/// Deepest nesting of parentheses, `not (…)` and `[…]` accepted.
pub const MAX_FILTER_DEPTH: usize = 32;
/// Most attribute expressions accepted in one filter (bounds the AST size and thus recursion).
pub const MAX_FILTER_TERMS: usize = 256;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Both sides match.
    And(Box<Filter>, Box<Filter>),
    /// Either side matches.
    Or(Box<Filter>, Box<Filter>),
    /// The inner filter does not match.
    Not(Box<Filter>),
    /// `attr op value`.
    Compare {
        /// The attribute compared.
        attr: AttrPath,
        /// The comparison operator.
        op: CompareOp,
        /// The literal compared against.
        value: CompValue,
    },
    /// `attr pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// `attr[filter]`: some element of a (multi-valued) complex attribute matches `filter`,
    /// whose attribute names are sub-attributes of `attr`.
    ValuePath {
        /// The complex attribute.
        attr: AttrPath,
        /// The element filter.
        filter: Box<Filter>,
    },
}

/// Comparison operators (RFC 7644 §3.4.2.2, Table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Contains.
    Co,
    /// Starts with.
    Sw,
    /// Ends with.
    Ew,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
}

impl CompareOp {
    const ALL: [Self; 9] =
        [Self::Eq, Self::Ne, Self::Co, Self::Sw, Self::Ew, Self::Gt, Self::Ge, Self::Lt, Self::Le];

    /// The operator keyword, lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    /// Parses an operator keyword, case-insensitively.
    pub fn from_keyword(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

/// A comparison literal.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A JSON number.
    Number(Number),
    /// A string (quoted, or a bare word in Entra's old form).
    String(String),
}

impl CompValue {
    /// The literal as a JSON value.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Number(n) => Value::Number(n.clone()),
            Self::String(s) => Value::String(s.clone()),
        }
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // JSON rendering: strings quoted and escaped, so the output parses back.
        write!(f, "{}", self.to_json())
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Filter {
    /// Parses a filter; failures are 400 `invalidFilter` with the offset of the problem.
    pub fn parse(input: &str) -> Result<Self, ScimError> {
        parser::parse_filter(input).map_err(|e| e.into_scim(ScimType::InvalidFilter, input))
    }

    /// `And` of two filters.
    pub fn and(left: Filter, right: Filter) -> Self {
        Self::And(Box::new(left), Box::new(right))
    }

    /// `Or` of two filters.
    pub fn or(left: Filter, right: Filter) -> Self {
        Self::Or(Box::new(left), Box::new(right))
    }

    /// `attr op value`.
    pub fn compare(attr: AttrPath, op: CompareOp, value: CompValue) -> Self {
        Self::Compare { attr, op, value }
    }

    fn precedence(&self) -> u8 {
        match self {
            Self::Or(..) => 1,
            Self::And(..) => 2,
            _ => 3,
        }
    }

    /// Writes the filter, parenthesised when its precedence is below `min`. Left-associative:
    /// a right operand of the same operator gets parentheses so that parsing gives the same tree.
    fn write(&self, f: &mut fmt::Formatter<'_>, min: u8) -> fmt::Result {
        let wrap = self.precedence() < min;
        if wrap {
            f.write_str("(")?;
        }
        match self {
            Self::Or(l, r) => {
                l.write(f, 1)?;
                f.write_str(" or ")?;
                r.write(f, 2)?;
            }
            Self::And(l, r) => {
                l.write(f, 2)?;
                f.write_str(" and ")?;
                r.write(f, 3)?;
            }
            Self::Not(inner) => {
                f.write_str("not (")?;
                inner.write(f, 0)?;
                f.write_str(")")?;
            }
            Self::Compare { attr, op, value } => write!(f, "{attr} {op} {value}")?,
            Self::Present(attr) => write!(f, "{attr} pr")?,
            Self::ValuePath { attr, filter } => {
                write!(f, "{attr}[")?;
                filter.write(f, 0)?;
                f.write_str("]")?;
            }
        }
        if wrap {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// Renders the canonical filter string: lower-case keywords, single spaces, JSON literals and
/// only the parentheses needed; `Filter::parse` of the output gives back the same tree.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0)
    }
}

impl std::str::FromStr for Filter {
    type Err = ScimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Filter {
        Filter::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn canon(s: &str) -> String {
        parse(s).to_string()
    }

    fn err(s: &str) -> ScimError {
        Filter::parse(s).expect_err(s)
    }

    fn attr(s: &str) -> AttrPath {
        AttrPath::parse(s).expect("valid attr")
    }

    fn eq(a: &str, v: &str) -> Filter {
        Filter::compare(attr(a), CompareOp::Eq, CompValue::String(v.into()))
    }

    #[test]
    fn parses_entra_match_queries() {
        assert_eq!(parse("userName eq \"alice@contoso.com\""), eq("userName", "alice@contoso.com"));
        assert_eq!(
            parse("externalId eq \"a\" and userName eq \"b\""),
            Filter::and(eq("externalId", "a"), eq("userName", "b"))
        );
        assert_eq!(parse("externalId eq jyoung"), eq("externalId", "jyoung"));
        assert_eq!(
            parse("emails[type eq \"work\"].value eq \"x@y\""),
            Filter::ValuePath {
                attr: attr("emails"),
                filter: Box::new(Filter::and(eq("type", "work"), eq("value", "x@y"))),
            }
        );
        assert_eq!(canon("id eq \"u\" and manager eq \"m\""), "id eq \"u\" and manager eq \"m\"");
    }

    #[test]
    fn keywords_operators_and_literals_are_case_insensitive() {
        assert_eq!(canon("userName EQ \"A\" AND active Eq TRUE"), "userName eq \"A\" and active eq true");
        assert_eq!(canon("title PR"), "title pr");
        assert_eq!(canon("NOT (title pr)"), "not (title pr)");
        assert_eq!(canon("x eq NULL or y eq False"), "x eq null or y eq false");
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let f = parse("a pr or b pr and c pr");
        assert!(matches!(&f, Filter::Or(_, r) if matches!(**r, Filter::And(..))));
        assert_eq!(f.to_string(), "a pr or b pr and c pr");
        assert_eq!(canon("(a pr or b pr) and c pr"), "(a pr or b pr) and c pr");
        assert_eq!(canon("a pr and (b pr and c pr)"), "a pr and (b pr and c pr)");
        assert_eq!(canon("((a pr))"), "a pr");
        assert_eq!(canon("not(a pr) and b pr"), "not (a pr) and b pr");
        assert_eq!(canon("a pr and b pr and c pr"), "a pr and b pr and c pr");
        assert!(
            matches!(parse("a pr and b pr and c pr"), Filter::And(l, _) if matches!(*l, Filter::And(..)))
        );
    }

    #[test]
    fn parses_all_operators_values_and_paths() {
        for op in CompareOp::ALL {
            let f =
                parse(&format!("meta.lastModified {} \"2011-05-13T04:42:34Z\"", op.as_str().to_uppercase()));
            assert!(matches!(f, Filter::Compare { op: o, .. } if o == op));
        }
        assert_eq!(
            parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq 42"),
            Filter::compare(
                attr("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
                CompareOp::Eq,
                CompValue::Number(42.into())
            )
        );
        assert_eq!(canon("x gt -1.5e3"), "x gt -1500.0");
        assert_eq!(canon("x eq \"a\\\"b\\u00e9\\n\""), "x eq \"a\\\"bé\\n\"");
        assert_eq!(canon("name.givenName sw \"Al\""), "name.givenName sw \"Al\"");
        assert_eq!(
            canon("emails[type eq \"work\" and value co \"@contoso.com\"] or emails pr"),
            "emails[type eq \"work\" and value co \"@contoso.com\"] or emails pr"
        );
        assert_eq!(
            canon("members[value eq \"1\" or value eq \"2\"]"),
            "members[value eq \"1\" or value eq \"2\"]"
        );
        assert_eq!(canon("emails[type eq \"work\"].value pr"), "emails[type eq \"work\" and value pr]");
        assert_eq!(canon("emails[not (type eq \"work\")]"), "emails[not (type eq \"work\")]");
        assert_eq!(canon("userName\teq\n\"tab\""), "userName eq \"tab\"");
    }

    #[test]
    fn errors_are_invalid_filter_with_position() {
        let e = err("userName eq");
        assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidFilter)));
        assert!(e.detail.contains("offset 11"), "{}", e.detail);
        let e = err("userName zz \"x\"");
        assert!(e.detail.contains("offset 9") && e.detail.contains("zz"), "{}", e.detail);
        for bad in [
            "",
            "   ",
            "userName",
            "userName eq \"x",
            "(userName pr",
            "userName pr)",
            "and",
            "a pr and",
            "a pr or or",
            "not a pr",
            "not (a pr",
            "emails[type eq \"w\"",
            "emails[]",
            "emails[type[x pr]]",
            "emails[a.b pr]",
            "name.givenName[x pr]",
            "emails[type pr].",
            "emails[type pr].a.b pr",
            "emails[type pr] eq 1",
            "a eq \"x\" \"y\"",
            "1abc eq 1",
            "a eq (",
            "a pr ]",
            "a.b.c pr",
            "a eq \"\\x\"",
            "[a pr]",
            "emails[urn:x:y pr]",
            "emails[type pr].value",
        ] {
            let e = err(bad);
            assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{bad:?}");
        }
    }

    #[test]
    fn limits_stop_abuse_without_overflowing_the_stack() {
        let deep = format!("{}a pr{}", "(".repeat(5000), ")".repeat(5000));
        assert!(err(&deep).detail.contains("long"));
        let nested = format!("{}a pr{}", "(".repeat(MAX_FILTER_DEPTH + 1), ")".repeat(MAX_FILTER_DEPTH + 1));
        assert!(err(&nested).detail.contains("deep"), "{}", err(&nested).detail);
        let ok = format!("{}a pr{}", "(".repeat(MAX_FILTER_DEPTH), ")".repeat(MAX_FILTER_DEPTH));
        assert_eq!(canon(&ok), "a pr");
        let nots =
            format!("{}a pr{}", "not (".repeat(MAX_FILTER_DEPTH + 1), ")".repeat(MAX_FILTER_DEPTH + 1));
        assert!(err(&nots).detail.contains("deep"));
        let unclosed = "not(".repeat(2000);
        assert_eq!(err(&unclosed).scim_type, Some(ScimType::InvalidFilter));
        let many = vec!["a pr"; MAX_FILTER_TERMS + 1].join(" or ");
        assert!(err(&many).detail.contains("terms"));
        let enough = vec!["a pr"; MAX_FILTER_TERMS].join(" or ");
        assert!(Filter::parse(&enough).is_ok());
    }

    fn arb_name() -> impl Strategy<Value = String> {
        "[a-zA-Z][a-zA-Z0-9_-]{0,6}"
            .prop_filter("keyword", |s| !["and", "or", "not"].contains(&s.to_ascii_lowercase().as_str()))
    }

    fn arb_attr(plain: bool) -> BoxedStrategy<AttrPath> {
        if plain {
            return arb_name().prop_map(AttrPath::new).boxed();
        }
        let schema = prop_oneof![
            Just(None),
            Just(Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_string())),
            Just(Some("urn:ietf:params:scim:schemas:core:2.0:User".to_string())),
        ];
        (schema, arb_name(), proptest::option::of(arb_name()))
            .prop_map(|(schema, name, sub_attr)| AttrPath { schema, name, sub_attr })
            .boxed()
    }

    fn arb_value() -> impl Strategy<Value = CompValue> {
        prop_oneof![
            Just(CompValue::Null),
            any::<bool>().prop_map(CompValue::Bool),
            any::<i64>().prop_map(|n| CompValue::Number(n.into())),
            any::<f64>().prop_filter_map("finite", Number::from_f64).prop_map(CompValue::Number),
            any::<String>().prop_map(CompValue::String),
        ]
    }

    fn arb_filter(plain: bool) -> BoxedStrategy<Filter> {
        let leaf = prop_oneof![
            (arb_attr(plain), proptest::sample::select(CompareOp::ALL.to_vec()), arb_value())
                .prop_map(|(attr, op, value)| Filter::Compare { attr, op, value }),
            arb_attr(plain).prop_map(Filter::Present),
        ];
        let leaf = if plain {
            leaf.boxed()
        } else {
            prop_oneof![
                4 => leaf,
                1 => (arb_name(), arb_filter(true)).prop_map(|(name, f)| Filter::ValuePath {
                    attr: AttrPath::new(name),
                    filter: Box::new(f),
                }),
            ]
            .boxed()
        };
        leaf.prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::and(l, r)),
                (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::or(l, r)),
                inner.prop_map(|f| Filter::Not(Box::new(f))),
            ]
        })
        .boxed()
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = Filter::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_filter_like_text(s in r#"[a-zA-Z0-9 ()\[\]".:\\$-]{0,80}"#) {
            let _ = Filter::parse(&s);
        }

        #[test]
        fn display_parse_round_trips(f in arb_filter(false)) {
            let text = f.to_string();
            let reparsed = Filter::parse(&text);
            prop_assert_eq!(reparsed.as_ref(), Ok(&f), "text: {}", text);
        }

        #[test]
        fn display_is_a_fixed_point(f in arb_filter(false)) {
            let once = f.to_string();
            let twice = Filter::parse(&once).map(|g| g.to_string());
            prop_assert_eq!(twice, Ok(once));
        }
    }
}
