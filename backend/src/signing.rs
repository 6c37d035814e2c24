//! The one seam between the backend and the wire formats phones and locks understand:
//! credential issuance, door-sync bundle signing and receipt verification.
//!
//! Nothing else in the backend knows how a credential or bundle is encoded. Until the
//! `keyway-protocol` crate lands on main, this module uses a provisional envelope —
//! `u16 body length (BE) || JSON body || 64-byte ECDSA P-256/SHA-256 signature (r||s)` —
//! with real signatures by the site's issuer key (ring). Only the encoding is a
//! stand-in; the keys, signatures and checks are real. When the protocol crate lands,
//! the bodies of these functions switch to its types and the rest of the backend does
//! not change.

use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Format version written into every provisional envelope body.
pub const FORMAT_VERSION: u8 = 0;

/// A freshly generated issuer key: PKCS#8 private key (seal it!) and 65-byte public key.
pub struct GeneratedKey {
    /// PKCS#8 v1/v2 document of the private key.
    pub pkcs8: Vec<u8>,
    /// Uncompressed SEC1 public key.
    pub public_key: Vec<u8>,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GeneratedKey(..)")
    }
}

/// Generates a P-256 signing key (a site's issuer key, or a simulated lock's key in tests).
pub fn generate_key() -> Result<GeneratedKey> {
    let rng = SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| Error::Internal("key generation failed".into()))?;
    let pair = load(doc.as_ref())?;
    Ok(GeneratedKey {
        pkcs8: doc.as_ref().to_vec(),
        public_key: pair.public_key().as_ref().to_vec(),
    })
}

fn load(pkcs8: &[u8]) -> Result<EcdsaKeyPair> {
    EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8,
        &SystemRandom::new(),
    )
    .map_err(|_| Error::Internal("stored signing key does not load".into()))
}

/// The issuer key id: the first 8 bytes of SHA-256 of the uncompressed public key.
pub fn key_id(public_key: &[u8]) -> [u8; 8] {
    let d = ring::digest::digest(&ring::digest::SHA256, public_key);
    let mut id = [0u8; 8];
    id.copy_from_slice(&d.as_ref()[..8]);
    id
}

fn seal_envelope<T: Serialize>(pkcs8: &[u8], body: &T) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(body).map_err(|e| Error::Internal(format!("encode: {e}")))?;
    let len = u16::try_from(json.len()).map_err(|_| Error::Internal("body too large".into()))?;
    let pair = load(pkcs8)?;
    let sig = pair
        .sign(&SystemRandom::new(), &json)
        .map_err(|_| Error::Internal("signing failed".into()))?;
    let mut out = Vec::with_capacity(2 + json.len() + 64);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(sig.as_ref());
    Ok(out)
}

fn open_envelope<T: for<'de> Deserialize<'de>>(public_key: &[u8], bytes: &[u8]) -> Option<T> {
    let len_bytes: [u8; 2] = bytes.get(..2)?.try_into().ok()?;
    let len = usize::from(u16::from_be_bytes(len_bytes));
    let body = bytes.get(2..2 + len)?;
    let sig = bytes.get(2 + len..)?;
    if sig.len() != 64 {
        return None;
    }
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key)
        .verify(body, sig)
        .ok()?;
    serde_json::from_slice(body).ok()
}

/// What a credential says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialSpec {
    /// Credential id.
    pub id: [u8; 16],
    /// Issuer key id.
    pub issuer_key_id: [u8; 8],
    /// Holder's device public key, 65-byte uncompressed.
    pub device_public_key: Vec<u8>,
    /// Lock ids of the doors it opens.
    pub doors: Vec<[u8; 8]>,
    /// Unix seconds when it starts to work.
    pub not_before: u32,
    /// Unix seconds when it stops working.
    pub not_after: u32,
    /// The holder may share it.
    pub shareable: bool,
    /// It is a guest key.
    pub guest: bool,
    /// For guest keys: the sharing member's credential id.
    pub parent: Option<[u8; 16]>,
}

#[derive(Serialize, Deserialize)]
struct CredentialEnvelope {
    v: u8,
    kind: String,
    spec: CredentialSpec,
}

/// Signs a credential with the site's issuer key; returns its bytes.
pub fn issue_credential(issuer_pkcs8: &[u8], spec: &CredentialSpec) -> Result<Vec<u8>> {
    seal_envelope(
        issuer_pkcs8,
        &CredentialEnvelope {
            v: FORMAT_VERSION,
            kind: "credential".into(),
            spec: spec.clone(),
        },
    )
}

/// Checks a credential against the issuer public key (as a lock would) and returns what it says.
pub fn verify_credential(issuer_public_key: &[u8], bytes: &[u8]) -> Option<CredentialSpec> {
    let env: CredentialEnvelope = open_envelope(issuer_public_key, bytes)?;
    (env.v == FORMAT_VERSION && env.kind == "credential").then_some(env.spec)
}

