//! A minimal in-memory lock, a phone and an issuer for the protocol's tests. The real
//! lock, with persistence and the clock floor, is `keyway-lock`.
#![allow(dead_code, missing_docs, clippy::unwrap_used)]

use keyway_protocol::bundle::{Bundle, BundleBody, LockConfig};
use keyway_protocol::credential::{Credential, CredentialBody, CredentialFlags, DeviceKey};
use keyway_protocol::ids::{CredentialId, DoorId, KeyId, LockNonce, TicketId};
use keyway_protocol::issuer::IssuerKey;
use keyway_protocol::lock_role::{LockEnvironment, LockOutput, LockSession, TicketEntry};
use keyway_protocol::phone::{FastTicket, LockTarget, StandardUnlock, UnlockReply, fast_unlock};
use keyway_protocol::receipt::{AuditEvent, AuditKind, ReceiptBody};
use keyway_protocol::{Command, Refusal};
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::elliptic_curve::sec1::ToSec1Point;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use std::collections::{BTreeMap, HashMap};

pub const NOW: u32 = 1_800_000_000;
pub const DOOR: DoorId = DoorId([0xd0, 0, 0, 0, 0, 0, 0, 1]);
pub const OTHER_DOOR: DoorId = DoorId([0xd0, 0, 0, 0, 0, 0, 0, 2]);

/// Deterministic bytes from a label and a counter (SHA-256), for reproducible tests.
pub fn det_bytes(label: &str, n: u64, out: &mut [u8]) {
    for (counter, chunk) in out.chunks_mut(32).enumerate() {
        let d = ring::digest::digest(&ring::digest::SHA256, format!("{label}/{n}/{counter}").as_bytes());
        chunk.copy_from_slice(&d.as_ref()[..chunk.len()]);
    }
}

#[derive(Clone)]
pub struct TestLock {
    pub door: DoorId,
    pub kem: p256::SecretKey,
    pub signing: SigningKey,
    pub now: u32,
    pub nonce: LockNonce,
    pub rng_counter: u64,
    pub anchors: HashMap<KeyId, VerifyingKey>,
    /// Revoked credential ids, each with the time after which the entry may be dropped.
    pub revoked: BTreeMap<CredentialId, u32>,
    pub version: u32,
    pub config: LockConfig,
    pub tickets: HashMap<TicketId, TicketEntry>,
    /// When each ticket was issued (the lock's effective clock).
    pub ticket_issued: HashMap<TicketId, u32>,
    pub events: Vec<AuditEvent>,
    pub acked: u64,
    pub next_seq: u64,
    pub actuations: u32,
    pub fail_storage: bool,
    /// Random outputs to hand out first, in order (for test vectors).
    pub scripted_random: std::collections::VecDeque<Vec<u8>>,
    /// Panic instead of inventing bytes once `scripted_random` is used up (test vectors:
    /// every random value must be recorded).
    pub strict_random: bool,
    /// What the actuator reports as the open time, in milliseconds.
    pub actuation_ms: u16,
    /// The clock floor (§10.4): raised by applied bundles. `now` is the effective clock.
    pub floor: u32,
    /// Every random value the lock drew, in order (for test vectors).
    pub drawn: Vec<Vec<u8>>,
    /// Whether a clock reset moved the clock back, so that only a full bundle (base
    /// version 0) is taken next (§6.4).
    pub full_bundle_needed: bool,
    /// Mixed into the deterministic random source, so two vectors draw different values.
    pub rng_seed: String,
}

impl TestLock {
    pub fn new(door: DoorId, issuer: &IssuerKey) -> Self {
        let mut seed = [0u8; 32];
        det_bytes("lock kem", u64::from_be_bytes(door.0), &mut seed);
        let kem = p256::SecretKey::from_slice(&seed).unwrap();
        det_bytes("lock signing", u64::from_be_bytes(door.0), &mut seed);
        let signing = SigningKey::from_slice(&seed).unwrap();
        Self::with_keys(door, kem, signing, issuer.public_key())
    }

