//! Sign-in identifiers: email addresses and phone numbers, normalised.
//!
//! Emails are trimmed and lowercased; phones are reduced to E.164 (`+` and 8–15 digits,
//! spaces, dots, dashes and brackets dropped, a leading `00` read as `+`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use keyway_api::Channel;

/// A normalised email address or E.164 phone number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Identifier {
    /// A lowercased email address.
    Email(String),
    /// An E.164 phone number, e.g. `+4915112345678`.
    Phone(String),
}

impl Identifier {
    /// Parses an email address or a phone number; anything else is [`Error::InvalidIdentifier`].
    pub fn parse(raw: &str) -> Result<Self> {
        let t = raw.trim();
        if t.contains('@') {
            return normalize_email(t).map(Identifier::Email);
        }
        normalize_phone(t).map(Identifier::Phone)
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        match self {
            Identifier::Email(s) | Identifier::Phone(s) => s,
        }
    }

    /// Where messages for this identifier go.
    pub fn channel(&self) -> Channel {
        match self {
            Identifier::Email(_) => Channel::Email,
            Identifier::Phone(_) => Channel::Sms,
        }
    }
}

/// Trims and lowercases an email address and checks its rough shape.
pub fn normalize_email(raw: &str) -> Result<String> {
    let e = raw.trim().to_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(e) } else { Err(Error::InvalidIdentifier) }
}

/// Reduces a phone number to E.164.
pub fn normalize_phone(raw: &str) -> Result<String> {
    let t = raw.trim();
    let rest = if let Some(r) = t.strip_prefix('+') {
        r
    } else if let Some(r) = t.strip_prefix("00") {
        r
    } else {
        return Err(Error::InvalidIdentifier);
    };
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(Error::InvalidIdentifier),
        }
    }
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(Error::InvalidIdentifier);
    }
    Ok(format!("+{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(Identifier::parse("  Ada@Example.COM ").unwrap(), Identifier::Email("ada@example.com".into()));
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(normalize_phone("+49 (151) 123-456.78").unwrap(), "+4915112345678");
        assert_eq!(normalize_phone("0049 151 12345678").unwrap(), "+4915112345678");
        assert!(normalize_phone("0151 12345678").is_err());
        assert!(normalize_phone("+12").is_err());
        assert!(normalize_phone("+1 555 abc").is_err());
    }

    #[test]
    fn garbage_is_not_an_identifier() {
        assert!(Identifier::parse("").is_err());
        assert!(Identifier::parse("a@b").is_err());
        assert!(Identifier::parse("@b.c").is_err());
    }
}
