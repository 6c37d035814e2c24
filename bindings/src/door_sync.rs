//! Door sync for doors without internet: `keyway.startDoorSync(door, listener)` returns
//! at once with a [`DoorSyncOperation`] that fetches the newest update, hands it to the
//! lock over Bluetooth and returns the lock's receipt to the service. Its progress goes
//! to its own listener, each event carrying the operation's sync id (and to the global
//! door-sync listeners, see `listeners`). `keyway.syncDoor(door)` is the same, awaited.

use crate::Result;
use crate::callbacks::deliver;
use crate::keyway::Keyway;
use crate::listeners::DoorSyncListener;
use crate::operation::Running;
use crate::runtime::run;
use keyway_protocol::ids::DoorId;
use std::sync::Arc;

pub use keyway_core::DoorSyncOutcome;
pub use keyway_core::listeners::{DoorSyncProgress, DoorSyncStage};

/// A door sync on its way.
#[derive(uniffi::Object)]
pub struct DoorSyncOperation {
    door: DoorId,
    running: Running<DoorSyncOutcome>,
}

#[uniffi::export]
impl DoorSyncOperation {
    /// The door being synced.
    pub fn door(&self) -> DoorId {
        self.door
    }

    /// Stops the door sync at once (the lock applies an update whole or not at all).
    pub fn cancel(&self) {
        self.running.cancel();
    }

    /// Waits for the lock's answer.
    pub async fn result(&self) -> Result<DoorSyncOutcome> {
        self.running.result().await
    }
}

#[uniffi::export]
impl Keyway {
    /// Starts a door sync now (the person is at the door) and returns at once; `listener`
    /// hears this sync's progress and nothing else. A newer unlock or door sync cancels it.
    #[uniffi::method(default(listener = None))]
    pub fn start_door_sync(&self, door: DoorId, listener: Option<Arc<dyn DoorSyncListener>>) -> Arc<DoorSyncOperation> {
        let core = self.core.clone();
        let running = Running::start(move |cancel| async move {
            let on_progress = move |progress: DoorSyncProgress| {
                if let Some(listener) = listener.clone() {
                    deliver(move || listener.on_door_sync_progress(progress));
                }
            };
            core.sync_door_with(&door, &cancel, &on_progress).await
        });
        Arc::new(DoorSyncOperation { door, running })
    }

    /// Runs a door sync and waits for it: `startDoorSync(door).result()`.
    pub async fn sync_door(&self, door: DoorId) -> Result<DoorSyncOutcome> {
        self.start_door_sync(door, None).result().await
    }

    /// Hands every lock receipt waiting on the phone to the service; returns how many went.
    pub async fn upload_receipts(&self) -> Result<i32> {
        let core = self.core.clone();
        let n = run(async move { core.upload_receipts().await }).await?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
}
