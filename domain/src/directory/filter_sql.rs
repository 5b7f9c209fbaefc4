//! Lowers a SCIM filter (RFC 7644 §3.4.2.2) to one SQL condition over `users` or `groups`, so a
//! filtered list never loads the directory into memory.
//!
//! Attributes with their own indexed column (`userName`, `externalId`, `displayName`, names,
//! `active`, `meta.created`, `meta.lastModified`, `id`) compare on that column — `userName` and group
//! `displayName` on their stored lower-case copies, so the case-insensitive lookup Entra relies on
//! uses the unique index. Memberships (`groups.value`, `members.value`) are `EXISTS` over
//! `group_members`. Everything else reads the resource JSON (`json_extract`/`json_each` on SQLite,
//! `#>>`/`json_array_elements` on PostgreSQL). String comparisons follow each attribute's `caseExact`
//! (RFC 7643 §2.2). An absent attribute matches no comparison, not even `ne` (as
//! `scim::filter::matches` decides); every lowered term is two-valued (never SQL NULL), so `not`
//! means "not". `domain/tests/filter_oracle.rs` checks the SQL against that evaluator.

use scim::{
    AttrPath, CompValue, CompareOp, Filter, ResourceKind, ScimType,
    schema::{AttrType, AttributeDef},
};
use sea_orm::{DbBackend, Value, sea_query::SimpleExpr};

use crate::error::DomainError;

/// Stands for a bound value while SQL is assembled; numbered per backend at the end.
const HOLE: char = '\u{1}';

/// A piece of SQL with [`HOLE`] placeholders and their values, in order.
#[derive(Debug, Default)]
struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), values: Vec::new() }
    }

    fn bind(mut self, value: impl Into<Value>) -> Self {
        self.values.push(value.into());
        self
    }

    fn wrap(self, before: &str, after: &str) -> Self {
        Self { text: format!("{before}{}{after}", self.text), values: self.values }
    }

    fn join(self, sep: &str, other: Sql) -> Self {
        let mut values = self.values;
        values.extend(other.values);
        Self { text: format!("({}{sep}{})", self.text, other.text), values }
    }
}

/// Where an attribute's value comes from.
enum Source {
    /// A column of the resource's table; `stored_lower` when it holds a lower-cased copy.
    Column { sql: String, stored_lower: bool, millis: bool },
    /// A single value inside the resource JSON.
    Json(Vec<String>),
    /// A multi-valued attribute in the JSON: a condition on its elements' sub-attribute.
    Elements { array: Vec<String>, def: &'static AttributeDef },
    /// Group membership (`groups` of a user, `members` of a group).
    Membership,
}

/// How a compared value is stored.
#[derive(Clone, Copy)]
enum Operand {
    /// Text (PostgreSQL) or a native value (SQLite) read out of JSON.
    Json,
    /// A column; `stored_lower` for lower-cased copies, `millis` for Unix-millisecond timestamps.
    Column { stored_lower: bool, millis: bool },
}

struct Lowering {
    kind: ResourceKind,
    backend: DbBackend,
}

fn invalid(detail: impl Into<String>) -> DomainError {
    DomainError::rejected(ScimType::InvalidFilter, detail.into())
}

/// Lowers `filter` for resources of `kind` on `backend`.
pub fn lower(filter: &Filter, kind: ResourceKind, backend: DbBackend) -> Result<SimpleExpr, DomainError> {
    scim::filter::validate(filter, kind)?;
    let sql = Lowering { kind, backend }.filter(filter)?;
    // SQLite takes `?`; PostgreSQL numbered `$n` (sea-query substitutes both in custom SQL).
    let mut text = String::with_capacity(sql.text.len());
    let mut n = 0;
    for c in sql.text.chars() {
        match (c, backend) {
            (HOLE, DbBackend::Postgres) => {
                n += 1;
                text.push_str(&format!("${n}"));
            }
            (HOLE, _) => text.push('?'),
            (c, _) => text.push(c),
        }
    }
    Ok(SimpleExpr::cust_with_values(text, sql.values))
}

impl Lowering {
    fn table(&self) -> &'static str {
        match self.kind {
            ResourceKind::User => "users",
            ResourceKind::Group => "groups",
        }
    }

