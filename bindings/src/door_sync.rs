//! Door sync for doors without internet: `keyway.syncDoor(door)` fetches the newest
//! update, hands it to the lock over Bluetooth and returns the lock's receipt to the
//! service; progress reaches the door-sync listeners (see `listeners`).

use crate::errors::Result;
use crate::keyway::Keyway;
use crate::runtime::run;
use keyway_protocol::ids::DoorId;

/// The result of a door sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct DoorSyncOutcome {
    /// The door.
    pub door: DoorId,
    /// The update version the lock runs now.
    pub lock_version: u32,
    /// The service has the lock's receipt (false: it waits on the phone and goes with
    /// the next refresh).
    pub receipt_delivered: bool,
}

/// Where a door sync is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DoorSyncStage {
    /// Getting the newest update from the service.
    FetchingUpdate,
    /// Finding the lock, connecting, handing it the update.
    Connecting,
    /// The lock applied the update (or was already current) and signed a receipt.
    Applied,
    /// Handing the lock's receipt to the service.
    UploadingReceipt,
    /// Finished: the door shows as synced.
    Done,
    /// Stopped with an error (the call itself says which).
    Failed,
}

/// One door-sync progress event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct DoorSyncProgress {
    /// The door.
    pub door: DoorId,
    /// Where it is.
    pub stage: DoorSyncStage,
    /// The update version involved, when known.
    pub version: Option<u32>,
}

impl From<keyway_core::listeners::DoorSyncProgress> for DoorSyncProgress {
    fn from(p: keyway_core::listeners::DoorSyncProgress) -> Self {
        use keyway_core::listeners::DoorSyncStage as Core;
        Self {
            door: p.door,
            stage: match p.stage {
                Core::FetchingBundle => DoorSyncStage::FetchingUpdate,
                Core::Connecting => DoorSyncStage::Connecting,
                Core::Applied => DoorSyncStage::Applied,
                Core::UploadingReceipt => DoorSyncStage::UploadingReceipt,
                Core::Done => DoorSyncStage::Done,
                Core::Failed => DoorSyncStage::Failed,
            },
            version: p.version,
        }
    }
}

#[uniffi::export]
impl Keyway {
    /// Runs a door sync now (the person is at the door). Progress goes to the door-sync
    /// listeners.
    pub async fn sync_door(&self, door: DoorId) -> Result<DoorSyncOutcome> {
        let core = self.core.clone();
        let o = run(async move { core.sync_door(&door).await }).await?;
        Ok(DoorSyncOutcome { door: o.door, lock_version: o.lock_version, receipt_delivered: o.receipt_delivered })
    }

    /// Hands every lock receipt waiting on the phone to the service; returns how many went.
    pub async fn upload_receipts(&self) -> Result<u32> {
        let core = self.core.clone();
        let n = run(async move { core.upload_receipts().await }).await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}
