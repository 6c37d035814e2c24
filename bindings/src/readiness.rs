//! Readiness: whether this phone can open a door right now (Bluetooth, its permission,
//! location services where needed, and each door's access), asked once or followed with
//! a listener, so a screen shows the right button before the person taps.

use crate::Result;
use crate::callbacks::deliver;
use crate::keyway::Keyway;
use crate::listeners::{Subscription, subscription};
use crate::runtime::run;
use std::sync::Arc;

pub use keyway_core::{DoorReadiness, Readiness};

/// Told when readiness changes.
#[uniffi::export(foreign)]
pub trait ReadinessListener: Send + Sync {
    /// Readiness now.
    fn on_readiness_changed(&self, readiness: Readiness);
}

#[uniffi::export]
impl Keyway {
    /// Whether an unlock can start now: the radio's state (asked of the app's
    /// `BleTransport.adapterState`) and each door's access.
    pub async fn readiness(&self) -> Result<Readiness> {
        let core = self.core.clone();
        run(async move { core.readiness().await }).await
    }

    /// Follows readiness: the current readiness first, then each change. The core notices
    /// key changes and access windows opening or closing by itself; the platform's changes
    /// it learns from `platformChanged()`.
    pub fn subscribe_readiness(&self, listener: Arc<dyn ReadinessListener>) -> Arc<Subscription> {
        subscription(self.core.subscribe_readiness(move |readiness| {
            let listener = listener.clone();
            deliver(move || listener.on_readiness_changed(readiness));
        }))
    }

    /// Call it when the system reports a change readiness depends on: Bluetooth switched
    /// on or off, a Bluetooth or location permission answered, location services switched,
    /// the app back in front. The Android and iOS shells do it for Bluetooth and location
    /// switches; the app does it after a permission prompt. Cheap, never blocks.
    pub fn platform_changed(&self) {
        self.core.platform_changed();
    }
}