    /// A lock with given keys, trusting one issuer public key (uncompressed SEC1).
    pub fn with_keys(door: DoorId, kem: p256::SecretKey, signing: SigningKey, issuer_public_key: &[u8]) -> Self {
        let mut anchors = HashMap::new();
        anchors
            .insert(KeyId::of_public_key(issuer_public_key), VerifyingKey::from_sec1_bytes(issuer_public_key).unwrap());
        let mut lock = Self {
            door,
            kem,
            signing,
            now: NOW,
            nonce: LockNonce([0; 8]),
            rng_counter: 0,
            anchors,
            revoked: BTreeMap::new(),
            version: 0,
            config: LockConfig::default(),
            tickets: HashMap::new(),
            ticket_issued: HashMap::new(),
            events: Vec::new(),
            acked: 0,
            next_seq: 1,
            actuations: 0,
            fail_storage: false,
            scripted_random: Default::default(),
            strict_random: false,
            actuation_ms: 120,
            floor: 0,
            drawn: Vec::new(),
            full_bundle_needed: false,
            rng_seed: String::new(),
        };
        lock.rotate_nonce();
        lock
    }

    fn rotate_nonce(&mut self) {
        let mut n = [0u8; 8];
        self.rng_counter += 1;
        det_bytes(&format!("lock nonce {}", self.door), self.rng_counter, &mut n);
        self.nonce = LockNonce(n);
    }

    pub fn public_key(&self) -> [u8; 65] {
        let p = self.kem.public_key().to_sec1_point(false);
        p.as_bytes().try_into().unwrap()
    }

    pub fn signing_public_key(&self) -> Vec<u8> {
        self.signing.verifying_key().to_sec1_point(false).as_bytes().to_vec()
    }

    pub fn target(&self) -> LockTarget {
        LockTarget { door: self.door, lock_public_key: self.public_key(), nonce: self.nonce }
    }

    /// Delivers one message on a connection and returns the lock's output.
    pub fn deliver(&mut self, session: &mut LockSession, message: &[u8]) -> LockOutput {
        session.on_message(message, self)
    }

    /// Revokes a credential for good (the entry never expires).
    pub fn revoke(&mut self, credential: CredentialId) {
        self.revoked.insert(credential, u32::MAX);
    }

    pub fn granted_events(&self) -> usize {
        self.events.iter().filter(|e| matches!(e.kind, AuditKind::Granted { .. })).count()
    }
}

