//! The platform's parts, implemented in Swift or Kotlin: the radio ([`BleTransport`]),
//! the keychain ([`SecureStore`]) and the device key ([`DeviceSigner`]). Their data and
//! error types are the core's own (re-exported here); an adapter turns each foreign
//! trait into the core's trait. Whatever the foreign code throws that is not its declared
//! error arrives as a typed `Other`/`Failed` error, never as a panic.

use async_trait::async_trait;
use keyway_core::platform::DeviceSigner as CoreSigner;
use keyway_core::platform::SecureStore as CoreStore;
use keyway_core::platform::{BleTransport as CoreTransport, PeripheralId};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

pub use keyway_core::platform::SecureStoreError;
pub use keyway_core::platform::SignerError;
pub use keyway_core::platform::{AdapterState, Advertisement, BleError};

/// The radio, implemented by the shell (CoreBluetooth, BluetoothGatt). Calls name the
/// peripheral by id, so the shell keeps its own connection objects. Every call must
/// finish within the timeout it is given (the core cannot cancel a foreign call; a
/// cancelled unlock stops waiting and calls `stopScan` or `disconnect`).
#[uniffi::export(foreign)]
#[async_trait]
pub trait BleTransport: Send + Sync {
    /// Whether Bluetooth is usable now.
    async fn adapter_state(&self) -> AdapterState;
    /// Starts scanning for peripherals advertising `service_uuid`.
    async fn start_scan(&self, service_uuid: String) -> Result<(), BleError>;
    /// The next advertisement heard since the scan started; `BleError.Timeout` after `timeout`.
    async fn next_advertisement(&self, timeout: Duration) -> Result<Advertisement, BleError>;
    /// Stops scanning. Never fails.
    async fn stop_scan(&self);
    /// Connects, discovers the Keyway service, subscribes to the response
    /// characteristic, and returns the negotiated ATT MTU (ask for 517 where possible).
    async fn connect(&self, peripheral: String, timeout: Duration) -> Result<u16, BleError>;
    /// Writes one frame to the request characteristic, with or without response.
    async fn write(&self, peripheral: String, frame: Vec<u8>, with_response: bool) -> Result<(), BleError>;
    /// The next notification from the response characteristic; `BleError.Timeout` after `timeout`.
    async fn next_notification(&self, peripheral: String, timeout: Duration) -> Result<Vec<u8>, BleError>;
    /// Disconnects. Never fails.
    async fn disconnect(&self, peripheral: String);
}

/// Where secrets live, implemented by the shell: the Keychain, or Android's Keystore.
#[uniffi::export(foreign)]
pub trait SecureStore: Send + Sync {
    /// The secret stored under `name`, if any.
    fn get(&self, name: String) -> Result<Option<Vec<u8>>, SecureStoreError>;
    /// Stores (or replaces) the secret under `name`; durable when it returns.
    fn set(&self, name: String, secret: Vec<u8>) -> Result<(), SecureStoreError>;
    /// Removes the secret under `name`; removing a missing one succeeds.
    fn delete(&self, name: String) -> Result<(), SecureStoreError>;
}

/// The device's P-256 key, held by the platform (Secure Enclave, StrongBox). Optional:
/// without one, the core keeps a software key in the [`SecureStore`]. Throw
/// `SignerError.Locked` when the phone must be unlocked first, `AuthenticationFailed`
/// when biometry or the passcode did not match, `Cancelled` when the person dismissed
/// the prompt.
#[uniffi::export(foreign)]
#[async_trait]
pub trait DeviceSigner: Send + Sync {
    /// The public key, uncompressed SEC1 (65 bytes, starting `04`); created on first use.
    async fn public_key(&self) -> Result<Vec<u8>, SignerError>;
    /// Signs `message` with ECDSA P-256/SHA-256 (the signer hashes it); returns `r ‖ s`, 64 bytes.
    async fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, SignerError>;
    /// Deletes the key (at sign-out); the next use creates a new one.
    async fn delete_key(&self) -> Result<(), SignerError>;
}

/// The shell's radio as the core's [`CoreTransport`].
pub(crate) struct ForeignTransport(pub(crate) Arc<dyn BleTransport>);

#[async_trait]
impl CoreTransport for ForeignTransport {
    async fn adapter_state(&self) -> AdapterState {
        self.0.adapter_state().await
    }

    async fn start_scan(&self, service_uuid: &str) -> Result<(), BleError> {
        self.0.start_scan(service_uuid.to_owned()).await
    }

    async fn next_advertisement(&self, timeout: Duration) -> Result<Advertisement, BleError> {
        self.0.next_advertisement(timeout).await
    }

    async fn stop_scan(&self) {
        self.0.stop_scan().await;
    }

    async fn connect(&self, peripheral: &PeripheralId, timeout: Duration) -> Result<u16, BleError> {
        self.0.connect(peripheral.clone(), timeout).await
    }

    async fn write(&self, peripheral: &PeripheralId, frame: &[u8], with_response: bool) -> Result<(), BleError> {
        self.0.write(peripheral.clone(), frame.to_vec(), with_response).await
    }

    async fn next_notification(&self, peripheral: &PeripheralId, timeout: Duration) -> Result<Vec<u8>, BleError> {
        self.0.next_notification(peripheral.clone(), timeout).await
    }

    async fn disconnect(&self, peripheral: &PeripheralId) {
        self.0.disconnect(peripheral.clone()).await;
    }
}

/// The shell's secure store as the core's [`CoreStore`].
pub(crate) struct ForeignStore(pub(crate) Arc<dyn SecureStore>);

impl CoreStore for ForeignStore {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecureStoreError> {
        Ok(self.0.get(name.to_owned())?.map(Zeroizing::new))
    }

    fn set(&self, name: &str, secret: &[u8]) -> Result<(), SecureStoreError> {
        self.0.set(name.to_owned(), secret.to_vec())
    }

    fn delete(&self, name: &str) -> Result<(), SecureStoreError> {
        self.0.delete(name.to_owned())
    }
}

/// The shell's device key as the core's [`CoreSigner`].
pub(crate) struct ForeignSigner(pub(crate) Arc<dyn DeviceSigner>);

fn invalid_output(what: &str) -> SignerError {
    SignerError::Other { detail: format!("the device signer returned an invalid {what}") }
}

#[async_trait]
impl CoreSigner for ForeignSigner {
    async fn public_key(&self) -> Result<Vec<u8>, SignerError> {
        let key = self.0.public_key().await?;
        // Checked here so a shell's mistake is named, not found later by the backend.
        if key.len() != 65 || key[0] != 4 {
            return Err(invalid_output("public key"));
        }
        Ok(key)
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let signature = self.0.sign(message.to_vec()).await?;
        if signature.len() != 64 {
            return Err(invalid_output("signature"));
        }
        Ok(signature)
    }

    async fn delete_key(&self) -> Result<(), SignerError> {
        self.0.delete_key().await
    }
}
