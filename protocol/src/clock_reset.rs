//! The signed clock reset: the trusted path that sets one lock's clock when it ran ahead
//! (an RTC that once read a year ahead and was saved into the floor) or fell far behind.
//! The backend signs it with the site's issuer key for one door and one advertised lock
//! nonce; a phone carries it to the lock in the clear, like a request, since a lock whose
//! clock is wrong refuses every key and so opens no secure channel.
//!
//! ```text
//! reset:   format u8 | door [8] | issuer key id [8] | lock nonce [8] | time u32 | signature [64]
//! message: 0x06 | protocol version | reset                                  (phone → lock)
//! reply:   0x07 | protocol version | status u8 | receipt without events     (lock → phone)
//! ```
//! The nonce makes a reset single use and good for at most the lock's nonce window; the
//! door id keeps it to one lock. A refused reset is answered by a plaintext refusal.

use crate::codec::{DecodeError, Reader, Writer, read_signed, with_signature};
use crate::credential::UnixSeconds;
use crate::ids::{DoorId, KeyId, LockNonce};
use crate::messages::{PROTOCOL_VERSION, PlainRefusal, kind};
use crate::receipt::Receipt;
use crate::refusal::Refusal;

/// The clock-reset format version.
pub const CLOCK_RESET_FORMAT: u8 = 1;
/// Domain-separation prefix of the issuer's signature over a clock reset.
pub(crate) const CLOCK_RESET_CONTEXT: &[u8] = b"keyway/clock-reset/v1\0";
/// The length of a signed clock reset.
pub const CLOCK_RESET_LEN: usize = 1 + DoorId::LEN + 8 + LockNonce::LEN + 4 + 64;

/// What a clock reset states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockResetBody {
    /// The one door whose lock may apply it.
    pub door: DoorId,
    /// The issuer key that signs it.
    pub issuer: KeyId,
    /// The nonce the lock advertised when the reset was asked for.
    pub nonce: LockNonce,
    /// The time to set the lock's clock (and floor) to: the backend's clock at signing.
    pub time: UnixSeconds,
}

/// A signed clock reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReset {
    /// What it states.
    pub body: ClockResetBody,
    /// The issuer's ECDSA P-256 signature over `"keyway/clock-reset/v1\0" ‖ body`.
    pub signature: [u8; 64],
}

impl ClockResetBody {
    /// The bytes the issuer signs (without the context prefix).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(CLOCK_RESET_LEN - 64);
        w.u8(CLOCK_RESET_FORMAT).put(&self.door.0).put(&self.issuer.0).put(&self.nonce.0).u32(self.time);
        w.into_bytes()
    }

    /// The message the issuer's signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        [CLOCK_RESET_CONTEXT, &self.to_bytes()].concat()
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let format = r.u8("clock reset format")?;
        if format != CLOCK_RESET_FORMAT {
            return Err(DecodeError::UnsupportedVersion { found: format });
        }
        Ok(Self {
            door: DoorId(r.array("door id")?),
            issuer: KeyId(r.array("issuer key id")?),
            nonce: LockNonce(r.array("lock nonce")?),
            time: r.u32("reset time")?,
        })
    }
}

impl ClockReset {
    /// The signed form: body then signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        with_signature(self.body.to_bytes(), &self.signature)
    }

    /// Parses the signed form (the lock checks the signature against its trust anchors).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (body, signature) = read_signed(bytes, ClockResetBody::read, "clock reset signature")?;
        Ok(Self { body, signature })
    }

    /// The message a phone writes to the lock.
    pub fn to_message(&self) -> Vec<u8> {
        [&[kind::CLOCK_RESET, PROTOCOL_VERSION][..], &self.to_bytes()].concat()
    }

    /// Reads a phone's message: the protocol version as found, and the reset.
    #[cfg(feature = "lock")]
    pub(crate) fn from_message(message: &[u8]) -> Result<(u8, Self), DecodeError> {
        let mut r = Reader::new(message);
        let t = r.u8("message type")?;
        if t != kind::CLOCK_RESET {
            return Err(DecodeError::UnexpectedType { found: t });
        }
        let version = r.u8("protocol version")?;
        Ok((version, Self::from_bytes(r.rest())?))
    }
}

/// The lock's answer to a reset it verified: the outcome and a receipt it signed after
/// it, carrying its clock and bundle version but no audit events (this travels in the
/// clear). The backend checks the receipt's signature with the lock's signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockResetReply {
    /// `Ok` if the clock was set; otherwise why not (`StorageFailed`).
    pub status: Result<(), Refusal>,
    /// The lock's signed receipt.
    pub receipt: Receipt,
}

impl ClockResetReply {
    /// The wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let status = self.status.err().map_or(0, Refusal::code);
        [&[kind::CLOCK_RESET_REPLY, PROTOCOL_VERSION, status][..], &self.receipt.to_bytes()].concat()
    }

    /// Parses the wire form (check the receipt with [`crate::issuer::verify_receipt`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let t = r.u8("message type")?;
        if t != kind::CLOCK_RESET_REPLY {
            return Err(DecodeError::UnexpectedType { found: t });
        }
        let version = r.u8("protocol version")?;
        if version != PROTOCOL_VERSION {
            return Err(DecodeError::UnsupportedVersion { found: version });
        }
        let status = match r.u8("status")? {
            0 => Ok(()),
            code => Err(Refusal::from_code(code).ok_or(DecodeError::Invalid { field: "status" })?),
        };
        Ok(Self { status, receipt: Receipt::from_bytes(r.rest())? })
    }
}

/// A lock's answer to a reset, as the phone reads it: the reply (check its receipt with the
/// lock's signing key), or the reason of a plaintext refusal (unauthenticated: anyone in
/// radio range can send one).
pub fn read_answer(bytes: &[u8]) -> Result<Result<ClockResetReply, Refusal>, DecodeError> {
    match bytes.first() {
        Some(&kind::REFUSAL) => Ok(Err(PlainRefusal::from_bytes(bytes)?.reason)),
        _ => ClockResetReply::from_bytes(bytes).map(Ok),
    }
}
