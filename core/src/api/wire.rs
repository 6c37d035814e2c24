//! The backend's JSON, as the core reads and writes it (API version 1). These mirror the
//! backend's OpenAPI document (`backend/openapi.json`); the core never links the backend.

use serde::{Deserialize, Serialize};

/// `POST /v1/auth/code`.
#[derive(Debug, Serialize)]
pub struct CodeRequest<'a> {
    pub identifier: &'a str,
}

/// The channel a code went out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// By email.
    Email,
    /// By text message.
    Sms,
}

/// A code was sent (or, for an unknown address, the same answer anyway).
#[derive(Debug, Clone, Deserialize)]
pub struct CodeSentBody {
    pub channel: Channel,
    pub expires_at: i64,
    pub resend_after: i64,
}

/// `POST /v1/auth/verify`.
#[derive(Debug, Serialize)]
pub struct VerifyRequest<'a> {
    pub identifier: &'a str,
    pub code: &'a str,
    pub device_public_key: String,
}

/// `POST /v1/auth/refresh`.
#[derive(Debug, Serialize)]
pub struct RefreshRequest<'a> {
    pub refresh_token: &'a str,
}

/// Tokens from verify, accept and refresh. Its `Debug` hides the tokens.
#[derive(Clone, Deserialize, Serialize)]
pub struct SessionTokens {
    pub access_token: String,
    pub access_expires_at: i64,
    /// The access token's lifetime from when it was issued.
    #[serde(default)]
    pub access_expires_in: Option<i64>,
    pub refresh_token: String,
    pub person_id: i64,
    /// Core-side: when the access token expires by this phone's clock (set on receipt,
    /// kept with the session). Not sent by the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_expires_at: Option<i64>,
}

impl std::fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionTokens")
            .field("access_expires_at", &self.access_expires_at)
            .field("person_id", &self.person_id)
            .finish_non_exhaustive()
    }
}

/// `GET /v1/invitations/{token}`.
#[derive(Debug, Clone, Deserialize)]
pub struct InvitationPreview {
    pub organisation: String,
    pub facility: String,
    pub role: String,
    pub email: String,
    pub access_start: i64,
    pub expires_at: i64,
}

/// `POST /v1/invitations/{token}/accept`.
#[derive(Debug, Serialize)]
pub struct AcceptRequest<'a> {
    pub code: &'a str,
    pub device_public_key: String,
}

/// A membership.
#[derive(Debug, Clone, Deserialize)]
pub struct Membership {
    pub org_id: i64,
    pub organisation: String,
    pub role: String,
}

/// `GET /v1/me` (the fields the core uses).
#[derive(Debug, Clone, Deserialize)]
pub struct Profile {
    pub memberships: Vec<Membership>,
}

/// A door as the backend describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct DoorView {
    pub id: i64,
    pub name: String,
    pub lock_id: String,
    pub lock_public_key: String,
    pub lock_signing_public_key: String,
    pub online: bool,
    pub bundle_version: i64,
    pub synced_version: i64,
    pub synced_at: Option<i64>,
}

/// `GET /v1/door-sync/pending`: this person's offline doors that are behind.
#[derive(Debug, Clone, Deserialize)]
pub struct PendingDoors {
    pub doors: Vec<DoorView>,
}

/// The state of a key, by the backend's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessState {
    Active,
    NotYetValid,
    Expired,
    Revoked,
}

/// One key.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyView {
    pub grant_id: i64,
    pub key_id: i64,
    pub name: String,
    pub organisation: String,
    pub facility: String,
    pub doors: Vec<DoorView>,
    pub starts_at: i64,
    pub expires_at: i64,
    pub shareable: bool,
    pub guest: bool,
    pub access_state: AccessState,
    pub revoke_reason: Option<String>,
}

/// `GET /v1/me/keys`.
#[derive(Debug, Clone, Deserialize)]
pub struct KeysResponse {
    pub cursor: i64,
    pub keys: Vec<KeyView>,
    #[serde(default)]
    pub revoked_grant_ids: Vec<i64>,
}

/// `POST /v1/credentials`.
#[derive(Debug, Serialize)]
pub struct CredentialsRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<i64>,
}

/// One issued credential.
#[derive(Debug, Clone, Deserialize)]
pub struct IssuedCredential {
    pub grant_id: i64,
    pub credential_id: String,
    pub credential: String,
    pub not_before: i64,
    pub not_after: i64,
}

/// `POST /v1/credentials` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct CredentialsResponse {
    pub credentials: Vec<IssuedCredential>,
}

/// `POST /v1/shares`.
#[derive(Debug, Serialize)]
pub struct CreateShareRequest<'a> {
    pub grant_id: i64,
    pub door_ids: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<i64>,
    pub ends_at: i64,
    pub guest: &'a str,
    pub device_proof: DeviceProof,
}

/// The device's signature over a request (docs/protocol.md §15.12), base64url.
#[derive(Debug, Serialize)]
pub struct DeviceProof {
    pub nonce: String,
    pub signature: String,
}

/// A share was created.
#[derive(Debug, Clone, Deserialize)]
pub struct ShareCreated {
    pub share_id: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub delivered: bool,
}

/// `GET /v1/doors/{id}/bundle`.
#[derive(Debug, Clone, Deserialize)]
pub struct BundleView {
    pub version: i64,
    pub bundle: String,
}

/// `POST /v1/doors/{id}/receipts`.
#[derive(Debug, Serialize)]
pub struct ReceiptUpload {
    pub receipt: String,
}

/// The backend's error body: `{"error": {"code", "message", …details}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// The inner error.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(flatten)]
    pub details: serde_json::Map<String, serde_json::Value>,
}
