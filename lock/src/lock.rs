//! The reference lock: opens or provisions its state, advertises, and serves BLE
//! connections, each with its own handshake state machine and frame reassembler.

use crate::clock::{LockClock, Rtc, SystemRtc};
use crate::environment::{LockCore, random_nonce};
use crate::error::LockError;
use crate::identity::{Identity, PUBLIC_KEY_LEN};
use crate::keypad::{DoorcodeSlots, KeypadGuard, KeypadOutcome};
use crate::persist;
use crate::random::{OsRandom, RandomSource};
use crate::state::{LockState, TrustAnchor};
use crate::store::Storage;
use keyway_protocol::Refusal;
use keyway_protocol::advert::Advertisement;
use keyway_protocol::bundle::LockConfig;
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::doorcode::DoorcodeSecret;
use keyway_protocol::framing::{self, MAX_ATT_MTU, MAX_HANDSHAKE_LEN, MAX_MESSAGE_LEN, MIN_ATT_MTU, Reassembler};
use keyway_protocol::ids::{CredentialId, DoorId};
use keyway_protocol::lock_role::{LockEnvironment, LockEvent, LockOutput, LockSession};
use keyway_protocol::receipt::AuditEvent;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// How many recent [`LockEvent`]s the lock keeps for inspection.
pub const RECENT_EVENTS: usize = 256;
/// The most issuer keys a lock trusts (a site's current key and a few in rotation): the
/// protocol's bound on an anchor update's set.
pub const MAX_TRUST_ANCHORS: usize = keyway_protocol::anchor_update::MAX_TRUST_ANCHORS;
/// A connection must complete a handshake this many seconds after connecting (counted on
/// the monotonic tick counter, like every timeout).
pub const HANDSHAKE_TIMEOUT_SECS: UnixSeconds = 5;
/// A connection with an open channel is dropped after this many seconds without a frame.
pub const IDLE_TIMEOUT_SECS: UnixSeconds = 30;

/// What a lock needs besides its storage: its time sources and a random source.
pub struct LockOptions {
    /// The board's real-time clock and monotonic tick counter.
    pub rtc: Arc<dyn Rtc>,
    /// The random source (the OS generator unless a test needs to replay a session).
    pub random: Box<dyn RandomSource>,
}

impl Default for LockOptions {
    fn default() -> Self {
        Self { rtc: Arc::new(SystemRtc), random: Box::new(OsRandom) }
    }
}

impl LockOptions {
    /// Options with this RTC and the OS random source.
    pub fn with_rtc(rtc: Arc<dyn Rtc>) -> Self {
        Self { rtc, random: Box::new(OsRandom) }
    }
}

/// What a lock is told when it is fitted to a door.
#[derive(Debug, Clone)]
pub struct Provisioning {
    /// The door it guards.
    pub door: DoorId,
    /// The issuer public keys it trusts (uncompressed SEC1).
    pub trust_anchors: Vec<Vec<u8>>,
}

/// One open BLE connection, as [`Lock::connect`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub u64);

struct Connection {
    session: LockSession,
    inbound: Reassembler,
    att_mtu: u16,
    /// Ticks of the monotonic counter.
    opened: u64,
    last_frame: u64,
    /// A handshake succeeded: the channel may carry long messages (bundles).
    established: bool,
}

impl Connection {
    fn has_expired(&self, now: u64) -> bool {
        if self.established {
            now > self.last_frame.saturating_add(u64::from(IDLE_TIMEOUT_SECS))
        } else {
            now > self.opened.saturating_add(u64::from(HANDSHAKE_TIMEOUT_SECS))
        }
    }
}

/// What the lock sends back after a frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FrameReply {
    /// Notification frames to send, in order, each fitting the connection's MTU.
    pub notifications: Vec<Vec<u8>>,
    /// The lock has closed the connection (after sending the notifications).
    pub closed: bool,
}

/// The reference lock.
pub struct Lock {
    core: LockCore,
    connections: BTreeMap<ConnectionId, Connection>,
    next_connection: u64,
    events: VecDeque<LockEvent>,
    /// Refusals by reason since start, including those in the clear that the audit log
    /// leaves out (anyone in range can cause them): counters cannot be flooded.
    refusals: BTreeMap<u8, u64>,
}

impl std::fmt::Debug for Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lock")
            .field("door", &self.door())
            .field("bundle_version", &self.bundle_version())
            .field("connections", &self.connections.len())
            .finish_non_exhaustive()
    }
}

