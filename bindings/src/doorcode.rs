//! Daily doorcodes: the 8-digit codes a member types on a lock's keypad, each with its
//! window. The backend computes them (the door's secret never reaches the phone); codes
//! fetched earlier today still show offline.

use crate::Result;
use crate::keyway::Keyway;
use crate::runtime::run;
use keyway_protocol::ids::DoorId;

pub use keyway_core::Doorcode;

#[uniffi::export]
impl Keyway {
    /// Today's doorcodes, one per door a doorcode-carrying key opens (empty when none
    /// does). Offline: the codes fetched earlier whose window still holds, or `Offline`.
    pub async fn doorcodes(&self) -> Result<Vec<Doorcode>> {
        let core = self.core.clone();
        run(async move { core.doorcodes().await }).await
    }

    /// Today's doorcode for `door`; `NoDoorcode` when no key carries one for it.
    pub async fn doorcode(&self, door: DoorId) -> Result<Doorcode> {
        let core = self.core.clone();
        run(async move { core.doorcode(&door).await }).await
    }
}
