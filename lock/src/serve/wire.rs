//! The line protocol of `keyway-lock serve` (described in `docs/lock-serve.md`): parsing
//! a request line into a [`Request`], and writing answers and events. Every malformed
//! line gets a typed [`WireError`]; nothing here panics on any input.

use crate::sim::PeripheralId;
use thiserror::Error;

/// The longest request line accepted, in bytes: a frame of 514 bytes is 1028 hex digits.
pub const MAX_LINE: usize = 4096;

/// One request from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `scan on`: start pushing `adv` events; `scan off`: stop.
    Scan(bool),
    /// `connect <peripheral> <mtu>`.
    Connect(PeripheralId, u16),
    /// `write <peripheral> <hex>` (with response) or `write-nr <peripheral> <hex>`.
    Write {
        /// Whom to.
        peripheral: PeripheralId,
        /// The frame.
        frame: Vec<u8>,
        /// An ATT write request (true) or command (false).
        with_response: bool,
    },
    /// `disconnect <peripheral>`.
    Disconnect(PeripheralId),
    /// `range <peripheral> in|out`: moves a lock into or out of radio range (for tests).
    Range(PeripheralId, bool),
    /// `keypad <peripheral> <keys>`: someone types `keys` (`0`–`9`, `*`, `#`) on the lock's
    /// keypad; the lock decodes them (see [`crate::keypad`]).
    Keypad(PeripheralId, Vec<u8>),
}

/// The most characters a `keypad` request's keys may have.
pub const MAX_KEYPAD_WORD: usize = 64;

/// Why a request line was refused; the code is the first word after `err`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The line is not valid UTF-8, has an unknown verb, or the wrong arguments.
    #[error("bad_request {0}")]
    BadRequest(&'static str),
    /// The line is longer than [`MAX_LINE`].
    #[error("line_too_long the longest request is 4096 bytes")]
    LineTooLong,
    /// The peripheral is not a well-formed address.
    #[error("bad_peripheral peripherals look like 02:4b:57:00:00:01")]
    BadPeripheral,
    /// The hex payload is malformed.
    #[error("bad_hex the frame must be an even number of hex digits")]
    BadHex,
}

/// The address a lock is served under: a locally administered MAC, `02:4b:57:xx:xx:xx`.
pub fn peripheral_address(id: PeripheralId) -> String {
    let [_, a, b, c] = id.0.to_be_bytes();
    format!("02:4b:57:{a:02x}:{b:02x}:{c:02x}")
}

/// Parses an address written by [`peripheral_address`].
pub fn parse_peripheral(s: &str) -> Result<PeripheralId, WireError> {
    let parts: Vec<&str> = s.split(':').collect();
    let [p0, p1, p2, a, b, c] = parts.as_slice() else { return Err(WireError::BadPeripheral) };
    if !p0.eq_ignore_ascii_case("02") || !p1.eq_ignore_ascii_case("4b") || !p2.eq_ignore_ascii_case("57") {
        return Err(WireError::BadPeripheral);
    }
    let mut id = 0u32;
    for part in [a, b, c] {
        let byte = decode_hex(part).ok().filter(|b| b.len() == 1).ok_or(WireError::BadPeripheral)?;
        id = (id << 8) | u32::from(byte[0]);
    }
    Ok(PeripheralId(id))
}

/// Lower-case hex.
pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses hex (either case).
pub fn decode_hex(s: &str) -> Result<Vec<u8>, WireError> {
    if !s.len().is_multiple_of(2) {
        return Err(WireError::BadHex);
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16).ok_or(WireError::BadHex)?;
            let lo = (pair[1] as char).to_digit(16).ok_or(WireError::BadHex)?;
            Ok((hi * 16 + lo) as u8)
        })
        .collect()
}

