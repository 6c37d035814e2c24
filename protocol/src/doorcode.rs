//! Daily doorcodes: an 8-digit number a person types on a lock's keypad, derived from a
//! secret only the lock and the backend hold, so an offline lock checks it with no network.
//!
//! ```text
//! code = decimal(BE64(HMAC-SHA256(doorcode secret,
//!            "keyway/doorcode/v1\0" ‖ door [8] ‖ slot u32 ‖ day u32)[0..8]) mod 10^8), 8 digits
//! day  = floor(unix seconds / 86400)          (the UTC day)
//! ```
//!
//! A *slot* is the number the backend gives one person at one organisation; the door-sync
//! bundle lists the slots a lock accepts (see [`crate::bundle`]), so removing a person's
//! slot from the next bundle ends their code at that lock. The backend computes codes and
//! hands an app only today's code and its window; the secret never leaves backend and lock.
//!
//! [`parse_keypad`] decodes what a keypad sends (digits, `*` to start again, `#` to end).
//! The derivation is written twice: with ring here ([`derive`]), with RustCrypto on the
//! lock side ([`derive_on_lock`], feature `lock`); the vectors in
//! `protocol/vectors/doorcode.json` hold both to the same bytes.

use crate::credential::UnixSeconds;
use crate::ids::DoorId;
use ring::hmac;
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// How many digits a doorcode has.
pub const DOORCODE_DIGITS: usize = 8;
/// Seconds in one doorcode day (a UTC day).
pub const DOORCODE_DAY_SECS: UnixSeconds = 86_400;
/// The most key presses one keypad entry may hold (digits, `*` and `#` together): a
/// longer entry is refused before it is looked at.
pub const MAX_KEYPAD_INPUT: usize = 32;
/// Domain-separation prefix of the doorcode HMAC.
pub const DOORCODE_CONTEXT: &[u8] = b"keyway/doorcode/v1\0";
/// The modulus that truncates the HMAC to [`DOORCODE_DIGITS`] digits.
const MODULUS: u64 = 100_000_000;

/// The 32-byte secret a lock and the backend share for one door's doorcodes. Its `Debug`
/// never prints it; it is wiped when dropped.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct DoorcodeSecret(pub [u8; 32]);

impl std::fmt::Debug for DoorcodeSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DoorcodeSecret(..)")
    }
}

/// One person's doorcode number at an organisation (the backend assigns it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DoorcodeSlot(pub u32);

/// A doorcode: [`DOORCODE_DIGITS`] ASCII digits. Its `Debug` never prints the digits;
/// `==` compares in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Doorcode([u8; DOORCODE_DIGITS]);

impl PartialEq for Doorcode {
    fn eq(&self, other: &Self) -> bool {
        self.matches(other)
    }
}

impl Eq for Doorcode {}

impl std::fmt::Debug for Doorcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Doorcode(********)")
    }
}

impl Doorcode {
    /// The code of a number below 10⁸, zero-padded to 8 digits.
    fn from_number(mut n: u64) -> Self {
        let mut digits = [b'0'; DOORCODE_DIGITS];
        for digit in digits.iter_mut().rev() {
            *digit = b'0' + (n % 10) as u8;
            n /= 10;
        }
        Self(digits)
    }

    /// The digits as ASCII bytes.
    pub fn as_bytes(&self) -> &[u8; DOORCODE_DIGITS] {
        &self.0
    }

    /// The digits as text (to show a person; never to log).
    pub fn reveal(&self) -> String {
        self.0.iter().map(|&b| char::from(b)).collect()
    }

    /// Parses exactly 8 ASCII digits (e.g. a code the backend sent).
    pub fn from_digits(text: &str) -> Option<Self> {
        let bytes: [u8; DOORCODE_DIGITS] = text.as_bytes().try_into().ok()?;
        bytes.iter().all(u8::is_ascii_digit).then_some(Self(bytes))
    }

