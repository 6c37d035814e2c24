//! The platform's parts, implemented in Swift or Kotlin: the radio ([`BleTransport`]),
//! the keychain ([`SecureStore`]) and the device key ([`DeviceSigner`]). Each foreign
//! trait has its own small error type, and an adapter here turns it into the core's
//! trait. Whatever the foreign code throws that is not its declared error arrives as a
//! typed `Other`/`Failed` error, never as a panic.

use async_trait::async_trait;
use keyway_core::ble::{
    AdapterState as CoreAdapterState, BleTransport as CoreTransport, HeardAdvertisement, PeripheralId, TransportError,
};
use keyway_core::secure_store::{SecureStore as CoreStore, SecureStoreError as CoreStoreError};
use keyway_core::signer::{DeviceSigner as CoreSigner, SignerError as CoreSignerError};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The state of the phone's Bluetooth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AdapterState {
    /// On and usable.
    PoweredOn,
    /// Switched off by the person.
    PoweredOff,
    /// The app lacks the Bluetooth permission.
    Unauthorized,
    /// The device has no usable Bluetooth LE.
    Unsupported,
}

/// One advertisement heard during a scan.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Advertisement {
    /// The platform's name for the peripheral (a MAC address on Android, a UUID on iOS).
    pub peripheral: String,
    /// The manufacturer-specific data under Keyway's company id, without the id.
    pub manufacturer_data: Vec<u8>,
    /// Signal strength in dBm, when known.
    pub rssi: Option<i16>,
}

/// What went wrong in the radio; the shell maps its platform's errors to these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum BleError {
    /// Bluetooth is off.
    #[error("Bluetooth is off")]
    PoweredOff,
    /// The Bluetooth permission is missing.
    #[error("Bluetooth permission missing")]
    Unauthorized,
    /// The operation did not complete within its timeout.
    #[error("timed out")]
    Timeout,
    /// The link dropped.
    #[error("disconnected")]
    Disconnected,
    /// The peripheral refused or failed the connection (e.g. GATT status 133 after retries).
    #[error("connection failed: {detail}")]
    ConnectFailed {
        /// For logs: the platform's status.
        detail: String,
    },
    /// The peripheral lacks the Keyway service or its characteristics.
    #[error("the peripheral does not offer the Keyway service")]
    ServiceMissing,
    /// Anything else the platform reports.
    #[error("Bluetooth error: {detail}")]
    Other {
        /// For logs: the platform's words.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for BleError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Other { detail: format!("unexpected error in the app's transport: {}", e.reason) }
    }
}

/// The radio, implemented by the shell (CoreBluetooth, BluetoothGatt). Calls name the
/// peripheral by id, so the shell keeps its own connection objects. Every call must
/// finish within the timeout it is given (the core cannot cancel a foreign call).
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

/// Why the secure store failed. Never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SecureStoreError {
    /// The store is locked (e.g. the device has not been unlocked since boot).
    #[error("the secure store is locked")]
    Locked,
    /// The store refused or failed; `detail` names the operation, never the secret.
    #[error("secure store failure: {detail}")]
    Failed {
        /// For logs.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for SecureStoreError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Failed { detail: format!("unexpected error in the app's secure store: {}", e.reason) }
    }
}

/// A small key–value store for secrets (session tokens, fast-unlock tickets, the
/// software device key), implemented by the shell over the Keychain or Android Keystore.
#[uniffi::export(foreign)]
pub trait SecureStore: Send + Sync {
    /// The secret stored under `name`, if any.
    fn get(&self, name: String) -> Result<Option<Vec<u8>>, SecureStoreError>;
    /// Stores (or replaces) the secret under `name`; durable when it returns.
    fn set(&self, name: String, secret: Vec<u8>) -> Result<(), SecureStoreError>;
    /// Removes the secret under `name`; removing a missing one succeeds.
    fn delete(&self, name: String) -> Result<(), SecureStoreError>;
}

/// Why the device key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SignerError {
    /// The key does not exist or was invalidated (e.g. biometrics changed).
    #[error("the device key is unavailable")]
    Unavailable,
    /// The person cancelled an authentication prompt.
    #[error("signing was cancelled")]
    Cancelled,
    /// Anything else; `detail` is for logs.
    #[error("device signer failed: {detail}")]
    Other {
        /// For logs.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for SignerError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Other { detail: format!("unexpected error in the app's signer: {}", e.reason) }
    }
}

/// The device's P-256 key, held by the platform (Secure Enclave, StrongBox). Optional:
/// without one, the core keeps a software key in the [`SecureStore`].
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

