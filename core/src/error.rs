//! The public error: one flat list of what a person can meet, each variant with the facts
//! its screen needs and one sentence to show. The apps (through the bindings), the CLI
//! and the log all read these texts. Every variant's doc says how the app should react.
//!
//! The core's inner errors (the unlock's, the radio's, the signer's, the secure store's,
//! the cache's, the service's) are mapped here, in one place, and the failures a person
//! cannot act on are logged here (without personal data) as `Internal` or
//! `BluetoothFailed`. Nothing here carries a token, a code or a key.

use crate::address::AddressProblem;
use crate::api::{ApiError, ConfigError};
use crate::ble::{UnlockError, UnlockPhase};
use crate::cache::CacheError;
use crate::links::LinkProblem;
use crate::platform::SecureStoreError;
use crate::platform::SignerError;
use crate::profile::NameProblem;
use crate::timestamp::Timestamp;
use keyway_protocol::Refusal;
use thiserror::Error;

/// Why a call failed, and what to show. Kotlin: `KeywayException.*`; Swift: `KeywayError.*`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error), uniffi::export(Display))]
pub enum KeywayError {
    /// No one is signed in: show the sign-in screen.
    #[error("sign in first")]
    NotSignedIn,
    /// The sign-in ended (signed out elsewhere, or revoked for safety): show the sign-in screen.
    #[error("you were signed out for safety; sign in again")]
    SessionEnded,
    /// The service could not be reached: say so; keys and doors keep working offline.
    #[error("you are offline")]
    Offline,
    /// The service's identity could not be verified (its certificate is from an unknown
    /// authority, expired, or for another host; or something on the network intercepts the
    /// connection). Nothing was sent. Say "cannot reach Keyway securely" and suggest another
    /// network: unlike `Offline`, retrying on this network will not help. Keys keep working.
    #[error("cannot reach Keyway securely")]
    InsecureConnection,
    /// The app configured the core wrongly (an `http://` backend, a trusted root that is not
    /// a certificate, the Android verifier not initialised): a mistake for its developers,
    /// not something a person can fix.
    #[error("Keyway is misconfigured: {problem}")]
    InvalidConfiguration {
        /// What is wrong.
        problem: ConfigError,
    },
    /// The service failed: ask the person to try again later.
    #[error("the service is not available right now")]
    ServiceUnavailable,
    /// The email or phone number was refused: show `problem` under the field.
    #[error("{problem}")]
    InvalidAddress {
        /// What is wrong with it.
        problem: AddressProblem,
    },
    /// What was typed is not a 6-digit code (nothing was sent): ask for the 6 digits.
    #[error("enter the 6-digit code from the message")]
    CodeMalformed,
    /// The code is wrong: let the person try again, showing how many tries remain.
    #[error("the code is not right; {attempts_left} attempts left")]
    CodeWrong {
        /// Guesses left for this code.
        attempts_left: i32,
    },
    /// The code has expired: offer "send a new code".
    #[error("the code has expired; ask for a new one")]
    CodeExpired,
    /// Too many wrong codes or requests: disable the form until `retry_at`.
    #[error("too many attempts; try again after {retry_at}")]
    TooManyAttempts {
        /// When the next attempt is allowed.
        retry_at: Timestamp,
    },
    /// A code was sent moments ago: keep "send again" disabled until `retry_at`.
    #[error("a code was just sent; you can ask again after {retry_at}")]
    ResendTooSoon {
        /// When a resend is allowed.
        retry_at: Timestamp,
    },
    /// The link is not one this app accepts: show `problem`; do not open it.
    #[error("{problem}")]
    InvalidLink {
        /// What is wrong with it.
        problem: LinkProblem,
    },
    /// The invitation does not exist (mistyped or deleted): ask the administrator for a new one.
    #[error("this invitation link is not valid")]
    InvitationNotFound,
    /// The invitation's 24 hours have passed: ask the administrator to resend it.
    #[error("this invitation has expired; ask your administrator to send a new one")]
    InvitationExpired,
    /// A newer invitation replaced this one: use the link in the most recent email.
    #[error("a newer invitation was sent; use the link in the most recent email")]
    InvitationSuperseded,
    /// The administrator cancelled the invitation: nothing to do but contact them.
    #[error("this invitation was cancelled by your administrator")]
    InvitationCancelled,
    /// The invitation was already accepted: offer sign-in instead.
    #[error("this invitation was already accepted; sign in instead")]
    InvitationAlreadyUsed,
    /// A typed name was refused (nothing was sent): show `problem` under its field.
    #[error("{problem}")]
    InvalidName {
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// A push handed to `handle_push` is not a JSON object (pass the notification's
    /// `userInfo` or the message's `data` map, encoded as JSON).
    #[error("this push could not be read")]
    PushNotUnderstood,
    /// The key cannot be shared: hide or disable "share".
    #[error("this key cannot be shared")]
    KeyNotShareable,
    /// The key was revoked: show it as revoked; the door will not open.
    #[error("this key was revoked")]
    KeyRevoked,
    /// An administrator turned this person's access off for now (for a guest key: the
    /// access of the member who shared it). Show "access suspended", not "revoked": the
    /// keys come back when access is turned on again, with no new invitation.
    #[error("your access is suspended; contact your administrator")]
    AccessSuspended,
    /// The key has ended: show it as expired.
    #[error("this key has expired")]
    KeyExpired {
        /// When it ended, when known.
        expired_at: Option<Timestamp>,
    },
    /// The key is not valid yet: show when it starts.
    #[error("this key is not valid until {starts_at}")]
    KeyNotYetValid {
        /// When access starts.
        starts_at: Timestamp,
    },
    /// The shared-key link is not one (mistyped, cut off, or made up), or the share id is
    /// not one of this member's shares: ask the member for a new link, or reload the list.
    #[error("this shared-key link is not valid")]
    ShareNotFound,
    /// The member who shared this key revoked it: show it as revoked.
    #[error("this shared key was revoked")]
    ShareRevoked,
    /// The shared key's link or window has ended: ask the member for a new share.
    #[error("this shared key has expired")]
    ShareExpired,
    /// The shared key was already accepted: it is in the key list of whoever accepted it.
    #[error("this shared key was already accepted")]
    ShareAlreadyRedeemed,
    /// The shared key was sent to another email or phone: sign in with that one.
    #[error("this shared key was sent to a different email or phone")]
    ShareWrongRecipient,
    /// A key is held but its credential lapsed offline: ask the person to go online once.
    #[error("your key needs a refresh; connect to the internet once")]
    CredentialMissing,
    /// The person holds no key for that door: hide the door or show "no access".
    #[error("you have no key for this door")]
    NoKeyForDoor,
    /// The door id is not a door this person knows (or is not a door id at all).
    #[error("unknown door: it is not one of your doors")]
    UnknownDoor,
    /// None of the person's keys carries a doorcode for that door: hide "doorcode" for it
    /// (an administrator can enable one).
    #[error("you have no doorcode for this door")]
    NoDoorcode,
    /// The door is online and needs no door sync: hide "sync" for it.
    #[error("this door is online and needs no door sync")]
    DoorOnline,
    /// The door already runs the newest update: nothing to carry.
    #[error("this door is already up to date")]
    DoorUpToDate,
    /// Bluetooth is off: ask the person to switch it on.
    #[error("Bluetooth is off; switch it on to open doors")]
    BluetoothOff,
    /// The app may not use Bluetooth: send the person to the permission settings.
    #[error("this app may not use Bluetooth; allow it in the settings")]
    BluetoothPermissionMissing,
    /// Android 11 and older: location services are off, so no door can be found; send the
    /// person to the location settings.
    #[error("location services are off; switch them on to find doors")]
    LocationServicesOff,
    /// This device has no usable Bluetooth LE: the door cannot be opened from it.
    #[error("Bluetooth LE is not available on this device")]
    BluetoothUnavailable,
    /// The lock was not heard: ask the person to move closer and try again.
    #[error("the door is not in range; move closer and try again")]
    DoorNotInRange,
    /// The lock refused for another reason: show `reason`; some reasons need support.
    #[error("the lock refused: {reason}")]
    LockRefused {
        /// The lock's reason.
        reason: LockRefusal,
    },
    /// The lock stopped answering during `phase`: ask the person to try again, closer.
    #[error("the lock stopped answering while {phase}; try again closer to the door")]
    LockTimedOut {
        /// Where it stopped.
        phase: UnlockPhase,
    },
    /// The Bluetooth link dropped during `phase` (after one retry): ask to try again.
    #[error("the connection to the lock was lost while {phase}; try again")]
    ConnectionLost {
        /// Where it dropped.
        phase: UnlockPhase,
    },
    /// Something answered that is not the door's lock: do not retry automatically; report it.
    #[error("the lock's answer could not be trusted")]
    UntrustedLock,
    /// The lock refuses every key because its clock is wrong (it reads `lock_time`), and the
    /// signed repair could not be fetched (offline, or the service is busy): say "this
    /// door's clock is wrong; connect to the internet and try again". Online, the unlock
    /// repairs the clock itself and opens.
    #[error("this door's clock is wrong; connect to the internet and try again")]
    LockClockWrong {
        /// The time the lock's clock reads.
        lock_time: Timestamp,
    },
    /// The operation was cancelled (its `cancel()`, or a newer unlock or door sync): do nothing.
    #[error("cancelled")]
    Cancelled,
    /// The device key is gone or invalidated (e.g. biometrics changed): sign in again.
    #[error("the device key is unavailable; sign in again")]
    DeviceKeyUnavailable,
    /// The person cancelled the authentication prompt: do nothing.
    #[error("authentication was cancelled")]
    AuthenticationCancelled,
    /// Biometry or the passcode did not match: let the person try again.
    #[error("authentication failed; try again")]
    AuthenticationFailed,
    /// The phone is locked and the device key needs it unlocked: ask the person to unlock it.
    #[error("unlock your phone, then try again")]
    DeviceLocked,
    /// The secure store is locked (device not unlocked since boot): ask to unlock the device.
    #[error("the secure store is locked; unlock your phone once")]
    SecureStoreLocked,
    /// The radio failed in a way it did not explain: offer "try again".
    #[error("Bluetooth failed; try again")]
    BluetoothFailed {
        /// For logs and support; never shown as is.
        detail: String,
    },
    /// Something inside the app failed (storage, an answer it does not understand): offer
    /// "try again", and an update if it persists.
    #[error("something went wrong; try again")]
    Internal {
        /// For logs and support; never shown as is.
        detail: String,
    },
}

/// The core's name for its error.
pub type Error = KeywayError;

/// Why a lock refused, when it is not about the key's window or revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum LockRefusal {
    /// The key is for another door.
    #[error("the key is for another door")]
    WrongDoor,
    /// The lock does not trust the key's issuer (the lock needs a door sync or re-fitting).
    #[error("the lock does not know who issued the key")]
    UnknownIssuer,
    /// The key or the device's signature did not verify.
    #[error("the key is not valid")]
    InvalidKey,
    /// The lock speaks another protocol version (the app or the lock needs an update).
    #[error("the lock needs a different app version")]
    UnsupportedVersion,
    /// The lock could not store the change.
    #[error("the lock could not save the change")]
    LockStorageFailed,
    /// The lock refused the door-sync update it was given.
    #[error("the lock refused the update")]
    UpdateRefused,
    /// The exchange went wrong (try again).
    #[error("the exchange went wrong")]
    ProtocolError,
}

