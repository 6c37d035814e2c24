//! Opening a door over Bluetooth, offline: `keyway.unlock(door)`. The first visit uses
//! the standard handshake, later visits the fast one; a newer door-sync update rides
//! along when the lock is behind.

use crate::errors::{Result, time};
use crate::keyway::Keyway;
use crate::runtime::run;
use keyway_protocol::ids::DoorId;
use std::time::{Duration, SystemTime};

/// Which handshake opened the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum UnlockPath {
    /// First visit (or the lock forgot the phone): the public-key handshake.
    Standard,
    /// Repeat visit: one write and one notification, symmetric crypto only.
    Fast,
}

/// How long each phase took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct UnlockTimings {
    /// From the call to hearing the door.
    pub scan: Duration,
    /// Connecting and discovering the service.
    pub connect: Duration,
    /// The handshake, less the lock's actuation.
    pub handshake: Duration,
    /// The lock's actuation, as it reports it.
    pub door_open: Duration,
}

/// A door that opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct UnlockOutcome {
    /// The door.
    pub door: DoorId,
    /// Standard or fast.
    pub path: UnlockPath,
    /// Per-phase timings.
    pub timings: UnlockTimings,
    /// The lock's clock when it answered.
    pub lock_time: SystemTime,
    /// This phone carried a newer door-sync update to the lock on the way.
    pub carried_door_sync: bool,
}

/// The Bluetooth profile of a Keyway lock, for shells that set up scan filters and GATT.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BleProfile {
    /// The service every Keyway lock advertises and serves.
    pub service_uuid: String,
    /// The characteristic the phone writes requests to.
    pub request_characteristic_uuid: String,
    /// The characteristic the lock notifies replies on.
    pub response_characteristic_uuid: String,
    /// The company id under which the advertisement's manufacturer data travels.
    pub company_id: u16,
}

/// The Bluetooth profile of a Keyway lock.
#[uniffi::export]
pub fn ble_profile() -> BleProfile {
    use keyway_protocol::advert;
    BleProfile {
        service_uuid: advert::SERVICE_UUID.into(),
        request_characteristic_uuid: advert::REQUEST_CHARACTERISTIC_UUID.into(),
        response_characteristic_uuid: advert::RESPONSE_CHARACTERISTIC_UUID.into(),
        company_id: advert::ADVERT_COMPANY_ID,
    }
}

#[uniffi::export]
impl Keyway {
    /// Opens a door. Works offline: everything it needs is on the phone. One unlock or
    /// door sync runs at a time; a second call waits for the first.
    pub async fn unlock(&self, door: DoorId) -> Result<UnlockOutcome> {
        let core = self.core.clone();
        let outcome = run(async move { core.unlock(&door).await }).await?;
        let t = outcome.timings;
        tracing::info!(%door, path = ?outcome.path, total_ms = (t.scan + t.connect + t.handshake + t.door_open).as_millis(), "door opened");
        Ok(UnlockOutcome {
            door,
            path: match outcome.path {
                keyway_core::ble::UnlockPath::Standard => UnlockPath::Standard,
                keyway_core::ble::UnlockPath::Fast => UnlockPath::Fast,
            },
            timings: UnlockTimings { scan: t.scan, connect: t.connect, handshake: t.handshake, door_open: t.door_open },
            lock_time: time(outcome.lock_clock),
            carried_door_sync: outcome.sync.as_ref().is_some_and(|s| s.applied.is_ok()),
        })
    }
}
