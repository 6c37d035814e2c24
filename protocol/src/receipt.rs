//! The lock's receipt for a door sync: signed by the lock, it tells the backend which
//! bundle version the lock runs, the lock's clock, and the audit events it has not yet
//! seen acknowledged.
//!
//! ```text
//! format u8 | door [8] | bundle version u32 | lock clock u32 | more pending u8
//! | event count u16 | events [seq u64 ‖ time u32 ‖ kind u8 ‖ detail u32 ‖ has id u8 ‖ [id 16]] × n
//! | signature [64]
//! ```
//! Events carry the lock's own increasing sequence number: the backend stores each
//! (door, sequence) once, so a receipt delivered twice adds nothing.

use crate::codec::{DecodeError, Reader, Writer, read_signed, with_signature};
use crate::credential::UnixSeconds;
use crate::ids::{CredentialId, DoorId};

/// The receipt format version without keypad events.
pub const RECEIPT_VERSION: u8 = 1;
/// The receipt format version that may also carry the keypad's events (kinds 6–8): a
/// receipt is written in it only when it holds one, so a backend that reads format 1 alone
/// refuses it whole instead of misreading it.
pub const RECEIPT_VERSION_KEYPAD: u8 = 2;
/// Most events one receipt carries; the rest follow in the next receipt.
pub const MAX_RECEIPT_EVENTS: usize = 256;
/// Domain-separation prefix of the lock's signature over a receipt body.
pub(crate) const RECEIPT_CONTEXT: &[u8] = b"keyway/receipt/v1\0";

/// What happened at the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditKind {
    /// A credential opened the door (`fast`: by ticket).
    Granted {
        /// Whether the fast path was used.
        fast: bool,
    },
    /// A request was refused.
    Refused(crate::Refusal),
    /// A bundle was applied.
    BundleApplied {
        /// The version applied.
        version: u32,
    },
    /// Refusals past the lock's per-window budget, counted instead of recorded one by
    /// one: `count` refusals for `reason`, from the event's time and within
    /// [`REFUSAL_WINDOW_SECS`] of it, with no credential id.
    RefusalsCoalesced {
        /// Why they were refused.
        reason: crate::Refusal,
        /// How many (1 to [`MAX_COALESCED_COUNT`]).
        count: u32,
    },
    /// A signed clock reset set the lock's clock (the event's time is the new clock).
    ClockReset {
        /// The lock's clock before the reset.
        previous: UnixSeconds,
    },
    /// A doorcode typed on the keypad opened the door.
    DoorcodeGranted {
        /// The slot whose code it was.
        slot: u32,
    },
    /// A keypad entry was not a code the lock accepts now.
    DoorcodeWrong {
        /// Wrong entries in a row so far (this one included).
        consecutive: u32,
    },
    /// Too many wrong entries: the keypad ignores entries for `seconds`.
    KeypadLockedOut {
        /// How long the lock-out lasts.
        seconds: u32,
    },
}

/// The window over which a lock budgets and coalesces refusals, in seconds.
pub const REFUSAL_WINDOW_SECS: UnixSeconds = 3600;
/// The most refusals one coalesced event counts (its detail holds the count in 24 bits).
pub const MAX_COALESCED_COUNT: u32 = 0x00ff_ffff;

impl AuditKind {
    /// Whether the kind is a keypad event (receipt format 2 only).
    pub fn is_keypad(self) -> bool {
        matches!(self, Self::DoorcodeGranted { .. } | Self::DoorcodeWrong { .. } | Self::KeypadLockedOut { .. })
    }

    /// The wire form: `(kind, detail)` — 1 granted (detail 1 = fast), 2 refused (detail =
    /// refusal code), 3 bundle applied (detail = version), 4 refusals coalesced (detail =
    /// count << 8 | refusal code), 5 clock reset (detail = the clock before), 6 doorcode granted
    /// (detail = slot), 7 doorcode wrong (detail = wrong entries in a row), 8 keypad locked
    /// out (detail = seconds).
    pub fn encode(self) -> (u8, u32) {
        match self {
            Self::Granted { fast } => (1, u32::from(fast)),
            Self::Refused(reason) => (2, u32::from(reason.code())),
            Self::BundleApplied { version } => (3, version),
            Self::RefusalsCoalesced { reason, count } => {
                (4, (count.min(MAX_COALESCED_COUNT) << 8) | u32::from(reason.code()))
            }
            Self::ClockReset { previous } => (5, previous),
            Self::DoorcodeGranted { slot } => (6, slot),
            Self::DoorcodeWrong { consecutive } => (7, consecutive),
            Self::KeypadLockedOut { seconds } => (8, seconds),
        }
    }

