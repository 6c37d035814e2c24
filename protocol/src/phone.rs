//! The phone's side of the unlock handshake, as a state machine: it takes the lock's
//! advertisement, the credential and the device's signature, and returns the bytes to
//! write and the lock's authenticated answer. No I/O, no clock, no radio.
//!
//! Standard path (first visit):
//! [`StandardUnlock::begin`] → [`StandardUnlock::signing_message`] (the device signs it) →
//! [`StandardUnlock::finish`] (request bytes) → [`AwaitingResponse::on_response`].
//!
//! Fast path (repeat visit, with a ticket from an earlier unlock):
//! [`fast_unlock`] (request bytes) → [`AwaitingResponse::on_response`].

use crate::channel::{Channel, ChannelError, SessionSecrets, counter_nonce, labels};
use crate::codec::{DecodeError, Writer};
use crate::credential::UnixSeconds;
use crate::hpke::{self, PUBLIC_KEY_LEN};
use crate::ids::{DoorId, LockNonce, TicketId};
use crate::messages::{
    Command, FLAG_WANT_TICKET, FastHeader, PROTOCOL_VERSION, PlainRefusal, ResponsePayload, StandardHeader, kind,
    sealed_kind,
};
use crate::primitives::{Primitives, Ring, Secret32};
use crate::receipt::Receipt;
use crate::refusal::Refusal;
use thiserror::Error;
use zeroize::Zeroizing;

/// What the phone knows about a lock before talking to it: from the door record the
/// backend sent, and the advertisement it just heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockTarget {
    /// The door (lock) id.
    pub door: DoorId,
    /// The lock's static HPKE public key (uncompressed SEC1, 65 bytes), from the door record.
    pub lock_public_key: [u8; PUBLIC_KEY_LEN],
    /// The nonce from the lock's latest advertisement (or from a refusal).
    pub nonce: LockNonce,
}

/// A fast-unlock ticket: what the phone keeps (in its secure store) to unlock this door
/// next time with symmetric crypto only. Single use: every fast unlock returns the next one.
#[derive(Clone, PartialEq, Eq)]
pub struct FastTicket {
    /// The door it is valid at.
    pub door: DoorId,
    /// The lock's name for it.
    pub id: TicketId,
    /// The shared resumption secret.
    pub secret: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for FastTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastTicket").field("door", &self.door).field("id", &self.id).finish_non_exhaustive()
    }
}

/// Why the phone side could not complete a step.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhoneError {
    /// The door record's lock key is not a valid P-256 point, or randomness failed.
    #[error("the lock's public key is invalid")]
    BadLockKey,
    /// The credential is too long to send.
    #[error("the credential is too long")]
    CredentialTooLong,
    /// The system random source failed.
    #[error("the random source failed")]
    Random,
    /// The lock's answer could not be parsed.
    #[error("malformed lock response: {0}")]
    Malformed(#[from] DecodeError),
    /// The lock's answer failed authentication: it is not from the lock the phone meant
    /// to talk to, or it was tampered with or replayed.
    #[error("the lock's response failed authentication")]
    NotAuthentic,
    /// The lock refused before keys were agreed. Unauthenticated: a hint, which the phone
    /// may act on by retrying with `fresh_nonce`.
    #[error("the lock refused ({reason}) before authenticating")]
    UnauthenticatedRefusal {
        /// The reason the lock gave.
        reason: Refusal,
        /// The nonce to retry with.
        fresh_nonce: LockNonce,
    },
    /// A channel message after the handshake failed.
    #[error(transparent)]
    Channel(#[from] ChannelError),
}

/// The lock's authenticated answer to an unlock request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlockReply {
    /// Granted, or refused with the lock's reason.
    pub outcome: Result<(), Refusal>,
    /// The lock's clock.
    pub lock_clock: UnixSeconds,
    /// The door-sync bundle version the lock runs.
    pub bundle_version: u32,
    /// How long the lock took to actuate before answering (0 when refused or sync-only).
    pub open_ms: u16,
    /// A ticket for the next visit, when asked for and granted.
    pub ticket: Option<FastTicket>,
}

/// A standard unlock waiting for the device's signature.
pub struct StandardUnlock {
    header: Vec<u8>,
    enc: [u8; PUBLIC_KEY_LEN],
    context: hpke::Context,
    door: DoorId,
    lock_public_key: [u8; PUBLIC_KEY_LEN],
    command: Command,
    credential: Vec<u8>,
}

