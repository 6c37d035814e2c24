//! The handshake messages on the wire. Headers travel in the clear and are authenticated
//! as AEAD associated data; payloads are encrypted. See `docs/protocol.md` §5.
// Parsers of requests and writers of responses are the lock's half.
#![cfg_attr(not(feature = "lock"), allow(dead_code))]

use crate::codec::{DecodeError, Reader, Writer};
use crate::credential::UnixSeconds;
use crate::hpke::PUBLIC_KEY_LEN;
use crate::ids::{DoorId, LockNonce, TicketId};
use crate::refusal::Refusal;

/// The handshake protocol version this crate speaks.
pub const PROTOCOL_VERSION: u8 = 1;

/// Message-type bytes.
pub(crate) mod kind {
    pub const STANDARD_REQUEST: u8 = 0x01;
    pub const STANDARD_RESPONSE: u8 = 0x02;
    pub const FAST_REQUEST: u8 = 0x03;
    pub const FAST_RESPONSE: u8 = 0x04;
    pub const SEALED: u8 = 0x05;
    pub const CLOCK_RESET: u8 = 0x06;
    pub const CLOCK_RESET_REPLY: u8 = 0x07;
    pub const REFUSAL: u8 = 0x7f;
}

/// Request flag: the phone asks for a fast-unlock ticket.
pub(crate) const FLAG_WANT_TICKET: u8 = 0x01;

/// What the phone asks the lock to do once the handshake succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Command {
    /// Open the door.
    Unlock = 1,
    /// Do not open; the phone only wants the secure channel, to deliver a door-sync bundle.
    SyncOnly = 2,
}

impl Command {
    pub(crate) fn from_byte(b: u8) -> Result<Self, DecodeError> {
        match b {
            1 => Ok(Self::Unlock),
            2 => Ok(Self::SyncOnly),
            _ => Err(DecodeError::Invalid { field: "command" }),
        }
    }
}

/// The clear header of a standard request: `type | version | flags | door | lock nonce | enc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StandardHeader {
    pub version: u8,
    pub flags: u8,
    pub door: DoorId,
    pub nonce: LockNonce,
    pub enc: [u8; PUBLIC_KEY_LEN],
}

pub(crate) const STANDARD_HEADER_LEN: usize = 3 + DoorId::LEN + LockNonce::LEN + PUBLIC_KEY_LEN;

impl StandardHeader {
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(STANDARD_HEADER_LEN);
        w.u8(kind::STANDARD_REQUEST)
            .u8(self.version)
            .u8(self.flags)
            .put(&self.door.0)
            .put(&self.nonce.0)
            .put(&self.enc);
        w.into_bytes()
    }

    /// Splits a request into its header and the ciphertext behind it. The version is
    /// returned as found: the lock decides whether it speaks it.
    pub(crate) fn parse(bytes: &[u8]) -> Result<(Self, &[u8]), DecodeError> {
        let mut r = Reader::new(bytes);
        let t = r.u8("message type")?;
        if t != kind::STANDARD_REQUEST {
            return Err(DecodeError::UnexpectedType { found: t });
        }
        let version = r.u8("protocol version")?;
        let flags = r.u8("request flags")?;
        let door = DoorId(r.array("door id")?);
        let nonce = LockNonce(r.array("lock nonce")?);
        let enc = r.array("ephemeral public key")?;
        Ok((Self { version, flags, door, nonce, enc }, r.rest()))
    }
}

/// The clear header of a fast request: `type | version | flags | door | lock nonce | ticket | phone nonce`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FastHeader {
    pub version: u8,
    pub flags: u8,
    pub door: DoorId,
    pub nonce: LockNonce,
    pub ticket: TicketId,
    pub phone_nonce: [u8; 16],
}

pub(crate) const FAST_HEADER_LEN: usize = 3 + DoorId::LEN + LockNonce::LEN + TicketId::LEN + 16;

impl FastHeader {
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(FAST_HEADER_LEN);
        w.u8(kind::FAST_REQUEST)
            .u8(self.version)
            .u8(self.flags)
            .put(&self.door.0)
            .put(&self.nonce.0)
            .put(&self.ticket.0)
            .put(&self.phone_nonce);
        w.into_bytes()
    }

    pub(crate) fn parse(bytes: &[u8]) -> Result<(Self, &[u8]), DecodeError> {
        let mut r = Reader::new(bytes);
        let t = r.u8("message type")?;
        if t != kind::FAST_REQUEST {
            return Err(DecodeError::UnexpectedType { found: t });
        }
        let version = r.u8("protocol version")?;
        let flags = r.u8("request flags")?;
        let door = DoorId(r.array("door id")?);
        let nonce = LockNonce(r.array("lock nonce")?);
        let ticket = TicketId(r.array("ticket id")?);
        let phone_nonce = r.array("phone nonce")?;
        Ok((Self { version, flags, door, nonce, ticket, phone_nonce }, r.rest()))
    }
}

/// The lock's answer inside an encrypted response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResponsePayload {
    pub outcome: Result<(), Refusal>,
    pub lock_clock: UnixSeconds,
    pub bundle_version: u32,
    pub open_ms: u16,
    pub ticket: Option<TicketId>,
}

