//! The public error set: what Swift and Kotlin catch. Every variant says what the app
//! should do, and carries the facts the screen needs (attempts left, retry time, start
//! time, the lock's reason). The core's rich errors are mapped here, in one function
//! ([`KeywayError::from_core`]), which also decides what is logged. No variant carries a
//! secret: the core's errors hold none, and the `detail` strings are for support only.

use keyway_core::Error as CoreError;
use keyway_core::address::AddressError;
use keyway_core::ble::{UnlockError, UnlockPhase as CorePhase};
use keyway_core::links::LinkError;
use keyway_core::secure_store::SecureStoreError as CoreStoreError;
use keyway_core::signer::SignerError as CoreSignerError;
use keyway_protocol::Refusal;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a call failed, and what to show. Kotlin: `KeywayException.*`; Swift: `KeywayError.*`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum KeywayError {
    /// No one is signed in: show the sign-in screen.
    #[error("sign in first")]
    NotSignedIn,
    /// The sign-in ended (signed out elsewhere, or revoked for safety): show the sign-in screen.
    #[error("you were signed out; sign in again")]
    SessionEnded,
    /// The service could not be reached: say so; keys and doors keep working offline.
    #[error("you are offline")]
    Offline,
    /// The service failed: ask the person to try again later.
    #[error("the service is not available right now")]
    ServiceUnavailable,
    /// The service's identity could not be verified (unknown authority, expired or
    /// wrong-host certificate, or a network that intercepts the connection); nothing was
    /// sent. Say "cannot reach Keyway securely" (suggest another network); unlike
    /// `Offline`, retrying on this network will not help. Keys keep working offline.
    #[error("cannot reach Keyway securely")]
    InsecureConnection,
    /// The app's configuration is wrong (an `http://` service URL, a trusted root that is
    /// not a certificate, the Android verifier not initialised): a developer's mistake.
    #[error("Keyway is misconfigured: {detail}")]
    InvalidConfiguration {
        /// What is wrong, for the developer.
        detail: String,
    },
    /// The email or phone number was refused: show `problem` under the field.
    #[error("this email address or phone number is not valid")]
    InvalidAddress {
        /// What is wrong with it.
        problem: AddressProblem,
    },
    /// What was typed is not a 6-digit code (nothing was sent): ask for the 6 digits.
    #[error("enter the 6-digit code")]
    CodeMalformed,
    /// The code is wrong: let the person try again, showing how many tries remain.
    #[error("the code is not right; {attempts_left} attempts left")]
    CodeWrong {
        /// Guesses left for this code.
        attempts_left: u32,
    },
    /// The code has expired: offer "send a new code".
    #[error("the code has expired")]
    CodeExpired,
    /// Too many wrong codes or requests: disable the form until `retry_at`.
    #[error("too many attempts; try again later")]
    TooManyAttempts {
        /// When the next attempt is allowed.
        retry_at: SystemTime,
    },
    /// A code was sent moments ago: keep "send again" disabled until `retry_at`.
    #[error("a code was just sent")]
    ResendTooSoon {
        /// When a resend is allowed.
        retry_at: SystemTime,
    },
    /// The link is not one this app accepts: show `problem`; do not open it.
    #[error("this link cannot be used")]
    InvalidLink {
        /// What is wrong with it.
        problem: LinkProblem,
    },
    /// The invitation does not exist (mistyped or deleted): ask the administrator for a new one.
    #[error("this invitation link is not valid")]
    InvitationNotFound,
    /// The invitation's 24 hours have passed: ask the administrator to resend it.
    #[error("this invitation has expired")]
    InvitationExpired,
    /// A newer invitation replaced this one: use the link in the most recent email.
    #[error("a newer invitation was sent")]
    InvitationSuperseded,
    /// The administrator cancelled the invitation: nothing to do but contact them.
    #[error("this invitation was cancelled")]
    InvitationCancelled,
    /// The invitation was already accepted: offer sign-in instead.
    #[error("this invitation was already accepted")]
    InvitationAlreadyUsed,
    /// The key cannot be shared: hide or disable "share".
    #[error("this key cannot be shared")]
    KeyNotShareable,
    /// The key was revoked: show it as revoked; the door will not open.
    #[error("this key was revoked")]
    KeyRevoked,
    /// The key has ended: show it as expired.
    #[error("this key has expired")]
    KeyExpired {
        /// When it ended, when known.
        expired_at: Option<SystemTime>,
    },
    /// The key is not valid yet: show when it starts.
    #[error("this key is not valid yet")]
    KeyNotYetValid {
        /// When access starts.
        starts_at: SystemTime,
    },
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
    #[error("unknown door")]
    UnknownDoor,
    /// The door is online and needs no door sync: hide "sync" for it.
    #[error("this door is online and needs no door sync")]
    DoorOnline,
    /// The door already runs the newest update: nothing to carry.
    #[error("this door is already up to date")]
    DoorUpToDate,
    /// Bluetooth is off: ask the person to switch it on.
    #[error("Bluetooth is off")]
    BluetoothOff,
    /// The app may not use Bluetooth: send the person to the permission settings.
    #[error("Bluetooth permission is missing")]
    BluetoothPermissionMissing,
    /// This device has no usable Bluetooth LE: the door cannot be opened from it.
    #[error("Bluetooth LE is not available on this device")]
    BluetoothUnavailable,
    /// The lock was not heard: ask the person to move closer and try again.
    #[error("the door is not in range")]
    DoorNotInRange,
    /// The lock refused for another reason: show `reason`; some reasons need support.
    #[error("the lock refused: {reason:?}")]
    LockRefused {
        /// The lock's reason.
        reason: LockRefusal,
    },
    /// The lock stopped answering during `phase`: ask the person to try again, closer.
    #[error("the lock did not answer in time ({phase:?})")]
    LockTimedOut {
        /// Where it stopped.
        phase: UnlockPhase,
    },
    /// The Bluetooth link dropped during `phase` (after one retry): ask to try again.
    #[error("the connection to the lock was lost ({phase:?})")]
    ConnectionLost {
        /// Where it dropped.
        phase: UnlockPhase,
    },
    /// Something answered that is not the door's lock: do not retry automatically; report it.
    #[error("the lock's answer could not be trusted")]
    UntrustedLock,
    /// The device key is gone or invalidated (e.g. biometrics changed): sign in again.
    #[error("the device key is unavailable")]
    DeviceKeyUnavailable,
    /// The person cancelled the authentication prompt: do nothing.
    #[error("authentication was cancelled")]
    AuthenticationCancelled,
    /// The secure store is locked (device not unlocked since boot): ask to unlock the device.
    #[error("the secure store is locked")]
    SecureStoreLocked,
    /// The radio failed in a way it did not explain: offer "try again".
    #[error("Bluetooth failed")]
    BluetoothFailed {
        /// For logs and support; never shown as is.
        detail: String,
    },
    /// Something inside the app failed (storage, an answer it does not understand): offer
    /// "try again", and an update if it persists.
    #[error("something went wrong")]
    Internal {
        /// For logs and support; never shown as is.
        detail: String,
    },
}