/// Parses one request line (without its newline).
pub fn parse_request(line: &[u8]) -> Result<Request, WireError> {
    if line.len() > MAX_LINE {
        return Err(WireError::LineTooLong);
    }
    let line = std::str::from_utf8(line).map_err(|_| WireError::BadRequest("the line is not UTF-8"))?;
    let words: Vec<&str> = line.split_ascii_whitespace().collect();
    match words.as_slice() {
        ["scan", "on"] => Ok(Request::Scan(true)),
        ["scan", "off"] => Ok(Request::Scan(false)),
        ["connect", peripheral, mtu] => {
            let mtu = mtu.parse().map_err(|_| WireError::BadRequest("the MTU is a number from 23 to 517"))?;
            Ok(Request::Connect(parse_peripheral(peripheral)?, mtu))
        }
        [verb @ ("write" | "write-nr"), peripheral, hex] => Ok(Request::Write {
            peripheral: parse_peripheral(peripheral)?,
            frame: decode_hex(hex)?,
            with_response: *verb == "write",
        }),
        ["disconnect", peripheral] => Ok(Request::Disconnect(parse_peripheral(peripheral)?)),
        ["range", peripheral, state @ ("in" | "out")] => {
            Ok(Request::Range(parse_peripheral(peripheral)?, *state == "in"))
        }
        ["keypad", peripheral, keys] => {
            if keys.len() > MAX_KEYPAD_WORD {
                return Err(WireError::BadRequest("at most 64 keys per keypad entry"));
            }
            Ok(Request::Keypad(parse_peripheral(peripheral)?, keys.as_bytes().to_vec()))
        }
        [] => Err(WireError::BadRequest("empty line")),
        _ => Err(WireError::BadRequest("unknown request; see docs/lock-serve.md")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_request_form_parses() {
        let p = PeripheralId(0x0001_0203);
        let a = peripheral_address(p);
        assert_eq!(a, "02:4b:57:01:02:03");
        assert_eq!(parse_request(b"scan on"), Ok(Request::Scan(true)));
        assert_eq!(parse_request(b"scan off"), Ok(Request::Scan(false)));
        assert_eq!(parse_request(format!("connect {a} 517").as_bytes()), Ok(Request::Connect(p, 517)));
        assert_eq!(
            parse_request(format!("write-nr {a} 00ff").as_bytes()),
            Ok(Request::Write { peripheral: p, frame: vec![0, 255], with_response: false })
        );
        assert_eq!(parse_request(format!("disconnect {a}").as_bytes()), Ok(Request::Disconnect(p)));
        assert_eq!(parse_request(format!("range {a} out").as_bytes()), Ok(Request::Range(p, false)));
        assert_eq!(parse_request(format!("keypad {a} 1234#").as_bytes()), Ok(Request::Keypad(p, b"1234#".to_vec())));
    }

    #[test]
    fn an_overlong_keypad_entry_is_refused_on_the_wire() {
        let line = format!("keypad 02:4b:57:00:00:01 {}", "1".repeat(MAX_KEYPAD_WORD + 1));
        assert_eq!(parse_request(line.as_bytes()), Err(WireError::BadRequest("at most 64 keys per keypad entry")));
    }

    #[test]
    fn malformed_requests_get_their_own_error() {
        assert_eq!(
            parse_request(b"connect 02:4b:57:00:00:01 many"),
            Err(WireError::BadRequest("the MTU is a number from 23 to 517"))
        );
        assert_eq!(parse_request(b"write aa:bb 00"), Err(WireError::BadPeripheral));
        assert_eq!(parse_request(b"write 02:4b:57:00:00:01 abc"), Err(WireError::BadHex));
        assert_eq!(parse_request(b"write 02:4b:57:00:00:01 zz"), Err(WireError::BadHex));
        assert_eq!(parse_request(&[0xff, 0xfe]), Err(WireError::BadRequest("the line is not UTF-8")));
        assert_eq!(parse_request(&vec![b'a'; MAX_LINE + 1]), Err(WireError::LineTooLong));
        assert!(matches!(parse_request(b"open sesame"), Err(WireError::BadRequest(_))));
    }

    proptest! {
        #[test]
        fn no_line_makes_the_parser_panic(line in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_request(&line);
        }
    }
}
