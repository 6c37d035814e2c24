//! The signed trust-anchor update: how a lock's set of issuer keys changes without
//! re-provisioning. The backend signs, for one door, the whole new set of anchors with a
//! version that only goes up, using a key the lock trusts now; the lock replaces its set
//! with it. A key left out of the set is no longer trusted: its credentials, bundles,
//! clock resets, fast-unlock tickets (F11) and anchor updates are refused from then on.
//!
//! ```text
//! update:   format u8 (0xA1) | door [8] | signer key id [8] | anchor set version u32
//!           | anchor count u8 (1..=16) | anchors [uncompressed P-256 public key 65] × n
//!           | signature [64]
//! delivery: [update] ‖ bundle          (what a phone, or the online link, carries)
//! ```
//! The update travels in front of the door's bundle, in the same door-sync delivery: a
//! bundle's first byte is its format (1, 2, …, always below 0x80), the update's is 0xA1,
//! so the lock tells them apart by that byte. The lock applies the update first, then
//! checks the bundle against the new set, so a bundle signed by a key the update introduces
//! is accepted in the same delivery.

use crate::bundle::Bundle;
use crate::codec::{DecodeError, Reader, Writer, read_signed, with_signature};
use crate::ids::{DoorId, KeyId};

/// The anchor-update format byte (distinct from every bundle format, which stay below 0x80).
pub const ANCHOR_UPDATE_FORMAT: u8 = 0xA1;
/// The most trust anchors a lock holds, and so the most one update may carry.
pub const MAX_TRUST_ANCHORS: usize = 16;
/// The length of one anchor: an uncompressed SEC1 P-256 public key.
pub const ANCHOR_LEN: usize = 65;
/// Domain-separation prefix of the signature over an anchor update.
pub(crate) const ANCHOR_UPDATE_CONTEXT: &[u8] = b"keyway/anchor-update/v1\0";

/// What an anchor update states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorUpdateBody {
    /// The one door whose lock may apply it.
    pub door: DoorId,
    /// The key that signs it: one of the lock's anchors before the update.
    pub signer: KeyId,
    /// The version of the new set: strictly above the lock's (the provisioned set is 0).
    pub version: u32,
    /// The whole new set, each an uncompressed P-256 public key: at least one, at most
    /// [`MAX_TRUST_ANCHORS`], no key twice.
    pub anchors: Vec<[u8; ANCHOR_LEN]>,
}

/// A signed anchor update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorUpdate {
    /// What it states.
    pub body: AnchorUpdateBody,
    /// ECDSA P-256 signature by `body.signer` over `"keyway/anchor-update/v1\0" ‖ body`.
    pub signature: [u8; 64],
}

impl AnchorUpdateBody {
    /// The bytes the signer signs (without the context prefix).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(22 + ANCHOR_LEN * self.anchors.len());
        w.u8(ANCHOR_UPDATE_FORMAT).put(&self.door.0).put(&self.signer.0).u32(self.version);
        w.u8(self.anchors.len() as u8);
        for anchor in &self.anchors {
            w.put(anchor);
        }
        w.into_bytes()
    }

    /// The message the signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        [ANCHOR_UPDATE_CONTEXT, &self.to_bytes()].concat()
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let format = r.u8("anchor update format")?;
        if format != ANCHOR_UPDATE_FORMAT {
            return Err(DecodeError::UnsupportedVersion { found: format });
        }
        let door = DoorId(r.array("door id")?);
        let signer = KeyId(r.array("signer key id")?);
        let version = r.u32("anchor set version")?;
        if version == 0 {
            // 0 is the provisioned set: no update can be it.
            return Err(DecodeError::Invalid { field: "anchor set version" });
        }
        let count = usize::from(r.u8("anchor count")?);
        if count == 0 {
            // A lock with no anchor could never be told anything again.
            return Err(DecodeError::Invalid { field: "anchor count" });
        }
        if count > MAX_TRUST_ANCHORS {
            return Err(DecodeError::Invalid { field: "anchor count" });
        }
        let mut anchors: Vec<[u8; ANCHOR_LEN]> = Vec::with_capacity(count);
        for _ in 0..count {
            let anchor: [u8; ANCHOR_LEN] = r.array("trust anchor")?;
            if anchor[0] != 0x04 {
                return Err(DecodeError::Invalid { field: "trust anchor" });
            }
            if anchors.contains(&anchor) {
                return Err(DecodeError::Invalid { field: "duplicate trust anchor" });
            }
            anchors.push(anchor);
        }
        Ok(Self { door, signer, version, anchors })
    }
}

impl AnchorUpdate {
    /// The wire form: body then signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        with_signature(self.body.to_bytes(), &self.signature)
    }

    /// Parses the wire form alone (the lock checks the signature against its anchors).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (body, signature) = read_signed(bytes, AnchorUpdateBody::read, "anchor update signature")?;
        Ok(Self { body, signature })
    }

    /// Reads an update at the front of `r`, leaving what follows it.
    fn read_front(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let body = AnchorUpdateBody::read(r)?;
        let signature = r.array("anchor update signature")?;
        Ok(Self { body, signature })
    }
}