/// Lock configuration carried in a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockConfigSpec {
    /// How long the latch stays open, in milliseconds.
    pub unlock_ms: u32,
}

/// What a door-sync bundle says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleSpec {
    /// The door's lock id.
    pub door: [u8; 8],
    /// This bundle's version.
    pub version: u64,
    /// The version the revocation list is a delta from (0 = full list).
    pub base_version: u64,
    /// Revoked credential ids added since `base_version`.
    pub revoked: Vec<[u8; 16]>,
    /// Configuration.
    pub config: LockConfigSpec,
    /// The backend's time when signing, unix seconds.
    pub signed_time: u32,
}

#[derive(Serialize, Deserialize)]
struct BundleEnvelope {
    v: u8,
    kind: String,
    spec: BundleSpec,
}

/// Signs a bundle with the site's issuer key.
pub fn sign_bundle(issuer_pkcs8: &[u8], spec: &BundleSpec) -> Result<Vec<u8>> {
    seal_envelope(
        issuer_pkcs8,
        &BundleEnvelope {
            v: FORMAT_VERSION,
            kind: "bundle".into(),
            spec: spec.clone(),
        },
    )
}

/// Checks a bundle against the issuer public key (as a lock would).
pub fn verify_bundle(issuer_public_key: &[u8], bytes: &[u8]) -> Option<BundleSpec> {
    let env: BundleEnvelope = open_envelope(issuer_public_key, bytes)?;
    (env.v == FORMAT_VERSION && env.kind == "bundle").then_some(env.spec)
}

/// One audit event reported by a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptEvent {
    /// Lock-monotonic sequence number; events are stored once per (door, seq).
    pub seq: u64,
    /// Lock time of the event, unix seconds.
    pub at: u32,
    /// What happened, e.g. `unlock_granted`, `unlock_denied_revoked`.
    pub kind: String,
    /// The credential involved, if any.
    pub credential_id: Option<[u8; 16]>,
}

/// What a lock's signed receipt says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptSpec {
    /// The lock id.
    pub door: [u8; 8],
    /// The bundle version the lock now runs.
    pub version_applied: u64,
    /// The lock's clock when it signed, unix seconds.
    pub lock_clock: u32,
    /// Audit events since the last receipt.
    pub events: Vec<ReceiptEvent>,
}

#[derive(Serialize, Deserialize)]
struct ReceiptEnvelope {
    v: u8,
    kind: String,
    spec: ReceiptSpec,
}

/// Verifies a receipt with the lock's 65-byte public key.
pub fn verify_receipt(lock_public_key: &[u8], bytes: &[u8]) -> Result<ReceiptSpec> {
    let env: ReceiptEnvelope =
        open_envelope(lock_public_key, bytes).ok_or(Error::ReceiptInvalid)?;
    if env.v != FORMAT_VERSION || env.kind != "receipt" {
        return Err(Error::ReceiptInvalid);
    }
    Ok(env.spec)
}

/// Signs a receipt as a lock would; for the simulated locks in tests and the demo.
pub fn sign_receipt(lock_pkcs8: &[u8], spec: &ReceiptSpec) -> Result<Vec<u8>> {
    seal_envelope(
        lock_pkcs8,
        &ReceiptEnvelope {
            v: FORMAT_VERSION,
            kind: "receipt".into(),
            spec: spec.clone(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_verifies_only_with_its_issuer_key() {
        let issuer = generate_key().unwrap();
        let other = generate_key().unwrap();
        let spec = CredentialSpec {
            id: [1; 16],
            issuer_key_id: key_id(&issuer.public_key),
            device_public_key: other.public_key.clone(),
            doors: vec![[2; 8]],
            not_before: 10,
            not_after: 20,
            shareable: true,
            guest: false,
            parent: None,
        };
        let bytes = issue_credential(&issuer.pkcs8, &spec).unwrap();
        assert_eq!(verify_credential(&issuer.public_key, &bytes), Some(spec));
        assert_eq!(verify_credential(&other.public_key, &bytes), None);
    }

    #[test]
    fn a_tampered_receipt_is_refused() {
        let lock = generate_key().unwrap();
        let spec = ReceiptSpec {
            door: [3; 8],
            version_applied: 4,
            lock_clock: 100,
            events: vec![],
        };
        let mut bytes = sign_receipt(&lock.pkcs8, &spec).unwrap();
        assert_eq!(verify_receipt(&lock.public_key, &bytes).unwrap(), spec);
        bytes[5] ^= 1;
        assert!(verify_receipt(&lock.public_key, &bytes).is_err());
    }
}
