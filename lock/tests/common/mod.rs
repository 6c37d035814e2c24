//! Test fixtures: a site (issuer), phones (ring device keys, as a real phone would use),
//! and reference locks over in-memory storage with a hand-set RTC and a seeded random
//! source, so a session can be replayed byte for byte against a fork of the lock.
#![allow(dead_code, missing_docs, clippy::unwrap_used, deprecated)]

use keyway_lock::{Lock, LockOptions, ManualRtc, MemoryStorage, Provisioning, SeededRandom};
use keyway_protocol::bundle::{Bundle, BundleBody, LockConfig, Revocation};
use keyway_protocol::credential::{Credential, CredentialBody, CredentialFlags, DeviceKey};
use keyway_protocol::ids::{CredentialId, DoorId, KeyId, LockNonce};
use keyway_protocol::issuer::IssuerKey;
use keyway_protocol::lock_role::{LockEvent, LockOutput};
use keyway_protocol::phone::{
    AwaitingResponse, FastTicket, LockTarget, PhoneChannel, StandardUnlock, SyncReply, UnlockReply,
};
use keyway_protocol::{Command, Refusal};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use std::sync::Arc;

/// 2027-01-15, roughly: the RTC reading every test starts from.
pub const T0: u32 = 1_800_000_000;
pub const DOOR: DoorId = DoorId([0x1d, 0, 0, 0, 0, 0, 0, 0x01]);
pub const OTHER_DOOR: DoorId = DoorId([0x1d, 0, 0, 0, 0, 0, 0, 0x02]);
pub const DAY: u32 = 86_400;

/// The phone's randomness in tests: fixed, so a request can be rebuilt identically.
pub fn fixed_rng(byte: u8) -> ring::test::rand::FixedByteRandom {
    ring::test::rand::FixedByteRandom { byte }
}

pub struct Site {
    pub issuer: IssuerKey,
}

impl Site {
    pub fn new() -> Self {
        Self { issuer: IssuerKey::generate().unwrap().0 }
    }

    pub fn anchor(&self) -> Vec<u8> {
        self.issuer.public_key().to_vec()
    }

    pub fn credential(&self, phone: &Phone, id: u8, doors: &[DoorId], not_before: u32, not_after: u32) -> Credential {
        self.issuer
            .issue(CredentialBody {
                id: CredentialId([id; 16]),
                issuer: KeyId::default(),
                device_key: phone.device_key(),
                doors: doors.to_vec(),
                not_before,
                not_after,
                flags: CredentialFlags { shareable: true, guest: false },
                parent: None,
            })
            .unwrap()
    }

    /// A member key for DOOR, valid from an hour before T0 for three days.
    pub fn member_key(&self, phone: &Phone, id: u8) -> Credential {
        self.credential(phone, id, &[DOOR], T0 - 3600, T0 + 3 * DAY)
    }

    pub fn guest_key(&self, phone: &Phone, id: u8, parent: &Credential) -> Credential {
        self.issuer
            .issue(CredentialBody {
                id: CredentialId([id; 16]),
                issuer: KeyId::default(),
                device_key: phone.device_key(),
                doors: vec![DOOR],
                not_before: T0 - 60,
                not_after: T0 + DAY,
                flags: CredentialFlags { shareable: false, guest: true },
                parent: Some(parent.body.id),
            })
            .unwrap()
    }

    pub fn bundle(&self, spec: BundleSpec) -> Bundle {
        self.issuer
            .sign_bundle(BundleBody {
                door: spec.door,
                issuer: KeyId::default(),
                version: spec.version,
                base_version: spec.base,
                signed_time: spec.signed_time,
                audit_acknowledged: spec.acknowledged,
                config: spec.config,
                revocations: spec.revoked,
            })
            .unwrap()
    }
}

#[derive(Clone)]
pub struct BundleSpec {
    pub door: DoorId,
    pub version: u32,
    pub base: u32,
    pub signed_time: u32,
    pub acknowledged: u64,
    pub config: LockConfig,
    pub revoked: Vec<Revocation>,
}

impl BundleSpec {
    pub fn new(version: u32, base: u32) -> Self {
        Self {
            door: DOOR,
            version,
            base,
            signed_time: T0 + 10,
            acknowledged: 0,
            config: LockConfig::default(),
            revoked: Vec::new(),
        }
    }

