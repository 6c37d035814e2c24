//! The lock's side of [`LockEnvironment`]: the protocol's handshake rules run against
//! this lock's persisted state, clock, random source and nonce policy.
//!
//! Every mutating call is saved before it returns. A save that fails leaves the change
//! in memory (memory is never less strict than disk) and marks the state dirty; the next
//! mutation saves again. Three exceptions: a grant's audit event and a new ticket are
//! taken back when their save fails (the lock then refuses and opens nothing), and a
//! bundle or a clock reset is applied to a copy, and only a copy that reached storage
//! replaces the state.

use crate::clock::LockClock;
use crate::error::LockError;
use crate::keypad::KeypadOutcome;
use crate::nonce::NonceState;
use crate::persist;
use crate::random::RandomSource;
use crate::state::LockState;
use crate::store::Storage;
use keyway_protocol::Refusal;
use keyway_protocol::bundle::{Bundle, LockConfig};
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::doorcode::parse_keypad;
use keyway_protocol::ids::{CredentialId, DoorId, KeyId, LockNonce, TicketId};
use keyway_protocol::lock_role::{LockEnvironment, TicketEntry};
use keyway_protocol::receipt::{AuditKind, MAX_RECEIPT_EVENTS, ReceiptBody};
use p256::ecdsa::{SigningKey, VerifyingKey};

/// How long the simulated actuator takes to open the latch.
pub const ACTUATION_MS: u16 = 120;

/// The lock's state and machinery, as the handshake sees it.
pub(crate) struct LockCore {
    pub(crate) state: LockState,
    pub(crate) clock: LockClock,
    pub(crate) storage: Box<dyn Storage>,
    pub(crate) random: Box<dyn RandomSource>,
    pub(crate) nonces: NonceState,
    pub(crate) actuations: u64,
    /// Memory holds changes that the last save did not get to disk.
    pub(crate) dirty: bool,
    /// The audit sequence number below which every event is on disk: only those go
    /// into receipts, so a crash cannot hand an event's number to a different event.
    pub(crate) durable_next_seq: u64,
    pub(crate) storage_failures: u64,
}

impl LockCore {
    /// Assembles a core over a state already on disk.
    pub(crate) fn new(
        state: LockState,
        clock: LockClock,
        storage: Box<dyn Storage>,
        mut random: Box<dyn RandomSource>,
    ) -> Result<Self, LockError> {
        let first = random_nonce(random.as_mut())?;
        let durable_next_seq = state.audit.next_seq();
        let ticks = clock.ticks();
        // The clock takes its anchor at start: later RTC readings are judged against it.
        clock.now(state.clock_floor);
        Ok(Self {
            state,
            clock,
            storage,
            random,
            nonces: NonceState::new(first, ticks),
            actuations: 0,
            dirty: false,
            durable_next_seq,
            storage_failures: 0,
        })
    }

    /// Saves the current state.
    pub(crate) fn persist(&mut self) -> Result<(), LockError> {
        match save(self.storage.as_mut(), &self.clock, &mut self.state) {
            Ok(()) => {
                self.dirty = false;
                self.durable_next_seq = self.state.audit.next_seq();
                Ok(())
            }
            Err(e) => {
                self.dirty = true;
                self.storage_failures += 1;
                Err(e)
            }
        }
    }

    /// The monotonic tick counter, for nonce age and timeouts: no RTC reading, bundle or
    /// clock reset moves it.
    pub(crate) fn ticks(&self) -> u64 {
        self.clock.ticks()
    }

    /// Replaces the advertised nonce if it has outlived its lifetime.
    pub(crate) fn refresh_nonce(&mut self) -> Result<(), LockError> {
        let now = self.ticks();
        if self.nonces.is_stale(now) {
            let fresh = random_nonce(self.random.as_mut())?;
            self.nonces.rotate(now, fresh);
        }
        Ok(())
    }

