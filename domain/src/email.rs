//! Email addresses as typed into the console: parsed once into a value that is known to be
//! well-formed, compared case-insensitively (RFC 5321 local parts may be case-sensitive in
//! theory; in practice every provider folds them, and accounts must not differ by case).

use crate::DomainError;

/// A syntactically valid email address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    value: String,
}

impl Email {
    /// Parses `input` (trimmed). Errors name the field `email`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let value = input.trim();
        let err = |m: &str| DomainError::invalid("email", m);
        if value.is_empty() {
            return Err(err("Enter your email address."));
        }
        if value.len() > 254 {
            return Err(err("That email address is too long."));
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err(err("An email address needs an @, like name@example.com."));
        };
        let valid_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty()
            || local.len() > 64
            || local.chars().any(|c| c.is_whitespace() || c.is_control() || c == '@')
            || !valid_domain
        {
            return Err(err("That does not look like an email address (name@example.com)."));
        }
        Ok(Self { value: value.to_owned() })
    }

    /// The address as typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The lower-case form used for lookups and uniqueness.
    pub fn normalized(&self) -> String {
        self.value.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_normalises_case() {
        let e = Email::parse("  Alice.Smith@Contoso.com ").unwrap();
        assert_eq!(e.as_str(), "Alice.Smith@Contoso.com");
        assert_eq!(e.normalized(), "alice.smith@contoso.com");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "   ",
            "alice",
            "alice@",
            "@contoso.com",
            "a b@c.com",
            "a@b",
            "a@b..com",
            "a@@b.com",
            "a@.b.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Email::parse(&format!("{}@x.com", "a".repeat(300))).is_err());
    }
}
