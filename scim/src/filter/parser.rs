//! Recursive-descent parser for filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2).
//!
//! Recursion only happens at `(`, `not (` and `[`, each of which counts against
//! `MAX_FILTER_DEPTH`; `and`/`or` chains are built iteratively and capped by
//! `MAX_FILTER_TERMS`. Together with `MAX_FILTER_LEN` this keeps every later walk over the AST
//! (display, evaluation, drop) shallow.

use serde_json::Number;

use super::lexer::{Tok, Token, tokenize};
use super::{CompValue, CompareOp, Filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN, MAX_FILTER_TERMS};
use crate::attr_path::{AttrPath, is_attr_name};
use crate::error::{ScimError, ScimType};
use crate::path::PatchPath;

const EXPECTED_OPERATOR: &str = "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)";

/// A syntax error at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) pos: usize,
    message: &'static str,
}

impl ParseError {
    pub(crate) fn new(pos: usize, message: &'static str) -> Self {
        Self { pos, message }
    }

    /// A 400 error whose detail shows the offset and the text found there.
    pub(crate) fn into_scim(self, scim_type: ScimType, input: &str) -> ScimError {
        let near: String = input.get(self.pos..).unwrap_or("").chars().take(24).collect();
        let detail = if near.is_empty() {
            format!("{} at offset {} (end of input)", self.message, self.pos)
        } else {
            format!("{} at offset {} near '{near}'", self.message, self.pos)
        };
        ScimError::bad_request(scim_type, detail)
    }
}

/// Parses a complete filter.
pub(crate) fn parse_filter(input: &str) -> Result<Filter, ParseError> {
    let mut parser = Parser::new(input)?;
    let filter = parser.or_expr(false)?;
    parser.expect_end()?;
    Ok(filter)
}