    fn filter(&self, filter: &Filter) -> Result<Sql, DomainError> {
        Ok(match filter {
            Filter::And(a, b) => self.filter(a)?.join(" AND ", self.filter(b)?),
            Filter::Or(a, b) => self.filter(a)?.join(" OR ", self.filter(b)?),
            Filter::Not(inner) => self.filter(inner)?.wrap("(NOT ", ")"),
            Filter::Compare { attr, op, value } => {
                self.leaf(attr, |this, src, def| this.compare(src, def, *op, value))?
            }
            Filter::Present(attr) => self.leaf(attr, |this, src, def| Ok(this.present(src, def)))?,
            Filter::ValuePath { attr, filter } => self.value_path(attr, filter)?,
        })
    }

    /// Resolves `attr` and builds its condition with `build`.
    fn leaf(
        &self,
        attr: &AttrPath,
        build: impl Fn(&Self, Source, &'static AttributeDef) -> Result<Sql, DomainError>,
    ) -> Result<Sql, DomainError> {
        let resolved =
            self.kind.resolve(attr).ok_or_else(|| invalid(format!("unknown attribute \"{attr}\"")))?;
        let (source, def) = self.source(&resolved)?;
        build(self, source, def)
    }

    fn column(&self, name: &str, stored_lower: bool, millis: bool) -> Source {
        Source::Column { sql: format!("\"{}\".\"{name}\"", self.table()), stored_lower, millis }
    }

    fn source(&self, r: &scim::schema::ResolvedAttr) -> Result<(Source, &'static AttributeDef), DomainError> {
        let top = r.attr.name;
        let sub = r.sub.map(|s| s.name);
        let user = self.kind == ResourceKind::User;
        let column = match (r.extension.is_some(), top, sub) {
            (false, "id", None) => Some(self.column("id", false, false)),
            (false, "externalId", None) => Some(self.column("external_id", false, false)),
            (false, "meta", Some("created")) => Some(self.column("created_at", false, true)),
            (false, "meta", Some("lastModified")) => Some(self.column("updated_at", false, true)),
            (false, "userName", None) if user => Some(self.column("user_name_lower", true, false)),
            (false, "displayName", None) if user => Some(self.column("display_name", false, false)),
            (false, "displayName", None) => Some(self.column("display_name_lower", true, false)),
            (false, "active", None) if user => Some(self.column("active", false, false)),
            (false, "name", Some("givenName")) if user => Some(self.column("given_name", false, false)),
            (false, "name", Some("familyName")) if user => Some(self.column("family_name", false, false)),
            (false, "groups", None | Some("value")) if user => Some(Source::Membership),
            (false, "members", None | Some("value")) if !user => Some(Source::Membership),
            _ => None,
        };
        if let Some(source) = column {
            return Ok((source, r.leaf()));
        }
        if top == "meta" || top == "groups" || top == "members" || top == "schemas" {
            return Err(invalid(format!("filtering on \"{}\" is not supported", r.canonical_path())));
        }
        let mut path: Vec<String> = r.extension.map(|e| vec![e.id.to_owned()]).unwrap_or_default();
        path.push(top.to_owned());
        if r.attr.multi_valued {
            // `emails eq "x"` means `emails.value eq "x"` (RFC 7644 §3.4.2.2).
            let def = match r.sub {
                Some(def) => def,
                None if r.attr.is_complex() => r
                    .attr
                    .sub_attribute("value")
                    .ok_or_else(|| invalid(format!("\"{top}\" needs a sub-attribute")))?,
                None => r.attr,
            };
            return Ok((Source::Elements { array: path, def }, def));
        }
        if r.attr.is_complex() && r.sub.is_none() {
            return Err(invalid(format!("\"{top}\" is complex: filter on one of its sub-attributes")));
        }
        path.extend(sub.map(str::to_owned));
        Ok((Source::Json(path), r.leaf()))
    }

    /// A JSON value inside `doc` (a JSON-typed SQL expression) at `path`, as SQL text/number.
    fn json_value(&self, doc: &str, path: &[String]) -> String {
        match self.backend {
            DbBackend::Postgres => format!("({doc} #>> '{{{}}}')", path.join(",")),
            _ => {
                let p: String = path.iter().map(|k| format!(".\"{k}\"")).collect();
                format!("json_extract({doc}, '${p}')")
            }
        }
    }

    fn resource(&self) -> String {
        format!("\"{}\".\"resource\"", self.table())
    }

    /// `EXISTS` over the elements of the JSON array at `array`, with `cond` built on an element
    /// expression.
    fn exists_element(
        &self,
        array: &[String],
        cond: impl FnOnce(&str) -> Result<Sql, DomainError>,
    ) -> Result<Sql, DomainError> {
        let resource = self.resource();
        let (from, element) = match self.backend {
            DbBackend::Postgres => {
                (format!("json_array_elements({resource} #> '{{{}}}') AS e", array.join(",")), "e".to_owned())
            }
            _ => {
                let p: String = array.iter().map(|k| format!(".\"{k}\"")).collect();
                (format!("json_each({resource}, '${p}') AS e"), "e.value".to_owned())
            }
        };
        Ok(cond(&element)?.wrap(&format!("EXISTS (SELECT 1 FROM {from} WHERE "), ")"))
    }

    fn membership(&self, cond: impl FnOnce(&str) -> Sql) -> Sql {
        let (mine, other) = match self.kind {
            ResourceKind::User => ("user_id", "group_id"),
            ResourceKind::Group => ("group_id", "user_id"),
        };
        cond(&format!("gm.\"{other}\"")).wrap(
            &format!(
                "EXISTS (SELECT 1 FROM \"group_members\" gm WHERE gm.\"{mine}\" = \"{}\".\"id\" AND ",
                self.table()
            ),
            ")",
        )
    }

    fn value_path(&self, attr: &AttrPath, inner: &Filter) -> Result<Sql, DomainError> {
        let resolved =
            self.kind.resolve(attr).ok_or_else(|| invalid(format!("unknown attribute \"{attr}\"")))?;
        let parent = resolved.attr;
        if resolved.sub.is_some() || !parent.is_complex() {
            return Err(invalid(format!("\"{attr}[…]\" needs a complex attribute")));
        }
        match self.source(&scim::schema::ResolvedAttr { sub: parent.sub_attribute("value"), ..resolved })? {
            (Source::Membership, _) => {
                // members[value eq "…"]: only `value` lives in group_members.
                let id = element_only_value(inner).ok_or_else(|| {
                    invalid(format!("inside \"{attr}[…]\" only value eq \"…\" (and or) is supported"))
                })?;
                Ok(self.membership(|col| {
                    id.into_iter()
                        .fold(Sql::new("(1=0"), |acc, v| {
                            let mut s = acc;
                            s.text.push_str(&format!(" OR {col} = \u{1}"));
                            s.bind(v)
                        })
                        .wrap("", ")")
                }))
            }
            (Source::Elements { array, .. }, _) => {
                self.exists_element(&array, |element| self.element_filter(parent, element, inner))
            }
            _ => Err(invalid(format!("\"{attr}[…]\" is not a multi-valued attribute"))),
        }
    }

    /// Lowers a value-path's inner filter, whose attributes are sub-attributes of `parent`.
    fn element_filter(
        &self,
        parent: &'static AttributeDef,
        element: &str,
        f: &Filter,
    ) -> Result<Sql, DomainError> {
        let sub = |attr: &AttrPath| -> Result<(Source, &'static AttributeDef), DomainError> {
            let def = parent
                .sub_attribute(&attr.name)
                .filter(|_| attr.schema.is_none() && attr.sub_attr.is_none())
                .ok_or_else(|| invalid(format!("\"{}\" has no sub-attribute \"{attr}\"", parent.name)))?;
            Ok((Source::Json(vec![def.name.to_owned()]), def))
        };
        let in_element = |src: Source| match src {
            Source::Json(path) => self.json_value(element, &path),
            _ => String::new(),
        };
        Ok(match f {
            Filter::And(a, b) => self
                .element_filter(parent, element, a)?
                .join(" AND ", self.element_filter(parent, element, b)?),
            Filter::Or(a, b) => self
                .element_filter(parent, element, a)?
                .join(" OR ", self.element_filter(parent, element, b)?),
            Filter::Not(inner) => self.element_filter(parent, element, inner)?.wrap("(NOT ", ")"),
            Filter::Compare { attr, op, value } => {
                let (src, def) = sub(attr)?;
                self.compare_expr(&in_element(src), Operand::Json, def, *op, value)?
            }
            Filter::Present(attr) => {
                let (src, _) = sub(attr)?;
                Sql::new(format!("({} IS NOT NULL)", in_element(src)))
            }
            Filter::ValuePath { .. } => return Err(invalid("value paths cannot nest")),
        })
    }

    fn compare(
        &self,
        source: Source,
        def: &'static AttributeDef,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<Sql, DomainError> {
        match source {
            Source::Column { sql, stored_lower, millis } => {
                self.compare_expr(&sql, Operand::Column { stored_lower, millis }, def, op, value)
            }
            Source::Json(path) => {
                self.compare_expr(&self.json_value(&self.resource(), &path), Operand::Json, def, op, value)
            }
            Source::Elements { array, def } => self.exists_element(&array, |element| {
                let x = if def.multi_valued {
                    self.scalar(element)
                } else {
                    self.json_value(element, &[def.name.to_owned()])
                };
                self.compare_expr(&x, Operand::Json, def, op, value)
            }),
            Source::Membership => {
                let CompValue::String(id) = value else { return Err(invalid("member ids are strings")) };
                if op != CompareOp::Eq {
                    return Err(invalid("memberships can only be compared with eq"));
                }
                Ok(self.membership(|col| Sql::new(format!("{col} = \u{1}")).bind(id.clone())))
            }
        }
    }

    /// A JSON scalar element (of a multi-valued simple attribute) as SQL text/number.
    fn scalar(&self, element: &str) -> String {
        match self.backend {
            DbBackend::Postgres => format!("({element} #>> '{{}}')"),
            _ => element.to_owned(),
        }
    }

    fn present(&self, source: Source, def: &'static AttributeDef) -> Sql {
        match source {
            Source::Column { sql, .. } if def.attr_type == AttrType::String => {
                Sql::new(format!("({sql} IS NOT NULL AND {sql} <> '')"))
            }
            Source::Column { sql, .. } => Sql::new(format!("({sql} IS NOT NULL)")),
            Source::Json(path) => {
                Sql::new(format!("({} IS NOT NULL)", self.json_value(&self.resource(), &path)))
            }
            Source::Elements { array, .. } => {
                self.exists_element(&array, |_| Ok(Sql::new("1=1"))).unwrap_or_else(|_| Sql::new("1=0"))
            }
            Source::Membership => self.membership(|_| Sql::new("1=1")),
        }
    }

    /// `x op value` for an attribute of definition `def`, never NULL.
    fn compare_expr(
        &self,
        x: &str,
        operand: Operand,
        def: &'static AttributeDef,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<Sql, DomainError> {
        let pg = self.backend == DbBackend::Postgres;
        let (json, stored_lower, millis) = match operand {
            Operand::Json => (true, false, false),
            Operand::Column { stored_lower, millis } => (false, stored_lower, millis),
        };
        if let CompValue::Null = value {
            return match op {
                CompareOp::Eq => Ok(Sql::new(format!("({x} IS NULL)"))),
                CompareOp::Ne => Ok(Sql::new(format!("({x} IS NOT NULL)"))),
                _ => Err(invalid("null can only be compared with eq or ne")),
            };
        }
        let (x, bound): (String, Value) = match (def.attr_type, value) {
            (AttrType::Boolean, v) => {
                let b = match v {
                    CompValue::Bool(b) => *b,
                    CompValue::String(s) if s.eq_ignore_ascii_case("true") => true,
                    CompValue::String(s) if s.eq_ignore_ascii_case("false") => false,
                    _ => {
                        return Err(invalid(format!(
                            "\"{}\" is boolean: compare it with true or false",
                            def.name
                        )));
                    }
                };
                // PostgreSQL's `#>>` yields text; SQLite's json_extract yields 1/0 like the column.
                if pg && json {
                    (x.to_owned(), Value::from(b.to_string()))
                } else {
                    (x.to_owned(), Value::from(b))
                }
            }
            (AttrType::Integer | AttrType::Decimal, CompValue::Number(n)) => {
                let f = n.as_f64().ok_or_else(|| invalid("number out of range"))?;
                let x = if pg { format!("CAST({x} AS DOUBLE PRECISION)") } else { x.to_owned() };
                (x, Value::from(f))
            }
            (AttrType::Integer | AttrType::Decimal, _) => {
                return Err(invalid(format!("\"{}\" is a number: compare it with a number", def.name)));
            }
            (AttrType::DateTime, CompValue::String(s)) if millis => {
                let ms = chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|_| invalid(format!("\"{s}\" is not an RFC 3339 date-time")))?
                    .timestamp_millis();
                (x.to_owned(), Value::from(ms))
            }
            (_, CompValue::String(s)) if !def.case_exact => {
                let x = if stored_lower { x.to_owned() } else { format!("LOWER({x})") };
                (x, Value::from(s.to_lowercase()))
            }
            (_, CompValue::String(s)) => (x.to_owned(), Value::from(s.clone())),
            (_, other) => {
                return Err(invalid(format!("\"{}\" cannot be compared with {}", def.name, other.to_json())));
            }
        };
        let guarded = |cond: String| Sql::new(format!("({x} IS NOT NULL AND {cond})"));
        Ok(match op {
            CompareOp::Eq => guarded(format!("{x} = \u{1}")).bind(bound),
            CompareOp::Ne => guarded(format!("{x} <> \u{1}")).bind(bound),
            CompareOp::Gt => guarded(format!("{x} > \u{1}")).bind(bound),
            CompareOp::Ge => guarded(format!("{x} >= \u{1}")).bind(bound),
            CompareOp::Lt => guarded(format!("{x} < \u{1}")).bind(bound),
            CompareOp::Le => guarded(format!("{x} <= \u{1}")).bind(bound),
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
                let Value::String(Some(s)) = bound else {
                    return Err(invalid(format!("co, sw and ew compare strings, not \"{}\"", def.name)));
                };
                let len = s.chars().count() as i64;
                let cond = match (op, pg) {
                    (CompareOp::Co, true) => format!("strpos({x}, \u{1}) > 0"),
                    (CompareOp::Co, false) => format!("instr({x}, \u{1}) > 0"),
                    (CompareOp::Sw, true) => format!("left({x}, CAST(\u{1} AS INTEGER)) = \u{1}"),
                    (CompareOp::Sw, false) => format!("substr({x}, 1, CAST(\u{1} AS INTEGER)) = \u{1}"),
                    (_, true) => format!("right({x}, CAST(\u{1} AS INTEGER)) = \u{1}"),
                    (_, false) => format!("substr({x}, -CAST(\u{1} AS INTEGER)) = \u{1}"),
                };
                if op == CompareOp::Co {
                    guarded(cond).bind(s.to_string())
                } else if len == 0 {
                    Sql::new(format!("({x} IS NOT NULL)"))
                } else {
                    guarded(cond).bind(len).bind(s.to_string())
                }
            }
        })
    }
}