    /// Reads the wire form back.
    pub fn decode(kind: u8, detail: u32) -> Result<Self, DecodeError> {
        let invalid = DecodeError::Invalid { field: "audit event" };
        match kind {
            1 if detail <= 1 => Ok(Self::Granted { fast: detail == 1 }),
            2 => u8::try_from(detail).ok().and_then(crate::Refusal::from_code).map(Self::Refused).ok_or(invalid),
            3 => Ok(Self::BundleApplied { version: detail }),
            4 if detail >> 8 != 0 => crate::Refusal::from_code((detail & 0xff) as u8)
                .map(|reason| Self::RefusalsCoalesced { reason, count: detail >> 8 })
                .ok_or(invalid),
            5 => Ok(Self::ClockReset { previous: detail }),
            6 => Ok(Self::DoorcodeGranted { slot: detail }),
            7 if detail >= 1 => Ok(Self::DoorcodeWrong { consecutive: detail }),
            8 => Ok(Self::KeypadLockedOut { seconds: detail }),
            _ => Err(invalid),
        }
    }
}

/// One audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditEvent {
    /// The lock's sequence number for the event (starts at 1, never reused).
    pub seq: u64,
    /// The lock's clock when it happened.
    pub time: UnixSeconds,
    /// What happened.
    pub kind: AuditKind,
    /// The credential involved, when known.
    pub credential: Option<CredentialId>,
}

/// What a receipt states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptBody {
    /// The door.
    pub door: DoorId,
    /// The bundle version the lock now runs.
    pub bundle_version: u32,
    /// The lock's clock when it signed.
    pub lock_clock: UnixSeconds,
    /// More events wait for the next receipt.
    pub more_pending: bool,
    /// Events not yet acknowledged by a bundle, oldest first.
    pub events: Vec<AuditEvent>,
}

/// A receipt signed by the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// What it states.
    pub body: ReceiptBody,
    /// The lock's ECDSA P-256 signature over `"keyway/receipt/v1\0" ‖ body`.
    pub signature: [u8; 64],
}

const EVENT_MIN_LEN: usize = 8 + 4 + 1 + 4 + 1;

impl ReceiptBody {
    /// The bytes the lock signs (without the context prefix).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(24 + 34 * self.events.len());
        let keypad = self.events.iter().any(|e| e.kind.is_keypad());
        w.u8(if keypad { RECEIPT_VERSION_KEYPAD } else { RECEIPT_VERSION })
            .put(&self.door.0)
            .u32(self.bundle_version)
            .u32(self.lock_clock)
            .bool(self.more_pending)
            .u16(self.events.len() as u16);
        for e in &self.events {
            let (kind, detail) = e.kind.encode();
            w.u64(e.seq).u32(e.time).u8(kind).u32(detail);
            match &e.credential {
                Some(id) => w.u8(1).put(&id.0),
                None => w.u8(0),
            };
        }
        w.into_bytes()
    }

    /// The message the lock's signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        [RECEIPT_CONTEXT, &self.to_bytes()].concat()
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let format = r.u8("receipt format")?;
        if format != RECEIPT_VERSION && format != RECEIPT_VERSION_KEYPAD {
            return Err(DecodeError::UnsupportedVersion { found: format });
        }
        let door = DoorId(r.array("door id")?);
        let bundle_version = r.u32("bundle version")?;
        let lock_clock = r.u32("lock clock")?;
        let more_pending = r.bool("more pending")?;
        let count = usize::from(r.u16("event count")?);
        if count > MAX_RECEIPT_EVENTS || count * EVENT_MIN_LEN > r.remaining() {
            return Err(DecodeError::Invalid { field: "event count" });
        }
        let mut events = Vec::with_capacity(count);
        let mut last_seq = 0;
        for _ in 0..count {
            let seq = r.u64("event sequence")?;
            if seq <= last_seq {
                return Err(DecodeError::Invalid { field: "event sequence" });
            }
            last_seq = seq;
            let time = r.u32("event time")?;
            let kind = r.u8("event kind")?;
            let detail = r.u32("event detail")?;
            let kind = AuditKind::decode(kind, detail)?;
            if kind.is_keypad() && format == RECEIPT_VERSION {
                return Err(DecodeError::Invalid { field: "audit event" });
            }
            let credential = if r.bool("event credential present")? {
                Some(CredentialId(r.array("event credential")?))
            } else {
                None
            };
            events.push(AuditEvent { seq, time, kind, credential });
        }
        // One encoding per receipt: format 2 only when a keypad event needs it, as
        // `to_bytes` writes it (a signed statement must not have two spellings).
        if format == RECEIPT_VERSION_KEYPAD && !events.iter().any(|e| e.kind.is_keypad()) {
            return Err(DecodeError::Invalid { field: "receipt format" });
        }
        Ok(Self { door, bundle_version, lock_clock, more_pending, events })
    }
}

impl Receipt {
    /// The wire form: body then signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        with_signature(self.body.to_bytes(), &self.signature)
    }

    /// Parses the wire form. Use [`crate::issuer::verify_receipt`] to check the signature.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (body, signature) = read_signed(bytes, ReceiptBody::read, "receipt signature")?;
        Ok(Self { body, signature })
    }
}
