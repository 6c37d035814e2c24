//! The device key: the P-256 key pair a credential is bound to. A shell may keep it in
//! the Secure Enclave or StrongBox by implementing [`DeviceSigner`]; the core never
//! needs the private key itself.

use super::secret_names::DEVICE_KEY_SECRET;
use async_trait::async_trait;
use thiserror::Error;

/// Why the device key could not be used (Kotlin: `SignerException.*`; Swift: `SignerError.*`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error), uniffi::export(Display))]
pub enum SignerError {
    /// The key does not exist or was invalidated (e.g. biometrics changed).
    #[error("the device key is unavailable")]
    Unavailable,
    /// The person cancelled an authentication prompt.
    #[error("signing was cancelled")]
    Cancelled,
    /// The phone is locked and the key may only be used unlocked: the app asks the
    /// person to unlock it.
    #[error("the phone is locked")]
    Locked,
    /// Biometry or the passcode did not match (or failed too often).
    #[error("authentication failed")]
    AuthenticationFailed,
    /// Anything else the platform reports (or output that is not a P-256 key or
    /// signature); the text is for logs and holds no secret.
    #[error("device signer failed: {detail}")]
    Other {
        /// For logs.
        detail: String,
    },
}

/// Signs with the device's P-256 key (ECDSA with SHA-256).
#[async_trait]
pub trait DeviceSigner: Send + Sync {
    /// The public key, uncompressed SEC1 (65 bytes, starting `04`).
    async fn public_key(&self) -> Result<Vec<u8>, SignerError>;
    /// Signs `message` (the signer hashes it with SHA-256); returns `r ‖ s`, 64 bytes.
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError>;
    /// Deletes the key (at sign-out); the next use creates a new one.
    async fn delete_key(&self) -> Result<(), SignerError>;
}

/// A device key generated and used in software (ring), with its PKCS#8 form kept in the
/// [`SecureStore`](super::SecureStore). For platforms without a hardware
/// key store, and for desktops and tests. The key is created on first use.
pub struct SoftwareSigner {
    store: std::sync::Arc<dyn super::SecureStore>,
    pair: std::sync::Mutex<Option<std::sync::Arc<ring::signature::EcdsaKeyPair>>>,
}

impl SoftwareSigner {
    /// A signer whose key lives in `store`.
    pub fn new(store: std::sync::Arc<dyn super::SecureStore>) -> Self {
        Self { store, pair: std::sync::Mutex::new(None) }
    }

    fn pair(&self) -> Result<std::sync::Arc<ring::signature::EcdsaKeyPair>, SignerError> {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let mut cached = self.pair.lock().map_err(|_| SignerError::Unavailable)?;
        if let Some(pair) = cached.as_ref() {
            return Ok(pair.clone());
        }
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = match self.store.get(DEVICE_KEY_SECRET).map_err(|e| SignerError::Other { detail: e.to_string() })? {
            Some(pkcs8) => pkcs8,
            None => {
                let fresh = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| SignerError::Other { detail: "random source failed".into() })?;
                let fresh = zeroize::Zeroizing::new(fresh.as_ref().to_vec());
                self.store.set(DEVICE_KEY_SECRET, &fresh).map_err(|e| SignerError::Other { detail: e.to_string() })?;
                fresh
            }
        };
        let pair = std::sync::Arc::new(
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng)
                .map_err(|_| SignerError::Unavailable)?,
        );
        *cached = Some(pair.clone());
        Ok(pair)
    }
}

#[async_trait]
impl DeviceSigner for SoftwareSigner {
    async fn public_key(&self) -> Result<Vec<u8>, SignerError> {
        use ring::signature::KeyPair;
        Ok(self.pair()?.public_key().as_ref().to_vec())
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let sig = self
            .pair()?
            .sign(&ring::rand::SystemRandom::new(), message)
            .map_err(|_| SignerError::Other { detail: "signing failed".into() })?;
        Ok(sig.as_ref().to_vec())
    }

    async fn delete_key(&self) -> Result<(), SignerError> {
        let mut cached = self.pair.lock().map_err(|_| SignerError::Unavailable)?;
        self.store.delete(DEVICE_KEY_SECRET).map_err(|e| SignerError::Other { detail: e.to_string() })?;
        *cached = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::platform::{MemoryStore, SecureStore};

    #[tokio::test]
    async fn device_key_is_created_once_kept_in_the_secure_store_and_replaced_after_deletion() {
        let store = std::sync::Arc::new(MemoryStore::new());
        let first = SoftwareSigner::new(store.clone());
        let again = SoftwareSigner::new(store.clone());
        assert_eq!(first.public_key().await.unwrap(), again.public_key().await.unwrap());
        assert!(store.get(DEVICE_KEY_SECRET).unwrap().is_some());
        let old = first.public_key().await.unwrap();
        first.delete_key().await.unwrap();
        assert!(store.get(DEVICE_KEY_SECRET).unwrap().is_none());
        assert_ne!(first.public_key().await.unwrap(), old);
        let key = first.public_key().await.unwrap();
        let sig = first.sign(b"hello").await.unwrap();
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &key)
            .verify(b"hello", &sig)
            .unwrap();
    }
}
