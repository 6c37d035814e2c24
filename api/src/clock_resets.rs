//! Clock resets (issue 16, `rtc_jump`): a lock whose clock ran ahead refuses every key,
//! and the phone asks the backend for a reset signed for that door and the nonce the lock
//! advertised, then carries it to the lock (docs/protocol.md §6.4).

use serde::{Deserialize, Serialize};

/// Asks for a clock reset for one door's lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClockResetRequest {
    /// The nonce the lock advertises now, 16 hex digits: the reset is good for that nonce
    /// only, so for one attempt within the lock's nonce window.
    pub nonce: String,
}

/// A clock reset signed with the site's issuer key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedClockReset {
    /// Door id.
    pub door_id: i64,
    /// Lock id, hex.
    pub lock_id: String,
    /// The time the reset sets the lock's clock to: the backend's clock, unix seconds.
    pub time: i64,
    /// The signed reset for the lock, base64url (the phone writes it as message 0x06).
    pub reset: String,
}