impl From<BleError> for TransportError {
    fn from(e: BleError) -> Self {
        match e {
            BleError::PoweredOff => Self::PoweredOff,
            BleError::Unauthorized => Self::Unauthorized,
            BleError::Timeout => Self::Timeout,
            BleError::Disconnected => Self::Disconnected,
            BleError::ConnectFailed { detail } => Self::ConnectFailed(detail),
            BleError::ServiceMissing => Self::ServiceMissing,
            BleError::Other { detail } => Self::Other(detail),
        }
    }
}

#[async_trait]
impl CoreTransport for ForeignTransport {
    async fn adapter_state(&self) -> CoreAdapterState {
        match self.0.adapter_state().await {
            AdapterState::PoweredOn => CoreAdapterState::PoweredOn,
            AdapterState::PoweredOff => CoreAdapterState::PoweredOff,
            AdapterState::Unauthorized => CoreAdapterState::Unauthorized,
            AdapterState::Unsupported => CoreAdapterState::Unsupported,
        }
    }

    async fn start_scan(&self, service_uuid: &str) -> Result<(), TransportError> {
        Ok(self.0.start_scan(service_uuid.to_owned()).await?)
    }

    async fn next_advertisement(&self, timeout: Duration) -> Result<HeardAdvertisement, TransportError> {
        let heard = self.0.next_advertisement(timeout).await?;
        Ok(HeardAdvertisement {
            peripheral: heard.peripheral,
            manufacturer_data: heard.manufacturer_data,
            rssi: heard.rssi,
        })
    }

    async fn stop_scan(&self) {
        self.0.stop_scan().await;
    }

    async fn connect(&self, peripheral: &PeripheralId, timeout: Duration) -> Result<u16, TransportError> {
        Ok(self.0.connect(peripheral.clone(), timeout).await?)
    }

    async fn write(&self, peripheral: &PeripheralId, frame: &[u8], with_response: bool) -> Result<(), TransportError> {
        Ok(self.0.write(peripheral.clone(), frame.to_vec(), with_response).await?)
    }

    async fn next_notification(&self, peripheral: &PeripheralId, timeout: Duration) -> Result<Vec<u8>, TransportError> {
        Ok(self.0.next_notification(peripheral.clone(), timeout).await?)
    }

    async fn disconnect(&self, peripheral: &PeripheralId) {
        self.0.disconnect(peripheral.clone()).await;
    }
}

/// The shell's secure store as the core's [`CoreStore`].
pub(crate) struct ForeignStore(pub(crate) Arc<dyn SecureStore>);

impl From<SecureStoreError> for CoreStoreError {
    fn from(e: SecureStoreError) -> Self {
        match e {
            SecureStoreError::Locked => Self::Locked,
            SecureStoreError::Failed { detail } => Self::Failed(detail),
        }
    }
}

impl CoreStore for ForeignStore {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, CoreStoreError> {
        Ok(self.0.get(name.to_owned())?.map(Zeroizing::new))
    }

    fn set(&self, name: &str, secret: &[u8]) -> Result<(), CoreStoreError> {
        Ok(self.0.set(name.to_owned(), secret.to_vec())?)
    }

    fn delete(&self, name: &str) -> Result<(), CoreStoreError> {
        Ok(self.0.delete(name.to_owned())?)
    }
}

/// The shell's device key as the core's [`CoreSigner`].
pub(crate) struct ForeignSigner(pub(crate) Arc<dyn DeviceSigner>);

impl From<SignerError> for CoreSignerError {
    fn from(e: SignerError) -> Self {
        match e {
            SignerError::Unavailable => Self::Unavailable,
            SignerError::Cancelled => Self::Cancelled,
            SignerError::Other { detail } => Self::Other(detail),
        }
    }
}

#[async_trait]
impl CoreSigner for ForeignSigner {
    async fn public_key(&self) -> Result<Vec<u8>, CoreSignerError> {
        let key = self.0.public_key().await?;
        // Checked here so a shell's mistake is named, not found later by the backend.
        if key.len() != 65 || key[0] != 4 {
            return Err(CoreSignerError::InvalidOutput);
        }
        Ok(key)
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CoreSignerError> {
        let signature = self.0.sign(message.to_vec()).await?;
        if signature.len() != 64 {
            return Err(CoreSignerError::InvalidOutput);
        }
        Ok(signature)
    }

    async fn delete_key(&self) -> Result<(), CoreSignerError> {
        Ok(self.0.delete_key().await?)
    }
}
