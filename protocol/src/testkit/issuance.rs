//! A site's recent issuance as the backend mints it, for sizing door-sync bundles: ids
//! `serial ‖ 8 random bytes` from a counter, a fixed credential life, and a random share
//! of them revoked. Deterministic, so benches and tests see the same list every run.

use super::{HOUR, NOW};
use crate::bundle::PrefixRevocation;
use crate::credential::UnixSeconds;
use crate::ids::CredentialId;

/// `count` revoked credentials as a site's backend would hold them at [`NOW`]: the site
/// issued `3 × count` credentials over the last 72 hours (its credential life), one serial
/// after the other from a counter already at 1,000,000, each expiring 72 hours after
/// issue; `count` of them, picked uniformly at random, are revoked (so the revoked
/// serials have gaps). Each with its credential's `not after`.
pub fn revoked_credentials(count: usize) -> Vec<(CredentialId, UnixSeconds)> {
    const LIFE: u64 = 72 * HOUR as u64;
    const FIRST_SERIAL: u64 = 1_000_000;
    let issued = 3 * count as u64;
    let mut random = Xorshift(0x6b65_7977_6265_6e63);
    let mut still_needed = count as u64;
    let mut revoked = Vec::with_capacity(count);
    for i in 0..issued {
        // Selection sampling (Knuth's algorithm S): exactly `count` of `issued`, uniformly.
        if random.draw() % (issued - i) >= still_needed {
            continue;
        }
        still_needed -= 1;
        let issued_at = u64::from(NOW) - LIFE + i * LIFE / issued;
        let id = CredentialId::from_serial(FIRST_SERIAL + i, random.draw().to_be_bytes());
        revoked.push((id, (issued_at + LIFE) as UnixSeconds));
    }
    revoked
}

/// The entries the backend writes for [`revoked_credentials`]: prefixes, expiries rounded
/// up to the hour.
pub fn revoked_prefixes(count: usize) -> Vec<PrefixRevocation> {
    revoked_credentials(count).iter().map(|(id, expires)| PrefixRevocation::rounded(id, *expires)).collect()
}

/// A small deterministic random source (not for anything secret).
struct Xorshift(u64);

impl Xorshift {
    fn draw(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revoked_serials_are_distinct_ascending_and_still_live() {
        let revoked = revoked_credentials(1_000);
        assert_eq!(revoked.len(), 1_000);
        let serials: Vec<u64> = revoked.iter().map(|(id, _)| id.serial_prefix().to_u64()).collect();
        assert!(serials.windows(2).all(|w| w[0] < w[1]));
        assert!(serials.iter().all(|s| (1_000_000..1_003_000).contains(s)));
        assert!(revoked.iter().all(|(_, expires)| *expires >= NOW && *expires <= NOW + 72 * HOUR));
    }
}
