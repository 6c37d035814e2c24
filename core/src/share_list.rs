//! The member's shares: every key they shared (to whom, which doors, for when) with where
//! each stands now, read from the service so the list survives an app restart and a new
//! phone; any of them can then be revoked by its id ([`Keyway::revoke_share`]).

use crate::error::{Error, Result};
use crate::keyway::Keyway;
use crate::signin::clamp_time;
use crate::timestamp::Timestamp;
use keyway_api::endpoints::ListMyShares;
use keyway_api::{ShareState, ShareView};
use keyway_protocol::ids::DoorId;

/// Where a share stands for the member who made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ShareStatus {
    /// The link was sent and not redeemed yet; it still works. Offer "revoke".
    Pending,
    /// The guest redeemed it; their key works inside the window. Offer "revoke".
    Redeemed,
    /// The link or the window ended first: nothing to revoke; offer "share again".
    Expired,
    /// Revoked (by the member, an administrator, or with the member's own key).
    Revoked,
}

impl ShareStatus {
    /// Whether revoking it still changes anything (pending or redeemed).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Pending | Self::Redeemed)
    }
}

impl From<ShareState> for ShareStatus {
    fn from(s: ShareState) -> Self {
        match s {
            ShareState::Pending => Self::Pending,
            ShareState::Redeemed => Self::Redeemed,
            ShareState::Expired => Self::Expired,
            ShareState::Revoked => Self::Revoked,
        }
    }
}

/// One door of a share.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SharedDoor {
    /// The door (its lock id), as in the member's own door list.
    pub door: DoorId,
    /// Its display name.
    pub name: String,
}

/// A share as the member's list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ShareRecord {
    /// Its id: pass it to `revoke_share`.
    pub share_id: i64,
    /// The member's key (grant) it was shared from.
    pub grant_id: i64,
    /// The guest's email or phone, as it was shared to.
    pub guest: String,
    /// The doors shared.
    pub doors: Vec<SharedDoor>,
    /// When the guest's access starts.
    pub starts_at: Timestamp,
    /// When it ends.
    pub ends_at: Timestamp,
    /// When the member shared it.
    pub created_at: Timestamp,
    /// When the link stops working if the guest has not redeemed it.
    pub link_expires_at: Timestamp,
    /// When the guest redeemed it, if they did.
    pub redeemed_at: Option<Timestamp>,
    /// Where it stands now.
    pub status: ShareStatus,
}

impl TryFrom<ShareView> for ShareRecord {
    type Error = Error;

    fn try_from(v: ShareView) -> Result<Self> {
        let doors = v
            .doors
            .into_iter()
            .map(|d| {
                let door =
                    DoorId::from_hex(&d.lock_id).ok_or_else(|| Error::internal("unexpected answer: a lock id"))?;
                Ok(SharedDoor { door, name: d.name })
            })
            .collect::<Result<_>>()?;
        Ok(ShareRecord {
            share_id: v.share_id,
            grant_id: v.grant_id,
            guest: v.guest,
            doors,
            starts_at: Timestamp(clamp_time(v.starts_at)),
            ends_at: Timestamp(clamp_time(v.ends_at)),
            created_at: Timestamp(clamp_time(v.created_at)),
            link_expires_at: Timestamp(clamp_time(v.link_expires_at)),
            redeemed_at: v.redeemed_at.map(|t| Timestamp(clamp_time(t))),
            status: v.state.into(),
        })
    }
}

impl Keyway {
    /// Every share this member made, newest first, with its status now (online: the
    /// service keeps the list, so it is the same after a restart or on a new phone).
    pub async fn shares(&self) -> Result<Vec<ShareRecord>> {
        let views = self.inner.auth.call(&ListMyShares {}).await?;
        views.into_iter().map(ShareRecord::try_from).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use keyway_api::SharedDoorView;

    fn view(lock_id: &str) -> ShareView {
        ShareView {
            share_id: 7,
            grant_id: 3,
            guest: "ben@example.com".into(),
            doors: vec![SharedDoorView { door_id: 1, lock_id: lock_id.into(), name: "Back gate".into() }],
            starts_at: 100,
            ends_at: 200,
            created_at: 90,
            link_expires_at: 150,
            redeemed_at: None,
            state: ShareState::Pending,
        }
    }

    #[test]
    fn a_listed_share_keeps_its_guest_doors_window_and_status() {
        let r = ShareRecord::try_from(view("0102030405060708")).unwrap();
        assert_eq!(r.guest, "ben@example.com");
        assert_eq!(r.doors[0].name, "Back gate");
        assert_eq!(r.doors[0].door.to_hex(), "0102030405060708");
        assert_eq!((r.starts_at, r.ends_at, r.created_at), (Timestamp(100), Timestamp(200), Timestamp(90)));
        assert_eq!(r.status, ShareStatus::Pending);
        assert!(r.status.is_live());
        assert!(!ShareStatus::Expired.is_live() && !ShareStatus::Revoked.is_live());
    }

    #[test]
    fn a_share_naming_a_door_that_is_not_a_lock_id_is_an_internal_error_not_a_panic() {
        assert!(matches!(ShareRecord::try_from(view("not hex")), Err(Error::Internal { .. })));
    }
}
