//! Why a lock refuses: one reason per rule, each with a stable wire code.

use thiserror::Error;

/// Why a lock refused a request. Carried on the wire as one byte, so a phone can show
/// the person the real reason (expired, revoked, wrong door…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
#[repr(u8)]
pub enum Refusal {
    /// The request named a lock nonce that is not current (already used, or the
    /// advertisement was stale). The phone retries with the fresh nonce it is given.
    #[error("the lock nonce was stale")]
    StaleNonce = 1,
    /// The request uses a protocol version the lock does not speak.
    #[error("unsupported protocol version")]
    UnsupportedVersion = 2,
    /// The request could not be parsed.
    #[error("malformed request")]
    Malformed = 3,
    /// The request could not be decrypted or authenticated.
    #[error("the request failed authentication")]
    DecryptFailed = 4,
    /// The request or credential is for a different door.
    #[error("the credential does not open this door")]
    WrongDoor = 5,
    /// The credential's issuer is not one of the lock's trust anchors.
    #[error("unknown credential issuer")]
    UnknownIssuer = 6,
    /// The issuer's signature on the credential does not verify.
    #[error("the credential signature is invalid")]
    BadCredentialSignature = 7,
    /// The device's signature over the handshake does not verify with the credential's key.
    #[error("the device signature is invalid")]
    BadDeviceSignature = 8,
    /// The credential's window has not started by the lock's clock.
    #[error("the key is not valid yet")]
    NotYetValid = 9,
    /// The credential's window has ended by the lock's clock.
    #[error("the key has expired")]
    Expired = 10,
    /// The credential has been revoked.
    #[error("the key has been revoked")]
    Revoked = 11,
    /// The guest key's parent credential has been revoked.
    #[error("the key it was shared from has been revoked")]
    ParentRevoked = 12,
    /// The fast-unlock ticket is unknown (evicted, used, or the lock was reset).
    #[error("unknown fast-unlock ticket")]
    UnknownTicket = 13,
    /// Fast unlock is switched off by the lock's configuration.
    #[error("fast unlock is disabled on this lock")]
    FastUnlockDisabled = 14,
    /// The message arrived in a state where it is not allowed.
    #[error("unexpected message")]
    UnexpectedMessage = 15,
    /// The door-sync bundle is not newer than what the lock has.
    #[error("the bundle is not newer than the lock's")]
    BundleNotNewer = 16,
    /// The bundle is a delta from a version newer than the lock's: revocations would be missed.
    #[error("the bundle does not follow the lock's version")]
    BundleGap = 17,
    /// The bundle is for another door.
    #[error("the bundle is for another door")]
    BundleWrongDoor = 18,
    /// The bundle's signature does not verify with any trust anchor.
    #[error("the bundle signature is invalid")]
    BundleBadSignature = 19,
    /// The lock could not persist a change; nothing was applied.
    #[error("the lock could not store the change")]
    StorageFailed = 20,
    /// The bundle's signed time is further ahead of the lock's clock than
    /// [`crate::bundle::MAX_BUNDLE_TIME_AHEAD_SECS`]: a backend clock glitch, or a lock
    /// whose clock is far behind (a signed clock reset brings it back).
    #[error("the bundle's signed time is too far ahead of the lock's clock")]
    BundleTimeAhead = 21,
    /// The bundle's version is more than [`crate::bundle::MAX_BUNDLE_VERSION_STEP`] above
    /// the lock's.
    #[error("the bundle's version jumps too far ahead")]
    BundleVersionJump = 22,
}

impl Refusal {
    /// Every reason, in code order.
    pub const ALL: [Refusal; 22] = [
        Self::StaleNonce,
        Self::UnsupportedVersion,
        Self::Malformed,
        Self::DecryptFailed,
        Self::WrongDoor,
        Self::UnknownIssuer,
        Self::BadCredentialSignature,
        Self::BadDeviceSignature,
        Self::NotYetValid,
        Self::Expired,
        Self::Revoked,
        Self::ParentRevoked,
        Self::UnknownTicket,
        Self::FastUnlockDisabled,
        Self::UnexpectedMessage,
        Self::BundleNotNewer,
        Self::BundleGap,
        Self::BundleWrongDoor,
        Self::BundleBadSignature,
        Self::StorageFailed,
        Self::BundleTimeAhead,
        Self::BundleVersionJump,
    ];

    /// The wire code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The reason for a wire code, if it is one.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.code() == code)
    }
}