/// The ids of a `value eq "…" (or value eq "…")*` filter, or `None` for anything else.
fn element_only_value(f: &Filter) -> Option<Vec<String>> {
    match f {
        Filter::Compare { attr, op: CompareOp::Eq, value: CompValue::String(id) }
            if attr.schema.is_none()
                && attr.sub_attr.is_none()
                && attr.name.eq_ignore_ascii_case("value") =>
        {
            Some(vec![id.clone()])
        }
        Filter::Or(a, b) => {
            let mut ids = element_only_value(a)?;
            ids.extend(element_only_value(b)?);
            Some(ids)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, QueryFilter, QueryTrait};

    use super::*;
    use crate::entities::{group, user};

    fn sql(kind: ResourceKind, filter: &str, backend: DbBackend) -> String {
        let f = Filter::parse(filter).unwrap();
        let cond = lower(&f, kind, backend).unwrap();
        let full = match kind {
            ResourceKind::User => user::Entity::find().filter(cond).build(backend).to_string(),
            ResourceKind::Group => group::Entity::find().filter(cond).build(backend).to_string(),
        };
        full.split_once(" WHERE ").map(|(_, w)| w.to_owned()).unwrap_or_default()
    }

    #[test]
    fn user_name_uses_the_lower_case_column_and_its_index() {
        assert_eq!(
            sql(ResourceKind::User, "userName eq \"Alice@Contoso.com\"", DbBackend::Sqlite),
            "(\"users\".\"user_name_lower\" IS NOT NULL AND \"users\".\"user_name_lower\" = 'alice@contoso.com')"
        );
        assert_eq!(
            sql(ResourceKind::Group, "displayName eq \"Eng\"", DbBackend::Postgres),
            "(\"groups\".\"display_name_lower\" IS NOT NULL AND \"groups\".\"display_name_lower\" = 'eng')"
        );
    }

    #[test]
    fn case_exact_attributes_compare_exactly() {
        let s = sql(ResourceKind::User, "externalId eq \"AbC\"", DbBackend::Sqlite);
        assert!(s.ends_with("\"users\".\"external_id\" = 'AbC')"), "{s}");
    }

    #[test]
    fn json_attributes_and_value_paths_use_each_backends_json_functions() {
        let pg = sql(ResourceKind::User, "emails[type eq \"work\"].value eq \"a@b.c\"", DbBackend::Postgres);
        assert!(
            pg.starts_with(
                "EXISTS (SELECT 1 FROM json_array_elements(\"users\".\"resource\" #> '{emails}') AS e"
            ),
            "{pg}"
        );
        let lite = sql(ResourceKind::User, "title sw \"Dr\"", DbBackend::Sqlite);
        assert!(lite.contains("substr(LOWER(json_extract(\"users\".\"resource\", '$.\"title\"')), 1, CAST(2 AS INTEGER)) = 'dr'"), "{lite}");
        let ext = sql(
            ResourceKind::User,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"7\"",
            DbBackend::Postgres,
        );
        assert!(
            ext.contains("#>> '{urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,employeeNumber}'"),
            "{ext}"
        );
    }

    #[test]
    fn postgres_placeholders_are_numbered() {
        let f = Filter::parse("userName eq \"a\" or userName sw \"b\"").unwrap();
        let expr = lower(&f, ResourceKind::User, DbBackend::Postgres).unwrap();
        let stmt = user::Entity::find().filter(expr).build(DbBackend::Postgres);
        assert!(stmt.sql.contains("= $1") && stmt.sql.contains("CAST($2 AS INTEGER)) = $3"), "{}", stmt.sql);
        assert_eq!(stmt.values.map(|v| v.0.len()), Some(3));
    }

    #[test]
    fn unknown_and_unsupported_attributes_are_invalid_filters() {
        for bad in [
            "shoeSize eq 1",
            "meta.location eq \"x\"",
            "name eq \"x\"",
            "active eq \"perhaps\"",
            "groups.display eq \"x\"",
        ] {
            let f = Filter::parse(bad).unwrap();
            let err = lower(&f, ResourceKind::User, DbBackend::Sqlite).unwrap_err();
            assert!(matches!(err, DomainError::Rejected { rule: ScimType::InvalidFilter, .. }), "{bad}");
        }
    }
}