/// Parses `attrPath / valuePath [subAttr]`.
pub(crate) fn parse_path(input: &str) -> Result<PatchPath, ParseError> {
    let mut parser = Parser::new(input)?;
    let (pos, word) = parser.word("expected an attribute path")?;
    let mut attr = AttrPath::parse(word).map_err(|m| ParseError::new(pos, m))?;
    let filter = match parser.peek() {
        Some(Tok::LBracket) => {
            if attr.sub_attr.is_some() {
                return Err(ParseError::new(
                    pos,
                    "a value filter must follow an attribute without sub-attribute",
                ));
            }
            let filter = parser.bracketed()?;
            attr.sub_attr = parser.trailing_sub_attr()?;
            Some(filter)
        }
        _ => None,
    };
    parser.expect_end()?;
    Ok(PatchPath { attr, filter })
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    next: usize,
    end: usize,
    depth: usize,
    terms: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Result<Self, ParseError> {
        if input.len() > MAX_FILTER_LEN {
            return Err(ParseError::new(MAX_FILTER_LEN, "input is too long (limit 8192 bytes)"));
        }
        let tokens = tokenize(input)?;
        if tokens.is_empty() {
            return Err(ParseError::new(0, "empty expression"));
        }
        Ok(Self { tokens, next: 0, end: input.len(), depth: 0, terms: 0 })
    }

    fn peek(&self) -> Option<&Tok<'a>> {
        self.tokens.get(self.next).map(|t| &t.tok)
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    /// Offset of the next token, or the end of input.
    fn pos(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |t| t.pos)
    }

    fn expect(&mut self, tok: &Tok<'_>, message: &'static str) -> Result<(), ParseError> {
        if self.peek() == Some(tok) {
            self.next += 1;
            Ok(())
        } else {
            Err(ParseError::new(self.pos(), message))
        }
    }

    fn expect_end(&self) -> Result<(), ParseError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(ParseError::new(self.pos(), "unexpected text")),
        }
    }

    fn word(&mut self, message: &'static str) -> Result<(usize, &'a str), ParseError> {
        match self.tokens.get(self.next) {
            Some(Token { tok: Tok::Word(w), pos }) => {
                self.next += 1;
                Ok((*pos, *w))
            }
            _ => Err(ParseError::new(self.pos(), message)),
        }
    }

    /// Parses `open inner close` one nesting level deeper.
    fn nested(
        &mut self,
        inside_brackets: bool,
        close: &Tok<'_>,
        message: &'static str,
    ) -> Result<Filter, ParseError> {
        let pos = self.pos();
        self.next += 1;
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(ParseError::new(pos, "expression is nested too deeply (limit 32)"));
        }
        let inner = self.or_expr(inside_brackets)?;
        self.expect(close, message)?;
        self.depth -= 1;
        Ok(inner)
    }

    fn bracketed(&mut self) -> Result<Filter, ParseError> {
        self.nested(true, &Tok::RBracket, "expected ']'")
    }

    fn or_expr(&mut self, inside_brackets: bool) -> Result<Filter, ParseError> {
        let mut left = self.and_expr(inside_brackets)?;
        while self.peek_keyword("or") {
            self.next += 1;
            let right = self.and_expr(inside_brackets)?;
            left = Filter::or(left, right);
        }
        Ok(left)
    }

    fn and_expr(&mut self, inside_brackets: bool) -> Result<Filter, ParseError> {
        let mut left = self.unary(inside_brackets)?;
        while self.peek_keyword("and") {
            self.next += 1;
            let right = self.unary(inside_brackets)?;
            left = Filter::and(left, right);
        }
        Ok(left)
    }

    fn unary(&mut self, inside_brackets: bool) -> Result<Filter, ParseError> {
        let not_paren = self.peek_keyword("not")
            && matches!(self.tokens.get(self.next + 1).map(|t| &t.tok), Some(Tok::LParen));
        if not_paren {
            self.next += 1;
            let inner = self.nested(inside_brackets, &Tok::RParen, "expected ')'")?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Tok::LParen) {
            return self.nested(inside_brackets, &Tok::RParen, "expected ')'");
        }
        self.attr_expr(inside_brackets)
    }

    fn attr_expr(&mut self, inside_brackets: bool) -> Result<Filter, ParseError> {
        let (pos, word) = self.word("expected an attribute name")?;
        self.terms += 1;
        if self.terms > MAX_FILTER_TERMS {
            return Err(ParseError::new(pos, "too many terms in expression (limit 256)"));
        }
        let attr = AttrPath::parse(word).map_err(|m| ParseError::new(pos, m))?;
        if inside_brackets {
            if attr.schema.is_some() || attr.sub_attr.is_some() {
                return Err(ParseError::new(pos, "expected a plain sub-attribute name inside '[...]'"));
            }
            if self.peek() == Some(&Tok::LBracket) {
                return Err(ParseError::new(self.pos(), "value filters cannot be nested"));
            }
        } else if self.peek() == Some(&Tok::LBracket) {
            if attr.sub_attr.is_some() {
                return Err(ParseError::new(
                    pos,
                    "a value filter must follow an attribute without sub-attribute",
                ));
            }
            let inner = self.bracketed()?;
            // Entra's `emails[type eq "work"].value eq "x"`: one element satisfies both.
            let filter = match self.trailing_sub_attr()? {
                Some(sub) => Filter::and(inner, self.comparison(AttrPath::new(sub))?),
                None => inner,
            };
            return Ok(Filter::ValuePath { attr, filter: Box::new(filter) });
        }
        self.comparison(attr)
    }

    /// `.subAttr` directly after `]`.
    fn trailing_sub_attr(&mut self) -> Result<Option<String>, ParseError> {
        let Some(Token { tok: Tok::Word(word), pos }) = self.tokens.get(self.next) else {
            return Ok(None);
        };
        let Some(sub) = word.strip_prefix('.') else {
            return Ok(None);
        };
        if !is_attr_name(sub) {
            return Err(ParseError::new(*pos, "expected a sub-attribute name after ']'"));
        }
        self.next += 1;
        Ok(Some(sub.to_string()))
    }

    fn comparison(&mut self, attr: AttrPath) -> Result<Filter, ParseError> {
        let (pos, word) = self.word(EXPECTED_OPERATOR)?;
        if word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(attr));
        }
        let op = CompareOp::from_keyword(word).ok_or(ParseError::new(pos, EXPECTED_OPERATOR))?;
        let pos = self.pos();
        let value = match self.tokens.get(self.next).map(|t| &t.tok) {
            Some(Tok::Str(s)) => CompValue::String(s.clone()),
            Some(Tok::Word(w)) => bare_value(w),
            _ => return Err(ParseError::new(pos, "expected a value")),
        };
        self.next += 1;
        Ok(Filter::Compare { attr, op, value })
    }
}