/// A door-sync delivery as a lock receives it: an optional anchor update, then the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorSyncDelivery<'a> {
    /// The anchor update in front of the bundle, if any.
    pub anchor_update: Option<AnchorUpdate>,
    /// The bundle's bytes (parse them with [`Bundle::from_bytes`]).
    pub bundle: &'a [u8],
}

impl<'a> DoorSyncDelivery<'a> {
    /// Splits a delivery into its anchor update (when the first byte says one is there)
    /// and the bundle bytes behind it. The bundle itself is not parsed here.
    pub fn split(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        if bytes.first() != Some(&ANCHOR_UPDATE_FORMAT) {
            return Ok(Self { anchor_update: None, bundle: bytes });
        }
        let mut r = Reader::new(bytes);
        let update = AnchorUpdate::read_front(&mut r)?;
        Ok(Self { anchor_update: Some(update), bundle: r.rest() })
    }

    /// The wire form: the update's bytes (if any) followed by the bundle's.
    pub fn join(update: Option<&AnchorUpdate>, bundle: &[u8]) -> Vec<u8> {
        let mut out = update.map(AnchorUpdate::to_bytes).unwrap_or_default();
        out.extend_from_slice(bundle);
        out
    }

    /// Splits and parses both parts: what a phone checks before carrying a delivery.
    pub fn parse(bytes: &'a [u8]) -> Result<(Option<AnchorUpdate>, Bundle), DecodeError> {
        let delivery = Self::split(bytes)?;
        let bundle = Bundle::from_bytes(delivery.bundle)?;
        Ok((delivery.anchor_update, bundle))
    }
}

#[cfg(test)]
mod tests {
    //! The layout's own rules; signing and the lock's checks are tested in `tests/`.
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn anchor(n: u8) -> [u8; ANCHOR_LEN] {
        let mut a = [n; ANCHOR_LEN];
        a[0] = 0x04;
        a
    }

    fn update(anchors: Vec<[u8; ANCHOR_LEN]>) -> AnchorUpdate {
        AnchorUpdate {
            body: AnchorUpdateBody { door: DoorId([1; 8]), signer: KeyId([2; 8]), version: 3, anchors },
            signature: [9; 64],
        }
    }

    #[test]
    fn future_bundle_anchor_rotation_update_round_trips_and_splits_from_its_bundle() {
        let u = update(vec![anchor(1), anchor(2)]);
        assert_eq!(AnchorUpdate::from_bytes(&u.to_bytes()).unwrap(), u);
        let joined = DoorSyncDelivery::join(Some(&u), &[1, 2, 3]);
        let split = DoorSyncDelivery::split(&joined).unwrap();
        assert_eq!(split.anchor_update, Some(u));
        assert_eq!(split.bundle, &[1, 2, 3]);
        let plain = DoorSyncDelivery::split(&[1, 2, 3]).unwrap();
        assert_eq!((plain.anchor_update, plain.bundle), (None, &[1u8, 2, 3][..]));
    }

    #[test]
    fn future_bundle_anchor_rotation_update_with_an_empty_set_is_invalid() {
        let bytes = update(vec![]).to_bytes();
        assert_eq!(AnchorUpdate::from_bytes(&bytes), Err(DecodeError::Invalid { field: "anchor count" }));
    }

    #[test]
    fn future_bundle_anchor_rotation_update_with_too_many_or_repeated_anchors_is_invalid() {
        let many = update((0..=MAX_TRUST_ANCHORS as u8).map(anchor).collect()).to_bytes();
        assert_eq!(AnchorUpdate::from_bytes(&many), Err(DecodeError::Invalid { field: "anchor count" }));
        let twice = update(vec![anchor(1), anchor(1)]).to_bytes();
        assert_eq!(AnchorUpdate::from_bytes(&twice), Err(DecodeError::Invalid { field: "duplicate trust anchor" }));
    }

    #[test]
    fn future_bundle_anchor_rotation_update_at_version_zero_or_truncated_is_refused() {
        let mut u = update(vec![anchor(1)]);
        u.body.version = 0;
        assert_eq!(AnchorUpdate::from_bytes(&u.to_bytes()), Err(DecodeError::Invalid { field: "anchor set version" }));
        let bytes = update(vec![anchor(1)]).to_bytes();
        for cut in 0..bytes.len() {
            assert!(AnchorUpdate::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut compressed = update(vec![anchor(1)]).to_bytes();
        compressed[22] = 0x02;
        assert_eq!(AnchorUpdate::from_bytes(&compressed), Err(DecodeError::Invalid { field: "trust anchor" }));
    }
}
