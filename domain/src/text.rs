//! Text bounded to what a column holds: people and DNS servers choose names, user agents and
//! error texts, so they are cut rather than trusted to be short. And the one digest under which
//! secrets and personal keys are stored (API keys, link tokens, throttle keys).

use sha2::{Digest, Sha256};

/// The SHA-256 of `text`, as 64 lower-case hex digits.
pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The first `max` characters of `text` (whole characters: a UTF-8 sequence is never split).
pub(crate) fn first_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::first_chars;

    #[test]
    fn cuts_whole_characters() {
        assert_eq!(first_chars("short", 10), "short");
        assert_eq!(first_chars("ééééé-more", 5), "ééééé");
        assert_eq!(first_chars("", 3), "");
    }
}
