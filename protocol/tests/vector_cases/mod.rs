//! The machinery behind the published test vectors: reading and writing the JSON files,
//! the fixed actors, and the deterministic generator. Every value a vector holds is
//! derived from `actors.json` and fixed labels: "random" bytes are SHA-256 of a label,
//! and every signature is RFC 6979 (deterministic ECDSA), so regenerating the files
//! gives the same bytes.
#![allow(dead_code)]

pub mod bundle_v3;
pub mod clock_reset;
pub mod door_sync;
pub mod handshakes;
pub mod live;
pub mod lock_json;
pub mod transport;

pub use live::file;

use crate::common::MemoryLock;
use keyway_protocol::bundle::{Bundle, BundleBody};
use keyway_protocol::credential::{Credential, CredentialBody};
use keyway_protocol::ids::{DoorId, KeyId, LockNonce};
use keyway_protocol::issuer::IssuerKey;
use p256::ecdsa::SigningKey;
use p256::elliptic_curve::sec1::ToSec1Point;
use serde_json::{Value, json};
use std::path::PathBuf;

/// The door of every vector.
pub const VECTOR_DOOR: DoorId = DoorId([0x4b, 0x57, 0x00, 0x00, 0x00, 0x00, 0xd0, 0x01]);
/// Another door, for wrong-door cases.
pub const OTHER_DOOR: DoorId = DoorId([0x4b, 0x57, 0x00, 0x00, 0x00, 0x00, 0xd0, 0x02]);
/// The lock's real-time clock in every vector: 2027-01-01T00:00:00Z.
pub const VECTOR_NOW: u32 = 1_798_761_600;

pub fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors").join(name)
}

/// Whether this run rewrites the files (`KEYWAY_WRITE_VECTORS=1`) instead of checking them.
pub fn writing() -> bool {
    std::env::var_os("KEYWAY_WRITE_VECTORS").is_some()
}

pub fn load(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path(name)).unwrap()).unwrap()
}

pub fn store(name: &str, v: &Value) {
    std::fs::write(path(name), serde_json::to_string_pretty(v).unwrap() + "\n").unwrap();
}

/// Writes `generated` when writing; otherwise checks it equals the file, naming the first
/// key that differs.
pub fn write_or_compare(name: &str, generated: &Value) {
    if writing() {
        store(name, generated);
        return;
    }
    let recorded = load(name);
    if let (Some(a), Some(b)) = (generated.as_object(), recorded.as_object()) {
        for key in a.keys().chain(b.keys()) {
            assert_eq!(a.get(key), b.get(key), "{name}: `{key}` differs from the generator's");
        }
    }
    assert_eq!(generated, &recorded, "{name} differs from the generator's");
}

pub fn hx(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(v[key].as_str().unwrap_or_else(|| panic!("missing {key}"))).unwrap()
}

pub fn arr<const N: usize>(v: &Value, key: &str) -> [u8; N] {
    hx(v, key).try_into().unwrap()
}

pub fn num(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("missing {key}"))
}

/// The generator's "random" bytes: SHA-256 of `"keyway vectors/" ‖ label ‖ "/" ‖ block`.
pub fn det<const N: usize>(label: &str) -> [u8; N] {
    let mut out = [0u8; N];
    for (block, chunk) in out.chunks_mut(32).enumerate() {
        let d = ring::digest::digest(&ring::digest::SHA256, format!("keyway vectors/{label}/{block}").as_bytes());
        chunk.copy_from_slice(&d.as_ref()[..chunk.len()]);
    }
    out
}

/// A P-256 key from a label (a scalar below the group order, as SHA-256 output nearly
/// always is).
pub fn det_key(label: &str) -> SigningKey {
    SigningKey::from_slice(&det::<32>(label)).unwrap()
}

#[allow(deprecated)]
pub fn fixed(bytes: &[u8]) -> ring::test::rand::FixedSliceRandom<'_> {
    ring::test::rand::FixedSliceRandom { bytes }
}

pub fn uncompressed(key: &SigningKey) -> Vec<u8> {
    key.verifying_key().to_sec1_point(false).as_bytes().to_vec()
}

/// Deterministic ECDSA P-256/SHA-256 (RFC 6979), as `r ‖ s`.
pub fn sign(key: &SigningKey, message: &[u8]) -> [u8; 64] {
    use p256::ecdsa::signature::Signer;
    let signature: p256::ecdsa::Signature = key.sign(message);
    signature.to_bytes().as_slice().try_into().unwrap()
}

pub use crate::common::{flip_s, is_high_s};

/// The fixed actors of every vector: issuer, device, lock keys (`actors.json`). New keys
/// only with `KEYWAY_NEW_ACTORS=1` as well as `KEYWAY_WRITE_VECTORS=1`.
pub struct Actors {
    pub issuer_pkcs8: Vec<u8>,
    pub device_pkcs8: Vec<u8>,
    pub lock_kem: [u8; 32],
    pub lock_signing: [u8; 32],
}

