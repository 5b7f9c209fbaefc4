//! Spreadsheet-safe cells. Names, emails and error details come from the identity provider and
//! from SCIM clients, so a cell may hold `=HYPERLINK("https://evil.example", "Click")`, which a
//! spreadsheet opening the export would run as a formula (CSV injection). Following OWASP's
//! advice, a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is written with
//! a leading `'`, which spreadsheets read as "this is text" and do not display. Quoting the cell
//! (the `csv` writer's job) does not help: spreadsheets unquote before they evaluate.

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// `text` as a cell no spreadsheet evaluates.
pub(super) fn inert(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) { Cow::Owned(format!("'{text}")) } else { Cow::Borrowed(text) }
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn formulas_are_made_text() {
        for formula in ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"x\")"] {
            assert_eq!(inert(formula), format!("'{formula}"), "{formula:?}");
        }
    }

    #[test]
    fn other_text_is_left_alone() {
        for text in ["", "Ada Lovelace", "ada@example.com", " =1", "1-2", "'=1", "\n=1", "Bücher"] {
            assert_eq!(inert(text), text, "{text:?}");
        }
    }
}
