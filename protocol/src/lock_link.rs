//! The online link of a lock with internet: what the lock signs when it asks the backend
//! for changes (docs/protocol.md, "The online link").
//!
//! The lock proves who it is with its receipt-signing key (the one in the door record),
//! over a challenge the backend made and will accept once, the bundle version it runs,
//! and the receipt it hands in (if any). Nothing here is secret; the signature is
//! ECDSA P-256/SHA-256, `r ‖ s`, like a receipt's.

use crate::ids::DoorId;

/// Domain separation: a link signature can never pass for a receipt or anything else.
const LINK_LABEL: &[u8] = b"keyway/lock-link/v1\0";

/// The longest challenge a lock signs (the backend's are 40 bytes).
pub const MAX_CHALLENGE_LEN: usize = 64;

/// One request of the link, as signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRequest<'a> {
    /// The lock's door.
    pub door: DoorId,
    /// The backend's challenge, opaque to the lock.
    pub challenge: &'a [u8],
    /// The bundle version the lock runs: "anything after this?".
    pub after_version: u32,
    /// The lock's signed receipt handed in with the request, if any.
    pub receipt: Option<&'a [u8]>,
}

impl LinkRequest<'_> {
    /// The bytes signed: label, door, length-prefixed challenge, version, and the receipt
    /// (a presence byte, then length-prefixed bytes).
    pub fn signed_message(&self) -> Vec<u8> {
        let receipt = self.receipt.unwrap_or_default();
        let mut m = Vec::with_capacity(LINK_LABEL.len() + 8 + 2 + self.challenge.len() + 4 + 5 + receipt.len());
        m.extend_from_slice(LINK_LABEL);
        m.extend_from_slice(&self.door.0);
        m.extend_from_slice(&u16::try_from(self.challenge.len()).unwrap_or(u16::MAX).to_be_bytes());
        m.extend_from_slice(self.challenge);
        m.extend_from_slice(&self.after_version.to_be_bytes());
        m.push(u8::from(self.receipt.is_some()));
        m.extend_from_slice(&u32::try_from(receipt.len()).unwrap_or(u32::MAX).to_be_bytes());
        m.extend_from_slice(receipt);
        m
    }

    /// Whether `signature` is the lock's over this request (backend side, ring), with the
    /// lock's uncompressed signing public key. A challenge longer than
    /// [`MAX_CHALLENGE_LEN`] never verifies.
    pub fn verify(&self, lock_signing_public_key: &[u8], signature: &[u8; 64]) -> bool {
        self.challenge.len() <= MAX_CHALLENGE_LEN
            && crate::primitives::ring_ecdsa_verify(lock_signing_public_key, &self.signed_message(), signature)
    }

    /// Signs the request with the lock's signing key (lock side, RustCrypto; RFC 6979).
    #[cfg(feature = "lock")]
    pub fn sign(&self, key: &p256::ecdsa::SigningKey) -> [u8; 64] {
        use p256::ecdsa::signature::Signer;
        let signature: p256::ecdsa::Signature = key.sign(&self.signed_message());
        let mut out = [0u8; 64];
        out.copy_from_slice(&signature.to_bytes());
        out
    }
}

#[cfg(all(test, feature = "lock"))]
mod tests {
    use super::*;

    fn key(seed: u8) -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("a valid scalar")
    }

    fn public(key: &p256::ecdsa::SigningKey) -> Vec<u8> {
        key.verifying_key().to_sec1_point(false).as_bytes().to_vec()
    }

    #[test]
    fn a_signed_link_request_verifies_and_any_change_breaks_it() {
        let lock = key(7);
        let request =
            LinkRequest { door: DoorId([1; 8]), challenge: b"challenge", after_version: 3, receipt: Some(b"receipt") };
        let signature = request.sign(&lock);
        assert!(request.verify(&public(&lock), &signature));
        assert!(!request.verify(&public(&key(8)), &signature), "another lock's key");
        for changed in [
            LinkRequest { door: DoorId([2; 8]), ..request.clone() },
            LinkRequest { challenge: b"challengf", ..request.clone() },
            LinkRequest { after_version: 4, ..request.clone() },
            LinkRequest { receipt: None, ..request.clone() },
            LinkRequest { receipt: Some(b""), ..request.clone() },
        ] {
            assert!(!changed.verify(&public(&lock), &signature), "{changed:?}");
        }
    }
}
