//! Bluetooth: the unlock and door sync built on the radio the platform gives
//! ([`BleTransport`](crate::platform::BleTransport)), and btleplug's radio for desktops.

#[cfg(feature = "btleplug")]
pub mod btleplug;
pub mod clock_repair;
mod link;
pub mod unlock;

#[cfg(feature = "btleplug")]
pub use self::btleplug::BtleplugTransport;
pub use unlock::{
    CarriedSync, DoorKey, LockVisit, PendingBundle, Progress, UnlockError, UnlockPath, UnlockPhase, UnlockTimeouts,
    UnlockTimings, unlock,
};