impl LockEnvironment for TestLock {
    fn door(&self) -> DoorId {
        self.door
    }
    fn kem_key(&self) -> &p256::SecretKey {
        &self.kem
    }
    fn signing_key(&self) -> &SigningKey {
        &self.signing
    }
    fn now(&self) -> u32 {
        self.now
    }
    fn fill_random(&mut self, out: &mut [u8]) {
        if let Some(bytes) = self.scripted_random.pop_front() {
            out.copy_from_slice(&bytes);
        } else {
            assert!(!self.strict_random, "the lock drew a random value the vector does not record");
            self.rng_counter += 1;
            det_bytes(&format!("lock rng {}{}", self.door, self.rng_seed), self.rng_counter, out);
        }
        self.drawn.push(out.to_vec());
    }
    fn consume_nonce(&mut self, nonce: &LockNonce) -> bool {
        // The fresh nonce is the first random value a request draws (§10.1.1 S2).
        let current = *nonce == self.nonce;
        let mut fresh = [0u8; 8];
        self.fill_random(&mut fresh);
        self.nonce = LockNonce(fresh);
        current
    }
    fn current_nonce(&self) -> LockNonce {
        self.nonce
    }
    fn trust_anchor(&self, issuer: &KeyId) -> Option<VerifyingKey> {
        self.anchors.get(issuer).copied()
    }
    fn is_revoked(&self, credential: &CredentialId) -> bool {
        self.revoked.contains_key(credential)
    }
    fn bundle_version(&self) -> u32 {
        self.version
    }
    fn config(&self) -> LockConfig {
        self.config
    }
    fn take_ticket(&mut self, id: &TicketId) -> Option<TicketEntry> {
        self.ticket_issued.remove(id);
        self.tickets.remove(id)
    }
    fn store_ticket(&mut self, id: TicketId, entry: TicketEntry) -> Result<(), Refusal> {
        // At most one ticket per credential (§16 item 6).
        let older: Vec<TicketId> =
            self.tickets.iter().filter(|(_, t)| t.credential == entry.credential).map(|(id, _)| *id).collect();
        for old in older {
            self.take_ticket(&old);
        }
        self.ticket_issued.insert(id, self.now);
        self.tickets.insert(id, entry);
        Ok(())
    }
    fn actuate(&mut self) -> u16 {
        self.actuations += 1;
        self.actuation_ms
    }
    fn apply_bundle(&mut self, bundle: &Bundle) -> Result<(), Refusal> {
        if self.fail_storage {
            return Err(Refusal::StorageFailed);
        }
        // The rules of §10.3 B6 as the reference lock (keyway-lock) applies them.
        let body = &bundle.body;
        self.version = body.version;
        self.config = body.config;
        if body.base_version == 0 {
            self.full_bundle_needed = false;
        }
        self.now = self.now.max(body.signed_time);
        self.floor = self.floor.max(body.signed_time);
        for r in &body.revocations {
            let expires = self.revoked.entry(r.credential).or_insert(r.expires);
            *expires = (*expires).max(r.expires);
        }
        let now = self.now;
        self.revoked.retain(|_, expires| *expires >= now);
        // Nothing above the highest sequence number used so far can be acknowledged.
        let acknowledged = body.audit_acknowledged.min(self.next_seq - 1);
        self.acked = self.acked.max(acknowledged);
        self.events.retain(|e| e.seq > acknowledged);
        let dead: Vec<TicketId> = self
            .tickets
            .iter()
            .filter(|(_, t)| !self.config.fast_unlock || t.not_after < now)
            .map(|(id, _)| *id)
            .collect();
        for id in dead {
            self.take_ticket(&id);
        }
        Ok(())
    }
    fn needs_full_bundle(&self) -> bool {
        self.full_bundle_needed
    }
    fn reset_clock(&mut self, time: u32) -> Result<(), Refusal> {
        if self.fail_storage {
            return Err(Refusal::StorageFailed);
        }
        // §6.4 as the reference lock (keyway-lock) applies it.
        if time < self.now {
            // Going back: tickets go, and revocations may have been pruned by the wrong
            // time, so only a full bundle is taken next.
            self.tickets.clear();
            self.ticket_issued.clear();
            self.full_bundle_needed = true;
        } else {
            self.revoked.retain(|_, expires| *expires >= time);
            let dead: Vec<TicketId> =
                self.tickets.iter().filter(|(_, t)| t.not_after < time).map(|(id, _)| *id).collect();
            for id in dead {
                self.take_ticket(&id);
            }
        }
        self.now = time;
        self.floor = time;
        Ok(())
    }
    fn record(&mut self, kind: AuditKind, credential: Option<CredentialId>) -> Result<(), Refusal> {
        self.events.push(AuditEvent { seq: self.next_seq, time: self.now, kind, credential });
        self.next_seq += 1;
        Ok(())
    }
    fn receipt_body(&mut self) -> ReceiptBody {
        ReceiptBody {
            door: self.door,
            bundle_version: self.version,
            lock_clock: self.now,
            more_pending: false,
            events: self.events.clone(),
        }
    }
}

/// A phone: a device key pair (ring) and its credentials.
pub struct TestPhone {
    pub device: EcdsaKeyPair,
}