impl LockRefusal {
    /// The lock's reasons a person can act on differently; the key-window and revocation
    /// reasons never get here (the unlock turns them into `KeyExpired`, `KeyRevoked`, …).
    pub fn from_refusal(reason: Refusal) -> Self {
        match reason {
            Refusal::WrongDoor => Self::WrongDoor,
            Refusal::UnknownIssuer => Self::UnknownIssuer,
            Refusal::BadCredentialSignature | Refusal::BadDeviceSignature | Refusal::DecryptFailed => Self::InvalidKey,
            Refusal::UnsupportedVersion => Self::UnsupportedVersion,
            Refusal::StorageFailed => Self::LockStorageFailed,
            Refusal::BundleNotNewer
            | Refusal::BundleGap
            | Refusal::BundleWrongDoor
            | Refusal::BundleBadSignature
            | Refusal::BundleTimeAhead
            | Refusal::BundleVersionJump => Self::UpdateRefused,
            _ => Self::ProtocolError,
        }
    }
}

impl KeywayError {
    /// An inner failure a person cannot act on: logged here, shown as "something went wrong".
    pub fn internal(detail: impl Into<String>) -> Self {
        let detail = detail.into();
        tracing::warn!(%detail, "internal failure reported to the app");
        Self::Internal { detail }
    }

