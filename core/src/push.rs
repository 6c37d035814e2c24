//! Push: the app registers the token its platform's push service gave it, and hands every
//! push it receives to [`Keyway::handle_push`], which refreshes when the push is Keyway's.
//! Keyway's pushes are silent and carry no key, door or person — only a marker and a
//! reason — so what changed always comes over the service's own HTTPS (docs/core.md).

use crate::error::{Error, Result};
use crate::keyway::Keyway;
use crate::refresh::RefreshSummary;
use keyway_api::endpoints::{ForgetPushToken, RegisterPushToken};
use keyway_api::{PUSH_MARKER, PUSH_REASON, PushReason, PushTokenRequest};
use std::time::Duration;

/// How long a push may keep the app busy: iOS ends a background push's work after about
/// 30 s and Android expects a message handler to finish within about 20 s, so the refresh
/// a push starts stops at 18 s and says so.
pub const PUSH_REFRESH_BUDGET: Duration = Duration::from_secs(18);

/// Which push service a token comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum PushPlatform {
    /// Apple Push Notification service: the device token, in hexadecimal.
    Apns,
    /// Firebase Cloud Messaging: the registration token.
    Fcm,
}

/// What [`Keyway::handle_push`] did with a push.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum PushOutcome {
    /// Not a Keyway push: pass it on to the app's other handlers.
    NotKeyway,
    /// Refreshed: keys, credentials and door updates are current (iOS: `.newData` when
    /// the summary shows a change, else `.noData`).
    Refreshed {
        /// What the refresh did.
        summary: RefreshSummary,
    },
    /// The refresh did not finish within [`PUSH_REFRESH_BUDGET`]; what it finished is
    /// kept, and the next refresh does the rest (iOS: `.failed`; Android: retry later).
    OutOfTime,
}

/// Whether a push's data is Keyway's: a JSON object with the marker key at the top (APNs:
/// beside `aps`; FCM: in `data`). Any value of the marker counts, so a later format still
/// wakes an older app; the reason, if this build knows it, is returned.
fn read_push(payload: &str) -> Result<Option<Option<PushReason>>> {
    let value: serde_json::Value = serde_json::from_str(payload).map_err(|_| Error::PushNotUnderstood)?;
    let object = value.as_object().ok_or(Error::PushNotUnderstood)?;
    if !object.contains_key(PUSH_MARKER) {
        return Ok(None);
    }
    Ok(Some(object.get(PUSH_REASON).and_then(|r| r.as_str()).and_then(PushReason::from_word)))
}

impl Keyway {
    /// Registers this device's push token with the service (call it whenever the platform
    /// gives the app a token, and after signing in); a new token replaces the old one.
    pub async fn register_push_token(&self, platform: PushPlatform, token: &str) -> Result<()> {
        let platform = match platform {
            PushPlatform::Apns => keyway_api::PushPlatform::Apns,
            PushPlatform::Fcm => keyway_api::PushPlatform::Fcm,
        };
        self.inner.auth.call(&RegisterPushToken { body: PushTokenRequest { platform, token: token.to_owned() } }).await
    }

    /// Asks the service to stop pushing to this device (the person turned it off).
    pub async fn forget_push_token(&self) -> Result<()> {
        self.inner.auth.call(&ForgetPushToken {}).await
    }

    /// Handles a received push: `payload` is the push's data as a JSON object (iOS: the
    /// notification's `userInfo`; Android: `RemoteMessage.data`). A Keyway push refreshes,
    /// within [`PUSH_REFRESH_BUDGET`]; anything else is `NotKeyway`, untouched. A payload
    /// that is not a JSON object is [`Error::PushNotUnderstood`].
    pub async fn handle_push(&self, payload: &str) -> Result<PushOutcome> {
        let Some(reason) = read_push(payload)? else {
            return Ok(PushOutcome::NotKeyway);
        };
        tracing::info!(reason = reason.map_or("unknown", PushReason::as_str), "Keyway push: refreshing");
        match tokio::time::timeout(PUSH_REFRESH_BUDGET, self.refresh()).await {
            Ok(summary) => Ok(PushOutcome::Refreshed { summary: summary? }),
            Err(_) => Ok(PushOutcome::OutOfTime),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apns_and_fcm_shapes_are_read_and_other_pushes_are_passed_on() {
        let apns = r#"{"aps":{"content-available":1},"keyway":"1","reason":"keys"}"#;
        assert_eq!(read_push(apns), Ok(Some(Some(PushReason::Keys))));
        assert_eq!(read_push(r#"{"keyway":"1","reason":"door_sync"}"#), Ok(Some(Some(PushReason::DoorSync))));
        assert_eq!(read_push(r#"{"keyway":"2","reason":"something new"}"#), Ok(Some(None)));
        assert_eq!(read_push(r#"{"aps":{"alert":"Your order shipped"}}"#), Ok(None));
        for junk in ["", "not json", "[1,2]", "\"keyway\"", "{\"keyway\":"] {
            assert_eq!(read_push(junk), Err(Error::PushNotUnderstood), "{junk:?}");
        }
    }
}
