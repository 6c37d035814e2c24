//! Guests: a member shares a shareable key with a guest's email or phone (and can revoke
//! it); the guest signs in and redeems the shared-key link.

use crate::Result;
use crate::invitations::IncomingLink;
use crate::keyway::Keyway;
use crate::runtime::run;
use keyway_core::Timestamp;
use keyway_protocol::ids::DoorId;
use std::sync::Arc;

pub use keyway_core::Share;

#[uniffi::export]
impl Keyway {
    /// Shares a key with a guest (email or phone): `doors` must be doors of that key, and
    /// the window must sit within it. `starts_at` may be left out: the share starts now.
    #[uniffi::method(default(starts_at = None))]
    pub async fn share_key(
        &self,
        grant_id: i64,
        doors: Vec<DoorId>,
        ends_at: Timestamp,
        guest: String,
        starts_at: Option<Timestamp>,
    ) -> Result<Share> {
        let core = self.core.clone();
        let starts_at = starts_at.map(Timestamp::unix);
        run(async move { core.share_key(grant_id, &doors, starts_at, ends_at.unix(), &guest).await }).await
    }

    /// Revokes a share: the guest's key stops working online at once, and at offline
    /// doors after their next door sync (or when its short credential lapses).
    pub async fn revoke_share(&self, share_id: i64) -> Result<()> {
        let core = self.core.clone();
        run(async move { core.revoke_share(share_id).await }).await
    }

    /// As a signed-in guest: redeems a shared-key link and fetches the new key.
    pub async fn redeem_share(&self, link: Arc<IncomingLink>) -> Result<()> {
        let core = self.core.clone();
        run(async move { core.redeem_share(&link.link).await }).await
    }
}