/// What is wrong with a sign-in address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AddressProblem {
    /// Nothing was entered.
    Empty,
    /// It looks like an email but is not one.
    InvalidEmail,
    /// It looks like a phone number but lacks the country code or digits.
    InvalidPhone,
    /// The service does not accept it.
    NotAccepted,
}

/// What is wrong with a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LinkProblem {
    /// Not a link at all.
    NotALink,
    /// Not `https`.
    NotHttps,
    /// From a host this app does not trust.
    UntrustedHost,
    /// The right host, but not an invitation or shared-key link (or the wrong kind here).
    WrongKind,
    /// Cut off or damaged when copied: open it from the original message.
    Incomplete,
}

/// Why a lock refused, when it is not about the key's window or revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LockRefusal {
    /// The key is for another door.
    WrongDoor,
    /// The lock does not trust the key's issuer (the lock needs a door sync or re-fitting).
    UnknownIssuer,
    /// The key or the device's signature did not verify.
    InvalidKey,
    /// The lock speaks another protocol version (the app or the lock needs an update).
    UnsupportedVersion,
    /// The lock could not store the change.
    LockStorageFailed,
    /// The lock refused the door-sync update it was given.
    UpdateRefused,
    /// The exchange went wrong (try again).
    ProtocolError,
}

