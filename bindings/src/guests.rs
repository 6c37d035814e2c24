//! Guests: a member shares a shareable key with a guest's email or phone (and can revoke
//! it); the guest signs in and redeems the shared-key link.

use crate::errors::{Result, time, unix_seconds};
use crate::invitations::IncomingLink;
use crate::keyway::Keyway;
use crate::runtime::run;
use keyway_protocol::ids::DoorId;
use std::sync::Arc;
use std::time::SystemTime;

/// A share, as the member sees it after creating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Share {
    /// Its id, to revoke it.
    pub share_id: i64,
    /// When the guest's access starts.
    pub starts_at: SystemTime,
    /// When it ends.
    pub ends_at: SystemTime,
    /// The link reached the guest's inbox or phone.
    pub delivered: bool,
}

#[uniffi::export]
impl Keyway {
    /// Shares a key with a guest (email or phone): `doors` must be doors of that key, and
    /// the window must sit within it (`starts_at` null/nil: now).
    pub async fn share_key(
        &self,
        grant_id: i64,
        doors: Vec<DoorId>,
        starts_at: Option<SystemTime>,
        ends_at: SystemTime,
        guest: String,
    ) -> Result<Share> {
        let core = self.core.clone();
        let (starts_at, ends_at) = (starts_at.map(unix_seconds), unix_seconds(ends_at));
        let s = run(async move { core.share_key(grant_id, &doors, starts_at, ends_at, &guest).await }).await?;
        Ok(Share {
            share_id: s.share_id,
            starts_at: time(s.starts_at),
            ends_at: time(s.ends_at),
            delivered: s.delivered,
        })
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
