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
}

// The code is a secret: `Debug` leaves it out.
impl fmt::Debug for AcceptRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptRequest").field("device_public_key", &self.device_public_key).finish_non_exhaustive()
    }
}
