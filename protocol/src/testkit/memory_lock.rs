//! [`MemoryLock`]: a lock environment held in memory, for tests of the protocol and for
//! fuzzing. It applies the reference lock's rules (keyway-lock) for bundles, clock resets
//! and tickets, with every part of its state open to the test, and a random source that
//! is deterministic, scriptable and recorded (for test vectors).

use super::door::TestDoor;
use super::{NOW, det_bytes};
use crate::Refusal;
use crate::bundle::{Bundle, LockConfig, RevocationList};
use crate::ids::{CredentialId, DoorId, KeyId, LockNonce, SerialPrefix, TicketId};
use crate::issuer::IssuerKey;
use crate::lock_role::{LockEnvironment, LockOutput, LockSession, TicketEntry, sign_receipt};
use crate::phone::LockTarget;
use crate::receipt::{AuditEvent, AuditKind, Receipt, ReceiptBody};
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::elliptic_curve::sec1::ToSec1Point;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// An in-memory lock: keys, clock, trust anchors, revocations, tickets and audit log as
/// plain fields.
#[derive(Clone)]
pub struct MemoryLock {
    /// Its door.
    pub door: DoorId,
    /// Its static key (HPKE).
    pub kem: p256::SecretKey,
    /// The key it signs receipts with.
    pub signing: SigningKey,
    /// The effective clock.
    pub now: u32,
    /// The nonce it advertises.
    pub nonce: LockNonce,
    /// How many values the deterministic random source has drawn.
    pub rng_counter: u64,
    /// Trusted issuers.
    pub anchors: HashMap<KeyId, VerifyingKey>,
    /// Revoked credential ids, each with the time after which the entry may be dropped.
    pub revoked: BTreeMap<CredentialId, u32>,
    /// Serial prefixes revoked by format-3 bundles, each with its expiry: every credential
    /// whose id (or whose parent's id) starts with one is refused.
    pub revoked_prefixes: BTreeMap<SerialPrefix, u32>,
    /// The bundle version applied.
    pub version: u32,
    /// The configuration from the last bundle.
    pub config: LockConfig,
    /// Fast-unlock tickets.
    pub tickets: HashMap<TicketId, TicketEntry>,
    /// When each ticket was issued (the lock's effective clock).
    pub ticket_issued: HashMap<TicketId, u32>,
    /// Audit events not yet acknowledged.
    pub events: Vec<AuditEvent>,
    /// The highest audit sequence number acknowledged.
    pub acked: u64,
    /// The next audit sequence number.
    pub next_seq: u64,
    /// How often the door opened.
    pub actuations: u32,
    /// When set, bundles and clock resets fail as if storage had failed.
    pub fail_storage: bool,
    /// Random outputs to hand out first, in order (for test vectors).
    pub scripted_random: VecDeque<Vec<u8>>,
    /// Panic instead of inventing bytes once `scripted_random` is used up (test vectors:
    /// every random value must be recorded).
    pub strict_random: bool,
    /// What the actuator reports as the open time, in milliseconds.
    pub actuation_ms: u16,
    /// The clock floor: raised by applied bundles. `now` is the effective clock.
    pub floor: u32,
    /// Every random value the lock drew, in order (for test vectors).
    pub drawn: Vec<Vec<u8>>,
    /// Whether a clock reset moved the clock back, so that only a full bundle (base
    /// version 0) is taken next.
    pub full_bundle_needed: bool,
    /// Mixed into the deterministic random source, so two vectors draw different values.
    pub rng_seed: String,
    /// The version of the trust-anchor set (0: as built).
    pub anchor_version: u32,
}

impl MemoryLock {
    /// A lock for `door` trusting `issuer`, with keys derived from the door id.
    pub fn new(door: DoorId, issuer: &IssuerKey) -> Self {
        Self::trusting(door, issuer.public_key())
    }

    /// A lock for `door` trusting one issuer public key (uncompressed SEC1), with keys
    /// derived from the door id.
    ///
    /// # Panics
    /// If `issuer_public_key` is not a P-256 point.
    pub fn trusting(door: DoorId, issuer_public_key: &[u8]) -> Self {
        let mut seed = [0u8; 32];
        det_bytes("lock kem", u64::from_be_bytes(door.0), &mut seed);
        let kem = p256::SecretKey::from_slice(&seed).expect("a derived scalar is a P-256 key");
        det_bytes("lock signing", u64::from_be_bytes(door.0), &mut seed);
        let signing = SigningKey::from_slice(&seed).expect("a derived scalar is a P-256 key");
        Self::with_keys(door, kem, signing, issuer_public_key)
    }