impl Lock {
    /// Opens a provisioned lock from its storage.
    pub fn open(storage: Box<dyn Storage>, options: LockOptions) -> Result<Self, LockError> {
        let bytes = storage.load()?.ok_or(LockError::NotProvisioned)?;
        let state = persist::decode(&bytes)?;
        Self::assemble(state, storage, options)
    }

    /// Opens the lock from its storage, or, if the storage is empty, provisions it:
    /// generates its keys from the random source and saves them before returning.
    /// A damaged state file is an error, never a reason to start blank.
    pub fn open_or_provision(
        mut storage: Box<dyn Storage>,
        provisioning: &Provisioning,
        mut options: LockOptions,
    ) -> Result<Self, LockError> {
        if storage.load()?.is_some() {
            return Self::open(storage, options);
        }
        if provisioning.trust_anchors.len() > MAX_TRUST_ANCHORS {
            return Err(LockError::BadTrustAnchor);
        }
        let anchors =
            provisioning.trust_anchors.iter().map(|key| TrustAnchor::new(key)).collect::<Result<Vec<_>, _>>()?;
        let identity = Identity::generate(provisioning.door, options.random.as_mut())?;
        let floor = options.rtc.now();
        let mut state = LockState::provisioned(identity, &anchors, floor);
        let mut doorcode_secret = DoorcodeSecret([0; 32]);
        options.random.fill(&mut doorcode_secret.0)?;
        state.doorcode_secret = Some(doorcode_secret);
        storage.save(&persist::encode(&state))?;
        Self::assemble(state, storage, options)
    }

    fn assemble(state: LockState, storage: Box<dyn Storage>, options: LockOptions) -> Result<Self, LockError> {
        let clock = LockClock::new(options.rtc, state.rtc_correction);
        let core = LockCore::new(state, clock, storage, options.random)?;
        Ok(Self {
            core,
            connections: BTreeMap::new(),
            next_connection: 1,
            events: VecDeque::new(),
            refusals: BTreeMap::new(),
        })
    }

    /// A twin of this lock over `storage`: the same state (saved there first), the same
    /// advertised nonces, the same RTC, and a fork of the random source. Open connections
    /// are not copied. Tests use it to try a message against a lock that would accept it.
    pub fn fork(&self, mut storage: Box<dyn Storage>) -> Result<Self, LockError> {
        let mut state = self.core.state.clone();
        state.clock_floor = self.core.clock.raise(state.clock_floor);
        storage.save(&persist::encode(&state))?;
        let mut core = LockCore::new(state, self.core.clock.fork(), storage, self.core.random.fork())?;
        core.nonces = self.core.nonces.clone();
        core.actuations = self.core.actuations;
        Ok(Self {
            core,
            connections: BTreeMap::new(),
            next_connection: self.next_connection,
            events: VecDeque::new(),
            refusals: BTreeMap::new(),
        })
    }

    /// The door this lock guards.
    pub fn door(&self) -> DoorId {
        self.core.door()
    }

