//! Every failure the API can report, each with its own stable snake_case code.
//!
//! Domain modules return [`Error`]; the HTTP layer turns it into
//! `{"error":{"code":"…","message":"…", …details}}` with a matching status.
//! Messages are plain words for people and never carry secrets or personal data.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use keyway_api::{ErrorBody, ErrorDetail};
use serde_json::{Map, Value, json};

/// The result type of the domain modules.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure with its own code; the app decides what to show from the code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not valid JSON, or is not the JSON shape expected.
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// A field is missing, has the wrong type, or holds a value that is not accepted.
    #[error("{message}")]
    InvalidField {
        /// Name of the field at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The body is not sent as `application/json`.
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    /// The body is larger than the service accepts.
    #[error("the request body is too large")]
    BodyTooLarge,
    /// No route or no such object.
    #[error("{0} was not found")]
    NotFound(&'static str),
    /// The route exists but not with this method.
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    /// Missing, unknown or expired access token.
    #[error("sign in again")]
    Unauthenticated,
    /// The access token has expired; refresh it.
    #[error("the access token has expired")]
    AccessTokenExpired,
    /// Missing or wrong admin token.
    #[error("the admin token is missing or wrong")]
    AdminUnauthorized,
    /// The identifier is neither an email address nor a phone number.
    #[error("enter an email address or a phone number in international format")]
    InvalidIdentifier,
    /// The code does not match; some attempts remain.
    #[error("the code is not right")]
    CodeWrong {
        /// Guesses still allowed before the code is locked.
        attempts_left: u32,
    },
    /// The code has expired or was already used; ask for a new one.
    #[error("the code has expired; ask for a new one")]
    CodeExpired,
    /// Too many wrong guesses; sign-in is locked until `retry_at`.
    #[error("too many attempts; try again later")]
    TooManyAttempts {
        /// Unix seconds when a new attempt is allowed.
        retry_at: i64,
    },
    /// A new code was asked for too soon after the last one.
    #[error("a code was just sent; wait before asking for another")]
    ResendTooSoon {
        /// Unix seconds when another code may be sent.
        retry_at: i64,
    },
    /// Too many codes were sent to this identifier recently.
    #[error("too many codes were sent; try again later")]
    RateLimited {
        /// Unix seconds when another code may be sent.
        retry_at: i64,
    },
    /// The device public key is not a 65-byte uncompressed P-256 point in base64url.
    #[error("the device public key is not a valid P-256 public key")]
    InvalidDeviceKey,
    /// The refresh token is unknown or its session has ended.
    #[error("sign in again")]
    InvalidRefreshToken,
    /// An already rotated refresh token was presented; the whole session was ended.
    #[error("this sign-in was ended for safety; sign in again")]
    RefreshTokenReused,
    /// No invitation has this link.
    #[error("this invitation link is not valid")]
    InvitationNotFound,
    /// The invitation's 24 hours have passed.
    #[error("this invitation has expired; ask your administrator to send a new one")]
    InvitationExpired,
    /// A newer invitation email was sent; this link no longer works.
    #[error("a newer invitation was sent; use the link in the most recent email")]
    InvitationSuperseded,
    /// The administrator cancelled the invitation.
    #[error("this invitation was cancelled by your administrator")]
    InvitationCancelled,
    /// The invitation was already accepted.
    #[error("this invitation was already accepted; sign in instead")]
    InvitationAlreadyUsed,
    /// The person is not allowed to do this.
    #[error("you are not allowed to do this")]
    Forbidden,
    /// The key is not shareable, or not by this person.
    #[error("this key cannot be shared")]
    KeyNotShareable,
    /// A share request's device signature is missing, malformed, not made by the device
    /// the session was opened with, or its nonce was used before.
    #[error("this request must be signed by your device; sign in again on it")]
    DeviceProofInvalid,
    /// The key was revoked.
    #[error("this key was revoked")]
    KeyRevoked,
    /// The key has expired.
    #[error("this key has expired")]
    KeyExpired,
    /// An administrator turned the person's access off for now (or, for a guest key, the
    /// access of the member who shared it).
    #[error("your access is suspended; contact your administrator")]
    AccessSuspended,
    /// The key is not valid yet.
    #[error("this key is not valid yet")]
    KeyNotYetValid {
        /// Unix seconds when the key starts to work.
        starts_at: i64,
    },
    /// No share has this link, or no share of the caller's has this id.
    #[error("this shared-key link is not valid")]
    ShareNotFound,
    /// The share link was already redeemed.
    #[error("this shared key was already accepted")]
    ShareAlreadyRedeemed,
    /// The share was revoked (by the member, an administrator, or a cascade).
    #[error("this shared key was revoked")]
    ShareRevoked,
    /// The share's link or window has passed.
    #[error("this shared key has expired")]
    ShareExpired,
    /// The share was made for a different email or phone.
    #[error("this shared key was sent to a different email or phone")]
    ShareWrongRecipient,
    /// The door's lock is connected through its online link and gets changes itself.
    #[error("this door is online and needs no door sync")]
    DoorOnline,
    /// An online-link poll whose signature is not the lock's (the door record's signing key).
    #[error("the request is not signed by this door's lock")]
    LinkSignatureInvalid,
    /// An online-link challenge the backend did not make for this lock, or one past its
    /// time: the lock asks for a new one.
    #[error("the link challenge is not valid or has expired")]
    LinkChallengeInvalid,
    /// An online-link challenge already used: a replayed request.
    #[error("the link challenge was already used")]
    LinkChallengeUsed,
    /// The lock already runs the current bundle; there is nothing to carry.
    #[error("this door is already up to date")]
    DoorUpToDate,
    /// The receipt's signature, door or format is not right.
    #[error("the door sync receipt is not valid")]
    ReceiptInvalid,
    /// The service's clock jumped, or is behind a door's last signed time, and has not yet
    /// been steady long enough to be believed: no bundle or clock reset is signed until
    /// `retry_at` (docs/security.md, `future_bundle`). The detail is in the server log.
    #[error("the service's clock is being checked; door updates resume shortly")]
    SigningClockUnsure {
        /// When to ask again (unix seconds).
        retry_at: i64,
    },
    /// The request conflicts with the current state (e.g. a duplicate).
    #[error("{0}")]
    Conflict(&'static str),
    /// An issuer key was asked to sign what its lifecycle state forbids (a retired key
    /// signs nothing; an outgoing one only anchor updates). A fault of the service.
    #[error("the issuer key may no longer sign this")]
    IssuerKeyRetired,
    /// Something failed inside the service; details are in the server log.
    #[error("something went wrong on our side")]
    Internal(String),
}

impl Error {
    /// The stable snake_case code the app matches on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::MalformedJson(_) => "malformed_json",
            Error::InvalidField { .. } => "invalid_field",
            Error::UnsupportedMediaType => "unsupported_media_type",
            Error::BodyTooLarge => "body_too_large",
            Error::NotFound(_) => "not_found",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::Unauthenticated => "unauthenticated",
            Error::AccessTokenExpired => "access_token_expired",
            Error::AdminUnauthorized => "admin_unauthorized",
            Error::InvalidIdentifier => "invalid_identifier",
            Error::CodeWrong { .. } => "code_wrong",
            Error::CodeExpired => "code_expired",
            Error::TooManyAttempts { .. } => "too_many_attempts",
            Error::ResendTooSoon { .. } => "resend_too_soon",
            Error::RateLimited { .. } => "rate_limited",
            Error::InvalidDeviceKey => "invalid_device_key",
            Error::InvalidRefreshToken => "invalid_refresh_token",
            Error::RefreshTokenReused => "refresh_token_reused",
            Error::InvitationNotFound => "invitation_not_found",
            Error::InvitationExpired => "invitation_expired",
            Error::InvitationSuperseded => "invitation_superseded",
            Error::InvitationCancelled => "invitation_cancelled",
            Error::InvitationAlreadyUsed => "invitation_already_used",
            Error::Forbidden => "forbidden",
            Error::KeyNotShareable => "key_not_shareable",
            Error::DeviceProofInvalid => "device_proof_invalid",
            Error::KeyRevoked => "key_revoked",
            Error::KeyExpired => "key_expired",
            Error::AccessSuspended => "access_suspended",
            Error::KeyNotYetValid { .. } => "key_not_yet_valid",
            Error::ShareNotFound => "share_not_found",
            Error::ShareAlreadyRedeemed => "share_already_redeemed",
            Error::ShareRevoked => "share_revoked",
            Error::ShareExpired => "share_expired",
            Error::ShareWrongRecipient => "share_wrong_recipient",
            Error::DoorOnline => "door_online",
            Error::LinkSignatureInvalid => "link_signature_invalid",
            Error::LinkChallengeInvalid => "link_challenge_invalid",
            Error::LinkChallengeUsed => "link_challenge_used",
            Error::DoorUpToDate => "door_up_to_date",
            Error::ReceiptInvalid => "receipt_invalid",
            Error::SigningClockUnsure { .. } => "signing_clock_unsure",
            Error::Conflict(_) => "conflict",
            Error::IssuerKeyRetired => "issuer_key_retired",
            Error::Internal(_) => "internal",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn status(&self) -> StatusCode {
        use StatusCode as S;
        match self {
            Error::MalformedJson(_) => S::BAD_REQUEST,
            Error::InvalidField { .. } | Error::InvalidIdentifier | Error::InvalidDeviceKey => S::UNPROCESSABLE_ENTITY,
            Error::UnsupportedMediaType => S::UNSUPPORTED_MEDIA_TYPE,
            Error::BodyTooLarge => S::PAYLOAD_TOO_LARGE,
            Error::NotFound(_) | Error::InvitationNotFound | Error::ShareNotFound => S::NOT_FOUND,
            Error::MethodNotAllowed => S::METHOD_NOT_ALLOWED,
            Error::Unauthenticated
            | Error::AccessTokenExpired
            | Error::AdminUnauthorized
            | Error::CodeWrong { .. }
            | Error::CodeExpired
            | Error::InvalidRefreshToken
            | Error::RefreshTokenReused
            | Error::LinkSignatureInvalid
            | Error::LinkChallengeInvalid => S::UNAUTHORIZED,
            Error::TooManyAttempts { .. } | Error::ResendTooSoon { .. } | Error::RateLimited { .. } => {
                S::TOO_MANY_REQUESTS
            }
            Error::InvitationExpired
            | Error::InvitationSuperseded
            | Error::InvitationCancelled
            | Error::ShareRevoked
            | Error::ShareExpired => S::GONE,
            Error::InvitationAlreadyUsed
            | Error::ShareAlreadyRedeemed
            | Error::Conflict(_)
            | Error::DoorOnline
            | Error::LinkChallengeUsed
            | Error::DoorUpToDate => S::CONFLICT,
            Error::Forbidden
            | Error::DeviceProofInvalid
            | Error::KeyNotShareable
            | Error::KeyRevoked
            | Error::KeyExpired
            | Error::AccessSuspended
            | Error::KeyNotYetValid { .. }
            | Error::ShareWrongRecipient => S::FORBIDDEN,
            Error::ReceiptInvalid => S::UNPROCESSABLE_ENTITY,
            Error::SigningClockUnsure { .. } => S::SERVICE_UNAVAILABLE,
            Error::Internal(_) | Error::IssuerKeyRetired => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// Extra machine-readable fields that go next to `code` and `message`.
    fn details(&self) -> Map<String, Value> {
        let v = match self {
            Error::InvalidField { field, .. } => json!({ "field": field }),
            Error::CodeWrong { attempts_left } => json!({ "attempts_left": attempts_left }),
            Error::TooManyAttempts { retry_at }
            | Error::ResendTooSoon { retry_at }
            | Error::RateLimited { retry_at }
            | Error::SigningClockUnsure { retry_at } => json!({ "retry_at": retry_at }),
            Error::KeyNotYetValid { starts_at } => json!({ "starts_at": starts_at }),
            Error::NotFound(what) => json!({ "what": what }),
            _ => json!({}),
        };
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    /// Shorthand for an [`Error::InvalidField`].
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Error::InvalidField { field: field.to_owned(), message: message.into() }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Internal(format!("database: {e}"))
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Error::Internal(detail) = &self {
            // The detail goes to the log only; it never reaches the client.
            tracing::error!(%detail, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail { code: self.code().to_owned(), message: self.to_string(), details: self.details() },
        };
        (self.status(), axum::Json(body)).into_response()
    }
}
