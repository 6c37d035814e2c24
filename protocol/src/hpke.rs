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

/// The HPKE context after the key schedule (base mode, no PSK). Used for exactly one
/// `seal`/`open` (sequence number 0) and for exports.
pub(crate) struct Context {
    key: Secret32,
    base_nonce: [u8; 12],
    exporter_secret: Secret32,
}

impl Context {
    /// KeySchedule(mode_base, shared_secret, info, "", "").
    pub(crate) fn new<P: Primitives>(shared_secret: &[u8; 32], info: &[u8]) -> Self {
        let psk_id_hash = labeled_extract::<P>(HPKE_SUITE, b"", b"psk_id_hash", b"");
        let info_hash = labeled_extract::<P>(HPKE_SUITE, b"", b"info_hash", info);
        let mut ks_context = Vec::with_capacity(65);
        ks_context.push(MODE_BASE);
        ks_context.extend_from_slice(psk_id_hash.as_ref());
        ks_context.extend_from_slice(info_hash.as_ref());
        let secret = labeled_extract::<P>(HPKE_SUITE, shared_secret, b"secret", b"");
        let mut key = Zeroizing::new([0u8; 32]);
        labeled_expand::<P>(HPKE_SUITE, &secret, b"key", &ks_context, key.as_mut());
        let mut base_nonce = [0u8; 12];
        labeled_expand::<P>(HPKE_SUITE, &secret, b"base_nonce", &ks_context, &mut base_nonce);
        let mut exporter_secret = Zeroizing::new([0u8; 32]);
        labeled_expand::<P>(HPKE_SUITE, &secret, b"exp", &ks_context, exporter_secret.as_mut());
        Self { key, base_nonce, exporter_secret }
    }

    /// Seal with sequence number 0.
    pub(crate) fn seal<P: Primitives>(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        P::seal(&self.key, &self.base_nonce, aad, plaintext)
    }

    /// Open with sequence number 0.
    pub(crate) fn open<P: Primitives>(&self, aad: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
        P::open(&self.key, &self.base_nonce, aad, ciphertext)
    }

    /// The secret export interface (RFC 9180 §5.3), 32 bytes.
    pub(crate) fn export<P: Primitives>(&self, exporter_context: &[u8]) -> Secret32 {
        let mut out = Zeroizing::new([0u8; 32]);
        labeled_expand::<P>(HPKE_SUITE, &self.exporter_secret, b"sec", exporter_context, out.as_mut());
        out
    }
}

/// Sender side with ring: generates the ephemeral key from `rng`, returns `enc` and the context.
pub(crate) fn setup_sender(
    recipient_public: &[u8],
    info: &[u8],
    rng: &dyn ring::rand::SecureRandom,
) -> Result<([u8; PUBLIC_KEY_LEN], Context), ring::error::Unspecified> {
    use ring::agreement::{ECDH_P256, EphemeralPrivateKey, UnparsedPublicKey, agree_ephemeral};
    let ephemeral = EphemeralPrivateKey::generate(&ECDH_P256, rng)?;
    let mut enc = [0u8; PUBLIC_KEY_LEN];
    enc.copy_from_slice(ephemeral.compute_public_key()?.as_ref());
    let shared = agree_ephemeral(ephemeral, &UnparsedPublicKey::new(&ECDH_P256, recipient_public), |dh| {
        kem_shared_secret::<crate::primitives::Ring>(dh, &enc, recipient_public)
    })?;
    Ok((enc, Context::new::<crate::primitives::Ring>(&shared, info)))
}

/// Recipient side with RustCrypto's p256: `None` when `enc` is not a valid point.
#[cfg(feature = "lock")]
pub(crate) fn setup_recipient(secret: &p256::SecretKey, enc: &[u8], info: &[u8]) -> Option<Context> {
    use crate::primitives::RustCrypto;
    use p256::elliptic_curve::sec1::ToSec1Point;
    let ephemeral = p256::PublicKey::from_sec1_bytes(enc).ok()?;
    let dh = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), ephemeral.as_affine());
    let recipient_public = secret.public_key().to_sec1_point(false);
    let shared = kem_shared_secret::<RustCrypto>(dh.raw_secret_bytes(), enc, recipient_public.as_bytes());
    Some(Context::new::<RustCrypto>(&shared, info))
}
