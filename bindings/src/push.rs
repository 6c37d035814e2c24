//! Push and background refresh: register the token the platform gave the app, and hand
//! every received push to `handlePush`, which refreshes when it is Keyway's. The shells'
//! periodic background refresh calls `refresh()` (android/, ios/ READMEs).

use crate::Result;
use crate::keyway::Keyway;
use crate::runtime::run;

pub use keyway_core::{PushOutcome, PushPlatform};

#[uniffi::export]
impl Keyway {
    /// Registers this device's push token (iOS: the APNs device token in hexadecimal;
    /// Android: the FCM registration token). Call it whenever the platform gives a token
    /// and after signing in; a new token replaces the old one.
    pub async fn register_push_token(&self, platform: PushPlatform, token: String) -> Result<()> {
        let core = self.core.clone();
        run(async move { core.register_push_token(platform, &token).await }).await
    }

    /// Asks the service to stop pushing to this device.
    pub async fn forget_push_token(&self) -> Result<()> {
        let core = self.core.clone();
        run(async move { core.forget_push_token().await }).await
    }

    /// Handles a received push. `payload` is its data as a JSON object (iOS: `userInfo`
    /// encoded with `JSONSerialization`; Android: `JSONObject(message.data).toString()`).
    /// Keyway's pushes refresh (at most 18 s); others come back `NotKeyway` for the app's
    /// own handlers. A payload that is not a JSON object fails with `PushNotUnderstood`.
    pub async fn handle_push(&self, payload: String) -> Result<PushOutcome> {
        let core = self.core.clone();
        run(async move { core.handle_push(&payload).await }).await
    }
}
