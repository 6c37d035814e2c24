//! Sign-in addresses: an email or a phone number, validated and normalised the way the
//! backend stores them, so "Ana@Example.com " and "ana@example.com" are one person.

use std::fmt;
use thiserror::Error;

/// A validated sign-in address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignInAddress {
    /// Lower-cased, trimmed.
    Email(String),
    /// E.164: `+` and 8–15 digits.
    Phone(String),
}

/// Why an address was refused, in words for the sign-in screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum AddressProblem {
    /// Nothing was entered.
    #[error("enter an email address or a phone number")]
    Empty,
    /// It looks like an email but is not one.
    #[error("this email address is not valid")]
    InvalidEmail,
    /// The service did not accept the address.
    #[error("this email address or phone number is not accepted")]
    NotAccepted,
    /// It looks like a phone number but is not one in international form.
    #[error("enter the phone number with its country code, e.g. +44 7700 900123")]
    InvalidPhone,
}

impl SignInAddress {
    /// Parses what a person typed.
    pub fn parse(input: &str) -> Result<Self, AddressProblem> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(AddressProblem::Empty);
        }
        if trimmed.contains('@') {
            return parse_email(trimmed);
        }
        parse_phone(trimmed)
    }

    /// The normalised form sent to the backend.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Email(s) | Self::Phone(s) => s,
        }
    }

    /// Whether it is a phone number.
    pub fn is_phone(&self) -> bool {
        matches!(self, Self::Phone(_))
    }
}

impl fmt::Display for SignInAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn parse_email(s: &str) -> Result<SignInAddress, AddressProblem> {
    let lower = s.to_lowercase();
    let (local, domain) = lower.rsplit_once('@').ok_or(AddressProblem::InvalidEmail)?;
    let valid_local =
        !local.is_empty() && local.len() <= 64 && !local.contains(char::is_whitespace) && !local.contains('@');
    let valid_domain = domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty() && label.len() <= 63 && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if valid_local && valid_domain { Ok(SignInAddress::Email(lower)) } else { Err(AddressProblem::InvalidEmail) }
}

fn parse_phone(s: &str) -> Result<SignInAddress, AddressProblem> {
    let rest = if let Some(r) = s.strip_prefix('+') {
        r
    } else if let Some(r) = s.strip_prefix("00") {
        r
    } else {
        return Err(AddressProblem::InvalidPhone);
    };
    let mut digits = String::with_capacity(16);
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(AddressProblem::InvalidPhone),
        }
    }
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(AddressProblem::InvalidPhone);
    }
    Ok(SignInAddress::Phone(format!("+{digits}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(SignInAddress::parse("  Ana.Lima@Example.COM ").unwrap().as_str(), "ana.lima@example.com");
    }

    #[test]
    fn phone_numbers_become_e164() {
        assert_eq!(SignInAddress::parse("+44 (7700) 900-123").unwrap().as_str(), "+447700900123");
        assert_eq!(SignInAddress::parse("0044 7700 900123").unwrap().as_str(), "+447700900123");
    }

    #[test]
    fn bad_addresses_say_what_is_wrong() {
        assert_eq!(SignInAddress::parse(" "), Err(AddressProblem::Empty));
        assert_eq!(SignInAddress::parse("ana@"), Err(AddressProblem::InvalidEmail));
        assert_eq!(SignInAddress::parse("ana@localhost"), Err(AddressProblem::InvalidEmail));
        assert_eq!(SignInAddress::parse("07700 900123"), Err(AddressProblem::InvalidPhone));
        assert_eq!(SignInAddress::parse("+44 12"), Err(AddressProblem::InvalidPhone));
        assert_eq!(SignInAddress::parse("+44 7700 9001x3"), Err(AddressProblem::InvalidPhone));
    }
}