    /// Compares in constant time (no early exit on the first differing digit).
    pub fn matches(&self, other: &Doorcode) -> bool {
        let mut diff = 0u8;
        for (a, b) in self.0.iter().zip(other.0.iter()) {
            diff |= a ^ b;
        }
        diff == 0
    }
}

/// The doorcode day (UTC) that `time` falls in.
pub fn day_of(time: UnixSeconds) -> u32 {
    time / DOORCODE_DAY_SECS
}

/// The first second of `day` and the first second after it: a code's validity window.
pub fn day_window(day: u32) -> (UnixSeconds, UnixSeconds) {
    let start = day.saturating_mul(DOORCODE_DAY_SECS);
    (start, start.saturating_add(DOORCODE_DAY_SECS))
}

/// The bytes the HMAC covers.
pub fn message(door: DoorId, slot: DoorcodeSlot, day: u32) -> [u8; 35] {
    let mut out = [0u8; 35];
    out[..19].copy_from_slice(DOORCODE_CONTEXT);
    out[19..27].copy_from_slice(&door.0);
    out[27..31].copy_from_slice(&slot.0.to_be_bytes());
    out[31..35].copy_from_slice(&day.to_be_bytes());
    out
}

/// Truncates an HMAC output to a code: its first 8 bytes as a big-endian number mod 10⁸
/// (the bias of 2⁶⁴ mod 10⁸ is below 10⁻¹¹).
pub fn truncate(mac: &[u8]) -> Doorcode {
    let mut first = [0u8; 8];
    first.copy_from_slice(&mac[..8]);
    Doorcode::from_number(u64::from_be_bytes(first) % MODULUS)
}

/// The code of `slot` at `door` on `day` (backend side, ring).
pub fn derive(secret: &DoorcodeSecret, door: DoorId, slot: DoorcodeSlot, day: u32) -> Doorcode {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &secret.0);
    truncate(hmac::sign(&key, &message(door, slot, day)).as_ref())
}

/// The code of `slot` at `door` on `day` (lock side, RustCrypto): the same bytes as
/// [`derive`], from an independent implementation.
#[cfg(feature = "lock")]
pub fn derive_on_lock(secret: &DoorcodeSecret, door: DoorId, slot: DoorcodeSlot, day: u32) -> Doorcode {
    use hkdf::hmac::{KeyInit, Mac};
    type HmacSha256 = hkdf::hmac::Hmac<sha2::Sha256>;
    // HMAC takes a key of any length: a 32-byte key cannot fail.
    let mut mac = match <HmacSha256 as KeyInit>::new_from_slice(&secret.0) {
        Ok(mac) => mac,
        Err(_) => return Doorcode([b'0'; DOORCODE_DIGITS]),
    };
    mac.update(&message(door, slot, day));
    truncate(&mac.finalize().into_bytes())
}

/// Why a keypad entry is not a doorcode. Carries no digits, so it is safe to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum KeypadError {
    /// No digits were entered before `#`.
    #[error("no digits entered")]
    Empty,
    /// Fewer digits than a doorcode has.
    #[error("{digits} digits entered, a doorcode has 8")]
    TooShort {
        /// How many digits.
        digits: usize,
    },
    /// More digits than a doorcode has, or more key presses than a keypad entry may hold.
    #[error("too many keys pressed for a doorcode")]
    TooLong,
    /// A byte that is no keypad key (`0`–`9`, `*`, `#`).
    #[error("a key the keypad does not have (0x{0:02x})")]
    UnknownKey(u8),
    /// Keys after the closing `#`.
    #[error("keys pressed after #")]
    AfterEnd,
}

