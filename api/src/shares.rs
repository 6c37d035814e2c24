//! `/v1/shares` and `/v1/share-links/{token}`: guest sharing.

use serde::{Deserialize, Serialize};

/// Share a key with a guest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateShareRequest {
    /// The member's grant (from `GET /v1/me/keys`).
    pub grant_id: i64,
    /// Doors to share; absent or empty means all doors of the key.
    #[serde(default)]
    pub door_ids: Vec<i64>,
    /// Start of the guest's window (default now).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<i64>,
    /// End of the guest's window; not after the member's own expiry.
    pub ends_at: i64,
    /// The guest's email or phone.
    pub guest: String,
    /// The member's device signature over this request (docs/protocol.md §15.12): an
    /// access token alone cannot share a key.
    pub device_proof: DeviceProof,
}

/// A device signature over a request, by the key the session was opened with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceProof {
    /// 16 random bytes, base64url without padding; each may be used once.
    pub nonce: String,
    /// ECDSA P-256/SHA-256 signature `r ‖ s` (64 bytes), base64url without padding.
    pub signature: String,
}

/// The share as created.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareCreated {
    /// Share id (to revoke it).
    pub share_id: i64,
    /// The member credential the guest key will descend from (hex).
    pub parent_credential_id: String,
    /// Start of the guest's window.
    pub starts_at: i64,
    /// End of the guest's window.
    pub ends_at: i64,
    /// Whether the service delivered the link to the guest.
    pub delivered: bool,
    /// When the service did not send it (a sending limit was reached), the link for the
    /// member to pass on themselves; absent when it was sent.
    pub link: Option<String>,
}

/// What a guest sees from a share link before redeeming it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharePreview {
    /// Organisation name.
    pub organisation: String,
    /// Facility name.
    pub facility: String,
    /// Names of the shared doors.
    pub doors: Vec<String>,
    /// Start of the guest's window.
    pub starts_at: i64,
    /// End of the guest's window.
    pub ends_at: i64,
    /// The email or phone to sign in with.
    pub sign_in_with: String,
    /// The sharing member's name, when the organisation has one on record.
    pub shared_by: Option<String>,
    /// When the link stops working (its 7 days, or the window's end if sooner).
    pub link_expires_at: i64,
}

/// A share as the sharing member sees it (`GET /v1/me/shares`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareView {
    /// Share id (to revoke it).
    pub share_id: i64,
    /// The member's grant it was made from.
    pub grant_id: i64,
    /// The guest's email or phone, as it was shared to.
    pub guest: String,
    /// The doors shared, with their names.
    pub doors: Vec<SharedDoorView>,
    /// Start of the guest's window.
    pub starts_at: i64,
    /// End of the guest's window.
    pub ends_at: i64,
    /// When the share was made.
    pub created_at: i64,
    /// When its link stops working, if not redeemed by then.
    pub link_expires_at: i64,
    /// When the guest redeemed it, if they did.
    pub redeemed_at: Option<i64>,
    /// Where it stands now.
    pub state: ShareState,
}

/// One shared door.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharedDoorView {
    /// Door id.
    pub door_id: i64,
    /// Lock id, 16 hex digits (the app's door id).
    pub lock_id: String,
    /// Display name.
    pub name: String,
}

/// Where a share stands for the member who made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShareState {
    /// The link was sent and not redeemed yet; it still works.
    Pending,
    /// The guest redeemed it; their key works inside the window.
    Redeemed,
    /// The link or the window ended first.
    Expired,
    /// Revoked by the member, an administrator, or with the member's own key.
    Revoked,
}
