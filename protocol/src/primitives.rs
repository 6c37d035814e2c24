//! The primitives the protocol is built from. The symmetric ones — HKDF-SHA256 and
//! AES-256-GCM — sit behind one small trait, so the key schedule is written once and run
//! on two independent implementations: ring on the phone, RustCrypto on the lock. The
//! public-key ones — ECDSA P-256/SHA-256 verification and ECDH P-256 — are one function
//! per side. Every use in the crate goes through these, and the Wycheproof vectors are
//! run against exactly these (`wycheproof_tests.rs`).

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

/// The length of an uncompressed SEC1 P-256 point, the only encoding Keyway uses.
pub(crate) const POINT_LEN: usize = 65;

fn is_uncompressed_point(bytes: &[u8]) -> bool {
    bytes.len() == POINT_LEN && bytes[0] == 0x04
}

/// ECDSA P-256/SHA-256 verification with ring: `public_key` uncompressed SEC1, the
/// signature as fixed-size `r ‖ s`.
pub(crate) fn ring_ecdsa_verify(public_key: &[u8], message: &[u8], signature: &[u8; 64]) -> bool {
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
    is_uncompressed_point(public_key)
        && UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key).verify(message, signature).is_ok()
}

/// ECDH P-256 with ring: a fresh ephemeral key drawn from `rng` meets `peer_public`
/// (uncompressed SEC1); `derive` gets the ephemeral public key and the raw shared secret
/// (the x-coordinate) and its result is returned with the ephemeral public key.
pub(crate) fn ring_ecdh<R>(
    peer_public: &[u8],
    rng: &dyn ring::rand::SecureRandom,
    derive: impl FnOnce(&[u8; POINT_LEN], &[u8]) -> R,
) -> Result<([u8; POINT_LEN], R), ring::error::Unspecified> {
    use ring::agreement::{ECDH_P256, EphemeralPrivateKey, UnparsedPublicKey, agree_ephemeral};
    if !is_uncompressed_point(peer_public) {
        return Err(ring::error::Unspecified);
    }
    let ephemeral = EphemeralPrivateKey::generate(&ECDH_P256, rng)?;
    let mut public = [0u8; POINT_LEN];
    public.copy_from_slice(ephemeral.compute_public_key()?.as_ref());
    let derived =
        agree_ephemeral(ephemeral, &UnparsedPublicKey::new(&ECDH_P256, peer_public), |dh| derive(&public, dh))?;
    Ok((public, derived))
}

/// ECDSA P-256/SHA-256 verification with RustCrypto's p256, the signature as `r ‖ s`.
#[cfg(feature = "lock")]
pub(crate) fn p256_ecdsa_verify(key: &p256::ecdsa::VerifyingKey, message: &[u8], signature: &[u8; 64]) -> bool {
    use p256::ecdsa::signature::Verifier;
    p256::ecdsa::Signature::from_slice(signature).is_ok_and(|signature| key.verify(message, &signature).is_ok())
}

/// A SEC1 public key (the device key travels compressed, issuer keys uncompressed) as
/// RustCrypto's p256 verifier; `None` if it is not a point on the curve.
#[cfg(feature = "lock")]
pub(crate) fn p256_verifying_key(public_key: &[u8]) -> Option<p256::ecdsa::VerifyingKey> {
    p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key).ok()
}

/// ECDH P-256 with RustCrypto's p256: the raw shared secret (x-coordinate) of `secret` and
/// `peer_public` (uncompressed SEC1); `None` when the peer's key is not a point on the curve.
#[cfg(feature = "lock")]
pub(crate) fn p256_ecdh(secret: &p256::SecretKey, peer_public: &[u8]) -> Option<Secret32> {
    if !is_uncompressed_point(peer_public) {
        return None;
    }
    let peer = p256::PublicKey::from_sec1_bytes(peer_public).ok()?;
    let dh = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.as_affine());
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(dh.raw_secret_bytes());
    Some(out)
}
