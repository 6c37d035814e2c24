//! The Apple Push Notification service client: HTTP/2, token-based authentication (an
//! ES256 provider token from the team's `.p8` key, renewed every 50 minutes, as Apple
//! refuses tokens older than an hour), background pushes (`content-available`, priority
//! 5, push type `background`) that carry only Keyway's marker and the reason.

use super::jwt::{Es256Key, JwtError};
use super::{Delivery, DuePush};
use keyway_api::PushPlatform;
use serde_json::json;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Apple's production endpoint.
pub const PRODUCTION_URL: &str = "https://api.push.apple.com";
/// How long a provider token is used before a new one is signed.
const TOKEN_LIFETIME: Duration = Duration::from_secs(50 * 60);

/// What the service needs to talk to APNs.
#[derive(Clone)]
pub struct ApnsConfig {
    /// The `.p8` key's PEM text (PKCS#8, P-256). Never logged.
    pub key_pem: String,
    /// The key's id (10 characters, from the developer account).
    pub key_id: String,
    /// The team id (10 characters).
    pub team_id: String,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// The endpoint: [`PRODUCTION_URL`], Apple's sandbox, or a test sink.
    pub base_url: String,
}

impl std::fmt::Debug for ApnsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsConfig")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .field("topic", &self.topic)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// An APNs sender.
pub struct Apns {
    config: ApnsConfig,
    key: Es256Key,
    http: reqwest::Client,
    token: Mutex<Option<(String, SystemTime)>>,
}

impl Apns {
    /// Checks the key and builds the sender on `http` (which must speak HTTP/2).
    pub fn new(config: ApnsConfig, http: reqwest::Client) -> Result<Self, JwtError> {
        let key = Es256Key::from_pem(&config.key_pem)?;
        Ok(Self { config, key, http, token: Mutex::new(None) })
    }

    fn provider_token(&self, renew: bool) -> Result<String, JwtError> {
        let mut held = self.token.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = SystemTime::now();
        if let Some((token, made)) = held.as_ref()
            && !renew
            && now.duration_since(*made).unwrap_or(Duration::MAX) < TOKEN_LIFETIME
        {
            return Ok(token.clone());
        }
        let iat = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let token = self.key.sign(
            &json!({ "alg": "ES256", "kid": self.config.key_id }),
            &json!({ "iss": self.config.team_id, "iat": iat }),
        )?;
        *held = Some((token.clone(), now));
        Ok(token)
    }

    /// Sends one background push.
    pub async fn send(&self, push: &DuePush) -> Delivery {
        let token = match self.provider_token(false) {
            Ok(t) => t,
            Err(e) => return Delivery::Failed(e.to_string()),
        };
        let url = format!("{}/3/device/{}", self.config.base_url.trim_end_matches('/'), push.token);
        let body = super::payload(PushPlatform::Apns, push.reason);
        let sent = self
            .http
            .post(&url)
            .version(reqwest::Version::HTTP_2)
            .bearer_auth(token)
            .header("apns-push-type", "background")
            .header("apns-priority", "5")
            .header("apns-topic", &self.config.topic)
            .json(&body)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => return Delivery::Failed(format!("APNs unreachable: {}", without_url(&e))),
        };
        let status = resp.status().as_u16();
        let reason = resp.json::<serde_json::Value>().await.ok().and_then(|v| v["reason"].as_str().map(str::to_owned));
        match (status, reason.as_deref()) {
            (200, _) => Delivery::Sent,
            (410, _) | (400, Some("BadDeviceToken" | "DeviceTokenNotForTopic")) => Delivery::TokenGone,
            (403, Some("ExpiredProviderToken" | "InvalidProviderToken")) => {
                // Sign a new one for the next attempt.
                let _ = self.provider_token(true);
                Delivery::Failed(format!("APNs {status}: provider token refused"))
            }
            (s, r) => Delivery::Failed(format!("APNs {s}: {}", r.unwrap_or("no reason"))),
        }
    }
}

/// A reqwest error without its URL (the URL holds the device token).
pub(super) fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(url.as_str(), "<push endpoint>");
    }
    s
}
