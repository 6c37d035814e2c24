//! The revocation section of a format-3 bundle: revoked credentials named by their
//! 8-byte serial prefix, grouped by expiry, each group's prefixes ascending as varint
//! deltas (see [`crate::varint`]).
//!
//! ```text
//! group count varint
//! | per group (expiry strictly ascending):
//! |     expires u32 | entry count varint (≥ 1)
//! |     | prefix deltas varint × entry count   (first from 0, every later one ≥ 1)
//! ```
//! The backend mints credential ids from a per-site serial (`serial u64 ‖ 8 random
//! bytes`), so revoked prefixes of one group are close together and most deltas take one
//! byte. Expiries are rounded **up** to the hour ([`EXPIRY_ROUNDING_SECS`]) so few groups
//! are needed; the lock only keeps an entry a little longer than it must.

use crate::codec::{DecodeError, Reader};
use crate::credential::UnixSeconds;
use crate::ids::{CredentialId, SerialPrefix};
use crate::varint;

/// The most revocations one format-3 bundle may carry: bounds what the lock allocates for
/// one bundle (12 bytes each in its state). A bundle with more is refused as invalid.
pub const MAX_BUNDLE_REVOCATIONS: usize = 1 << 16;
/// What the backend rounds a revocation's expiry up to (one hour), so that a day's
/// revocations fall into a few groups that share one expiry field.
pub const EXPIRY_ROUNDING_SECS: UnixSeconds = 3600;
/// The fewest bytes a group takes: expiry, a one-byte count and one one-byte delta.
const MIN_GROUP_LEN: usize = 4 + 1 + 1;

/// One revoked credential as format-3 bundles and the lock name it: the first 8 bytes of
/// its id and the moment the lock may forget the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrefixRevocation {
    /// When the lock may drop this entry (at or after the credential's own `not_after`).
    /// Listed first so that entries sort the way the format groups them.
    pub expires: UnixSeconds,
    /// The revoked credential's serial prefix. Every credential whose id starts with it,
    /// and every guest credential whose parent's id does, is refused.
    pub prefix: SerialPrefix,
}

impl PrefixRevocation {
    /// The entry the backend writes for `credential`, which expires at `expires`: its
    /// prefix, the expiry rounded up to a whole hour (saturating at the end of `u32`).
    pub fn rounded(credential: &CredentialId, expires: UnixSeconds) -> Self {
        let rounded = expires.div_ceil(EXPIRY_ROUNDING_SECS).saturating_mul(EXPIRY_ROUNDING_SECS);
        Self { expires: rounded.max(expires), prefix: credential.serial_prefix() }
    }
}

/// Appends the section for `entries` (any order, duplicates allowed) in its one
/// canonical form: sorted by expiry then prefix, exact duplicates dropped.
pub(crate) fn write(out: &mut Vec<u8>, entries: &[PrefixRevocation]) {
    let mut sorted = entries.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let groups: Vec<&[PrefixRevocation]> = sorted.chunk_by(|a, b| a.expires == b.expires).collect();
    varint::put(out, groups.len() as u64);
    for group in groups {
        out.extend_from_slice(&group[0].expires.to_be_bytes());
        varint::put(out, group.len() as u64);
        let mut previous = 0u64;
        for entry in group {
            let prefix = entry.prefix.to_u64();
            varint::put(out, prefix - previous);
            previous = prefix;
        }
    }
}

/// How many bytes [`write`] produces for `entries`, for sizing buffers (an upper bound).
pub(crate) fn max_len(entries: &[PrefixRevocation]) -> usize {
    varint::MAX_LEN + entries.len() * (4 + 2 * varint::MAX_LEN)
}