/// An unquoted literal: `true`/`false`/`null` (any case), a JSON number, or else a string
/// (Entra's old `externalId eq jyoung`).
fn bare_value(word: &str) -> CompValue {
    if word.eq_ignore_ascii_case("true") {
        CompValue::Bool(true)
    } else if word.eq_ignore_ascii_case("false") {
        CompValue::Bool(false)
    } else if word.eq_ignore_ascii_case("null") {
        CompValue::Null
    } else if let Some(n) = json_number(word) {
        CompValue::Number(n)
    } else {
        CompValue::String(word.to_string())
    }
}

/// Parses a JSON number exactly (integers as integers; others with the standard library's
/// correctly rounded float parser, so rendering and re-parsing gives the same value).
fn json_number(word: &str) -> Option<Number> {
    let digits = word.strip_prefix('-').unwrap_or(word);
    let (int, rest) = digits.split_at(digits.find(['.', 'e', 'E']).unwrap_or(digits.len()));
    let (fraction, exponent) = match rest.find(['e', 'E']) {
        Some(e) => (&rest[..e], Some(&rest[e + 1..])),
        None => (rest, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let valid = all_digits(int)
        && (int == "0" || !int.starts_with('0'))
        && (fraction.is_empty() || fraction.strip_prefix('.').is_some_and(all_digits))
        && exponent.is_none_or(|e| all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !valid {
        return None;
    }
    if rest.is_empty() {
        if let Ok(n) = word.parse::<i64>() {
            return Some(n.into());
        }
        if let Ok(n) = word.parse::<u64>() {
            return Some(n.into());
        }
    }
    Number::from_f64(word.parse::<f64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_values() {
        assert_eq!(bare_value("TRUE"), CompValue::Bool(true));
        assert_eq!(bare_value("false"), CompValue::Bool(false));
        assert_eq!(bare_value("Null"), CompValue::Null);
        assert_eq!(bare_value("12"), CompValue::Number(12.into()));
        assert_eq!(bare_value("-0.5"), CompValue::Number(Number::from_f64(-0.5).expect("finite")));
        assert_eq!(bare_value("jyoung"), CompValue::String("jyoung".into()));
        assert_eq!(bare_value("12ab"), CompValue::String("12ab".into()));
        assert_eq!(bare_value("1e999"), CompValue::String("1e999".into()));
        assert_eq!(bare_value("-"), CompValue::String("-".into()));
        assert_eq!(bare_value("01"), CompValue::String("01".into()));
        assert_eq!(bare_value("1."), CompValue::String("1.".into()));
        assert_eq!(bare_value("1e"), CompValue::String("1e".into()));
        assert_eq!(bare_value("inf"), CompValue::String("inf".into()));
        assert_eq!(bare_value("+1"), CompValue::String("+1".into()));
        assert_eq!(bare_value("18446744073709551615"), CompValue::Number(u64::MAX.into()));
        assert_eq!(bare_value("-9223372036854775808"), CompValue::Number(i64::MIN.into()));
        assert_eq!(bare_value("2E+3"), CompValue::Number(Number::from_f64(2000.0).expect("finite")));
    }

    #[test]
    fn error_detail_points_at_the_problem() {
        let err = parse_filter("userName eq \"a\" garbage").expect_err("trailing text");
        assert_eq!(err.pos, 16);
        let scim = err.into_scim(ScimType::InvalidFilter, "userName eq \"a\" garbage");
        assert_eq!(scim.detail, "unexpected text at offset 16 near 'garbage'");
        let err = parse_filter("userName eq").expect_err("missing value");
        assert_eq!(
            err.into_scim(ScimType::InvalidFilter, "userName eq").detail,
            "expected a value at offset 11 (end of input)"
        );
    }
}
