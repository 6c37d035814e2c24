//! Daily doorcodes: the member's codes for today (computed by the backend; the door's
//! secret never leaves it), the operator's switch that lets a grant carry a doorcode, and
//! the registration of a lock's doorcode secret.

use serde::{Deserialize, Serialize};

/// Today's doorcode for one door.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoorcodeView {
    /// Door id.
    pub door_id: i64,
    /// Lock id, 16 hex digits.
    pub lock_id: String,
    /// Door name.
    pub door_name: String,
    /// The code: 8 digits, typed on the lock's keypad.
    pub code: String,
    /// Unix seconds from which the code opens (the start of its UTC day, or of the key).
    pub valid_from: i64,
    /// Unix seconds at which the code stops opening (the end of its UTC day, or of the key).
    pub valid_until: i64,
    /// The door has changes its lock has not received yet: a code enabled since the
    /// door's last sync opens only after the next one.
    pub sync_pending: bool,
}

impl std::fmt::Debug for DoorcodeView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoorcodeView")
            .field("door_id", &self.door_id)
            .field("lock_id", &self.lock_id)
            .field("door_name", &self.door_name)
            .field("code", &"********")
            .field("valid_from", &self.valid_from)
            .field("valid_until", &self.valid_until)
            .field("sync_pending", &self.sync_pending)
            .finish()
    }
}

/// The caller's doorcodes for today.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoorcodesResponse {
    /// One per door a doorcode-enabled live key opens, by door id.
    pub doorcodes: Vec<DoorcodeView>,
    /// The backend's clock when it computed them.
    pub server_time: i64,
}

/// Turns a grant's doorcode on or off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoorcodeSetting {
    /// Whether the person may open this key's doors with a daily doorcode.
    pub enabled: bool,
}

/// A grant's doorcode after the change.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoorcodeState {
    /// The grant.
    pub grant_id: i64,
    /// Whether it carries a doorcode.
    pub enabled: bool,
    /// The person's doorcode slot at the organisation (assigned on first enable, never reused).
    pub slot: Option<i64>,
}

/// A lock's doorcode secret, registered when the lock is fitted.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoorcodeSecretRequest {
    /// The 32-byte secret the lock generated at provisioning, base64url. Sealed at rest;
    /// never returned by any route.
    pub secret: String,
}

impl std::fmt::Debug for DoorcodeSecretRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DoorcodeSecretRequest(..)")
    }
}