/// What ring puts before the 32-byte private scalar in a P-256 PKCS#8 document.
const PKCS8_PREFIX: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420";

fn scalar_of_pkcs8(pkcs8: &[u8]) -> SigningKey {
    let prefix = hex::decode(PKCS8_PREFIX).unwrap();
    assert_eq!(&pkcs8[..prefix.len()], &prefix[..], "a P-256 PKCS#8 document as ring writes it");
    SigningKey::from_slice(&pkcs8[prefix.len()..prefix.len() + 32]).unwrap()
}

impl Actors {
    pub fn get() -> Self {
        static WRITTEN: std::sync::Once = std::sync::Once::new();
        if writing() && std::env::var_os("KEYWAY_NEW_ACTORS").is_some() {
            WRITTEN.call_once(|| Self::generate().write());
        }
        let v = load("actors.json");
        Self {
            issuer_pkcs8: hx(&v, "issuer_pkcs8"),
            device_pkcs8: hx(&v, "device_pkcs8"),
            lock_kem: arr(&v, "lock_kem_secret"),
            lock_signing: arr(&v, "lock_signing_secret"),
        }
    }

    fn generate() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let alg = &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let random = || {
            use ring::rand::SecureRandom;
            let mut out = [0u8; 32];
            rng.fill(&mut out).unwrap();
            p256::SecretKey::from_slice(&out).unwrap().to_bytes().into()
        };
        Self {
            issuer_pkcs8: ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap().as_ref().to_vec(),
            device_pkcs8: ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap().as_ref().to_vec(),
            lock_kem: random(),
            lock_signing: random(),
        }
    }

    /// The issuer key as the backend holds it (ring).
    pub fn issuer(&self) -> IssuerKey {
        IssuerKey::from_pkcs8(&self.issuer_pkcs8).unwrap()
    }

    /// The issuer key for deterministic signing.
    pub fn issuer_key(&self) -> SigningKey {
        scalar_of_pkcs8(&self.issuer_pkcs8)
    }

    /// The device key for deterministic signing.
    pub fn device_key(&self) -> SigningKey {
        scalar_of_pkcs8(&self.device_pkcs8)
    }

    pub fn device_public(&self) -> Vec<u8> {
        uncompressed(&self.device_key())
    }

    pub fn lock_signing_key(&self) -> SigningKey {
        SigningKey::from_slice(&self.lock_signing).unwrap()
    }

    pub fn lock_kem_public(&self) -> [u8; 65] {
        let kem = p256::SecretKey::from_slice(&self.lock_kem).unwrap();
        kem.public_key().to_sec1_point(false).as_bytes().try_into().unwrap()
    }

    /// A lock with the actors' keys, trusting the actors' issuer.
    pub fn lock(&self, door: DoorId, nonce: LockNonce, now: u32) -> MemoryLock {
        let kem = p256::SecretKey::from_slice(&self.lock_kem).unwrap();
        let mut lock = MemoryLock::with_keys(door, kem, self.lock_signing_key(), self.issuer().public_key());
        lock.nonce = nonce;
        lock.now = now;
        lock
    }

    fn write(&self) {
        store(
            "actors.json",
            &json!({
                "description": "Test keys shared by every vector. Never use them outside tests.",
                "issuer_pkcs8": hex::encode(&self.issuer_pkcs8),
                "issuer_public_key": hex::encode(uncompressed(&self.issuer_key())),
                "issuer_key_id": KeyId::of_public_key(&uncompressed(&self.issuer_key())).to_hex(),
                "device_pkcs8": hex::encode(&self.device_pkcs8),
                "device_public_key": hex::encode(self.device_public()),
                "lock_kem_secret": hex::encode(self.lock_kem),
                "lock_kem_public_key": hex::encode(self.lock_kem_public()),
                "lock_signing_secret": hex::encode(self.lock_signing),
                "lock_signing_public_key": hex::encode(uncompressed(&self.lock_signing_key())),
            }),
        );
    }
}

/// Signs a credential body deterministically with `key`, setting its issuer key id.
pub fn issue_with(key: &SigningKey, mut body: CredentialBody) -> Credential {
    body.issuer = KeyId::of_public_key(&uncompressed(key));
    body.validate().unwrap();
    let signature = sign(key, &body.signed_message());
    Credential { body, signature }
}

/// Signs a bundle body deterministically with `key`, setting its issuer key id.
pub fn sign_bundle_with(key: &SigningKey, mut body: BundleBody) -> Bundle {
    body.issuer = KeyId::of_public_key(&uncompressed(key));
    let signature = sign(key, &body.signed_message());
    Bundle { body, signature }
}
