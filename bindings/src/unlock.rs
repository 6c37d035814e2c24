//! Opening a door over Bluetooth, offline. `keyway.startUnlock(door, listener)` returns
//! at once with an [`UnlockOperation`]: its phases reach the listener, `result()` waits
//! for the door, `cancel()` stops it. `keyway.unlock(door)` is the same, awaited.
//!
//! One unlock or door sync holds the radio at a time, and the newest call wins: starting
//! one cancels the one running (it ends with `Cancelled`) and waits only for it to stop
//! scanning and drop its link. So an abandoned unlock never delays the next door.

use crate::Result;
use crate::callbacks::deliver;
use crate::keyway::Keyway;
use crate::operation::Running;
use keyway_protocol::ids::DoorId;
use std::sync::Arc;

pub use keyway_core::UnlockOutcome;
pub use keyway_core::ble::{UnlockPath, UnlockPhase, UnlockTimings};

/// Told how an unlock is going, on Keyway's callbacks thread.
#[uniffi::export(foreign)]
pub trait UnlockListener: Send + Sync {
    /// The unlock entered `phase` (scan, connect, handshake, door sync).
    fn on_unlock_phase(&self, phase: UnlockPhase);
}

/// An unlock on its way.
#[derive(uniffi::Object)]
pub struct UnlockOperation {
    door: DoorId,
    running: Running<UnlockOutcome>,
}

#[uniffi::export]
impl UnlockOperation {
    /// The door being opened.
    pub fn door(&self) -> DoorId {
        self.door
    }

    /// Stops the unlock at once: the scan stops, the link drops, `result()` throws
    /// `Cancelled`, and the radio is free for the next unlock. Harmless once finished.
    pub fn cancel(&self) {
        self.running.cancel();
    }

    /// Waits for the door to open (or the reason it did not).
    pub async fn result(&self) -> Result<UnlockOutcome> {
        self.running.result().await
    }
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
    /// Starts opening a door and returns at once. Works offline: everything it needs is
    /// on the phone. A newer unlock or door sync cancels this one.
    #[uniffi::method(default(listener = None))]
    pub fn start_unlock(&self, door: DoorId, listener: Option<Arc<dyn UnlockListener>>) -> Arc<UnlockOperation> {
        let core = self.core.clone();
        let running = Running::start(move |cancel| async move {
            let on_phase = move |phase: UnlockPhase| {
                if let Some(listener) = listener.clone() {
                    deliver(move || listener.on_unlock_phase(phase));
                }
            };
            let visit = core.unlock_with(&door, &cancel, &on_phase).await?;
            let outcome = visit.outcome(door);
            let t = outcome.timings;
            tracing::info!(%door, path = ?outcome.path, total_ms = (t.scan + t.connect + t.handshake + t.door_open).as_millis(), "door opened");
            Ok(outcome)
        });
        Arc::new(UnlockOperation { door, running })
    }

    /// Opens a door and waits for it: `startUnlock(door).result()`.
    pub async fn unlock(&self, door: DoorId) -> Result<UnlockOutcome> {
        self.start_unlock(door, None).result().await
    }
}