impl StandardUnlock {
    /// Starts a standard unlock: generates the ephemeral key and encapsulates to the lock.
    pub fn begin(
        target: &LockTarget,
        credential: &[u8],
        command: Command,
        want_ticket: bool,
        rng: &dyn ring::rand::SecureRandom,
    ) -> Result<Self, PhoneError> {
        if credential.len() > usize::from(u16::MAX) {
            return Err(PhoneError::CredentialTooLong);
        }
        let flags = if want_ticket { FLAG_WANT_TICKET } else { 0 };
        let mut header = StandardHeader {
            version: PROTOCOL_VERSION,
            flags,
            door: target.door,
            nonce: target.nonce,
            enc: [0u8; PUBLIC_KEY_LEN],
        }
        .to_bytes();
        let info_len = header.len() - PUBLIC_KEY_LEN;
        let info = [labels::STANDARD_INFO, &header[..info_len]].concat();
        let (enc, context) =
            hpke::setup_sender(&target.lock_public_key, &info, rng).map_err(|_| PhoneError::BadLockKey)?;
        header[info_len..].copy_from_slice(&enc);
        Ok(Self {
            header,
            enc,
            context,
            door: target.door,
            lock_public_key: target.lock_public_key,
            command,
            credential: credential.to_vec(),
        })
    }

    /// The message the device key must sign (ECDSA P-256 with SHA-256, output `r ‖ s`).
    /// It binds the signature to this lock, this nonce and this ephemeral key.
    pub fn signing_message(&self) -> Vec<u8> {
        device_signing_message(&self.header, &self.lock_public_key, self.command, &self.credential)
    }

    /// Completes the request with the device's signature. Returns the bytes to write
    /// (fragment them with [`crate::framing::fragment`]) and the state awaiting the answer.
    pub fn finish(self, device_signature: &[u8; 64]) -> (AwaitingResponse, Vec<u8>) {
        let mut payload = Writer::with_capacity(3 + self.credential.len() + 64);
        payload.u8(self.command as u8).u16(self.credential.len() as u16).put(&self.credential).put(device_signature);
        let payload = Zeroizing::new(payload.into_bytes());
        let mut request = self.header.clone();
        request.extend_from_slice(&self.context.seal::<Ring>(&self.header, &payload));
        let session = self.context.export::<Ring>(labels::SESSION_EXPORT);
        let awaiting = AwaitingResponse { door: self.door, pending: Pending::Standard { enc: self.enc, session } };
        (awaiting, request)
    }
}

/// `label ‖ clear header ‖ lock public key ‖ command ‖ SHA-256(credential)`: the device's
/// signature names the lock, the nonce, the ephemeral key, what it asks and with which key.
pub(crate) fn device_signing_message(
    header: &[u8],
    lock_public_key: &[u8],
    command: Command,
    credential: &[u8],
) -> Vec<u8> {
    let credential_hash = ring::digest::digest(&ring::digest::SHA256, credential);
    [labels::DEVICE_SIGNATURE, header, lock_public_key, &[command as u8], credential_hash.as_ref()].concat()
}

/// Starts a fast unlock with a ticket from an earlier visit. Returns the single write
/// (at most 182 bytes, so it fits one ATT write at MTU 185) and the state awaiting the answer.
pub fn fast_unlock(
    door: DoorId,
    nonce: LockNonce,
    ticket: &FastTicket,
    command: Command,
    rng: &dyn ring::rand::SecureRandom,
) -> Result<(AwaitingResponse, Vec<u8>), PhoneError> {
    let mut phone_nonce = [0u8; 16];
    rng.fill(&mut phone_nonce).map_err(|_| PhoneError::Random)?;
    let header =
        FastHeader { version: PROTOCOL_VERSION, flags: FLAG_WANT_TICKET, door, nonce, ticket: ticket.id, phone_nonce }
            .to_bytes();
    let secrets = SessionSecrets::fast::<Ring>(&header, &ticket.secret);
    let mut request = header.clone();
    request.extend_from_slice(&Ring::seal(&secrets.phone_to_lock, &counter_nonce(0), &header, &[command as u8]));
    Ok((AwaitingResponse { door, pending: Pending::Fast { secrets } }, request))
}

enum Pending {
    Standard { enc: [u8; PUBLIC_KEY_LEN], session: Secret32 },
    Fast { secrets: SessionSecrets },
}

/// A request has been sent; the next message from the lock is its answer.
pub struct AwaitingResponse {
    door: DoorId,
    pending: Pending,
}