    /// Maps a backend failure to what the app shows. The only place backend codes are read.
    pub fn from_api(e: ApiError) -> Self {
        let at = |name: &str| Timestamp(e.detail_i64(name).and_then(|v| u32::try_from(v).ok()).unwrap_or(0));
        match &e {
            ApiError::Offline => Self::Offline,
            ApiError::Insecure => Self::InsecureConnection,
            ApiError::Config(problem) => Self::InvalidConfiguration { problem: problem.clone() },
            ApiError::ServerFailed { .. } => Self::ServiceUnavailable,
            ApiError::BadResponse(what) => Self::internal(format!("unexpected answer: {what}")),
            ApiError::Rejected { code, .. } => match code.as_str() {
                "unauthenticated" | "invalid_refresh_token" => Self::SessionEnded,
                "refresh_token_reused" => Self::SessionEnded,
                "invalid_identifier" => Self::InvalidAddress { problem: AddressProblem::NotAccepted },
                "code_wrong" => Self::CodeWrong {
                    attempts_left: e.detail_i64("attempts_left").and_then(|v| i32::try_from(v).ok()).unwrap_or(0),
                },
                "code_expired" => Self::CodeExpired,
                "too_many_attempts" | "rate_limited" => Self::TooManyAttempts { retry_at: at("retry_at") },
                "resend_too_soon" => Self::ResendTooSoon { retry_at: at("retry_at") },
                "invitation_not_found" => Self::InvitationNotFound,
                "invitation_expired" => Self::InvitationExpired,
                "invitation_superseded" => Self::InvitationSuperseded,
                "invitation_cancelled" => Self::InvitationCancelled,
                "invitation_already_used" => Self::InvitationAlreadyUsed,
                "key_not_shareable" => Self::KeyNotShareable,
                // The service did not accept this device's signature: its key is not the
                // one the session was opened with (restored from a backup, replaced).
                "device_proof_invalid" => Self::DeviceKeyUnavailable,
                "key_revoked" => Self::KeyRevoked,
                "access_suspended" => Self::AccessSuspended,
                "key_expired" => Self::KeyExpired { expired_at: None },
                "key_not_yet_valid" => Self::KeyNotYetValid { starts_at: at("starts_at") },
                "share_not_found" => Self::ShareNotFound,
                "share_revoked" => Self::ShareRevoked,
                "share_expired" => Self::ShareExpired,
                "share_already_redeemed" => Self::ShareAlreadyRedeemed,
                "share_wrong_recipient" => Self::ShareWrongRecipient,
                "door_online" => Self::DoorOnline,
                "door_up_to_date" => Self::DoorUpToDate,
                // The service's clock is being checked: it signs nothing for a while.
                "signing_clock_unsure" => Self::ServiceUnavailable,
                other => Self::internal(format!("unexpected answer: {other}")),
            },
        }
    }
}