    pub fn revoking(mut self, credential: &Credential) -> Self {
        self.revoked.push(Revocation { credential: credential.body.id, expires: credential.body.not_after });
        self
    }
}

/// A reference lock on in-memory storage, with its RTC and storage kept for the test.
pub struct TestLock {
    pub lock: Lock,
    pub storage: MemoryStorage,
    pub rtc: ManualRtc,
}

impl TestLock {
    pub fn new(site: &Site) -> Self {
        Self::for_door(site, DOOR)
    }

    pub fn for_door(site: &Site, door: DoorId) -> Self {
        let storage = MemoryStorage::new();
        let rtc = ManualRtc::new(T0);
        let options = LockOptions { rtc: Arc::new(rtc.clone()), random: Box::new(SeededRandom::new(7)) };
        let provisioning = Provisioning { door, trust_anchors: vec![site.anchor()] };
        let lock = Lock::open_or_provision(Box::new(storage.clone()), &provisioning, options).unwrap();
        Self { lock, storage, rtc }
    }

    /// The lock as it comes back after a restart from its storage.
    pub fn restart(self) -> Self {
        let TestLock { lock, storage, rtc } = self;
        drop(lock);
        let options = LockOptions { rtc: Arc::new(rtc.clone()), random: Box::new(SeededRandom::new(8)) };
        let lock = Lock::open(Box::new(storage.clone()), options).unwrap();
        Self { lock, storage, rtc }
    }

    /// A twin of the lock (same state, nonces and random source) on its own storage.
    pub fn fork(&self) -> Lock {
        self.lock.fork(Box::new(MemoryStorage::new())).unwrap()
    }

    pub fn target(&mut self) -> LockTarget {
        target_of(&mut self.lock)
    }

    pub fn rtc_reading(&self) -> u32 {
        use keyway_lock::Rtc;
        self.rtc.now()
    }
}

pub fn target_of(lock: &mut Lock) -> LockTarget {
    LockTarget { door: lock.door(), lock_public_key: lock.public_key(), nonce: lock.advertisement().nonce }
}

/// Delivers one whole message on a fresh connection.
pub fn deliver(lock: &mut Lock, message: &[u8]) -> LockOutput {
    let connection = lock.connect(185).unwrap();
    lock.on_message(connection, message).unwrap()
}

pub fn granted(output: &LockOutput) -> bool {
    matches!(output.event, Some(LockEvent::Granted { .. }))
}

pub fn refusal(output: &LockOutput) -> Option<Refusal> {
    match output.event {
        Some(LockEvent::Refused { reason, .. }) => Some(reason),
        _ => None,
    }
}

/// A phone: a device key pair in ring, as the core uses.
pub struct Phone {
    device: EcdsaKeyPair,
}