/// The phases of an unlock or door sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum UnlockPhase {
    /// Looking for the lock.
    Scan,
    /// Connecting to it.
    Connect,
    /// The handshake.
    Handshake,
    /// Handing over the door-sync update.
    DoorSync,
}

/// Unix seconds as the platform's time type (`java.time.Instant`, `Date`).
pub(crate) fn time(seconds: u32) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::from(seconds))
}

/// Back to Unix seconds (before 1970 → 0, past 2106 → the last second).
pub(crate) fn unix_seconds(t: SystemTime) -> u32 {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    u32::try_from(secs).unwrap_or(u32::MAX)
}

impl From<CorePhase> for UnlockPhase {
    fn from(p: CorePhase) -> Self {
        match p {
            CorePhase::Scan => Self::Scan,
            CorePhase::Connect => Self::Connect,
            CorePhase::Handshake => Self::Handshake,
            CorePhase::DoorSync => Self::DoorSync,
        }
    }
}

impl KeywayError {
    /// The one mapping from the core's errors to what the app sees. Failures a person
    /// cannot act on are logged here (without personal data) and reach the app as
    /// `Internal` or `BluetoothFailed`.
    pub fn from_core(e: CoreError) -> Self {
        match e {
            CoreError::NotSignedIn => Self::NotSignedIn,
            CoreError::SessionEnded => Self::SessionEnded,
            CoreError::Offline => Self::Offline,
            CoreError::ServiceUnavailable => Self::ServiceUnavailable,
            CoreError::InsecureConnection => Self::InsecureConnection,
            CoreError::Configuration(c) => Self::InvalidConfiguration { detail: c.to_string() },
            CoreError::Unexpected { code } => internal(format!("unexpected answer: {code}")),
            CoreError::InvalidAddress(a) => Self::InvalidAddress {
                problem: match a {
                    AddressError::Empty => AddressProblem::Empty,
                    AddressError::InvalidEmail => AddressProblem::InvalidEmail,
                    AddressError::InvalidPhone => AddressProblem::InvalidPhone,
                    AddressError::NotAccepted => AddressProblem::NotAccepted,
                },
            },
            CoreError::CodeMalformed => Self::CodeMalformed,
            CoreError::CodeWrong { attempts_left } => Self::CodeWrong { attempts_left },
            CoreError::CodeExpired => Self::CodeExpired,
            CoreError::TooManyAttempts { retry_at } => Self::TooManyAttempts { retry_at: time(retry_at) },
            CoreError::ResendTooSoon { retry_at } => Self::ResendTooSoon { retry_at: time(retry_at) },
            CoreError::InvalidLink(l) => Self::InvalidLink {
                problem: match l {
                    LinkError::NotALink => LinkProblem::NotALink,
                    LinkError::NotHttps => LinkProblem::NotHttps,
                    LinkError::UntrustedHost => LinkProblem::UntrustedHost,
                    LinkError::UnknownPath => LinkProblem::WrongKind,
                    LinkError::BadToken => LinkProblem::Incomplete,
                },
            },
            CoreError::InvitationNotFound => Self::InvitationNotFound,
            CoreError::InvitationExpired => Self::InvitationExpired,
            CoreError::InvitationSuperseded => Self::InvitationSuperseded,
            CoreError::InvitationCancelled => Self::InvitationCancelled,
            CoreError::InvitationAlreadyUsed => Self::InvitationAlreadyUsed,
            CoreError::KeyNotShareable => Self::KeyNotShareable,
            CoreError::KeyRevoked => Self::KeyRevoked,
            CoreError::KeyExpired => Self::KeyExpired { expired_at: None },
            CoreError::KeyNotYetValid { starts_at } => Self::KeyNotYetValid { starts_at: time(starts_at) },
            CoreError::ShareRevoked => Self::ShareRevoked,
            CoreError::ShareExpired => Self::ShareExpired,
            CoreError::ShareAlreadyRedeemed => Self::ShareAlreadyRedeemed,
            CoreError::ShareWrongRecipient => Self::ShareWrongRecipient,
            CoreError::CredentialMissing => Self::CredentialMissing,
            CoreError::NoKeyForDoor => Self::NoKeyForDoor,
            CoreError::UnknownDoor => Self::UnknownDoor,
            CoreError::DoorOnline => Self::DoorOnline,
            CoreError::DoorUpToDate => Self::DoorUpToDate,
            CoreError::Unlock(u) => Self::from_unlock(u),
            CoreError::DeviceKey(s) => Self::from_signer(s),
            CoreError::SecureStore(CoreStoreError::Locked) => Self::SecureStoreLocked,
            CoreError::SecureStore(CoreStoreError::Failed(detail)) => internal(format!("secure store: {detail}")),
            CoreError::Storage(detail) => internal(format!("key cache: {detail}")),
        }
    }