impl From<ApiError> for KeywayError {
    fn from(e: ApiError) -> Self {
        Self::from_api(e)
    }
}

impl From<ConfigError> for KeywayError {
    fn from(problem: ConfigError) -> Self {
        Self::InvalidConfiguration { problem }
    }
}

impl From<CacheError> for KeywayError {
    fn from(e: CacheError) -> Self {
        Self::internal(e.to_string())
    }
}

impl From<AddressProblem> for KeywayError {
    fn from(problem: AddressProblem) -> Self {
        Self::InvalidAddress { problem }
    }
}

impl From<LinkProblem> for KeywayError {
    fn from(problem: LinkProblem) -> Self {
        Self::InvalidLink { problem }
    }
}

impl From<SecureStoreError> for KeywayError {
    fn from(e: SecureStoreError) -> Self {
        match e {
            SecureStoreError::Locked => Self::SecureStoreLocked,
            SecureStoreError::Failed { detail } => Self::internal(format!("secure store: {detail}")),
        }
    }
}

impl From<SignerError> for KeywayError {
    fn from(e: SignerError) -> Self {
        match e {
            SignerError::Unavailable => Self::DeviceKeyUnavailable,
            SignerError::Cancelled => Self::AuthenticationCancelled,
            SignerError::AuthenticationFailed => Self::AuthenticationFailed,
            SignerError::Locked => Self::DeviceLocked,
            SignerError::Other { detail } => Self::internal(format!("device signer: {detail}")),
        }
    }
}