impl TestPhone {
    /// A phone with a fresh device key.
    pub fn new() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        Self { device: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap() }
    }

    pub fn device_key(&self) -> DeviceKey {
        DeviceKey::from_uncompressed(self.device.public_key().as_ref()).unwrap()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let sig = self.device.sign(&ring::rand::SystemRandom::new(), message).unwrap();
        sig.as_ref().try_into().unwrap()
    }

    /// Builds a complete standard request for `target`.
    pub fn standard_request(
        &self,
        target: &LockTarget,
        credential: &Credential,
        command: Command,
    ) -> (keyway_protocol::phone::AwaitingResponse, Vec<u8>) {
        let unlock =
            StandardUnlock::begin(target, &credential.to_bytes(), command, true, &ring::rand::SystemRandom::new())
                .unwrap();
        let signature = self.sign(&unlock.signing_message());
        unlock.finish(&signature)
    }

    /// Runs a whole standard unlock against `lock` on a new connection.
    pub fn standard_unlock(&self, lock: &mut TestLock, credential: &Credential) -> UnlockReply {
        let (awaiting, request) = self.standard_request(&lock.target(), credential, Command::Unlock);
        let mut session = LockSession::new();
        let out = lock.deliver(&mut session, &request);
        awaiting.on_response(&out.reply.unwrap()).unwrap().0
    }

    /// Builds a fast unlock request for `lock`'s current nonce.
    pub fn fast_request(
        &self,
        lock: &TestLock,
        ticket: &FastTicket,
    ) -> (keyway_protocol::phone::AwaitingResponse, Vec<u8>) {
        fast_unlock(lock.door, lock.nonce, ticket, Command::Unlock, &ring::rand::SystemRandom::new()).unwrap()
    }

    /// Runs a whole fast unlock against `lock` on a new connection.
    pub fn fast_unlock(&self, lock: &mut TestLock, ticket: &FastTicket) -> UnlockReply {
        let (awaiting, request) = self.fast_request(lock, ticket);
        let mut session = LockSession::new();
        let out = lock.deliver(&mut session, &request);
        awaiting.on_response(&out.reply.unwrap()).unwrap().0
    }
}

pub fn issuer() -> IssuerKey {
    IssuerKey::generate().unwrap().0
}

pub fn credential_for(issuer: &IssuerKey, phone: &TestPhone, doors: &[DoorId], id: u8) -> Credential {
    issuer
        .issue(CredentialBody {
            id: CredentialId([id; 16]),
            issuer: KeyId::default(),
            device_key: phone.device_key(),
            doors: doors.to_vec(),
            not_before: NOW - 3600,
            not_after: NOW + 72 * 3600,
            flags: CredentialFlags { shareable: true, guest: false },
            parent: None,
        })
        .unwrap()
}

pub fn guest_credential(issuer: &IssuerKey, phone: &TestPhone, parent: &Credential, id: u8) -> Credential {
    issuer
        .issue(CredentialBody {
            id: CredentialId([id; 16]),
            issuer: KeyId::default(),
            device_key: phone.device_key(),
            doors: vec![DOOR],
            not_before: NOW - 60,
            not_after: NOW + 3600,
            flags: CredentialFlags { shareable: false, guest: true },
            parent: Some(parent.body.id),
        })
        .unwrap()
}

pub fn bundle(issuer: &IssuerKey, door: DoorId, base: u32, version: u32, revoked: &[CredentialId]) -> Bundle {
    issuer
        .sign_bundle(BundleBody {
            door,
            issuer: KeyId::default(),
            version,
            base_version: base,
            signed_time: NOW + 10,
            audit_acknowledged: 0,
            config: LockConfig::default(),
            revocations: revoked
                .iter()
                .map(|c| keyway_protocol::bundle::Revocation { credential: *c, expires: NOW + 100_000 })
                .collect(),
        })
        .unwrap()
}

/// The P-256 group order n.
const ORDER: [u8; 32] = hex_literal(b"ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

const fn hex_literal(s: &[u8; 64]) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        if c >= b'a' { c - b'a' + 10 } else { c - b'0' }
    }
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

/// `n − s` (big-endian, 32 bytes).
fn negate(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(ORDER[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        out[i] = (d + 256 * borrow) as u8;
    }
    out
}

/// Whether `s` is above n/2 ("high-S").
pub fn is_high_s(signature: &[u8; 64]) -> bool {
    let s = &signature[32..];
    s > &negate(s)[..]
}

/// The same signature with `s` replaced by `n − s`: equally valid, the other form.
pub fn flip_s(signature: &[u8; 64]) -> [u8; 64] {
    let mut out = *signature;
    out[32..].copy_from_slice(&negate(&signature[32..]));
    out
}
