//! HPKE (RFC 9180) base mode, single shot, with the suite
//! DHKEM(P-256, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM (ids 0x0010, 0x0001, 0x0002).
//!
//! The phone encapsulates to the lock's static key with ring; the lock decapsulates with
//! RustCrypto's p256. Both share this key schedule through [`Primitives`].

use crate::primitives::{Primitives, Secret32};
use zeroize::Zeroizing;

const KEM_SUITE: &[u8] = b"KEM\x00\x10";
const HPKE_SUITE: &[u8] = b"HPKE\x00\x10\x00\x01\x00\x02";
const VERSION_LABEL: &[u8] = b"HPKE-v1";
const MODE_BASE: u8 = 0x00;

/// An uncompressed SEC1 P-256 public key.
pub(crate) const PUBLIC_KEY_LEN: usize = 65;

fn labeled_extract<P: Primitives>(suite: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> Secret32 {
    P::extract(salt, &[VERSION_LABEL, suite, label, ikm])
}

fn labeled_expand<P: Primitives>(suite: &[u8], prk: &[u8; 32], label: &[u8], info: &[u8], out: &mut [u8]) {
    let len = (out.len() as u16).to_be_bytes();
    P::expand(prk, &[&len, VERSION_LABEL, suite, label, info], out);
}

/// DHKEM ExtractAndExpand: the KEM shared secret from the raw ECDH output.
pub(crate) fn kem_shared_secret<P: Primitives>(dh: &[u8], enc: &[u8], recipient_public: &[u8]) -> Secret32 {
    let eae_prk = labeled_extract::<P>(KEM_SUITE, b"", b"eae_prk", dh);
    let kem_context = [enc, recipient_public].concat();
    let mut shared = Zeroizing::new([0u8; 32]);
    labeled_expand::<P>(KEM_SUITE, &eae_prk, b"shared_secret", &kem_context, shared.as_mut());
    shared
}

/// KeySchedule (RFC 9180 §5.1) in base mode: fills `key` (its length is the AEAD's Nk)
/// and returns the base nonce and the exporter secret.
fn key_schedule<P: Primitives>(
    suite: &[u8],
    shared_secret: &[u8; 32],
    info: &[u8],
    key: &mut [u8],
) -> ([u8; 12], Secret32) {
    let psk_id_hash = labeled_extract::<P>(suite, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract::<P>(suite, b"", b"info_hash", info);
    let mut ks_context = Vec::with_capacity(65);
    ks_context.push(MODE_BASE);
    ks_context.extend_from_slice(psk_id_hash.as_ref());
    ks_context.extend_from_slice(info_hash.as_ref());
    let secret = labeled_extract::<P>(suite, shared_secret, b"secret", b"");
    labeled_expand::<P>(suite, &secret, b"key", &ks_context, key);
    let mut base_nonce = [0u8; 12];
    labeled_expand::<P>(suite, &secret, b"base_nonce", &ks_context, &mut base_nonce);
    let mut exporter_secret = Zeroizing::new([0u8; 32]);
    labeled_expand::<P>(suite, &secret, b"exp", &ks_context, exporter_secret.as_mut());
    (base_nonce, exporter_secret)
}

/// Export (RFC 9180 §5.3): 32 bytes from the exporter secret.
fn export<P: Primitives>(suite: &[u8], exporter_secret: &[u8; 32], exporter_context: &[u8]) -> Secret32 {
    let mut out = Zeroizing::new([0u8; 32]);
    labeled_expand::<P>(suite, exporter_secret, b"sec", exporter_context, out.as_mut());
    out
}

/// The HPKE context after the key schedule (base mode, no PSK). Used for exactly one
/// `seal`/`open` (sequence number 0) and for exports.
pub(crate) struct Context {
    key: Secret32,
    base_nonce: [u8; 12],
    exporter_secret: Secret32,
}

impl Context {
    /// KeySchedule(mode_base, shared_secret, info, "", "") for Keyway's suite.
    pub(crate) fn new<P: Primitives>(shared_secret: &[u8; 32], info: &[u8]) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        let (base_nonce, exporter_secret) = key_schedule::<P>(HPKE_SUITE, shared_secret, info, key.as_mut());
        Self { key, base_nonce, exporter_secret }
    }

    /// Seal with sequence number 0.
    pub(crate) fn seal<P: Primitives>(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        P::seal(&self.key, &self.base_nonce, aad, plaintext)
    }

    /// Open with sequence number 0.
    #[cfg_attr(not(feature = "lock"), allow(dead_code))]
    pub(crate) fn open<P: Primitives>(&self, aad: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
        P::open(&self.key, &self.base_nonce, aad, ciphertext)
    }

    /// The AEAD key and base nonce (for the key-uniqueness test).
    #[cfg(test)]
    pub(crate) fn key_and_base_nonce(&self) -> (&[u8; 32], &[u8; 12]) {
        (&self.key, &self.base_nonce)
    }

    /// The secret export interface (RFC 9180 §5.3), 32 bytes.
    pub(crate) fn export<P: Primitives>(&self, exporter_context: &[u8]) -> Secret32 {
        export::<P>(HPKE_SUITE, &self.exporter_secret, exporter_context)
    }
}

/// Sender side with ring: generates the ephemeral key from `rng`, returns `enc` and the context.
pub(crate) fn setup_sender(
    recipient_public: &[u8],
    info: &[u8],
    rng: &dyn ring::rand::SecureRandom,
) -> Result<([u8; PUBLIC_KEY_LEN], Context), ring::error::Unspecified> {
    let (enc, shared) = crate::primitives::ring_ecdh(recipient_public, rng, |enc, dh| {
        kem_shared_secret::<crate::primitives::Ring>(dh, enc, recipient_public)
    })?;
    Ok((enc, Context::new::<crate::primitives::Ring>(&shared, info)))
}

/// Recipient side with RustCrypto's p256: `None` when `enc` is not a valid point.
#[cfg(feature = "lock")]
pub(crate) fn setup_recipient(secret: &p256::SecretKey, enc: &[u8], info: &[u8]) -> Option<Context> {
    use crate::primitives::RustCrypto;
    use p256::elliptic_curve::sec1::ToSec1Point;
    let dh = crate::primitives::p256_ecdh(secret, enc)?;
    let recipient_public = secret.public_key().to_sec1_point(false);
    let shared = kem_shared_secret::<RustCrypto>(dh.as_ref(), enc, recipient_public.as_bytes());
    Some(Context::new::<RustCrypto>(&shared, info))
}

#[cfg(test)]
mod tests {
    //! RFC 9180 appendix A.3 (DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base
    //! mode): the KEM and the key schedule are suite-generic apart from the AEAD id and
    //! key length, so this vector checks both implementations of everything but AES-256.
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::primitives::{Ring, RustCrypto};

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    const SK_R: &str = "f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2";
    const PK_R: &str = "04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0";
    const ENC: &str = "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4";
    const SK_E: &str = "4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb";
    const SHARED: &str = "c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8";
    const INFO: &str = "4f6465206f6e2061204772656369616e2055726e";
    const AES128_SUITE: &[u8] = b"HPKE\x00\x10\x00\x01\x00\x01";

    #[test]
    fn recipient_kem_matches_rfc_9180_vector() {
        let secret = p256::SecretKey::from_slice(&h(SK_R)).unwrap();
        let ctx_shared = {
            let enc = p256::PublicKey::from_sec1_bytes(&h(ENC)).unwrap();
            let dh = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), enc.as_affine());
            kem_shared_secret::<RustCrypto>(dh.raw_secret_bytes(), &h(ENC), &h(PK_R))
        };
        assert_eq!(ctx_shared.to_vec(), h(SHARED));
    }

    #[test]
    fn sender_kem_matches_rfc_9180_vector() {
        // ring cannot import a fixed ephemeral scalar, so feed the vector's skE as its
        // random source: ring turns 32 random bytes into the scalar unchanged.
        #[allow(deprecated)]
        let rng = ring::test::rand::FixedSliceRandom { bytes: &h(SK_E) };
        let (enc, _) = setup_sender(&h(PK_R), &h(INFO), &rng).unwrap();
        assert_eq!(enc.to_vec(), h(ENC));
        let secret = p256::SecretKey::from_slice(&h(SK_E)).unwrap();
        let pk_r = p256::PublicKey::from_sec1_bytes(&h(PK_R)).unwrap();
        let dh = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), pk_r.as_affine());
        let shared = kem_shared_secret::<Ring>(dh.raw_secret_bytes(), &enc, &h(PK_R));
        assert_eq!(shared.to_vec(), h(SHARED));
    }

    fn check_schedule<P: Primitives>() {
        let shared: [u8; 32] = h(SHARED).try_into().unwrap();
        let mut key = [0u8; 16];
        let (base_nonce, exporter_secret) = key_schedule::<P>(AES128_SUITE, &shared, &h(INFO), &mut key);
        assert_eq!(key.to_vec(), h("868c066ef58aae6dc589b6cfdd18f97e"));
        assert_eq!(base_nonce.to_vec(), h("4e0bc5018beba4bf004cca59"));
        assert_eq!(exporter_secret.to_vec(), h("14ad94af484a7ad3ef40e9f3be99ecc6fa9036df9d4920548424df127ee0d99f"));
        assert_eq!(
            export::<P>(AES128_SUITE, &exporter_secret, b"").to_vec(),
            h("5e9bc3d236e1911d95e65b576a8a86d478fb827e8bdfe77b741b289890490d4d")
        );
        assert_eq!(
            export::<P>(AES128_SUITE, &exporter_secret, &[0]).to_vec(),
            h("6cff87658931bda83dc857e6353efe4987a201b849658d9b047aab4cf216e796")
        );
    }

    #[test]
    fn ring_key_schedule_matches_rfc_9180_vector() {
        check_schedule::<Ring>();
    }

    #[test]
    fn rustcrypto_key_schedule_matches_rfc_9180_vector() {
        check_schedule::<RustCrypto>();
    }
}
