//! A test phone: a P-256 device key in ring, as the core keeps one, that builds standard
//! and fast requests with the crate's phone role and runs whole handshakes and door
//! syncs against any [`TestDoor`].

use super::door::TestDoor;
use super::fixed_rng;
use crate::Command;
use crate::bundle::Bundle;
use crate::credential::{Credential, DeviceKey};
use crate::ids::{DoorId, LockNonce};
use crate::phone::{
    AwaitingResponse, FastTicket, LockTarget, PhoneChannel, PhoneError, StandardUnlock, SyncReply, UnlockReply,
    fast_unlock,
};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

/// What a phone presents as its credential: a parsed one, or bytes as the backend sent them.
pub trait Presentable {
    /// The credential's wire bytes.
    fn credential_bytes(&self) -> Vec<u8>;
}

impl Presentable for Credential {
    fn credential_bytes(&self) -> Vec<u8> {
        self.to_bytes()
    }
}

impl Presentable for [u8] {
    fn credential_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }
}

impl Presentable for Vec<u8> {
    fn credential_bytes(&self) -> Vec<u8> {
        self.clone()
    }
}

/// A standard request with the device signature it carries, so that the same phone state
/// can be rebuilt ([`TestPhone::rebuild_standard`]).
pub struct SignedRequest {
    /// The phone waiting for the lock's answer.
    pub awaiting: AwaitingResponse,
    /// The bytes to write.
    pub request: Vec<u8>,
    /// The device's signature inside it.
    pub signature: [u8; 64],
}

/// A phone: its device key pair (ECDSA P-256, ring).
pub struct TestPhone {
    device: EcdsaKeyPair,
}

impl Default for TestPhone {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPhone {
    /// A phone with a fresh device key.
    ///
    /// # Panics
    /// If ring cannot generate a key.
    pub fn new() -> Self {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).expect("a device key");
        Self::from_pkcs8(pkcs8.as_ref()).expect("ring reads its own key")
    }

    /// A phone whose device key is `pkcs8` (a fixed key, e.g. for fuzz seeds that must keep verifying).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, ring::error::KeyRejected> {
        let device = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &SystemRandom::new())?;
        Ok(Self { device })
    }

    /// The device's public key, uncompressed SEC1 (65 bytes), as the phone registers it.
    pub fn public_key(&self) -> &[u8] {
        self.device.public_key().as_ref()
    }

    /// The device key as a credential binds it.
    ///
    /// # Panics
    /// Never for a key from ring (always a valid point).
    pub fn device_key(&self) -> DeviceKey {
        DeviceKey::from_uncompressed(self.public_key()).expect("ring's public key is a P-256 point")
    }

    /// Signs `message` with the device key (ECDSA P-256 / SHA-256, `r ‖ s`).
    ///
    /// # Panics
    /// If ring fails to sign.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let signature = self.device.sign(&SystemRandom::new(), message).expect("the device signs");
        signature.as_ref().try_into().expect("a fixed-length P-256 signature is 64 bytes")
    }

    /// A standard request asking for a ticket; `rng` draws the ephemeral key, and
    /// `signature` (when given) replaces the device's own. Fails as the phone role fails
    /// (e.g. on a credential too long to send).
    pub fn standard_request_with(
        &self,
        target: &LockTarget,
        credential: &(impl Presentable + ?Sized),
        command: Command,
        want_ticket: bool,
        rng: &dyn SecureRandom,
        signature: Option<[u8; 64]>,
    ) -> Result<SignedRequest, PhoneError> {
        let unlock = StandardUnlock::begin(target, &credential.credential_bytes(), command, want_ticket, rng)?;
        let signature = signature.unwrap_or_else(|| self.sign(&unlock.signing_message()));
        let (awaiting, request) = unlock.finish(&signature);
        Ok(SignedRequest { awaiting, request, signature })
    }

    /// A standard request for `target` (asking for a ticket), with fresh randomness.
    ///
    /// # Panics
    /// If the phone role refuses to build it.
    pub fn standard_request(
        &self,
        target: &LockTarget,
        credential: &(impl Presentable + ?Sized),
        command: Command,
    ) -> (AwaitingResponse, Vec<u8>) {
        let built = self
            .standard_request_with(target, credential, command, true, &SystemRandom::new(), None)
            .expect("the phone builds a standard request");
        (built.awaiting, built.request)
    }

    /// A standard request whose ephemeral key comes from `seed`: the same target, seed and
    /// signature give the same request again.
    ///
    /// # Panics
    /// If the phone role refuses to build it.
    pub fn standard_request_seeded(
        &self,
        target: &LockTarget,
        credential: &(impl Presentable + ?Sized),
        command: Command,
        seed: u8,
    ) -> SignedRequest {
        self.standard_request_with(target, credential, command, true, &fixed_rng(seed), None)
            .expect("the phone builds a standard request")
    }

    /// The phone's state after [`Self::standard_request_seeded`] with the same arguments
    /// and `signature`.
    ///
    /// # Panics
    /// If the phone role refuses to build it.
    pub fn rebuild_standard(
        &self,
        target: &LockTarget,
        credential: &(impl Presentable + ?Sized),
        command: Command,
        seed: u8,
        signature: &[u8; 64],
    ) -> AwaitingResponse {
        self.standard_request_with(target, credential, command, true, &fixed_rng(seed), Some(*signature))
            .expect("the phone builds a standard request")
            .awaiting
    }

    /// A fast request with `ticket` for the lock of `door` advertising `nonce`, with fresh randomness.
    ///
    /// # Panics
    /// If the phone role refuses to build it.
    pub fn fast_request(
        &self,
        door: DoorId,
        nonce: LockNonce,
        ticket: &FastTicket,
        command: Command,
    ) -> (AwaitingResponse, Vec<u8>) {
        fast_unlock(door, nonce, ticket, command, &SystemRandom::new()).expect("the phone builds a fast request")
    }

    /// A fast request whose phone nonce comes from `seed`.
    ///
    /// # Panics
    /// If the phone role refuses to build it.
    pub fn fast_request_seeded(
        &self,
        door: DoorId,
        nonce: LockNonce,
        ticket: &FastTicket,
        command: Command,
        seed: u8,
    ) -> (AwaitingResponse, Vec<u8>) {
        fast_unlock(door, nonce, ticket, command, &fixed_rng(seed)).expect("the phone builds a fast request")
    }

    /// A whole standard unlock on a new connection; returns the lock's authenticated answer.
    ///
    /// # Panics
    /// If the lock does not answer, or its answer does not authenticate.
    pub fn unlock(&self, door: &mut impl TestDoor, credential: &(impl Presentable + ?Sized)) -> UnlockReply {
        let (awaiting, request) = self.standard_request(&door.target(), credential, Command::Unlock);
        answer(door, awaiting, &request)
    }

    /// A whole fast unlock with `ticket` on a new connection.
    ///
    /// # Panics
    /// If the lock does not answer, or its answer does not authenticate.
    pub fn fast_unlock(&self, door: &mut impl TestDoor, ticket: &FastTicket) -> UnlockReply {
        let target = door.target();
        let (awaiting, request) = self.fast_request(target.door, target.nonce, ticket, Command::Unlock);
        answer(door, awaiting, &request)
    }

    /// A whole door sync: a sync-only handshake, then `bundle` (or, with none, a receipt
    /// request) on its channel; returns the lock's sync reply.
    ///
    /// # Panics
    /// If the handshake is refused or any answer does not authenticate.
    pub fn sync<D: TestDoor>(
        &self,
        door: &mut D,
        credential: &(impl Presentable + ?Sized),
        bundle: Option<&Bundle>,
    ) -> SyncReply {
        let mut session = SyncSession::open(self, door, credential);
        let reply = session.send(door, bundle);
        session.close(door);
        reply
    }
}

