//! NFC card ids on a person's record (seed 001: "hexadecimal or decimal format, selected
//! via checkbox", with a "surface id" printed on the card).
//!
//! A card id is the card's UID: 4, 7 or 10 bytes (ISO/IEC 14443-3 single, double and
//! triple size). It is kept in one canonical form, upper-case hex with no separators, so
//! the same card typed in hex or in decimal is the same card (and one card belongs to one
//! record). The member's app shows both forms, because front desks know either.

use crate::error::{Error, Result};
use keyway_api::{CardFormat, CardView};

/// The UID sizes a card can have, in bytes.
const UID_SIZES: [usize; 3] = [4, 7, 10];

/// Longest surface id accepted.
const SURFACE_MAX: usize = 32;

/// Why a typed card id is refused; each is its own message under the `card_id` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CardProblem {
    /// Nothing was typed.
    #[error("enter the card id")]
    Empty,
    /// A character that is not a hex digit (separators aside).
    #[error("a hexadecimal card id has only the digits 0-9 and A-F")]
    NotHex,
    /// An odd number of hex digits: a byte is two.
    #[error("a hexadecimal card id has two digits per byte; one is missing or extra")]
    OddDigits,
    /// A character that is not a decimal digit.
    #[error("a decimal card id has only the digits 0-9")]
    NotDecimal,
    /// A UID of another size.
    #[error("a card id is 4, 7 or 10 bytes (8, 14 or 20 hex digits)")]
    WrongLength,
    /// All zeros: no card has that UID.
    #[error("a card id cannot be zero")]
    Zero,
}

/// Parses a typed card id into its UID bytes.
pub fn parse_card_id(raw: &str, format: CardFormat) -> std::result::Result<Vec<u8>, CardProblem> {
    let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | ':' | '-' | '\t')).collect();
    if compact.is_empty() {
        return Err(CardProblem::Empty);
    }
    let bytes = match format {
        CardFormat::Hex => {
            let digits = compact.strip_prefix("0x").or_else(|| compact.strip_prefix("0X")).unwrap_or(&compact);
            if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(CardProblem::NotHex);
            }
            if !digits.len().is_multiple_of(2) {
                return Err(CardProblem::OddDigits);
            }
            let bytes: Vec<u8> =
                (0..digits.len()).step_by(2).filter_map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok()).collect();
            if !UID_SIZES.contains(&bytes.len()) {
                return Err(CardProblem::WrongLength);
            }
            bytes
        }
        CardFormat::Decimal => {
            if !compact.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CardProblem::NotDecimal);
            }
            // More digits than 10 bytes can hold is too long, whatever the zeros in front.
            let significant = compact.trim_start_matches('0');
            let value: u128 =
                if significant.is_empty() { 0 } else { significant.parse().map_err(|_| CardProblem::WrongLength)? };
            let all = value.to_be_bytes();
            let needed = all.len() - all.iter().take_while(|b| **b == 0).count();
            let size = UID_SIZES.iter().copied().find(|s| *s >= needed).ok_or(CardProblem::WrongLength)?;
            all[all.len() - size..].to_vec()
        }
    };
    if bytes.iter().all(|b| *b == 0) {
        return Err(CardProblem::Zero);
    }
    Ok(bytes)
}

/// The canonical form kept in the database: upper-case hex, no separators.
pub fn canonical(uid: &[u8]) -> String {
    uid.iter().map(|b| format!("{b:02X}")).collect()
}

/// Checks a typed card id and gives its canonical form, or the `card_id` field error.
pub fn normalise_card_id(raw: &str, format: CardFormat) -> Result<String> {
    parse_card_id(raw, format).map(|uid| canonical(&uid)).map_err(|p| Error::field("card_id", p.to_string()))
}

/// Checks the number printed on a card: letters, digits, spaces and `-`, at most 32.
pub fn normalise_surface_id(raw: &str) -> Result<String> {
    let t = raw.trim();
    let ok = !t.is_empty()
        && t.chars().count() <= SURFACE_MAX
        && t.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
    if !ok {
        return Err(Error::field("surface_id", "letters, digits, spaces and '-', 1 to 32 of them"));
    }
    Ok(t.to_owned())
}

/// The card as the member's app shows it, from the stored canonical hex.
pub fn view(hex: &str, surface_id: Option<String>) -> CardView {
    let decimal = u128::from_str_radix(hex, 16).map(|v| v.to_string()).unwrap_or_default();
    CardView { hex: hex.to_owned(), decimal, surface_id }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_card_typed_in_hex_or_decimal_is_one_canonical_id() {
        let hex = normalise_card_id("04:a2:2b:b2", CardFormat::Hex).unwrap();
        assert_eq!(hex, "04A22BB2");
        let dec = normalise_card_id(&0x04A2_2BB2u32.to_string(), CardFormat::Decimal).unwrap();
        assert_eq!(dec, hex);
        assert_eq!(view(&hex, None).decimal, "77736882");
    }

    #[test]
    fn seven_and_ten_byte_uids_are_cards_too() {
        assert_eq!(normalise_card_id("0x04 5E 1A 2B 3C 4D 80", CardFormat::Hex).unwrap(), "045E1A2B3C4D80");
        assert_eq!(normalise_card_id("0102030405060708090A", CardFormat::Hex).unwrap().len(), 20);
        // A decimal number larger than 4 bytes is padded to 7.
        assert_eq!(normalise_card_id("4294967296", CardFormat::Decimal).unwrap(), "00000100000000");
    }

    #[test]
    fn each_mistake_in_a_card_id_has_its_own_problem() {
        assert_eq!(parse_card_id("  ", CardFormat::Hex), Err(CardProblem::Empty));
        assert_eq!(parse_card_id("04A22BZ2", CardFormat::Hex), Err(CardProblem::NotHex));
        assert_eq!(parse_card_id("04A22BB", CardFormat::Hex), Err(CardProblem::OddDigits));
        assert_eq!(parse_card_id("04A22B", CardFormat::Hex), Err(CardProblem::WrongLength));
        assert_eq!(parse_card_id("12ab", CardFormat::Decimal), Err(CardProblem::NotDecimal));
        assert_eq!(parse_card_id("0000", CardFormat::Decimal), Err(CardProblem::Zero));
        assert_eq!(parse_card_id("00000000", CardFormat::Hex), Err(CardProblem::Zero));
        assert_eq!(parse_card_id(&"9".repeat(40), CardFormat::Decimal), Err(CardProblem::WrongLength));
        assert_eq!(parse_card_id(&u128::MAX.to_string(), CardFormat::Decimal), Err(CardProblem::WrongLength));
    }

    #[test]
    fn surface_ids_are_short_printable_labels() {
        assert_eq!(normalise_surface_id(" HG-0042 ").unwrap(), "HG-0042");
        assert!(normalise_surface_id("").is_err());
        assert!(normalise_surface_id("a\u{7}b").is_err());
        assert!(normalise_surface_id(&"1".repeat(33)).is_err());
    }
}
