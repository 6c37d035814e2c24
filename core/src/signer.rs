//! The device key: the P-256 key pair a credential is bound to. A shell may keep it in
//! the Secure Enclave or StrongBox by implementing [`DeviceSigner`]; the core never
//! needs the private key itself.

use async_trait::async_trait;
use thiserror::Error;

/// Why the device key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignerError {
    /// The key does not exist or was invalidated (e.g. biometrics changed).
    #[error("the device key is unavailable")]
    Unavailable,
    /// The person cancelled an authentication prompt.
    #[error("signing was cancelled")]
    Cancelled,
    /// The signer returned something that is not a P-256 key or signature.
    #[error("the device signer returned invalid output")]
    InvalidOutput,
    /// Anything else the platform reports; the text is for logs and holds no secret.
    #[error("device signer failed: {0}")]
    Other(String),
}

/// Signs with the device's P-256 key (ECDSA with SHA-256).
#[async_trait]
pub trait DeviceSigner: Send + Sync {
    /// The public key, uncompressed SEC1 (65 bytes, starting `04`).
    async fn public_key(&self) -> Result<Vec<u8>, SignerError>;
    /// Signs `message` (the signer hashes it with SHA-256); returns `r ‖ s`, 64 bytes.
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError>;
}
