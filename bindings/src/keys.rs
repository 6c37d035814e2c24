//! Keys, doors and accounts, offline-first: what the key list and door screens show,
//! read from the phone's cache, and `refresh()` to bring it up to date while online.

use crate::Result;
use crate::keyway::Keyway;
use crate::runtime::run;
use keyway_protocol::ids::DoorId;

pub use keyway_core::RefreshSummary;
pub use keyway_core::cache::{AccessState, Account, Door, Key};

#[uniffi::export]
impl Keyway {
    /// The accounts (organisations) the person belongs to.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        self.core.accounts()
    }

    /// Every key across every account; revoked ones too (they show as revoked, with the reason).
    pub fn keys(&self) -> Result<Vec<Key>> {
        self.core.keys()
    }

    /// Every door the person holds or held a key for.
    pub fn doors(&self) -> Result<Vec<Door>> {
        self.core.doors()
    }

    /// What the door's screen shows now (from the phone's cache; works offline).
    pub fn access_state(&self, door: DoorId) -> Result<AccessState> {
        self.core.access_state(&door)
    }

    /// Brings keys, credentials and door-sync updates up to date and hands in waiting lock
    /// receipts. Call it when the app comes to the foreground.
    pub async fn refresh(&self) -> Result<RefreshSummary> {
        let core = self.core.clone();
        run(async move { core.refresh().await }).await
    }
}