impl ResponsePayload {
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(30);
        match self.outcome {
            Ok(()) => w.u8(0).u8(0),
            Err(reason) => w.u8(1).u8(reason.code()),
        };
        w.u32(self.lock_clock).u32(self.bundle_version).u16(self.open_ms);
        match &self.ticket {
            Some(t) => w.u8(1).put(&t.0),
            None => w.u8(0),
        };
        w.into_bytes()
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let granted = !r.bool("outcome")?;
        let code = r.u8("refusal reason")?;
        let outcome = if granted {
            if code != 0 {
                return Err(DecodeError::Invalid { field: "refusal reason" });
            }
            Ok(())
        } else {
            Err(Refusal::from_code(code).ok_or(DecodeError::Invalid { field: "refusal reason" })?)
        };
        let lock_clock = r.u32("lock clock")?;
        let bundle_version = r.u32("bundle version")?;
        let open_ms = r.u16("open time")?;
        let ticket = if r.bool("ticket present")? { Some(TicketId(r.array("ticket id")?)) } else { None };
        r.finish()?;
        Ok(Self { outcome, lock_clock, bundle_version, open_ms, ticket })
    }
}

/// An unauthenticated refusal, sent when the lock cannot (yet) share keys with the phone:
/// `type | version | reason | fresh lock nonce`. The phone may retry with the fresh nonce
/// but must treat the reason as a hint, since anyone on the radio could forge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlainRefusal {
    pub reason: Refusal,
    pub fresh_nonce: LockNonce,
}

impl PlainRefusal {
    pub(crate) fn to_bytes(self) -> Vec<u8> {
        let mut w = Writer::with_capacity(11);
        w.u8(kind::REFUSAL).u8(PROTOCOL_VERSION).u8(self.reason.code()).put(&self.fresh_nonce.0);
        w.into_bytes()
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let t = r.u8("message type")?;
        if t != kind::REFUSAL {
            return Err(DecodeError::UnexpectedType { found: t });
        }
        // The refusal's layout is frozen across versions, so a phone can read a refusal
        // from a lock that speaks another version (typically: UnsupportedVersion).
        let _version = r.u8("protocol version")?;
        let reason =
            Refusal::from_code(r.u8("refusal reason")?).ok_or(DecodeError::Invalid { field: "refusal reason" })?;
        let fresh_nonce = LockNonce(r.array("lock nonce")?);
        r.finish()?;
        Ok(Self { reason, fresh_nonce })
    }
}

/// Kinds of message inside the secure channel that follows a successful handshake.
pub(crate) mod sealed_kind {
    /// Phone → lock: a door-sync bundle.
    pub const BUNDLE: u8 = 0x01;
    /// Lock → phone: the outcome of a sync and the signed receipt.
    pub const RECEIPT: u8 = 0x02;
    /// Phone → lock: a receipt with no bundle (collect audit events).
    pub const RECEIPT_REQUEST: u8 = 0x03;
}

#[cfg(test)]
mod tests {
    //! Round trips of the handshake's own layouts.
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn refusal() -> impl Strategy<Value = Refusal> {
        prop::sample::select(Refusal::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn response_payload_round_trips(
            refused in prop::option::of(refusal()),
            lock_clock in any::<u32>(),
            bundle_version in any::<u32>(),
            open_ms in any::<u16>(),
            ticket in prop::option::of(any::<[u8; 16]>()),
        ) {
            let p = ResponsePayload {
                outcome: refused.map_or(Ok(()), Err),
                lock_clock,
                bundle_version,
                open_ms,
                ticket: ticket.map(TicketId),
            };
            prop_assert_eq!(ResponsePayload::from_bytes(&p.to_bytes()).unwrap(), p);
        }

        #[test]
        fn plain_refusal_from_a_lock_of_another_version_is_still_read(reason in refusal(), version in any::<u8>()) {
            let mut bytes = PlainRefusal { reason, fresh_nonce: LockNonce([7; 8]) }.to_bytes();
            bytes[1] = version;
            prop_assert_eq!(PlainRefusal::from_bytes(&bytes).unwrap().reason, reason);
        }

        #[test]
        fn plain_refusal_round_trips(reason in refusal(), nonce in any::<[u8; 8]>()) {
            let r = PlainRefusal { reason, fresh_nonce: LockNonce(nonce) };
            prop_assert_eq!(PlainRefusal::from_bytes(&r.to_bytes()).unwrap(), r);
        }

        #[test]
        fn standard_header_round_trips(
            flags in any::<u8>(), door in any::<[u8; 8]>(), nonce in any::<[u8; 8]>(), x in any::<[u8; 32]>(),
            tail in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut enc = [4u8; PUBLIC_KEY_LEN];
            enc[1..33].copy_from_slice(&x);
            let h = StandardHeader { version: PROTOCOL_VERSION, flags, door: DoorId(door), nonce: LockNonce(nonce), enc };
            let mut bytes = h.to_bytes();
            prop_assert_eq!(bytes.len(), STANDARD_HEADER_LEN);
            bytes.extend_from_slice(&tail);
            let (parsed, rest) = StandardHeader::parse(&bytes).unwrap();
            prop_assert_eq!(parsed, h);
            prop_assert_eq!(rest, &tail[..]);
        }

        #[test]
        fn fast_header_round_trips(
            flags in any::<u8>(), door in any::<[u8; 8]>(), nonce in any::<[u8; 8]>(),
            ticket in any::<[u8; 16]>(), phone_nonce in any::<[u8; 16]>(),
        ) {
            let h = FastHeader {
                version: PROTOCOL_VERSION, flags, door: DoorId(door), nonce: LockNonce(nonce),
                ticket: TicketId(ticket), phone_nonce,
            };
            let bytes = h.to_bytes();
            prop_assert_eq!(bytes.len(), FAST_HEADER_LEN);
            let (parsed, rest) = FastHeader::parse(&bytes).unwrap();
            prop_assert_eq!(parsed, h);
            prop_assert!(rest.is_empty());
        }
    }
}