    fn from_unlock(e: UnlockError) -> Self {
        match e {
            UnlockError::BluetoothOff => Self::BluetoothOff,
            UnlockError::PermissionMissing => Self::BluetoothPermissionMissing,
            UnlockError::BluetoothUnavailable => Self::BluetoothUnavailable,
            UnlockError::DoorNotInRange => Self::DoorNotInRange,
            UnlockError::KeyNotYetValid { starts_at } => Self::KeyNotYetValid { starts_at: time(starts_at) },
            UnlockError::KeyExpired { expired_at } => Self::KeyExpired { expired_at: Some(time(expired_at)) },
            UnlockError::KeyRevoked => Self::KeyRevoked,
            UnlockError::LockRefused { reason } => Self::LockRefused { reason: refusal(reason) },
            UnlockError::Timeout { phase } => Self::LockTimedOut { phase: phase.into() },
            UnlockError::ConnectionLost { phase } => Self::ConnectionLost { phase: phase.into() },
            UnlockError::UntrustedLock => Self::UntrustedLock,
            UnlockError::Signer(s) => Self::from_signer(s),
            UnlockError::Radio(detail) => {
                tracing::warn!(%detail, "the radio failed");
                Self::BluetoothFailed { detail }
            }
        }
    }

    fn from_signer(e: CoreSignerError) -> Self {
        match e {
            CoreSignerError::Unavailable => Self::DeviceKeyUnavailable,
            CoreSignerError::Cancelled => Self::AuthenticationCancelled,
            CoreSignerError::InvalidOutput => internal("the device signer returned invalid output".into()),
            CoreSignerError::Other(detail) => internal(format!("device signer: {detail}")),
        }
    }
}

fn internal(detail: String) -> KeywayError {
    tracing::warn!(%detail, "internal failure reported to the app");
    KeywayError::Internal { detail }
}

/// The lock's reasons a person can act on differently; the key-window and revocation
/// reasons never get here (the core turns them into `KeyExpired`, `KeyRevoked`, …).
fn refusal(reason: Refusal) -> LockRefusal {
    match reason {
        Refusal::WrongDoor => LockRefusal::WrongDoor,
        Refusal::UnknownIssuer => LockRefusal::UnknownIssuer,
        Refusal::BadCredentialSignature | Refusal::BadDeviceSignature | Refusal::DecryptFailed => {
            LockRefusal::InvalidKey
        }
        Refusal::UnsupportedVersion => LockRefusal::UnsupportedVersion,
        Refusal::StorageFailed => LockRefusal::LockStorageFailed,
        Refusal::BundleNotNewer | Refusal::BundleGap | Refusal::BundleWrongDoor | Refusal::BundleBadSignature => {
            LockRefusal::UpdateRefused
        }
        _ => LockRefusal::ProtocolError,
    }
}

impl From<CoreError> for KeywayError {
    fn from(e: CoreError) -> Self {
        Self::from_core(e)
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeywayError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        internal(format!("unexpected error from the app's code: {}", e.reason))
    }
}

/// The facade's result type.
pub type Result<T, E = KeywayError> = std::result::Result<T, E>;
