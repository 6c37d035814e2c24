//! The core's error: one variant per thing a person can meet, each with the facts a
//! screen needs. Backend error codes are mapped to variants in one place,
//! [`Error::from_api`]; nothing here carries a token, code or key.

use crate::address::AddressError;
use crate::api::{ApiError, ConfigError};
use crate::ble::UnlockError;
use crate::cache::CacheError;
use crate::links::LinkError;
use crate::secure_store::SecureStoreError;
use crate::signer::SignerError;
use keyway_protocol::credential::UnixSeconds;
use thiserror::Error;

/// Everything that can go wrong, as the app sees it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// No one is signed in.
    #[error("sign in first")]
    NotSignedIn,
    /// The sign-in ended (refresh token reused or revoked): sign in again.
    #[error("you were signed out for safety; sign in again")]
    SessionEnded,
    /// The service could not be reached; offline features keep working.
    #[error("you are offline")]
    Offline,
    /// The service's identity could not be verified (its certificate is from an unknown
    /// authority, expired, or for another host; or something on the network intercepts
    /// the connection). Nothing was sent. Not the same as offline: retrying on this
    /// network will not help.
    #[error("cannot reach Keyway securely")]
    InsecureConnection,
    /// The app configured the core wrongly (an `http://` backend, a bad trusted root): a
    /// mistake for its developers, not something a person can fix.
    #[error("Keyway is misconfigured: {0}")]
    Configuration(#[from] ConfigError),
    /// The service failed; try again later.
    #[error("the service is not available right now")]
    ServiceUnavailable,
    /// The service answered something this app does not understand (an app update may help).
    #[error("unexpected answer from the service ({code})")]
    Unexpected {
        /// The backend code or a short description, for support.
        code: String,
    },
    /// The sign-in address is not valid.
    #[error(transparent)]
    InvalidAddress(#[from] AddressError),
    /// What was entered is not a 6-digit code (nothing was sent).
    #[error("enter the 6-digit code from the message")]
    CodeMalformed,
    /// The one-time code is wrong.
    #[error("the code is not right; {attempts_left} attempts left")]
    CodeWrong {
        /// Guesses left for this code.
        attempts_left: u32,
    },
    /// The one-time code has expired.
    #[error("the code has expired; ask for a new one")]
    CodeExpired,
    /// Too many wrong codes.
    #[error("too many attempts; try again later")]
    TooManyAttempts {
        /// When a new attempt is allowed.
        retry_at: UnixSeconds,
    },
    /// A code was just sent.
    #[error("a code was just sent; wait a moment before asking again")]
    ResendTooSoon {
        /// When a resend is allowed.
        retry_at: UnixSeconds,
    },
    /// The link is not one this app accepts.
    #[error(transparent)]
    InvalidLink(#[from] LinkError),
    /// The invitation does not exist.
    #[error("this invitation link is not valid")]
    InvitationNotFound,
    /// The invitation's 24 hours have passed.
    #[error("this invitation has expired; ask your administrator to send a new one")]
    InvitationExpired,
    /// A newer invitation replaced this one.
    #[error("a newer invitation was sent; use the link in the most recent email")]
    InvitationSuperseded,
    /// The administrator cancelled the invitation.
    #[error("this invitation was cancelled by your administrator")]
    InvitationCancelled,
    /// The invitation was already accepted.
    #[error("this invitation was already accepted; sign in instead")]
    InvitationAlreadyUsed,
    /// The key cannot be shared.
    #[error("this key cannot be shared")]
    KeyNotShareable,
    /// The key is revoked.
    #[error("this key was revoked")]
    KeyRevoked,
    /// The key has expired.
    #[error("this key has expired")]
    KeyExpired,
    /// The key is not valid yet.
    #[error("this key is not valid yet")]
    KeyNotYetValid {
        /// When it starts.
        starts_at: UnixSeconds,
    },
    /// The shared key was revoked by the member who shared it.
    #[error("this shared key was revoked")]
    ShareRevoked,
    /// The shared key's link has expired.
    #[error("this shared key has expired")]
    ShareExpired,
    /// The shared key was already accepted.
    #[error("this shared key was already accepted")]
    ShareAlreadyRedeemed,
    /// The shared key was sent to someone else.
    #[error("this shared key was sent to a different email or phone")]
    ShareWrongRecipient,
    /// A key for the door is held but its credential lapsed while offline: the phone
    /// must go online once to renew it.
    #[error("your key needs a refresh; connect to the internet once")]
    CredentialMissing,
    /// The person holds no key for that door.
    #[error("you have no key for this door")]
    NoKeyForDoor,
    /// The door is not one this person knows.
    #[error("unknown door")]
    UnknownDoor,
    /// The door is online and needs no door sync.
    #[error("this door is online and needs no door sync")]
    DoorOnline,
    /// The door already runs the newest bundle (nothing to carry).
    #[error("this door is already up to date")]
    DoorUpToDate,
    /// Opening the door failed.
    #[error(transparent)]
    Unlock(#[from] UnlockError),
    /// The device key could not be used.
    #[error(transparent)]
    DeviceKey(#[from] SignerError),
    /// The secure store failed.
    #[error(transparent)]
    SecureStore(#[from] SecureStoreError),
    /// The local key cache failed.
    #[error("the local key store failed: {0}")]
    Storage(String),
}

impl From<CacheError> for Error {
    fn from(e: CacheError) -> Self {
        Self::Storage(e.to_string())
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Self::from_api(e)
    }
}

impl Error {
    /// Maps a backend failure to what the app shows. The only place backend codes are read.
    pub fn from_api(e: ApiError) -> Self {
        let at = |name: &str| e.detail_i64(name).and_then(|v| u32::try_from(v).ok()).unwrap_or(0);
        match &e {
            ApiError::Offline => Self::Offline,
            ApiError::Insecure => Self::InsecureConnection,
            ApiError::Config(c) => Self::Configuration(c.clone()),
            ApiError::ServerFailed { .. } => Self::ServiceUnavailable,
            ApiError::BadResponse(what) => Self::Unexpected { code: what.clone() },
            ApiError::Rejected { code, .. } => match code.as_str() {
                "unauthenticated" | "invalid_refresh_token" => Self::SessionEnded,
                "refresh_token_reused" => Self::SessionEnded,
                "invalid_identifier" => Self::InvalidAddress(AddressError::NotAccepted),
                "code_wrong" => Self::CodeWrong { attempts_left: at("attempts_left") },
                "code_expired" => Self::CodeExpired,
                "too_many_attempts" | "rate_limited" => Self::TooManyAttempts { retry_at: at("retry_at") },
                "resend_too_soon" => Self::ResendTooSoon { retry_at: at("retry_at") },
                "invitation_not_found" => Self::InvitationNotFound,
                "invitation_expired" => Self::InvitationExpired,
                "invitation_superseded" => Self::InvitationSuperseded,
                "invitation_cancelled" => Self::InvitationCancelled,
                "invitation_already_used" => Self::InvitationAlreadyUsed,
                "key_not_shareable" => Self::KeyNotShareable,
                "key_revoked" => Self::KeyRevoked,
                "key_expired" => Self::KeyExpired,
                "key_not_yet_valid" => Self::KeyNotYetValid { starts_at: at("starts_at") },
                "share_revoked" => Self::ShareRevoked,
                "share_expired" => Self::ShareExpired,
                "share_already_redeemed" => Self::ShareAlreadyRedeemed,
                "share_wrong_recipient" => Self::ShareWrongRecipient,
                "door_online" => Self::DoorOnline,
                "door_up_to_date" => Self::DoorUpToDate,
                other => Self::Unexpected { code: other.to_owned() },
            },
        }
    }
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
