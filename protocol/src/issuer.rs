//! The backend's signing side, with ring: issuing credentials and signing door-sync
//! bundles with the site's issuer key, and checking the signatures that come back
//! (credentials, lock receipts).

use crate::anchor_update::{AnchorUpdate, AnchorUpdateBody};
use crate::bundle::{Bundle, BundleBody};
use crate::clock_reset::{ClockReset, ClockResetBody};
use crate::codec::DecodeError;
use crate::credential::{Credential, CredentialBody};
use crate::ids::KeyId;
use crate::receipt::Receipt;
use ring::rand::SecureRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use thiserror::Error;
use zeroize::Zeroizing;

/// Why signing or verification failed. Says nothing about key material.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureError {
    /// The key bytes are not a valid P-256 key in the expected encoding.
    #[error("invalid key")]
    InvalidKey,
    /// The system random source failed.
    #[error("random source failed")]
    Random,
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// The signed object is malformed.
    #[error(transparent)]
    Malformed(#[from] DecodeError),
}

/// A site's issuer key (ECDSA P-256). The backend keeps its PKCS#8 form secret.
pub struct IssuerKey {
    pair: EcdsaKeyPair,
    key_id: KeyId,
}

impl std::fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerKey").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl IssuerKey {
    /// Generates a new key from the system random source; returns it with its PKCS#8
    /// encoding (to store in the backend's secret store).
    pub fn generate() -> Result<(Self, Zeroizing<Vec<u8>>), SignatureError> {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|_| SignatureError::Random)?;
        let pkcs8 = Zeroizing::new(pkcs8.as_ref().to_vec());
        Ok((Self::from_pkcs8(&pkcs8)?, pkcs8))
    }

    /// Loads a key from its PKCS#8 encoding.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, SignatureError> {
        let rng = ring::rand::SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|_| SignatureError::InvalidKey)?;
        let key_id = KeyId::of_public_key(pair.public_key().as_ref());
        Ok(Self { pair, key_id })
    }

    /// The key id credentials and bundles name.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The uncompressed SEC1 public key (65 bytes): the locks' trust anchor.
    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    fn sign(&self, message: &[u8], rng: &dyn SecureRandom) -> Result<[u8; 64], SignatureError> {
        let sig = self.pair.sign(rng, message).map_err(|_| SignatureError::Random)?;
        let mut out = [0u8; 64];
        out.copy_from_slice(sig.as_ref());
        Ok(out)
    }

    /// Signs a credential. The body's issuer field is set to this key's id.
    pub fn issue(&self, mut body: CredentialBody) -> Result<Credential, SignatureError> {
        self.issue_with_rng(&mut body, &ring::rand::SystemRandom::new()).map(|signature| Credential { body, signature })
    }

    /// Signs a door-sync bundle. The body's issuer field is set to this key's id.
    pub fn sign_bundle(&self, mut body: BundleBody) -> Result<Bundle, SignatureError> {
        body.issuer = self.key_id;
        let signature = self.sign(&body.signed_message(), &ring::rand::SystemRandom::new())?;
        Ok(Bundle { body, signature })
    }

    /// Signs a clock reset for one lock. The body's issuer field is set to this key's id.
    pub fn sign_clock_reset(&self, mut body: ClockResetBody) -> Result<ClockReset, SignatureError> {
        body.issuer = self.key_id;
        let signature = self.sign(&body.signed_message(), &ring::rand::SystemRandom::new())?;
        Ok(ClockReset { body, signature })
    }

    /// Signs a trust-anchor update for one door. The body's signer field is set to this
    /// key's id; the lock accepts it only while this key is one of its anchors.
    pub fn sign_anchor_update(&self, mut body: AnchorUpdateBody) -> Result<AnchorUpdate, SignatureError> {
        body.signer = self.key_id;
        let signature = self.sign(&body.signed_message(), &ring::rand::SystemRandom::new())?;
        Ok(AnchorUpdate { body, signature })
    }

    fn issue_with_rng(&self, body: &mut CredentialBody, rng: &dyn SecureRandom) -> Result<[u8; 64], SignatureError> {
        body.issuer = self.key_id;
        body.validate()?;
        self.sign(&body.signed_message(), rng)
    }
}

fn verify(public_key: &[u8], message: &[u8], signature: &[u8; 64]) -> Result<(), SignatureError> {
    if crate::primitives::ring_ecdsa_verify(public_key, message, signature) {
        Ok(())
    } else {
        Err(SignatureError::BadSignature)
    }
}

/// Checks a credential's issuer signature with the issuer's uncompressed public key.
pub fn verify_credential(issuer_public_key: &[u8], credential: &Credential) -> Result<(), SignatureError> {
    verify(issuer_public_key, &credential.body.signed_message(), &credential.signature)
}

/// Checks a bundle's issuer signature with the issuer's uncompressed public key.
pub fn verify_bundle(issuer_public_key: &[u8], bundle: &Bundle) -> Result<(), SignatureError> {
    verify(issuer_public_key, &bundle.body.signed_message(), &bundle.signature)
}

/// Checks an anchor update's signature with the signer's uncompressed public key.
pub fn verify_anchor_update(signer_public_key: &[u8], update: &AnchorUpdate) -> Result<(), SignatureError> {
    verify(signer_public_key, &update.body.signed_message(), &update.signature)
}

/// Parses a receipt and checks the lock's signature with the lock's uncompressed
/// signing public key (from the door record).
pub fn verify_receipt(lock_signing_public_key: &[u8], bytes: &[u8]) -> Result<Receipt, SignatureError> {
    let receipt = Receipt::from_bytes(bytes)?;
    verify(lock_signing_public_key, &receipt.body.signed_message(), &receipt.signature)?;
    Ok(receipt)
}
