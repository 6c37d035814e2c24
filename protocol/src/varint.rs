//! Unsigned LEB128 variable-length integers, as format-3 bundles use them.
//!
//! Seven bits per byte, least significant group first; the high bit of a byte says
//! another byte follows. Only the **shortest** form of a value is accepted (a last byte
//! of zero after another byte is refused), and a value must fit in 64 bits (at most 10
//! bytes, the tenth no more than `0x01`). So every value has exactly one encoding, and a
//! signed bundle has exactly one byte form.

use crate::codec::{DecodeError, Reader};

/// The longest encoding of a `u64`.
pub const MAX_LEN: usize = 10;

/// Appends the shortest encoding of `value` to `out`.
pub fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// How many bytes the encoding of `value` takes (1 to [`MAX_LEN`]).
pub fn len(value: u64) -> usize {
    let bits = 64 - value.leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// Decodes one value from the front of `bytes`: the value and how many bytes it took.
/// Refuses a truncated, overlong (non-shortest) or over-64-bit encoding, naming `field`.
pub fn decode(bytes: &[u8], field: &'static str) -> Result<(u64, usize), DecodeError> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(MAX_LEN) {
        let group = u64::from(byte & 0x7f);
        if i == MAX_LEN - 1 && byte > 0x01 {
            // Bits above the 64th, or a continuation past the longest encoding.
            return Err(DecodeError::Invalid { field });
        }
        value |= group << (7 * i);
        if byte & 0x80 == 0 {
            if i > 0 && byte == 0 {
                return Err(DecodeError::Invalid { field });
            }
            return Ok((value, i + 1));
        }
    }
    Err(DecodeError::Truncated { field })
}

/// Reads one value from `r` (see [`decode`]).
pub(crate) fn read(r: &mut Reader<'_>, field: &'static str) -> Result<u64, DecodeError> {
    let (value, used) = decode(r.peek(MAX_LEN), field)?;
    r.take(used, field)?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put(&mut out, value);
        out
    }

    #[test]
    fn every_length_boundary_roundtrips_in_its_shortest_form() {
        for value in [0, 1, 127, 128, 16_383, 16_384, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
            let bytes = encoded(value);
            assert_eq!(bytes.len(), len(value), "{value}");
            assert_eq!(decode(&bytes, "v"), Ok((value, bytes.len())), "{value}");
        }
        assert_eq!(encoded(300), [0xac, 0x02]);
        assert_eq!(encoded(u64::MAX).len(), MAX_LEN);
    }

    #[test]
    fn an_overlong_encoding_is_refused() {
        assert_eq!(decode(&[0x80, 0x00], "v"), Err(DecodeError::Invalid { field: "v" }));
        assert_eq!(decode(&[0xff, 0x80, 0x00], "v"), Err(DecodeError::Invalid { field: "v" }));
    }

    #[test]
    fn a_value_past_64_bits_is_refused() {
        let mut too_big = vec![0xff; 9];
        too_big.push(0x02);
        assert_eq!(decode(&too_big, "v"), Err(DecodeError::Invalid { field: "v" }));
        let mut eleven = vec![0xff; 10];
        eleven.push(0x01);
        assert_eq!(decode(&eleven, "v"), Err(DecodeError::Invalid { field: "v" }));
    }

    #[test]
    fn a_cut_encoding_is_truncated() {
        assert_eq!(decode(&[], "v"), Err(DecodeError::Truncated { field: "v" }));
        assert_eq!(decode(&[0x80, 0x80], "v"), Err(DecodeError::Truncated { field: "v" }));
    }
}
