//! The symmetric primitives the protocol is built from — HKDF-SHA256 and AES-256-GCM —
//! behind one small trait, so the key schedule is written once and run on two
//! independent implementations: ring on the phone, RustCrypto on the lock.

use zeroize::Zeroizing;

/// A 32-byte secret that is wiped when dropped.
pub(crate) type Secret32 = Zeroizing<[u8; 32]>;

/// HKDF-SHA256 and AES-256-GCM, as one implementation provides them.
pub(crate) trait Primitives {
    /// HKDF-Extract (RFC 5869 §2.2): HMAC-SHA256 keyed with `salt` over the
    /// concatenation of `ikm` parts.
    fn extract(salt: &[u8], ikm: &[&[u8]]) -> Secret32;
    /// HKDF-Expand (RFC 5869 §2.3) of `prk` with the concatenation of `info` parts, filling `out`
    /// (at most 255 × 32 bytes).
    fn expand(prk: &[u8; 32], info: &[&[u8]], out: &mut [u8]);
    /// AES-256-GCM seal: ciphertext followed by the 16-byte tag.
    fn seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8>;
    /// AES-256-GCM open; `None` when the tag does not verify.
    fn open(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>>;

    /// HKDF-Expand to a 32-byte secret.
    fn expand32(prk: &[u8; 32], info: &[&[u8]]) -> Secret32 {
        let mut out = Zeroizing::new([0u8; 32]);
        Self::expand(prk, info, out.as_mut());
        out
    }
}

/// ring's implementation (the phone and the backend).
pub(crate) struct Ring;

struct OutLen(usize);

impl ring::hkdf::KeyType for OutLen {
    fn len(&self) -> usize {
        self.0
    }
}

impl Primitives for Ring {
    fn extract(salt: &[u8], ikm: &[&[u8]]) -> Secret32 {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, salt);
        let mut ctx = ring::hmac::Context::with_key(&key);
        for part in ikm {
            ctx.update(part);
        }
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    fn expand(prk: &[u8; 32], info: &[&[u8]], out: &mut [u8]) {
        let prk = ring::hkdf::Prk::new_less_safe(ring::hkdf::HKDF_SHA256, prk);
        // Lengths are fixed by the protocol (≤ 64 bytes), far below HKDF's 8160-byte limit.
        #[allow(clippy::expect_used)]
        prk.expand(info, OutLen(out.len())).and_then(|okm| okm.fill(out)).expect("HKDF output length is within bounds");
    }

    fn seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        #[allow(clippy::expect_used)]
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("32-byte AES-256 key"));
        let mut buf = plaintext.to_vec();
        #[allow(clippy::expect_used)]
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), &mut buf)
            .expect("AES-GCM seal of a bounded message");
        buf
    }

    fn open(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
        use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
        let mut buf = ciphertext.to_vec();
        let len = key.open_in_place(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), &mut buf).ok()?.len();
        buf.truncate(len);
        Some(buf)
    }
}

/// RustCrypto's implementation (the reference lock).
#[cfg(feature = "lock")]
pub(crate) struct RustCrypto;

#[cfg(feature = "lock")]
impl Primitives for RustCrypto {
    fn extract(salt: &[u8], ikm: &[&[u8]]) -> Secret32 {
        use hkdf::hmac::{Hmac, KeyInit, Mac};
        #[allow(clippy::expect_used)]
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(salt).expect("HMAC takes any key length");
        for part in ikm {
            mac.update(part);
        }
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&mac.finalize().into_bytes());
        out
    }

    fn expand(prk: &[u8; 32], info: &[&[u8]], out: &mut [u8]) {
        #[allow(clippy::expect_used)]
        let hk = hkdf::Hkdf::<sha2::Sha256>::from_prk(prk).expect("a 32-byte PRK");
        #[allow(clippy::expect_used)]
        hk.expand_multi_info(info, out).expect("HKDF output length is within bounds");
    }

    fn seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        use aes_gcm::aead::{Aead, KeyInit, Payload};
        let cipher = aes_gcm::Aes256Gcm::new(&(*key).into());
        #[allow(clippy::expect_used)]
        cipher.encrypt(&(*nonce).into(), Payload { msg: plaintext, aad }).expect("AES-GCM seal of a bounded message")
    }

    fn open(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
        use aes_gcm::aead::{Aead, KeyInit, Payload};
        let cipher = aes_gcm::Aes256Gcm::new(&(*key).into());
        cipher.decrypt(&(*nonce).into(), Payload { msg: ciphertext, aad }).ok()
    }
}
