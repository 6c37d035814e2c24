//! Push: a phone registers the token its platform's push service gave the app, so the
//! service can wake it with a silent push when the person's keys or doors change.

use serde::{Deserialize, Serialize};

/// Which push service a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PushPlatform {
    /// Apple Push Notification service (iOS).
    Apns,
    /// Firebase Cloud Messaging (Android).
    Fcm,
}

impl PushPlatform {
    /// Its word on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Apns => "apns",
            Self::Fcm => "fcm",
        }
    }

    /// From its word; `None` for anything else.
    pub fn from_word(word: &str) -> Option<Self> {
        match word {
            "apns" => Some(Self::Apns),
            "fcm" => Some(Self::Fcm),
            _ => None,
        }
    }
}

/// Registers (or replaces) this device's push token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushTokenRequest {
    /// The push service.
    pub platform: PushPlatform,
    /// The token the platform gave the app: for APNs the device token in hexadecimal,
    /// for FCM the registration token. 8 to 4,096 printable ASCII characters.
    pub token: String,
}

/// The key in a Keyway push's data that marks it as Keyway's (APNs: a top-level key
/// beside `aps`; FCM: a data entry). Its value is [`PUSH_VERSION`].
pub const PUSH_MARKER: &str = "keyway";
/// The version of the push format the service sends.
pub const PUSH_VERSION: &str = "1";
/// The data key saying why the push was sent (see [`PushReason`]).
pub const PUSH_REASON: &str = "reason";

/// Why a silent push was sent. The push says only this: what changed is fetched over
/// the service's own HTTPS, never carried by the push service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PushReason {
    /// The person's keys or their doors changed: refresh.
    Keys,
    /// A door the person can open has a door-sync update waiting for a phone to carry.
    DoorSync,
}

impl PushReason {
    /// Its word in the push's data.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keys => "keys",
            Self::DoorSync => "door_sync",
        }
    }

    /// From its word; `None` for a reason this build does not know.
    pub fn from_word(word: &str) -> Option<Self> {
        match word {
            "keys" => Some(Self::Keys),
            "door_sync" => Some(Self::DoorSync),
            _ => None,
        }
    }
}
