//! The radio, as the core needs it. Implemented by btleplug on desktops, by the Swift
//! shell over CoreBluetooth, by the Kotlin shell over BluetoothGatt, and by the
//! simulated radio in tests. Calls are by peripheral id so a foreign implementation
//! keeps its own connection objects.

use async_trait::async_trait;
use std::time::Duration;
use thiserror::Error;

/// A peripheral as the platform names it (a MAC address on Android and Linux, a UUID on iOS).
pub type PeripheralId = String;

/// The state of the phone's Bluetooth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum AdapterState {
    /// On and usable.
    PoweredOn,
    /// Switched off by the person.
    PoweredOff,
    /// The app lacks the Bluetooth permission.
    Unauthorized,
    /// Android 11 and older with location services switched off: scans would find
    /// nothing (the platform's rule, even with the permission granted).
    LocationServicesOff,
    /// The device has no usable Bluetooth LE.
    Unsupported,
}

/// One advertisement heard during a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Advertisement {
    /// The platform's name for the peripheral (a MAC address on Android, a UUID on iOS).
    pub peripheral: PeripheralId,
    /// The manufacturer-specific data value for Keyway's company id (without the id).
    pub manufacturer_data: Vec<u8>,
    /// Signal strength, when known.
    pub rssi: Option<i16>,
}

/// What went wrong in the radio. Platform shells map their own errors to these
/// (Kotlin: `BleException.*`; Swift: `BleError.*`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error), uniffi::export(Display))]
pub enum BleError {
    /// Bluetooth is off.
    #[error("Bluetooth is off")]
    PoweredOff,
    /// The permission is missing.
    #[error("Bluetooth permission missing")]
    Unauthorized,
    /// The operation did not complete in time.
    #[error("timed out")]
    Timeout,
    /// The link dropped.
    #[error("disconnected")]
    Disconnected,
    /// The peripheral refused or failed the connection.
    #[error("connection failed: {detail}")]
    ConnectFailed {
        /// For logs: the platform's status (e.g. GATT status 133 after retries).
        detail: String,
    },
    /// The peripheral lacks the Keyway service or characteristics.
    #[error("the peripheral does not offer the Keyway service")]
    ServiceMissing,
    /// Anything else the platform reports; the text is for logs.
    #[error("Bluetooth error: {detail}")]
    Other {
        /// For logs: the platform's words.
        detail: String,
    },
}

/// The radio. Every method is bounded by the timeout it is given or by the platform.
#[async_trait]
pub trait BleTransport: Send + Sync {
    /// Whether Bluetooth is usable.
    async fn adapter_state(&self) -> AdapterState;
    /// Starts scanning for peripherals advertising `service_uuid`.
    async fn start_scan(&self, service_uuid: &str) -> Result<(), BleError>;
    /// The next advertisement heard since the scan started, or `Timeout`.
    async fn next_advertisement(&self, timeout: Duration) -> Result<Advertisement, BleError>;
    /// Stops scanning. Never fails.
    async fn stop_scan(&self);
    /// Connects, discovers the Keyway service, subscribes to the response
    /// characteristic, and returns the negotiated ATT MTU.
    async fn connect(&self, peripheral: &PeripheralId, timeout: Duration) -> Result<u16, BleError>;
    /// Writes one frame to the request characteristic.
    async fn write(&self, peripheral: &PeripheralId, frame: &[u8], with_response: bool) -> Result<(), BleError>;
    /// The next notification from the response characteristic, or `Timeout`.
    async fn next_notification(&self, peripheral: &PeripheralId, timeout: Duration) -> Result<Vec<u8>, BleError>;
    /// Disconnects. Never fails.
    async fn disconnect(&self, peripheral: &PeripheralId);
}
