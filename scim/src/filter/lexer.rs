//! Tokens of the filter and PATCH path grammars (RFC 7644 §3.4.2.2, §3.5.2).
//!
//! Words run until whitespace, a bracket, a parenthesis or a quote, so attribute paths
//! (`urn:…:User:name.givenName`), keywords, numbers and Entra's unquoted values are one token each;
//! the parser decides what a word means. Strings are JSON strings, decoded by `serde_json`.

use super::parser::ParseError;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok<'a> {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Word(&'a str),
    Str(String),
}

/// A token and its byte offset in the input.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token<'a> {
    pub(super) tok: Tok<'a>,
    pub(super) pos: usize,
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'[' | b']' | b'"') || b.is_ascii_whitespace()
}

/// Splits `input` into tokens.
pub(super) fn tokenize(input: &str) -> Result<Vec<Token<'_>>, ParseError> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let pos = i;
        let tok = match b {
            _ if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b'"' => {
                let end = string_end(bytes, pos)?;
                let text = serde_json::from_str(&input[pos..=end])
                    .map_err(|_| ParseError::new(pos, "invalid string literal"))?;
                i = end + 1;
                tokens.push(Token { tok: Tok::Str(text), pos });
                continue;
            }
            _ => {
                while bytes.get(i).is_some_and(|&b| !is_delimiter(b)) {
                    i += 1;
                }
                tokens.push(Token { tok: Tok::Word(&input[pos..i]), pos });
                continue;
            }
        };
        i += 1;
        tokens.push(Token { tok, pos });
    }
    Ok(tokens)
}

/// The offset of the quote closing the string that opens at `start`.
fn string_end(bytes: &[u8], start: usize) -> Result<usize, ParseError> {
    let mut i = start + 1;
    loop {
        match bytes.get(i) {
            None => return Err(ParseError::new(start, "unterminated string")),
            Some(b'\\') => i += 2,
            Some(b'"') => return Ok(i),
            Some(_) => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok<'_>> {
        tokenize(s).expect("tokenizes").into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn splits_words_strings_and_brackets() {
        assert_eq!(
            toks("emails[type eq \"work\"].value eq jyoung"),
            vec![
                Tok::Word("emails"),
                Tok::LBracket,
                Tok::Word("type"),
                Tok::Word("eq"),
                Tok::Str("work".into()),
                Tok::RBracket,
                Tok::Word(".value"),
                Tok::Word("eq"),
                Tok::Word("jyoung"),
            ]
        );
        assert_eq!(
            toks("not(a pr)"),
            vec![Tok::Word("not"), Tok::LParen, Tok::Word("a"), Tok::Word("pr"), Tok::RParen]
        );
        assert_eq!(toks("x eq\"a\\\"b\""), vec![Tok::Word("x"), Tok::Word("eq"), Tok::Str("a\"b".into())]);
    }

    #[test]
    fn positions_are_byte_offsets() {
        let t = tokenize("é eq \"x\"").expect("tokenizes");
        assert_eq!(t.iter().map(|t| t.pos).collect::<Vec<_>>(), vec![0, 3, 6]);
    }

    #[test]
    fn rejects_bad_strings() {
        assert_eq!(tokenize("a eq \"open").map_err(|e| e.pos), Err(5));
        assert_eq!(tokenize("a eq \"bad\\q\"").map_err(|e| e.pos), Err(5));
        assert_eq!(tokenize("a eq \"trail\\").map_err(|e| e.pos), Err(5));
    }
}