/// Writes `request` on a new connection, closes it, and hands the answer to the phone.
fn answer(door: &mut impl TestDoor, awaiting: AwaitingResponse, request: &[u8]) -> UnlockReply {
    let mut connection = door.connect();
    let output = door.exchange(&mut connection, request);
    door.disconnect(connection);
    let reply = output.reply.expect("the lock answers the request");
    awaiting.on_response(&reply).expect("the lock's answer authenticates").0
}

/// A door sync in steps: the handshake first, then whatever the test does to the lock,
/// then bundles or receipt requests on the open channel.
pub struct SyncSession<C> {
    /// The lock's side of the connection.
    pub connection: C,
    /// The phone's secure channel.
    pub channel: PhoneChannel,
}

impl<C> SyncSession<C> {
    /// A granted sync-only handshake on a new connection.
    ///
    /// # Panics
    /// If the lock refuses or its answer does not authenticate.
    pub fn open<D: TestDoor<Connection = C>>(
        phone: &TestPhone,
        door: &mut D,
        credential: &(impl Presentable + ?Sized),
    ) -> Self {
        let (awaiting, request) = phone.standard_request(&door.target(), credential, Command::SyncOnly);
        let mut connection = door.connect();
        let output = door.exchange(&mut connection, &request);
        let reply = output.reply.expect("the lock answers the handshake");
        let (reply, channel) = awaiting.on_response(&reply).expect("the lock's answer authenticates");
        assert_eq!(reply.outcome, Ok(()), "the lock grants the sync handshake");
        Self { connection, channel }
    }

    /// The channel message carrying `bundle`, or a receipt request when there is none.
    ///
    /// # Panics
    /// If the channel refuses (e.g. it ran out of message numbers).
    pub fn message(&mut self, bundle: Option<&Bundle>) -> Vec<u8> {
        match bundle {
            Some(bundle) => self.channel.deliver_bundle(&bundle.to_bytes()),
            None => self.channel.request_receipt(),
        }
        .expect("the channel seals the message")
    }

    /// Sends `bundle` (or a receipt request) and returns the lock's sync reply.
    ///
    /// # Panics
    /// If the lock does not answer or its reply does not authenticate.
    pub fn send<D: TestDoor<Connection = C>>(&mut self, door: &mut D, bundle: Option<&Bundle>) -> SyncReply {
        let message = self.message(bundle);
        self.sealed_exchange(door, &message)
    }

    /// Sends bundle bytes exactly as the backend served them; returns the lock's sync reply.
    ///
    /// # Panics
    /// As [`Self::send`], or if the channel refuses the bytes.
    pub fn send_bytes<D: TestDoor<Connection = C>>(&mut self, door: &mut D, bundle: &[u8]) -> SyncReply {
        let message = self.channel.deliver_bundle(bundle).expect("the channel seals the bundle");
        self.sealed_exchange(door, &message)
    }

    fn sealed_exchange<D: TestDoor<Connection = C>>(&mut self, door: &mut D, message: &[u8]) -> SyncReply {
        let output = door.exchange(&mut self.connection, message);
        let reply = output.reply.expect("the lock answers on the channel");
        self.channel.on_sync_reply(&reply).expect("the lock's sync reply authenticates")
    }

    /// Closes the connection.
    pub fn close<D: TestDoor<Connection = C>>(self, door: &mut D) {
        door.disconnect(self.connection);
    }
}
