//! The secure channel both sides hold after a handshake: one AES-256-GCM key per
//! direction, with implicit 64-bit counters as nonces, so a replayed, dropped or
//! reordered message fails to open.

use crate::codec::DecodeError;
use crate::messages::{PROTOCOL_VERSION, kind};
use crate::primitives::{Primitives, Secret32};
use std::marker::PhantomData;

/// Why a channel message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// Not a channel message, or malformed.
    #[error("malformed channel message: {0}")]
    Malformed(#[from] DecodeError),
    /// Failed authentication: tampered, replayed, reordered or from another session.
    #[error("channel message failed authentication")]
    Authentication,
    /// The counter is exhausted (never in practice: 2^64 messages).
    #[error("channel counter exhausted")]
    Exhausted,
}

pub(crate) struct Channel<P: Primitives> {
    send_key: Secret32,
    recv_key: Secret32,
    send_counter: u64,
    recv_counter: u64,
    _primitives: PhantomData<P>,
}

pub(crate) const SEALED_AAD: [u8; 2] = [kind::SEALED, PROTOCOL_VERSION];

pub(crate) fn counter_nonce(counter: u64) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&counter.to_be_bytes());
    nonce
}

impl<P: Primitives> Channel<P> {
    pub(crate) fn new(send_key: Secret32, recv_key: Secret32, send_counter: u64, recv_counter: u64) -> Self {
        Self { send_key, recv_key, send_counter, recv_counter, _primitives: PhantomData }
    }

    /// Seals `inner kind ‖ body` as the next message in the send direction.
    pub(crate) fn seal(&mut self, inner: u8, body: &[u8]) -> Result<Vec<u8>, ChannelError> {
        let nonce = counter_nonce(self.send_counter);
        self.send_counter = self.send_counter.checked_add(1).ok_or(ChannelError::Exhausted)?;
        let plaintext = [&[inner][..], body].concat();
        let mut out = SEALED_AAD.to_vec();
        out.extend_from_slice(&P::seal(&self.send_key, &nonce, &SEALED_AAD, &plaintext));
        Ok(out)
    }

    /// Opens the next message in the receive direction, returning its inner kind and body.
    pub(crate) fn open(&mut self, message: &[u8]) -> Result<(u8, Vec<u8>), ChannelError> {
        let (aad, ciphertext) =
            message.split_at_checked(2).ok_or(DecodeError::Truncated { field: "channel header" })?;
        if aad[0] != kind::SEALED {
            return Err(DecodeError::UnexpectedType { found: aad[0] }.into());
        }
        if aad[1] != PROTOCOL_VERSION {
            return Err(DecodeError::UnsupportedVersion { found: aad[1] }.into());
        }
        let nonce = counter_nonce(self.recv_counter);
        let mut plaintext = P::open(&self.recv_key, &nonce, aad, ciphertext).ok_or(ChannelError::Authentication)?;
        self.recv_counter = self.recv_counter.checked_add(1).ok_or(ChannelError::Exhausted)?;
        if plaintext.is_empty() {
            return Err(DecodeError::Truncated { field: "channel message kind" }.into());
        }
        let inner = plaintext.remove(0);
        Ok((inner, plaintext))
    }
}

/// Labels of the session key schedule shared by the standard and fast paths.
pub(crate) mod labels {
    pub const SESSION_EXPORT: &[u8] = b"keyway/unlock/v1 session";
    pub const PHONE_TO_LOCK: &[u8] = b"keyway/unlock/v1 phone to lock";
    pub const LOCK_TO_PHONE: &[u8] = b"keyway/unlock/v1 lock to phone";
    pub const RESUMPTION: &[u8] = b"keyway/unlock/v1 resumption";
    pub const STANDARD_INFO: &[u8] = b"keyway/unlock/v1 standard";
    pub const DEVICE_SIGNATURE: &[u8] = b"keyway/unlock/v1 device signature\0";
}

/// The three secrets every handshake ends with.
pub(crate) struct SessionSecrets {
    pub phone_to_lock: Secret32,
    pub lock_to_phone: Secret32,
    pub resumption: Secret32,
}

impl SessionSecrets {
    /// The standard path's secrets: from the HPKE exported `session` secret, the phone's
    /// ephemeral key `enc` and the lock's fresh response nonce.
    pub(crate) fn standard<P: Primitives>(enc: &[u8], response_nonce: &[u8], session: &[u8; 32]) -> Self {
        Self::expand::<P>(&P::extract(&[enc, response_nonce].concat(), &[session]))
    }

    /// The fast path's secrets: from the request's clear header (both nonces, the ticket id)
    /// and the ticket's secret.
    pub(crate) fn fast<P: Primitives>(header: &[u8], ticket_secret: &[u8; 32]) -> Self {
        Self::expand::<P>(&P::extract(header, &[ticket_secret]))
    }

    /// Expands the three secrets from a pseudorandom key.
    fn expand<P: Primitives>(prk: &[u8; 32]) -> Self {
        Self {
            phone_to_lock: P::expand32(prk, &[labels::PHONE_TO_LOCK]),
            lock_to_phone: P::expand32(prk, &[labels::LOCK_TO_PHONE]),
            resumption: P::expand32(prk, &[labels::RESUMPTION]),
        }
    }
}