impl From<UnlockError> for KeywayError {
    fn from(e: UnlockError) -> Self {
        match e {
            UnlockError::BluetoothOff => Self::BluetoothOff,
            UnlockError::PermissionMissing => Self::BluetoothPermissionMissing,
            UnlockError::LocationServicesOff => Self::LocationServicesOff,
            UnlockError::BluetoothUnavailable => Self::BluetoothUnavailable,
            UnlockError::DoorNotInRange => Self::DoorNotInRange,
            UnlockError::KeyNotYetValid { starts_at } => Self::KeyNotYetValid { starts_at: Timestamp(starts_at) },
            UnlockError::KeyExpired { expired_at } => Self::KeyExpired { expired_at: Some(Timestamp(expired_at)) },
            UnlockError::KeyRevoked => Self::KeyRevoked,
            UnlockError::LockRefused { reason } => Self::LockRefused { reason: LockRefusal::from_refusal(reason) },
            UnlockError::Timeout { phase } => Self::LockTimedOut { phase },
            UnlockError::ConnectionLost { phase } => Self::ConnectionLost { phase },
            UnlockError::UntrustedLock => Self::UntrustedLock,
            UnlockError::LockClockWrong { lock_clock } => Self::LockClockWrong { lock_time: Timestamp(lock_clock) },
            UnlockError::Cancelled => Self::Cancelled,
            UnlockError::Signer(s) => s.into(),
            UnlockError::Radio(detail) => {
                tracing::warn!(%detail, "the radio failed");
                Self::BluetoothFailed { detail }
            }
        }
    }
}

/// The core's result type.
pub type Result<T, E = KeywayError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_message_is_empty_or_a_field_dump() {
        let samples = [
            KeywayError::CodeWrong { attempts_left: 4 },
            KeywayError::KeyNotYetValid { starts_at: Timestamp(1_796_479_380) },
            KeywayError::LockRefused { reason: LockRefusal::WrongDoor },
            KeywayError::LockTimedOut { phase: UnlockPhase::Handshake },
            KeywayError::InvalidAddress { problem: AddressProblem::InvalidPhone },
            KeywayError::InvalidLink { problem: LinkProblem::Incomplete },
            KeywayError::Internal { detail: "sqlite: disk I/O error".into() },
        ];
        for e in samples {
            let text = e.to_string();
            assert!(!text.is_empty() && !text.contains('=') && !text.contains('{'), "{text}");
            assert!(!text.contains("sqlite"), "support details stay out of the sentence: {text}");
        }
        assert_eq!(
            KeywayError::KeyNotYetValid { starts_at: Timestamp(1_796_479_380) }.to_string(),
            "this key is not valid until 2026-12-05 14:03 UTC"
        );
    }

    #[test]
    fn a_lock_refusing_a_bundle_beyond_its_bounds_is_an_update_refusal() {
        for reason in [Refusal::BundleTimeAhead, Refusal::BundleVersionJump, Refusal::BundleGap] {
            assert_eq!(LockRefusal::from_refusal(reason), LockRefusal::UpdateRefused, "{reason:?}");
        }
        assert_eq!(LockRefusal::from_refusal(Refusal::StorageFailed), LockRefusal::LockStorageFailed);
    }
}
