//! `/v1/invitations/{token}`: what an invitee sees and how they accept.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What the invitee sees before accepting (`GET /v1/invitations/{token}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationPreview {
    /// Organisation (account) name.
    pub organisation: String,
    /// Facility name.
    pub facility: String,
    /// Role they are invited with.
    pub role: String,
    /// The address to sign in with.
    pub email: String,
    /// Unix seconds when their access starts.
    pub access_start: i64,
    /// Unix seconds when this link stops working.
    pub expires_at: i64,
    /// The keys that come with the invitation; empty means it gives no access yet (an
    /// invitation is not access: an administrator grants keys).
    #[serde(default)]
    pub keys: Vec<InvitedKey>,
    /// The first name the administrator entered, if any.
    #[serde(default)]
    pub first_name: Option<String>,
    /// The last name the administrator entered, if any.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The person's record has no name yet: the app asks for a first and last name and
    /// sends them with the acceptance.
    #[serde(default)]
    pub name_required: bool,
}

/// One key that comes with an invitation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitedKey {
    /// Key name.
    pub name: String,
    /// The names of the doors it opens.
    pub doors: Vec<String>,
    /// Unix seconds when access starts.
    pub starts_at: i64,
    /// Unix seconds when access ends.
    pub expires_at: i64,
}

/// Accept an invitation.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// The code sent to the invited address.
    pub code: String,
    /// The device's P-256 public key: 65-byte uncompressed SEC1, base64url.
    pub device_public_key: String,
    /// First name, for a preview that says `name_required` (given otherwise, it replaces
    /// the one on record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name, with `first_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
}

// The code is a secret: `Debug` leaves it out.
impl fmt::Debug for AcceptRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptRequest").field("device_public_key", &self.device_public_key).finish_non_exhaustive()
    }
}