    /// The static HPKE public key (uncompressed SEC1) for the door record.
    pub fn public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.core.state.identity.kem_public_key()
    }

    /// The receipt-signing public key (uncompressed SEC1) for the door record.
    pub fn signing_public_key(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.core.state.identity.signing_public_key()
    }

    /// What the lock broadcasts now. A nonce past its lifetime is replaced first (if the
    /// random source fails, the old one stays and requests naming it are refused as stale).
    pub fn advertisement(&mut self) -> Advertisement {
        let _ = self.core.refresh_nonce();
        Advertisement {
            door: self.door(),
            nonce: self.core.current_nonce(),
            bundle_version: self.core.state.bundle_version,
        }
    }

    /// Accepts a connection with the negotiated ATT MTU.
    pub fn connect(&mut self, att_mtu: u16) -> Result<ConnectionId, LockError> {
        if !(MIN_ATT_MTU..=MAX_ATT_MTU).contains(&att_mtu) {
            return Err(LockError::BadMtu(att_mtu));
        }
        let id = ConnectionId(self.next_connection);
        self.next_connection += 1;
        let now = self.core.ticks();
        let connection = Connection {
            session: LockSession::new(),
            // Before a handshake succeeds, anyone in range is talking: refuse to buffer more
            // than the largest request.
            inbound: Reassembler::with_max_len(MAX_HANDSHAKE_LEN),
            att_mtu,
            opened: now,
            last_frame: now,
            established: false,
        };
        self.connections.insert(id, connection);
        Ok(id)
    }

    /// The connection, if it is open and has not timed out (an expired one is closed);
    /// marks a frame's arrival.
    fn live_connection(&mut self, id: ConnectionId) -> Result<&mut Connection, LockError> {
        let now = self.core.ticks();
        let expired = self.connections.get(&id).ok_or(LockError::UnknownConnection)?.has_expired(now);
        if expired {
            self.connections.remove(&id);
            return Err(LockError::ConnectionTimedOut);
        }
        let connection = self.connections.get_mut(&id).ok_or(LockError::UnknownConnection)?;
        connection.last_frame = now;
        Ok(connection)
    }

    /// Runs the lock's timers: replaces an advertised nonce past its lifetime and closes
    /// connections past their timeouts. A lock calls it every second or so; the simulated
    /// radio calls it before every scan.
    pub fn tick(&mut self) -> Result<(), LockError> {
        let now = self.core.ticks();
        self.connections.retain(|_, connection| !connection.has_expired(now));
        self.core.refresh_nonce()
    }

    /// Closes a connection. Returns whether it was open.
    pub fn disconnect(&mut self, id: ConnectionId) -> bool {
        self.connections.remove(&id).is_some()
    }

    /// How many connections are open.
    pub fn open_connections(&self) -> usize {
        self.connections.len()
    }

    /// Handles one written frame. Once a message is complete the handshake runs and the
    /// reply comes back as notification frames for the connection's MTU. A frame that
    /// breaks reassembly closes the connection.
    pub fn on_frame(&mut self, id: ConnectionId, frame: &[u8]) -> Result<FrameReply, LockError> {
        let connection = self.live_connection(id)?;
        let message = match connection.inbound.push(frame) {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(FrameReply::default()),
            Err(e) => {
                self.connections.remove(&id);
                return Err(e.into());
            }
        };
        let att_mtu = connection.att_mtu;
        let output = self.on_message(id, &message)?;
        let notifications = match output.reply {
            Some(reply) => framing::fragment(&reply, att_mtu)?,
            None => Vec::new(),
        };
        let closed = !self.connections.contains_key(&id);
        Ok(FrameReply { notifications, closed })
    }

    /// Handles one whole message on a connection (no framing). Closes the connection
    /// when the handshake says the lock has stopped answering it.
    pub fn on_message(&mut self, id: ConnectionId, message: &[u8]) -> Result<LockOutput, LockError> {
        self.live_connection(id)?;
        let connection = self.connections.get_mut(&id).ok_or(LockError::UnknownConnection)?;
        let output = connection.session.on_message(message, &mut self.core);
        if matches!(output.event, Some(LockEvent::Granted { .. })) {
            connection.established = true;
            connection.inbound.set_max_len(MAX_MESSAGE_LEN);
        }
        if connection.session.is_closed() {
            self.connections.remove(&id);
        }
        if let Some(LockEvent::Refused { reason, .. } | LockEvent::BundleRefused { reason }) = &output.event {
            *self.refusals.entry(reason.code()).or_default() += 1;
        }
        if let Some(event) = &output.event {
            if self.events.len() >= RECENT_EVENTS {
                self.events.pop_front();
            }
            self.events.push_back(event.clone());
        }
        Ok(output)
    }

    /// Applies a bundle the lock's online link fetched (or, with `None`, only signs a
    /// receipt), through exactly the checks a bundle carried by a phone passes
    /// ([`keyway_protocol::lock_role::deliver`]); returns what happened and the receipt.
    pub fn deliver_online(&mut self, bundle: Option<&[u8]>) -> keyway_protocol::lock_role::Delivery {
        let delivery = keyway_protocol::lock_role::deliver(bundle, &mut self.core);
        if let Some(LockEvent::BundleRefused { reason }) = &delivery.event {
            *self.refusals.entry(reason.code()).or_default() += 1;
        }
        if let Some(event) = &delivery.event {
            if self.events.len() >= RECENT_EVENTS {
                self.events.pop_front();
            }
            self.events.push_back(event.clone());
        }
        delivery
    }

    /// Signs one request of the online link with the lock's receipt-signing key (the key
    /// the backend knows from the door record).
    pub fn sign_link_request(&self, request: &keyway_protocol::lock_link::LinkRequest<'_>) -> [u8; 64] {
        request.sign(self.core.state.identity.signing_key())
    }

    /// The version of the trust-anchor set (0: as provisioned; raised by anchor updates).
    pub fn anchor_set_version(&self) -> u32 {
        self.core.state.anchor_set_version
    }

    /// Whether the issuer key with this id is one of the lock's trust anchors.
    pub fn trusts(&self, issuer: &keyway_protocol::ids::KeyId) -> bool {
        self.core.state.anchors.contains_key(issuer)
    }

    /// The bundle version applied (0: none).
    pub fn bundle_version(&self) -> u32 {
        self.core.state.bundle_version
    }

    /// The configuration from the latest bundle.
    pub fn config(&self) -> LockConfig {
        self.core.state.config
    }

    /// Whether `credential` is on the revocation list.
    pub fn is_revoked(&self, credential: &CredentialId) -> bool {
        self.core.state.revocations.contains(credential)
    }

    /// How many revocations the lock holds.
    pub fn revocation_count(&self) -> usize {
        self.core.state.revocations.len()
    }

    /// How many fast-unlock tickets the lock holds.
    pub fn ticket_count(&self) -> usize {
        self.core.state.tickets.len()
    }

    /// The unacknowledged audit events, oldest first.
    pub fn audit_events(&self) -> Vec<AuditEvent> {
        self.core.state.audit.events().copied().collect()
    }

    /// The sequence number the next audit event will get.
    pub fn next_audit_seq(&self) -> u64 {
        self.core.state.audit.next_seq()
    }

    /// How many times the door has opened since this lock object started.
    pub fn actuations(&self) -> u64 {
        self.core.actuations
    }

    /// The effective clock (see [`crate::clock`]).
    pub fn now(&self) -> UnixSeconds {
        self.core.now()
    }

    /// The clock floor as it would be saved now.
    pub fn clock_floor(&self) -> UnixSeconds {
        self.core.clock.raise(self.core.state.clock_floor)
    }

    /// Saves failed since start (each left the previous state on disk).
    pub fn storage_failures(&self) -> u64 {
        self.core.storage_failures
    }

    /// Saves the state now (e.g. before a planned shutdown, to persist the clock floor).
    pub fn flush(&mut self) -> Result<(), LockError> {
        self.core.persist()
    }

    /// The most recent handshake events, oldest first.
    pub fn recent_events(&self) -> impl Iterator<Item = &LockEvent> {
        self.events.iter()
    }

    /// How many requests were refused for `reason` since the lock started.
    pub fn refusal_count(&self, reason: Refusal) -> u64 {
        self.refusals.get(&reason.code()).copied().unwrap_or(0)
    }

    /// The latest handshake event.
    pub fn last_event(&self) -> Option<&LockEvent> {
        self.events.back()
    }

    /// RTC readings refused as implausible jumps since the lock started.
    pub fn rtc_jumps(&self) -> u64 {
        self.core.clock.rtc_jumps()
    }

    /// Whether the lock accepts only a full bundle next (after a clock reset moved its
    /// clock back).
    pub fn needs_full_bundle(&self) -> bool {
        self.core.state.full_bundle_needed
    }

    /// Refusals counted by the audit budget and not yet written to the log, by reason.
    pub fn counted_refusals(&self) -> Vec<(Refusal, u32)> {
        self.core.state.audit.budget().tallies.iter().map(|t| (t.reason, t.count)).collect()
    }

    /// The doorcode secret, for registering the door with the backend when the lock is
    /// fitted (like [`Lock::public_key`], but secret: it goes to the backend's admin API
    /// over TLS once, and nowhere else). `None` for a lock provisioned before doorcodes.
    pub fn doorcode_secret(&self) -> Option<&DoorcodeSecret> {
        self.core.state.doorcode_secret.as_ref()
    }

    /// One entry on the keypad: the keys pressed, as ASCII (`0`–`9`, `*` starts again,
    /// `#` ends). Opens the door for today's code of a slot the latest bundle allows;
    /// counts wrong codes and locks the keypad out after too many ([`crate::keypad`]).
    /// An error means the state could not be saved (and the door stayed shut).
    pub fn keypad(&mut self, keys: &[u8]) -> Result<KeypadOutcome, LockError> {
        self.core.enter_keys(keys)
    }

    /// The doorcode slots the lock accepts.
    pub fn doorcode_slots(&self) -> &DoorcodeSlots {
        &self.core.state.doorcode_slots
    }

    /// The keypad's guess counter.
    pub fn keypad_guard(&self) -> KeypadGuard {
        self.core.state.keypad
    }

    /// Advertises a fresh nonce without consuming the current one, as happens when
    /// another phone's attempt names a stale nonce. The replaced one stays acceptable
    /// until [`crate::nonce::NONCE_ACCEPT_SECS`] after it was first advertised.
    pub fn rotate_nonce(&mut self) -> Result<(), LockError> {
        let fresh = random_nonce(self.core.random.as_mut())?;
        let now = self.core.ticks();
        self.core.nonces.rotate(now, fresh);
        Ok(())
    }
}