/// Reads the section: every count checked against the bytes left before anything is
/// allocated for it, the total bounded by [`MAX_BUNDLE_REVOCATIONS`], groups strictly
/// ascending by expiry, no empty group, prefixes strictly ascending within a group.
pub(crate) fn read(r: &mut Reader<'_>) -> Result<Vec<PrefixRevocation>, DecodeError> {
    let groups = varint::read(r, "revocation group count")?;
    if groups > (r.remaining() / MIN_GROUP_LEN) as u64 {
        return Err(DecodeError::Truncated { field: "revocation groups" });
    }
    let mut entries: Vec<PrefixRevocation> = Vec::new();
    let mut last_expiry: Option<UnixSeconds> = None;
    for _ in 0..groups {
        let expires = r.u32("revocation group expiry")?;
        if last_expiry.is_some_and(|last| last >= expires) {
            return Err(DecodeError::Invalid { field: "revocation group order" });
        }
        last_expiry = Some(expires);
        let count = varint::read(r, "revocation group entry count")?;
        if count == 0 {
            return Err(DecodeError::Invalid { field: "revocation group entry count" });
        }
        // Every entry takes at least one byte.
        if count > r.remaining() as u64 {
            return Err(DecodeError::Truncated { field: "revocation group entries" });
        }
        let count = count as usize;
        if entries.len() + count > MAX_BUNDLE_REVOCATIONS {
            return Err(DecodeError::Invalid { field: "revocation count" });
        }
        entries.reserve(count);
        let mut prefix = 0u64;
        for i in 0..count {
            let delta = varint::read(r, "revoked serial prefix delta")?;
            if i > 0 && delta == 0 {
                return Err(DecodeError::Invalid { field: "revoked serial prefix order" });
            }
            prefix = prefix.checked_add(delta).ok_or(DecodeError::Invalid { field: "revoked serial prefix" })?;
            entries.push(PrefixRevocation { expires, prefix: SerialPrefix::from_u64(prefix) });
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(expires: u32, prefix: u64) -> PrefixRevocation {
        PrefixRevocation { expires, prefix: SerialPrefix::from_u64(prefix) }
    }

    fn encoded(entries: &[PrefixRevocation]) -> Vec<u8> {
        let mut out = Vec::new();
        write(&mut out, entries);
        out
    }

    fn decoded(bytes: &[u8]) -> Result<Vec<PrefixRevocation>, DecodeError> {
        let mut r = Reader::new(bytes);
        let entries = read(&mut r)?;
        r.finish()?;
        Ok(entries)
    }

    #[test]
    fn consecutive_serials_take_one_byte_each() {
        let entries: Vec<_> = (1000..1100).map(|s| entry(7200, s)).collect();
        let bytes = encoded(&entries);
        // Group count, expiry, count (2 bytes for 100), first prefix (2 bytes), 99 deltas of 1.
        assert_eq!(bytes.len(), 1 + 4 + 1 + 2 + 99);
        assert_eq!(decoded(&bytes).unwrap(), entries);
    }

    #[test]
    fn entries_come_back_grouped_and_sorted_without_duplicates() {
        let entries = [entry(9, 5), entry(3, 7), entry(9, 1), entry(3, 7), entry(3, u64::MAX)];
        let back = decoded(&encoded(&entries)).unwrap();
        assert_eq!(back, [entry(3, 7), entry(3, u64::MAX), entry(9, 1), entry(9, 5)]);
    }

    #[test]
    fn the_first_prefix_may_be_zero_but_no_later_delta() {
        assert_eq!(decoded(&[1, 0, 0, 0, 1, 1, 0]).unwrap(), [entry(1, 0)]);
        assert_eq!(
            decoded(&[1, 0, 0, 0, 1, 2, 5, 0]),
            Err(DecodeError::Invalid { field: "revoked serial prefix order" })
        );
    }

    #[test]
    fn groups_out_of_order_or_empty_are_refused() {
        let repeated = [2, 0, 0, 0, 9, 1, 1, 0, 0, 0, 9, 1, 2];
        assert_eq!(decoded(&repeated), Err(DecodeError::Invalid { field: "revocation group order" }));
        let empty = [1, 0, 0, 0, 9, 0, 0];
        assert_eq!(decoded(&empty), Err(DecodeError::Invalid { field: "revocation group entry count" }));
    }

    #[test]
    fn counts_larger_than_the_input_are_refused_before_allocating() {
        let groups = [0xff, 0xff, 0xff, 0xff, 0x0f];
        assert_eq!(decoded(&groups), Err(DecodeError::Truncated { field: "revocation groups" }));
        let entries = [1, 0, 0, 0, 9, 0xff, 0xff, 0x03, 1];
        assert_eq!(decoded(&entries), Err(DecodeError::Truncated { field: "revocation group entries" }));
    }

    #[test]
    fn a_prefix_past_64_bits_is_refused() {
        let mut bytes = vec![1, 0, 0, 0, 9, 2];
        varint::put(&mut bytes, u64::MAX);
        varint::put(&mut bytes, 1);
        assert_eq!(decoded(&bytes), Err(DecodeError::Invalid { field: "revoked serial prefix" }));
    }

    #[test]
    fn more_than_the_limit_is_refused() {
        let entries: Vec<_> = (0..=MAX_BUNDLE_REVOCATIONS as u64).map(|s| entry(9, s)).collect();
        assert_eq!(decoded(&encoded(&entries)), Err(DecodeError::Invalid { field: "revocation count" }));
        assert!(decoded(&encoded(&entries[1..])).is_ok());
    }

    #[test]
    fn expiry_is_rounded_up_to_the_hour_never_down() {
        let id = CredentialId::from_serial(42, [7; 8]);
        assert_eq!(PrefixRevocation::rounded(&id, 7200), entry(7200, 42));
        assert_eq!(PrefixRevocation::rounded(&id, 7201), entry(10_800, 42));
        assert_eq!(PrefixRevocation::rounded(&id, u32::MAX).expires, u32::MAX);
    }
}