    /// Replaces the state with `next` once `next` is on disk: all of it or nothing.
    fn replace_state(&mut self, mut next: LockState) -> Result<(), Refusal> {
        if save(self.storage.as_mut(), &self.clock, &mut next).is_err() {
            self.storage_failures += 1;
            return Err(Refusal::StorageFailed);
        }
        self.state = next;
        self.dirty = false;
        self.durable_next_seq = self.state.audit.next_seq();
        Ok(())
    }

    /// One keypad entry at the effective clock (see [`crate::keypad`]). A right code opens
    /// only once its audit event is on disk; a wrong one counts even if the save fails
    /// (memory is never less strict than disk).
    pub(crate) fn enter_keys(&mut self, keys: &[u8]) -> Result<KeypadOutcome, LockError> {
        let now = self.now();
        if self.state.keypad.is_locked(now) {
            return Ok(KeypadOutcome::LockedOut { until: self.state.keypad.locked_until });
        }
        let Some(secret) = self.state.doorcode_secret.as_ref() else { return Ok(KeypadOutcome::NotEnabled) };
        let entered = match parse_keypad(keys) {
            Ok(code) => code,
            Err(e) => return Ok(KeypadOutcome::Malformed(e)),
        };
        let door = self.state.identity.door;
        let before = self.state.keypad;
        if let Some(slot) = self.state.doorcode_slots.find(secret, door, &entered, now) {
            self.state.keypad.right();
            let seq = self.state.audit.append(now, AuditKind::DoorcodeGranted { slot: slot.0 }, None);
            if let Err(e) = self.persist() {
                // The door stays shut, so neither the grant's record nor the reset may stay.
                if let Some(seq) = seq {
                    self.state.audit.retract(seq);
                }
                self.state.keypad = before;
                return Err(e);
            }
            self.actuations += 1;
            return Ok(KeypadOutcome::Opened { slot });
        }
        let lockout = self.state.keypad.wrong(now);
        let consecutive = before.wrong_in_row.saturating_add(1);
        self.state.audit.append(now, AuditKind::DoorcodeWrong { consecutive }, None);
        if let Some(seconds) = lockout {
            self.state.audit.append(now, AuditKind::KeypadLockedOut { seconds }, None);
        }
        self.persist_or_mark();
        Ok(match lockout {
            Some(_) => KeypadOutcome::LockedOut { until: self.state.keypad.locked_until },
            None => KeypadOutcome::WrongCode { attempts_left: self.state.keypad.attempts_left() },
        })
    }

    /// Saves after a mutation the handshake cannot be told failed (it keeps the change
    /// in memory and retries with the next one).
    fn persist_or_mark(&mut self) {
        let _ = self.persist();
    }
}

/// Saves `state` with its clock floor raised to the effective time and the RTC's learnt
/// correction.
fn save(storage: &mut dyn Storage, clock: &LockClock, state: &mut LockState) -> Result<(), LockError> {
    state.clock_floor = clock.raise(state.clock_floor);
    state.rtc_correction = clock.correction();
    storage.save(&persist::encode(state))
}

pub(crate) fn random_nonce(random: &mut dyn RandomSource) -> Result<LockNonce, LockError> {
    let mut nonce = [0u8; LockNonce::LEN];
    random.fill(&mut nonce)?;
    Ok(LockNonce(nonce))
}

impl LockEnvironment for LockCore {
    fn door(&self) -> DoorId {
        self.state.identity.door
    }

    fn kem_key(&self) -> &p256::SecretKey {
        self.state.identity.kem_key()
    }

    fn signing_key(&self) -> &SigningKey {
        self.state.identity.signing_key()
    }

    fn now(&self) -> UnixSeconds {
        self.clock.now(self.state.clock_floor)
    }

    fn fill_random(&mut self, out: &mut [u8]) {
        // The trait cannot report failure, and a lock without randomness must not answer:
        // a broken OS generator is fatal.
        if self.random.fill(out).is_err() {
            panic!("the lock's random source failed");
        }
    }