impl Phone {
    pub fn new() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        Self { device: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap() }
    }

    pub fn device_key(&self) -> DeviceKey {
        DeviceKey::from_uncompressed(self.device.public_key().as_ref()).unwrap()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let signature = self.device.sign(&ring::rand::SystemRandom::new(), message).unwrap();
        signature.as_ref().try_into().unwrap()
    }

    /// A standard request for `target` whose ephemeral key comes from `seed`; returns the
    /// phone's waiting state, the request, and the device signature so that the same
    /// request can be rebuilt with [`Self::rebuild_standard`].
    pub fn standard_request_seeded(
        &self,
        target: &LockTarget,
        credential: &Credential,
        command: Command,
        seed: u8,
    ) -> (AwaitingResponse, Vec<u8>, [u8; 64]) {
        let unlock = StandardUnlock::begin(target, &credential.to_bytes(), command, true, &fixed_rng(seed)).unwrap();
        let signature = self.sign(&unlock.signing_message());
        let (awaiting, request) = unlock.finish(&signature);
        (awaiting, request, signature)
    }

    /// The same phone state again (same target, seed and signature give the same keys).
    pub fn rebuild_standard(
        &self,
        target: &LockTarget,
        credential: &Credential,
        command: Command,
        seed: u8,
        signature: &[u8; 64],
    ) -> AwaitingResponse {
        let unlock = StandardUnlock::begin(target, &credential.to_bytes(), command, true, &fixed_rng(seed)).unwrap();
        unlock.finish(signature).0
    }

    pub fn standard_request(
        &self,
        target: &LockTarget,
        credential: &Credential,
        command: Command,
    ) -> (AwaitingResponse, Vec<u8>) {
        let unlock =
            StandardUnlock::begin(target, &credential.to_bytes(), command, true, &ring::rand::SystemRandom::new())
                .unwrap();
        let signature = self.sign(&unlock.signing_message());
        unlock.finish(&signature)
    }

    pub fn fast_request(
        &self,
        door: DoorId,
        nonce: LockNonce,
        ticket: &FastTicket,
        seed: u8,
    ) -> (AwaitingResponse, Vec<u8>) {
        self.fast_command(door, nonce, ticket, Command::Unlock, seed)
    }

    pub fn fast_command(
        &self,
        door: DoorId,
        nonce: LockNonce,
        ticket: &FastTicket,
        command: Command,
        seed: u8,
    ) -> (AwaitingResponse, Vec<u8>) {
        keyway_protocol::phone::fast_unlock(door, nonce, ticket, command, &fixed_rng(seed)).unwrap()
    }

    /// A whole standard unlock on a fresh connection; returns the lock's authenticated answer.
    pub fn unlock(&self, lock: &mut Lock, credential: &Credential) -> UnlockReply {
        let (awaiting, request) = self.standard_request(&target_of(lock), credential, Command::Unlock);
        let output = deliver(lock, &request);
        awaiting.on_response(&output.reply.unwrap()).unwrap().0
    }

    /// A whole fast unlock on a fresh connection.
    pub fn fast_unlock(&self, lock: &mut Lock, ticket: &FastTicket) -> UnlockReply {
        let (awaiting, request) = self.fast_request(lock.door(), lock.advertisement().nonce, ticket, 0x33);
        let output = deliver(lock, &request);
        awaiting.on_response(&output.reply.unwrap()).unwrap().0
    }

    /// A sync-only handshake, then `bundle` (or a receipt request) on the channel.
    pub fn sync(&self, lock: &mut Lock, credential: &Credential, bundle: Option<&Bundle>) -> SyncReply {
        let (awaiting, request) = self.standard_request(&target_of(lock), credential, Command::SyncOnly);
        let connection = lock.connect(247).unwrap();
        let output = lock.on_message(connection, &request).unwrap();
        let (reply, mut channel) = awaiting.on_response(&output.reply.unwrap()).unwrap();
        assert_eq!(reply.outcome, Ok(()));
        let message = channel_message(&mut channel, bundle);
        let output = lock.on_message(connection, &message).unwrap();
        lock.disconnect(connection);
        channel.on_sync_reply(&output.reply.unwrap()).unwrap()
    }
}

/// A door sync in steps: the handshake first, then whatever the test does to the lock,
/// then the bundle.
pub struct SyncSession {
    pub connection: keyway_lock::ConnectionId,
    pub channel: PhoneChannel,
}

impl SyncSession {
    pub fn open(phone: &Phone, lock: &mut Lock, credential: &Credential) -> Self {
        let (awaiting, request) = phone.standard_request(&target_of(lock), credential, Command::SyncOnly);
        let connection = lock.connect(247).unwrap();
        let output = lock.on_message(connection, &request).unwrap();
        let (reply, channel) = awaiting.on_response(&output.reply.unwrap()).unwrap();
        assert_eq!(reply.outcome, Ok(()));
        Self { connection, channel }
    }

    pub fn send(&mut self, lock: &mut Lock, bundle: Option<&Bundle>) -> SyncReply {
        let message = channel_message(&mut self.channel, bundle);
        let output = lock.on_message(self.connection, &message).unwrap();
        self.channel.on_sync_reply(&output.reply.unwrap()).unwrap()
    }
}

pub fn channel_message(channel: &mut PhoneChannel, bundle: Option<&Bundle>) -> Vec<u8> {
    match bundle {
        Some(bundle) => channel.deliver_bundle(&bundle.to_bytes()).unwrap(),
        None => channel.request_receipt().unwrap(),
    }
}