    /// A lock with given keys, trusting one issuer public key (uncompressed SEC1).
    ///
    /// # Panics
    /// If `issuer_public_key` is not a P-256 point.
    pub fn with_keys(door: DoorId, kem: p256::SecretKey, signing: SigningKey, issuer_public_key: &[u8]) -> Self {
        let anchor = VerifyingKey::from_sec1_bytes(issuer_public_key).expect("the issuer key is a P-256 point");
        let mut lock = Self {
            door,
            kem,
            signing,
            now: NOW,
            nonce: LockNonce([0; 8]),
            rng_counter: 0,
            anchors: HashMap::from([(KeyId::of_public_key(issuer_public_key), anchor)]),
            revoked: BTreeMap::new(),
            revoked_prefixes: BTreeMap::new(),
            version: 0,
            config: LockConfig::default(),
            tickets: HashMap::new(),
            ticket_issued: HashMap::new(),
            events: Vec::new(),
            acked: 0,
            next_seq: 1,
            actuations: 0,
            fail_storage: false,
            scripted_random: VecDeque::new(),
            strict_random: false,
            actuation_ms: 120,
            floor: 0,
            drawn: Vec::new(),
            full_bundle_needed: false,
            rng_seed: String::new(),
            anchor_version: 0,
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

    /// Its static public key (uncompressed SEC1), as the door record carries it.
    pub fn public_key(&self) -> [u8; 65] {
        let point = self.kem.public_key().to_sec1_point(false);
        point.as_bytes().try_into().expect("an uncompressed P-256 point is 65 bytes")
    }

    /// Its receipt-signing public key (uncompressed SEC1), as the backend knows it.
    pub fn signing_public_key(&self) -> Vec<u8> {
        self.signing.verifying_key().to_sec1_point(false).as_bytes().to_vec()
    }

    /// What a phone learns from the advertisement and the door record.
    pub fn target(&self) -> LockTarget {
        LockTarget { door: self.door, lock_public_key: self.public_key(), nonce: self.nonce }
    }

    /// Delivers one message on the connection `session` and returns the lock's output
    /// ([`TestDoor::deliver`] uses a new connection).
    pub fn deliver_on(&mut self, session: &mut LockSession, message: &[u8]) -> LockOutput {
        session.on_message(message, self)
    }

    /// Revokes a credential for good (the entry never expires).
    pub fn revoke(&mut self, credential: CredentialId) {
        self.revoked.insert(credential, u32::MAX);
    }

    /// How many grants the audit log holds.
    pub fn granted_events(&self) -> usize {
        self.events.iter().filter(|e| matches!(e.kind, AuditKind::Granted { .. })).count()
    }

    /// `body` signed with the lock's receipt key, as the lock sends it.
    pub fn sign_receipt(&self, body: ReceiptBody) -> Receipt {
        sign_receipt(body, &self.signing)
    }
}

impl TestDoor for MemoryLock {
    type Connection = LockSession;

    fn target(&mut self) -> LockTarget {
        MemoryLock::target(self)
    }
    fn connect(&mut self) -> LockSession {
        LockSession::new()
    }
    fn exchange(&mut self, connection: &mut LockSession, message: &[u8]) -> LockOutput {
        connection.on_message(message, self)
    }
    fn disconnect(&mut self, _connection: LockSession) {}
}

impl LockEnvironment for MemoryLock {
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
        self.revoked.contains_key(credential) || self.revoked_prefixes.contains_key(&credential.serial_prefix())
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
        match &body.revocations {
            RevocationList::Ids(list) => {
                for r in list {
                    let expires = self.revoked.entry(r.credential).or_insert(r.expires);
                    *expires = (*expires).max(r.expires);
                }
            }
            RevocationList::Prefixes(list) => {
                for r in list {
                    let expires = self.revoked_prefixes.entry(r.prefix).or_insert(r.expires);
                    *expires = (*expires).max(r.expires);
                }
            }
        }
        let now = self.now;
        self.revoked.retain(|_, expires| *expires >= now);
        self.revoked_prefixes.retain(|_, expires| *expires >= now);
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
    fn anchor_set_version(&self) -> u32 {
        self.anchor_version
    }
    fn replace_anchors(&mut self, update: &crate::anchor_update::AnchorUpdate) -> Result<(), Refusal> {
        if self.fail_storage {
            return Err(Refusal::StorageFailed);
        }
        let mut anchors = HashMap::new();
        for key in &update.body.anchors {
            let anchor = VerifyingKey::from_sec1_bytes(key).map_err(|_| Refusal::Malformed)?;
            anchors.insert(KeyId::of_public_key(key), anchor);
        }
        self.anchors = anchors;
        self.anchor_version = update.body.version;
        Ok(())
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
            self.revoked_prefixes.retain(|_, expires| *expires >= time);
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
