//! Guests: a member shares a shareable key with a guest's email or phone, lists what they
//! shared and can revoke any of it; the guest previews the shared-key link, signs in and
//! redeems it.

use crate::Result;
use crate::invitations::IncomingLink;
use crate::keyway::Keyway;
use crate::runtime::run;
use keyway_core::Timestamp;
use keyway_protocol::ids::DoorId;
use std::sync::Arc;

pub use keyway_core::{Share, ShareRecord, ShareStatus, SharedDoor, SharedKeyPreview};

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

    /// Every share this member made, newest first: guest, doors, window, status. The
    /// service keeps the list, so it is the same after a restart or on a new phone; each
    /// `share_id` can be passed to `revoke_share`.
    pub async fn shares(&self) -> Result<Vec<ShareRecord>> {
        let core = self.core.clone();
        run(async move { core.shares().await }).await
    }

    /// Revokes a share (an id from `shares()` or from `share_key`): the guest's key stops
    /// working online at once, and at offline doors after their next door sync (or when
    /// its short credential lapses). An id that is not one of this member's shares fails
    /// with `ShareNotFound`; revoking a share that already ended is not an error.
    pub async fn revoke_share(&self, share_id: i64) -> Result<()> {
        let core = self.core.clone();
        run(async move { core.revoke_share(share_id).await }).await
    }

    /// What a shared-key link offers (no sign-in needed): who shared which doors of which
    /// organisation, for when, and the address to sign in with. A dead link fails with its
    /// reason: `ShareNotFound`, `ShareRevoked`, `ShareExpired`, `ShareAlreadyRedeemed`.
    pub async fn preview_share(&self, link: Arc<IncomingLink>) -> Result<SharedKeyPreview> {
        let core = self.core.clone();
        run(async move { core.preview_share(&link.link).await }).await
    }

    /// As a signed-in guest: redeems a shared-key link and fetches the new key.
    pub async fn redeem_share(&self, link: Arc<IncomingLink>) -> Result<()> {
        let core = self.core.clone();
        run(async move { core.redeem_share(&link.link).await }).await
    }
}