    fn consume_nonce(&mut self, nonce: &LockNonce) -> bool {
        let mut fresh = [0u8; LockNonce::LEN];
        self.fill_random(&mut fresh);
        let now = self.ticks();
        self.nonces.consume(nonce, now, LockNonce(fresh))
    }

    fn current_nonce(&self) -> LockNonce {
        self.nonces.current()
    }

    fn trust_anchor(&self, issuer: &KeyId) -> Option<VerifyingKey> {
        self.state.anchors.get(issuer).and_then(|anchor| anchor.verifying_key())
    }

    fn is_revoked(&self, credential: &CredentialId) -> bool {
        self.state.revocations.contains(credential)
    }

    fn bundle_version(&self) -> u32 {
        self.state.bundle_version
    }

    fn config(&self) -> LockConfig {
        self.state.config
    }

    fn take_ticket(&mut self, id: &TicketId) -> Option<TicketEntry> {
        let ticket = self.state.tickets.take(id)?;
        // A ticket whose removal did not reach the disk is refused: it must never be
        // usable twice, even across a crash. A ticket past its own lifetime is refused
        // (and gone).
        let saved = self.persist().is_ok();
        (saved && ticket.is_live(self.now())).then_some(ticket.entry)
    }

    fn store_ticket(&mut self, id: TicketId, entry: TicketEntry) -> Result<(), Refusal> {
        let now = self.now();
        self.state.tickets.insert(id, entry, now);
        if self.persist().is_err() {
            // Tickets it evicted stay evicted: memory stays as strict as the disk.
            self.state.tickets.take(&id);
            return Err(Refusal::StorageFailed);
        }
        Ok(())
    }

    fn actuate(&mut self) -> u16 {
        self.actuations += 1;
        ACTUATION_MS
    }

    fn apply_bundle(&mut self, bundle: &Bundle) -> Result<(), Refusal> {
        let next = self.state.with_bundle(bundle, self.now());
        self.replace_state(next)?;
        self.clock.raise_to(bundle.body.signed_time);
        Ok(())
    }

    fn needs_full_bundle(&self) -> bool {
        self.state.full_bundle_needed
    }

    fn anchor_set_version(&self) -> u32 {
        self.state.anchor_set_version
    }

    fn replace_anchors(&mut self, update: &keyway_protocol::anchor_update::AnchorUpdate) -> Result<(), Refusal> {
        let next = self.state.with_anchor_update(update).map_err(|_| Refusal::Malformed)?;
        self.replace_state(next)
    }

    fn reset_clock(&mut self, time: UnixSeconds) -> Result<(), Refusal> {
        let next = self.state.with_clock_reset(time, self.now());
        let before = self.clock.fork();
        self.clock.set(time);
        if let Err(refusal) = self.replace_state(next) {
            self.clock = before;
            return Err(refusal);
        }
        Ok(())
    }

    fn record(&mut self, kind: AuditKind, credential: Option<CredentialId>) -> Result<(), Refusal> {
        let now = self.now();
        let seq = self.state.audit.append(now, kind, credential);
        if self.persist().is_err() {
            if let (Some(seq), AuditKind::Granted { .. }) = (seq, kind) {
                // The grant will not happen: its record must not stay behind either.
                self.state.audit.retract(seq);
            }
            return Err(Refusal::StorageFailed);
        }
        Ok(())
    }

    fn receipt_body(&mut self) -> ReceiptBody {
        // Refusals counted so far reach the backend with this receipt.
        if self.state.audit.flush_tallies() || self.dirty {
            self.persist_or_mark();
        }
        let (events, more_pending) = self.state.audit.pending(self.durable_next_seq, MAX_RECEIPT_EVENTS);
        ReceiptBody {
            door: self.state.identity.door,
            bundle_version: self.state.bundle_version,
            lock_clock: self.now(),
            more_pending,
            events,
        }
    }
}
