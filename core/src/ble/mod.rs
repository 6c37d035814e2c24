//! Bluetooth: the radio trait the platforms implement, and the unlock built on it.

#[cfg(feature = "btleplug")]
pub mod btleplug;
mod link;
pub mod transport;
pub mod unlock;

#[cfg(feature = "btleplug")]
pub use self::btleplug::BtleplugTransport;
pub use transport::{AdapterState, Advertisement, BleError, BleTransport, PeripheralId};
pub use unlock::{
    CarriedSync, DoorKey, LockVisit, PendingBundle, Progress, UnlockError, UnlockPath, UnlockPhase, UnlockTimeouts,
    UnlockTimings, unlock,
};