impl AwaitingResponse {
    /// Handles the lock's answer. `Ok` means it is authentic (granted or refused);
    /// the returned channel carries a door sync, if one is due.
    pub fn on_response(self, message: &[u8]) -> Result<(UnlockReply, PhoneChannel), PhoneError> {
        let Some(&first) = message.first() else {
            return Err(DecodeError::Truncated { field: "message type" }.into());
        };
        if first == kind::REFUSAL {
            let refusal = PlainRefusal::from_bytes(message)?;
            return Err(PhoneError::UnauthenticatedRefusal {
                reason: refusal.reason,
                fresh_nonce: refusal.fresh_nonce,
            });
        }
        let (secrets, aad_len, send_counter) = match self.pending {
            Pending::Standard { enc, session } => {
                if first != kind::STANDARD_RESPONSE {
                    return Err(DecodeError::UnexpectedType { found: first }.into());
                }
                let response_nonce = message.get(2..18).ok_or(DecodeError::Truncated { field: "response nonce" })?;
                (SessionSecrets::standard::<Ring>(&enc, response_nonce, &session), 18, 0)
            }
            Pending::Fast { secrets } => {
                if first != kind::FAST_RESPONSE {
                    return Err(DecodeError::UnexpectedType { found: first }.into());
                }
                (secrets, 2, 1)
            }
        };
        if message.len() < aad_len {
            return Err(DecodeError::Truncated { field: "response header" }.into());
        }
        let (aad, ciphertext) = message.split_at(aad_len);
        if aad[1] != PROTOCOL_VERSION {
            return Err(DecodeError::UnsupportedVersion { found: aad[1] }.into());
        }
        let plaintext =
            Ring::open(&secrets.lock_to_phone, &counter_nonce(0), aad, ciphertext).ok_or(PhoneError::NotAuthentic)?;
        let payload = ResponsePayload::from_bytes(&plaintext)?;
        let ticket =
            payload.ticket.map(|id| FastTicket { door: self.door, id, secret: Zeroizing::new(*secrets.resumption) });
        let reply = UnlockReply {
            outcome: payload.outcome,
            lock_clock: payload.lock_clock,
            bundle_version: payload.bundle_version,
            open_ms: payload.open_ms,
            ticket,
        };
        let channel =
            PhoneChannel { inner: Channel::new(secrets.phone_to_lock, secrets.lock_to_phone, send_counter, 1) };
        Ok((reply, channel))
    }
}

/// The lock's answer to a door sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReply {
    /// Whether the bundle was applied (or why not). `Ok` for a receipt request.
    pub applied: Result<(), Refusal>,
    /// The lock's signed receipt: upload it to the backend as is.
    pub receipt: Receipt,
    /// The receipt's wire bytes, exactly as signed.
    pub receipt_bytes: Vec<u8>,
}

/// The secure channel after a handshake: used to deliver a door-sync bundle.
pub struct PhoneChannel {
    inner: Channel<Ring>,
}

impl PhoneChannel {
    /// The message carrying a door-sync bundle (its signed wire bytes).
    pub fn deliver_bundle(&mut self, bundle: &[u8]) -> Result<Vec<u8>, PhoneError> {
        Ok(self.inner.seal(sealed_kind::BUNDLE, bundle)?)
    }

    /// The message asking for a receipt without delivering a bundle (to collect audit events).
    pub fn request_receipt(&mut self) -> Result<Vec<u8>, PhoneError> {
        Ok(self.inner.seal(sealed_kind::RECEIPT_REQUEST, &[])?)
    }

    /// Handles the lock's answer to a bundle or receipt request.
    pub fn on_sync_reply(&mut self, message: &[u8]) -> Result<SyncReply, PhoneError> {
        let (inner, body) = self.inner.open(message)?;
        if inner != sealed_kind::RECEIPT {
            return Err(DecodeError::UnexpectedType { found: inner }.into());
        }
        let (&status, receipt_bytes) = body.split_first().ok_or(DecodeError::Truncated { field: "sync status" })?;
        let applied = match status {
            0 => Ok(()),
            code => Err(Refusal::from_code(code).ok_or(DecodeError::Invalid { field: "sync status" })?),
        };
        let receipt = Receipt::from_bytes(receipt_bytes)?;
        Ok(SyncReply { applied, receipt, receipt_bytes: receipt_bytes.to_vec() })
    }
}

#[cfg(test)]
mod session_key_uniqueness;
