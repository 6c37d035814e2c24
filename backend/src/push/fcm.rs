//! The Firebase Cloud Messaging client (HTTP v1 API): a Google service account's RS256
//! assertion is exchanged for an OAuth access token (kept until a minute before it
//! expires), then each push is a data message carrying only Keyway's marker and the
//! reason. Key changes go at high priority (so Android's Doze lets the app refresh now);
//! couriering a door-sync update at normal priority.

use super::apns::without_url;
use super::jwt::{JwtError, Rs256Key};
use super::{Delivery, DuePush};
use keyway_api::{PushPlatform, PushReason};
use serde_json::json;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Google's production endpoint.
pub const PRODUCTION_URL: &str = "https://fcm.googleapis.com";
/// The OAuth scope FCM sends need.
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// What the service needs to talk to FCM.
#[derive(Clone)]
pub struct FcmConfig {
    /// The Firebase project id.
    pub project_id: String,
    /// The service account's email (`client_email` in its JSON key file).
    pub client_email: String,
    /// The service account's private key, PKCS#8 PEM (`private_key`). Never logged.
    pub private_key_pem: String,
    /// Where access tokens come from (`token_uri`).
    pub token_uri: String,
    /// The endpoint: [`PRODUCTION_URL`] or a test sink.
    pub base_url: String,
}

impl FcmConfig {
    /// From a service account's JSON key file (as the Firebase console downloads it) and
    /// the endpoint.
    pub fn from_service_account(json: &str, base_url: &str) -> Result<Self, String> {
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|_| "the service account file is not JSON".to_owned())?;
        let field = |name: &str| {
            v[name].as_str().map(str::to_owned).ok_or_else(|| format!("the service account file has no {name}"))
        };
        Ok(Self {
            project_id: field("project_id")?,
            client_email: field("client_email")?,
            private_key_pem: field("private_key")?,
            token_uri: field("token_uri")?,
            base_url: base_url.to_owned(),
        })
    }
}

impl std::fmt::Debug for FcmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmConfig")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// An FCM sender.
pub struct Fcm {
    config: FcmConfig,
    key: Rs256Key,
    http: reqwest::Client,
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
}

impl Fcm {
    /// Checks the key and builds the sender.
    pub fn new(config: FcmConfig, http: reqwest::Client) -> Result<Self, JwtError> {
        let key = Rs256Key::from_pem(&config.private_key_pem)?;
        Ok(Self { config, key, http, token: tokio::sync::Mutex::new(None) })
    }

    async fn access_token(&self, renew: bool) -> Result<String, String> {
        let mut held = self.token.lock().await;
        if let Some((token, until)) = held.as_ref()
            && !renew
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let iat = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let assertion = self
            .key
            .sign(
                &json!({ "alg": "RS256", "typ": "JWT" }),
                &json!({ "iss": self.config.client_email, "scope": SCOPE, "aud": self.config.token_uri,
                         "iat": iat, "exp": iat + 3600 }),
            )
            .map_err(|e| e.to_string())?;
        // The assertion is base64url with dots: nothing in it needs percent-encoding.
        let body = format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}");
        let resp = self
            .http
            .post(&self.config.token_uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("token endpoint unreachable: {}", without_url(&e)))?;
        let status = resp.status().as_u16();
        let v: serde_json::Value = resp.json().await.map_err(|_| format!("token endpoint {status}: not JSON"))?;
        let (Some(token), Some(expires_in)) = (v["access_token"].as_str(), v["expires_in"].as_u64()) else {
            return Err(format!("token endpoint {status}: no access token"));
        };
        let until = Instant::now() + Duration::from_secs(expires_in.saturating_sub(60));
        *held = Some((token.to_owned(), until));
        Ok(token.to_owned())
    }

    /// Sends one data message.
    pub async fn send(&self, push: &DuePush) -> Delivery {
        let token = match self.access_token(false).await {
            Ok(t) => t,
            Err(e) => return Delivery::Failed(e),
        };
        let priority = if push.reason == PushReason::Keys { "HIGH" } else { "NORMAL" };
        let body = json!({ "message": {
            "token": push.token,
            "data": super::payload(PushPlatform::Fcm, push.reason),
            "android": { "priority": priority, "ttl": "86400s" },
        }});
        let url = format!(
            "{}/v1/projects/{}/messages:send",
            self.config.base_url.trim_end_matches('/'),
            self.config.project_id
        );
        let resp = match self.http.post(&url).bearer_auth(token).json(&body).send().await {
            Ok(r) => r,
            Err(e) => return Delivery::Failed(format!("FCM unreachable: {}", without_url(&e))),
        };
        let status = resp.status().as_u16();
        let v: serde_json::Value = resp.json().await.unwrap_or_default();
        let code = fcm_error_code(&v);
        match (status, code.as_deref()) {
            (200, _) => Delivery::Sent,
            (404, _) | (_, Some("UNREGISTERED")) => Delivery::TokenGone,
            (400, Some("INVALID_ARGUMENT")) if v["error"]["message"].as_str().is_some_and(|m| m.contains("token")) => {
                Delivery::TokenGone
            }
            (401, _) => {
                let _ = self.access_token(true).await;
                Delivery::Failed("FCM 401: access token refused".into())
            }
            (s, c) => Delivery::Failed(format!("FCM {s}: {}", c.unwrap_or("no error code"))),
        }
    }
}

/// FCM's error code: `error.details[].errorCode` (v1), else `error.status`.
fn fcm_error_code(v: &serde_json::Value) -> Option<String> {
    let details = v["error"]["details"].as_array();
    details
        .and_then(|d| d.iter().find_map(|x| x["errorCode"].as_str()))
        .or_else(|| v["error"]["status"].as_str())
        .map(str::to_owned)
}
