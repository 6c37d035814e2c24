//! Guests: a member shares a shareable key (some doors, a window, a guest's email or
//! phone) and can revoke the share; a guest opens the share link, signs in with a code
//! and redeems it.

use crate::address::SignInAddress;
use crate::error::{Error, Result};
use crate::keyway::Keyway;
use crate::links::{LinkKind, LinkProblem, ParsedLink};
use crate::signin::clamp_time;
use crate::timestamp::Timestamp;
use keyway_api::endpoints::{CreateShare, RedeemShareLink, RevokeShare};
use keyway_api::{CreateShareRequest, DeviceProof};
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::DoorId;
use keyway_protocol::share_proof::{SHARE_PROOF_NONCE_LEN, ShareRequestProof};

/// A share as the member sees it after creating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Share {
    /// Its id (to revoke it).
    pub share_id: i64,
    /// When the guest's access starts.
    pub starts_at: Timestamp,
    /// When it ends.
    pub ends_at: Timestamp,
    /// Whether the link reached the guest's inbox or phone.
    pub delivered: bool,
}

impl Keyway {
    /// Shares a key: `doors` must be doors of that key; the window must sit within it.
    pub async fn share_key(
        &self,
        grant_id: i64,
        doors: &[DoorId],
        starts_at: Option<UnixSeconds>,
        ends_at: UnixSeconds,
        guest: &str,
    ) -> Result<Share> {
        let guest = SignInAddress::parse(guest)?;
        let key = self.inner.cache.keys()?.into_iter().find(|k| k.grant_id == grant_id).ok_or(Error::NoKeyForDoor)?;
        if !key.shareable {
            return Err(Error::KeyNotShareable);
        }
        let mut door_ids = Vec::with_capacity(doors.len());
        for door in doors {
            if !key.doors.contains(door) {
                return Err(Error::NoKeyForDoor);
            }
            door_ids.push(self.inner.cache.door(door)?.ok_or(Error::UnknownDoor)?.backend_id);
        }
        let starts_at = starts_at.map(i64::from);
        let ends_at = i64::from(ends_at);
        let device_proof = self.sign_share(grant_id, &door_ids, starts_at, ends_at, guest.as_str()).await?;
        let body = CreateShareRequest {
            grant_id,
            door_ids,
            starts_at,
            ends_at,
            guest: guest.as_str().to_owned(),
            device_proof,
        };
        let created = self.inner.auth.call(&CreateShare { body }).await?;
        Ok(Share {
            share_id: created.share_id,
            starts_at: Timestamp(clamp_time(created.starts_at)),
            ends_at: Timestamp(clamp_time(created.ends_at)),
            delivered: created.delivered,
        })
    }

    /// The device's signature over a share request: the service accepts a share only from
    /// the device the session was opened with, not from an access token alone. On a
    /// hardware signer this may ask for Face ID, a fingerprint or the passcode.
    async fn sign_share(
        &self,
        grant_id: i64,
        door_ids: &[i64],
        starts_at: Option<i64>,
        ends_at: i64,
        guest: &str,
    ) -> Result<DeviceProof> {
        use base64::Engine as _;
        let mut nonce = [0u8; SHARE_PROOF_NONCE_LEN];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce)
            .map_err(|_| Error::internal("the random source failed"))?;
        let message = ShareRequestProof { grant_id, door_ids, starts_at, ends_at, guest, nonce: &nonce }.message();
        let signature = self.inner.platform.signer.sign(&message).await?;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        Ok(DeviceProof { nonce: b64.encode(nonce), signature: b64.encode(signature) })
    }

    /// Revokes a share (an id from [`Keyway::shares`] or [`Keyway::share_key`]): the
    /// guest's key stops working online at once, and at offline doors after their next
    /// door sync (or when its short credential lapses). An id that is not one of this
    /// member's shares fails with [`Error::ShareNotFound`]; revoking one that already
    /// ended is not an error.
    pub async fn revoke_share(&self, share_id: i64) -> Result<()> {
        self.inner.auth.call(&RevokeShare { share_id }).await
    }

    /// As a signed-in guest: redeems a share link and fetches the new key.
    pub async fn redeem_share(&self, link: &ParsedLink) -> Result<()> {
        if link.kind != LinkKind::SharedKey {
            return Err(LinkProblem::WrongKind.into());
        }
        self.inner.auth.call(&RedeemShareLink { token: link.token().to_owned() }).await?;
        // Redeemed: a failed refresh now (offline) is not a failed redemption.
        if let Err(e) = self.refresh().await {
            tracing::info!(error = %e, "the guest key arrives with the next refresh");
        }
        Ok(())
    }
}