/// Decodes one keypad entry: ASCII digits; `*` clears what was typed so far; an optional
/// `#` ends the entry and must be the last key. The result must be exactly 8 digits.
pub fn parse_keypad(input: &[u8]) -> Result<Doorcode, KeypadError> {
    if input.len() > MAX_KEYPAD_INPUT {
        return Err(KeypadError::TooLong);
    }
    let mut digits = [0u8; DOORCODE_DIGITS];
    let mut len = 0usize;
    let mut ended = false;
    for &key in input {
        if ended {
            digits.zeroize();
            return Err(KeypadError::AfterEnd);
        }
        match key {
            b'0'..=b'9' => {
                if len == DOORCODE_DIGITS {
                    digits.zeroize();
                    return Err(KeypadError::TooLong);
                }
                digits[len] = key;
                len += 1;
            }
            b'*' => {
                digits.zeroize();
                len = 0;
            }
            b'#' => ended = true,
            other => {
                digits.zeroize();
                return Err(KeypadError::UnknownKey(other));
            }
        }
    }
    match len {
        0 => Err(KeypadError::Empty),
        DOORCODE_DIGITS => Ok(Doorcode(digits)),
        short => {
            digits.zeroize();
            Err(KeypadError::TooShort { digits: short })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const DOOR: DoorId = DoorId([1, 2, 3, 4, 5, 6, 7, 8]);

    #[test]
    fn a_code_changes_with_the_day_the_slot_and_the_door() {
        let secret = DoorcodeSecret([7; 32]);
        let code = derive(&secret, DOOR, DoorcodeSlot(1), 20_000);
        assert_ne!(code, derive(&secret, DOOR, DoorcodeSlot(1), 20_001));
        assert_ne!(code, derive(&secret, DOOR, DoorcodeSlot(2), 20_000));
        assert_ne!(code, derive(&secret, DoorId([9; 8]), DoorcodeSlot(1), 20_000));
        assert_ne!(code, derive(&DoorcodeSecret([8; 32]), DOOR, DoorcodeSlot(1), 20_000));
        assert_eq!(code.reveal().len(), 8);
    }

    #[test]
    fn lock_and_backend_derive_the_same_code() {
        for slot in 0..50 {
            let secret = DoorcodeSecret([slot as u8; 32]);
            let day = 20_000 + slot;
            assert_eq!(
                derive(&secret, DOOR, DoorcodeSlot(slot), day),
                derive_on_lock(&secret, DOOR, DoorcodeSlot(slot), day)
            );
        }
    }

    #[test]
    fn keypad_star_starts_again_and_hash_ends_the_entry() {
        assert_eq!(parse_keypad(b"12*87654321#").map(|c| c.reveal()), Ok("87654321".to_owned()));
        assert_eq!(parse_keypad(b"00000042").map(|c| c.reveal()), Ok("00000042".to_owned()));
        assert_eq!(parse_keypad(b"#"), Err(KeypadError::Empty));
        assert_eq!(parse_keypad(b"1234#"), Err(KeypadError::TooShort { digits: 4 }));
        assert_eq!(parse_keypad(b"123456789"), Err(KeypadError::TooLong));
        assert_eq!(parse_keypad(b"1234567a"), Err(KeypadError::UnknownKey(b'a')));
        assert_eq!(parse_keypad(b"12345678#1"), Err(KeypadError::AfterEnd));
        assert_eq!(parse_keypad(&[b'*'; 40]), Err(KeypadError::TooLong));
    }

    #[test]
    fn a_code_never_shows_in_debug_output() {
        let code = derive(&DoorcodeSecret([3; 32]), DOOR, DoorcodeSlot(9), 1);
        assert!(!format!("{code:?}").contains(&code.reveal()));
        assert_eq!(format!("{:?}", DoorcodeSecret([3; 32])), "DoorcodeSecret(..)");
    }

    #[test]
    fn codes_compare_by_every_digit() {
        let a = Doorcode::from_digits("12345678").unwrap();
        assert!(a.matches(&Doorcode::from_digits("12345678").unwrap()));
        assert!(!a.matches(&Doorcode::from_digits("12345679").unwrap()));
        assert!(Doorcode::from_digits("1234567").is_none());
        assert!(Doorcode::from_digits("1234567x").is_none());
    }
}
