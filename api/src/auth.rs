//! `/v1/auth/…`: one-time-code sign-in, the session tokens, refresh.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The delivery channel for an identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Email.
    Email,
    /// SMS.
    Sms,
}

/// Ask for a sign-in code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// Email address or phone number in international format.
    pub identifier: String,
}

/// A code is on its way (the same answer whether or not the identifier is known).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeSentResponse {
    /// Where it went.
    pub channel: Channel,
    /// Unix seconds when the code stops working.
    pub expires_at: i64,
    /// Unix seconds when another code may be asked for.
    pub resend_after: i64,
}

/// Sign in with a code.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The identifier the code was sent to.
    pub identifier: String,
    /// The 6-digit code.
    pub code: String,
    /// The device's P-256 public key: 65-byte uncompressed SEC1, base64url.
    pub device_public_key: String,
}

/// Rotate a refresh token.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The current refresh token.
    pub refresh_token: String,
}

/// Tokens handed to a signed-in app.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionTokens {
    /// Bearer token for `Authorization`, valid until `access_expires_at`.
    pub access_token: String,
    /// Unix seconds when the access token stops working.
    pub access_expires_at: i64,
    /// Seconds the access token lives from now: lets a client with a wrong clock time its
    /// refresh by its own clock.
    pub access_expires_in: i64,
    /// Single-use token for `POST /v1/auth/refresh`; store it before forgetting the old one.
    pub refresh_token: String,
    /// The signed-in person.
    pub person_id: i64,
}

// The codes and tokens below are secrets: their `Debug` names the type and the harmless
// fields only, so a logged request or answer never carries one.

impl fmt::Debug for VerifyRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyRequest").field("device_public_key", &self.device_public_key).finish_non_exhaustive()
    }
}

impl fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshRequest").finish_non_exhaustive()
    }
}

impl fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionTokens")
            .field("access_expires_at", &self.access_expires_at)
            .field("access_expires_in", &self.access_expires_in)
            .field("person_id", &self.person_id)
            .finish_non_exhaustive()
    }
}
