//! Bluetooth: the radio trait the platforms implement, and the unlock built on it.

mod link;
pub mod transport;
pub mod unlock;

pub use transport::{AdapterState, BleTransport, HeardAdvertisement, PeripheralId, TransportError};
pub use unlock::{
    CarriedSync, DoorKey, PendingBundle, PhaseTimings, UnlockError, UnlockOutcome, UnlockPath, UnlockPhase,
    UnlockSettings, unlock,
};
