//! What the `uniffi` feature adds (used by keyway-ffi only): the core's public types and
//! its error derive the uniffi traits where they are declared, so the Swift and Kotlin
//! facade re-exports them instead of copying them. This file holds the rest: the
//! component's scaffolding, the custom types (a moment as the platform's time type, a
//! door id as its hex string) and how an unexpected exception thrown by the app's own
//! code becomes a typed error.

use crate::error::KeywayError;
use crate::platform::BleError;
use crate::platform::SecureStoreError;
use crate::platform::SignerError;
use crate::timestamp::Timestamp;
use keyway_protocol::ids::DoorId;
use std::time::SystemTime;

uniffi::custom_type!(Timestamp, SystemTime, {
    lower: |t| t.to_system_time(),
    try_lift: |t| Ok(Timestamp::from_system_time(t)),
});

// A door id that is not one (wrong length, not hex) is an unknown door, typed.
uniffi::custom_type!(DoorId, String, {
    remote,
    lower: |door| door.to_hex(),
    try_lift: |hex| DoorId::from_hex(&hex).ok_or_else(|| KeywayError::UnknownDoor.into()),
});

impl From<uniffi::UnexpectedUniFFICallbackError> for BleError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Other { detail: format!("unexpected error in the app's transport: {}", e.reason) }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for SecureStoreError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Failed { detail: format!("unexpected error in the app's secure store: {}", e.reason) }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for SignerError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Other { detail: format!("unexpected error in the app's signer: {}", e.reason) }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeywayError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeywayError::internal(format!("unexpected error from the app's code: {}", e.reason))
    }
}
