//! The fast path's key schedule and the channel's AEAD, written from `docs/protocol.md`
//! §4 and §8.3 with ring (independently of the crate's own), so that a test or a fuzz
//! target can seal any plaintext as the phone or the lock would, including what the
//! crate's own roles would refuse to build.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hmac;

/// Length of a fast request's clear header.
pub const FAST_HEADER_LEN: usize = 3 + 8 + 8 + 16 + 16;
/// The clear header of a sealed channel message.
pub const SEALED_AAD: [u8; 2] = [0x05, 0x01];
const LABEL_PHONE_TO_LOCK: &[u8] = b"keyway/unlock/v1 phone to lock";
const LABEL_LOCK_TO_PHONE: &[u8] = b"keyway/unlock/v1 lock to phone";

/// The two directional keys of a fast-path session.
#[derive(Clone)]
pub struct FastKeys {
    /// Phone → lock.
    pub phone_to_lock: [u8; 32],
    /// Lock → phone.
    pub lock_to_phone: [u8; 32],
}

impl FastKeys {
    /// The keys of the session a fast request (its clear header) opens with a ticket secret:
    /// HKDF-SHA256 with the header as salt, one 32-byte block per direction.
    pub fn derive(header: &[u8], ticket_secret: &[u8; 32]) -> Self {
        let prk = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, header), ticket_secret);
        let expand = |label: &[u8]| -> [u8; 32] {
            // HKDF-Expand to 32 bytes is one block: HMAC(prk, info ‖ 0x01).
            let block = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, prk.as_ref()), &[label, &[1]].concat());
            let mut out = [0u8; 32];
            out.copy_from_slice(block.as_ref());
            out
        };
        Self { phone_to_lock: expand(LABEL_PHONE_TO_LOCK), lock_to_phone: expand(LABEL_LOCK_TO_PHONE) }
    }
}

/// AES-256-GCM with the protocol's counter nonce (4 zero bytes ‖ counter u64).
///
/// # Panics
/// Never for a 32-byte key (ring takes any).
pub fn seal(key: &[u8; 32], counter: u64, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte AES-256 key"));
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&counter.to_be_bytes());
    let mut sealed = plaintext.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut sealed)
        .expect("AES-GCM seals a message this short");
    sealed
}

/// A sealed channel message carrying `plaintext` (inner kind byte first).
pub fn seal_channel(key: &[u8; 32], counter: u64, plaintext: &[u8]) -> Vec<u8> {
    [&SEALED_AAD[..], &seal(key, counter, &SEALED_AAD, plaintext)].concat()
}
