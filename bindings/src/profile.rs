//! The member's own record: the profile screen (names, email, phone, the NFC card's
//! numbers, accounts with role, access and "invited by"), offline from the cache;
//! changing one's name; and deleting one's own account.

use crate::Result;
use crate::keyway::Keyway;
use crate::runtime::run;

pub use keyway_core::cache::{AccountAccess, Card, Profile};
pub use keyway_core::{NameProblem, PersonName};

#[uniffi::export]
impl Keyway {
    /// The profile as last fetched (works offline); `null`/`nil` until a first `refresh()`
    /// online has fetched it.
    pub fn profile(&self) -> Result<Option<Profile>> {
        self.core.profile()
    }

    /// Sets the member's first and last name; returns the updated profile. A typed name
    /// that is refused fails with `InvalidName` (nothing sent).
    pub async fn update_name(&self, name: PersonName) -> Result<Profile> {
        let core = self.core.clone();
        run(async move { core.update_name(&name).await }).await
    }

    /// Deletes the member's account at the service (signed by the device key), then wipes
    /// this phone: session, tickets, device key, every cached row. Ask the person to
    /// confirm first; it cannot be undone. Needs the network.
    pub async fn delete_account(&self) -> Result<()> {
        let core = self.core.clone();
        run(async move { core.delete_account().await }).await
    }
}
