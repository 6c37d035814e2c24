//! Opening a door: find the lock's advertisement, connect, run the fast or standard
//! handshake, deliver a newer door-sync bundle if the lock needs one, and report how
//! long each phase took.
//!
//! Policy, in one place:
//! - the key's window is checked against the phone's clock before the radio is touched;
//! - a stale advertisement costs one extra exchange (the lock answers with a fresh nonce);
//! - a fast ticket the lock no longer knows falls back to a standard unlock on the same
//!   connection;
//! - a link lost during connection or handshake is retried once, then reported;
//! - every wait is bounded by [`UnlockSettings`].

use super::link::{Link, LinkError};
use super::transport::{AdapterState, BleTransport, PeripheralId, TransportError};
use crate::crash::crash_point;
use crate::signer::{DeviceSigner, SignerError};
use keyway_protocol::advert::{ADVERT_COMPANY_ID, Advertisement, SERVICE_UUID};
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::{DoorId, LockNonce};
use keyway_protocol::phone::{
    AwaitingResponse, FastTicket, LockTarget, PhoneChannel, PhoneError, StandardUnlock, UnlockReply, fast_unlock,
};
use keyway_protocol::{Command, Refusal};
use std::time::Duration;
use thiserror::Error;
use tokio::time::Instant;

/// How long each phase may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnlockSettings {
    /// Finding the door's advertisement.
    pub scan: Duration,
    /// Connecting and discovering the service.
    pub connect: Duration,
    /// One request and its reply.
    pub handshake: Duration,
    /// Delivering a bundle and receiving the receipt.
    pub door_sync: Duration,
}

impl Default for UnlockSettings {
    fn default() -> Self {
        Self {
            scan: Duration::from_secs(8),
            connect: Duration::from_secs(5),
            handshake: Duration::from_secs(3),
            door_sync: Duration::from_secs(30),
        }
    }
}

/// The phases of an unlock, for timings and timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnlockPhase {
    /// Looking for the lock's advertisement.
    Scan,
    /// Connecting and discovering the service.
    Connect,
    /// The handshake.
    Handshake,
    /// Delivering a door-sync bundle.
    DoorSync,
}

/// What the unlock needs to know about one door and the key for it.
#[derive(Debug, Clone)]
pub struct DoorKey {
    /// The door.
    pub door: DoorId,
    /// The lock's HPKE public key from the door record.
    pub lock_public_key: [u8; 65],
    /// The credential's wire bytes.
    pub credential: Vec<u8>,
    /// The credential's window.
    pub not_before: UnixSeconds,
    /// The credential's window.
    pub not_after: UnixSeconds,
    /// A ticket from an earlier unlock at this door. It is spent by the attempt,
    /// whatever the result: the caller forgets it and keeps the one in the outcome.
    pub ticket: Option<FastTicket>,
    /// The newest door-sync bundle for this door, to deliver if the lock is older.
    pub bundle: Option<PendingBundle>,
}

/// A signed door-sync bundle waiting for a courier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBundle {
    /// Its version.
    pub version: u32,
    /// Its signed wire bytes.
    pub bytes: Vec<u8>,
}

/// Which handshake opened the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlockPath {
    /// First visit (or fallback): public-key handshake.
    Standard,
    /// Repeat visit: ticket, symmetric only.
    Fast,
}

/// How long each phase took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhaseTimings {
    /// From the call to hearing the door's advertisement.
    pub scan: Duration,
    /// Connecting and discovering the service.
    pub connect: Duration,
    /// From the first write to the lock's authenticated answer, less the lock's actuation.
    pub handshake: Duration,
    /// The lock's actuation, as it reports it.
    pub door_open: Duration,
}

/// The result of a door sync carried during an unlock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedSync {
    /// The bundle version delivered (for a receipt-only sync: the lock's version).
    pub version: u32,
    /// Applied, or the lock's reason for refusing it.
    pub applied: Result<(), Refusal>,
    /// The lock's signed receipt, to upload to the backend as is.
    pub receipt: Vec<u8>,
}

/// A door opened.
#[derive(Debug)]
pub struct UnlockOutcome {
    /// Fast or standard.
    pub path: UnlockPath,
    /// Per-phase timings.
    pub timings: PhaseTimings,
    /// The lock's clock.
    pub lock_clock: UnixSeconds,
    /// The bundle version the lock ran when it answered.
    pub lock_bundle_version: u32,
    /// The ticket for the next visit.
    pub ticket: Option<FastTicket>,
    /// The door sync carried, if the lock needed a newer bundle.
    pub sync: Option<CarriedSync>,
}

/// Why the door did not open. Each variant is something a screen can say.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UnlockError {
    /// Bluetooth is switched off.
    #[error("Bluetooth is off")]
    BluetoothOff,
    /// The app may not use Bluetooth.
    #[error("Bluetooth permission is missing")]
    PermissionMissing,
    /// This device has no Bluetooth LE.
    #[error("Bluetooth LE is not available on this device")]
    BluetoothUnavailable,
    /// The lock was not heard.
    #[error("the door is not in range")]
    DoorNotInRange,
    /// The key's window has not started.
    #[error("the key is not valid until {starts_at}")]
    KeyNotYetValid {
        /// When it starts (Unix seconds).
        starts_at: UnixSeconds,
    },
    /// The key's window has ended.
    #[error("the key expired at {expired_at}")]
    KeyExpired {
        /// When it ended (Unix seconds).
        expired_at: UnixSeconds,
    },
    /// The key (or the key it was shared from) has been revoked.
    #[error("the key has been revoked")]
    KeyRevoked,
    /// The lock refused for another reason.
    #[error("the lock refused: {reason}")]
    LockRefused {
        /// The lock's reason.
        reason: Refusal,
    },
    /// A phase did not finish in time.
    #[error("timed out while {phase:?}")]
    Timeout {
        /// The phase.
        phase: UnlockPhase,
    },
    /// The link dropped, and the retry failed too.
    #[error("the connection to the lock was lost during {phase:?}")]
    ConnectionLost {
        /// The phase.
        phase: UnlockPhase,
    },
    /// Something answered that is not the lock in the door record, or spoke nonsense.
    #[error("the lock's answer could not be trusted")]
    UntrustedLock,
    /// The device key could not sign.
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// Other radio failure; the text is for logs.
    #[error("Bluetooth failed: {0}")]
    Radio(String),
}

impl UnlockError {
    fn from_transport(e: TransportError, phase: UnlockPhase) -> Self {
        match e {
            TransportError::PoweredOff => Self::BluetoothOff,
            TransportError::Unauthorized => Self::PermissionMissing,
            TransportError::Timeout => Self::Timeout { phase },
            TransportError::Disconnected => Self::ConnectionLost { phase },
            TransportError::ServiceMissing => Self::UntrustedLock,
            TransportError::ConnectFailed(m) | TransportError::Other(m) => Self::Radio(m),
        }
    }

    fn from_link(e: LinkError, phase: UnlockPhase) -> Self {
        match e {
            LinkError::Transport(t) => Self::from_transport(t, phase),
            LinkError::Frame(e) => {
                tracing::warn!(error = %e, "the lock sent malformed frames");
                Self::UntrustedLock
            }
        }
    }

    /// The error a person sees for the lock's reason.
    pub fn from_refusal(reason: Refusal, key: &DoorKey) -> Self {
        match reason {
            Refusal::NotYetValid => Self::KeyNotYetValid { starts_at: key.not_before },
            Refusal::Expired => Self::KeyExpired { expired_at: key.not_after },
            Refusal::Revoked | Refusal::ParentRevoked => Self::KeyRevoked,
            reason => Self::LockRefused { reason },
        }
    }

    /// A link lost before the lock acted: safe to try again. (After the door opened, a
    /// retry would open it twice.)
    fn is_link_loss(&self) -> bool {
        matches!(self, Self::ConnectionLost { phase: UnlockPhase::Connect | UnlockPhase::Handshake })
    }
}

/// Opens `key.door`. `now` is the phone's clock, used only for the early window check.
pub async fn unlock(
    transport: &dyn BleTransport,
    signer: &dyn DeviceSigner,
    key: DoorKey,
    command: Command,
    now: UnixSeconds,
    settings: &UnlockSettings,
) -> Result<UnlockOutcome, UnlockError> {
    if now < key.not_before {
        return Err(UnlockError::KeyNotYetValid { starts_at: key.not_before });
    }
    if now > key.not_after {
        return Err(UnlockError::KeyExpired { expired_at: key.not_after });
    }
    match transport.adapter_state().await {
        AdapterState::PoweredOn => {}
        AdapterState::PoweredOff => return Err(UnlockError::BluetoothOff),
        AdapterState::Unauthorized => return Err(UnlockError::PermissionMissing),
        AdapterState::Unsupported => return Err(UnlockError::BluetoothUnavailable),
    }
    let started = Instant::now();
    let (peripheral, advert) = scan_for(transport, key.door, settings.scan).await?;
    let scan = started.elapsed();

    let mut attempt = Attempt { transport, signer, key, command, settings, peripheral, nonce: advert.nonce };
    let first = attempt.connect_and_open().await;
    let result = match first {
        Err(e) if e.is_link_loss() => {
            tracing::info!(door = %attempt.key.door, "link lost; retrying once");
            attempt.connect_and_open().await
        }
        other => other,
    };
    transport.disconnect(&attempt.peripheral).await;
    let (mut outcome, timings) = result?;
    outcome.timings = PhaseTimings { scan, ..timings };
    Ok(outcome)
}

/// Scans until the door's advertisement is heard.
async fn scan_for(
    transport: &dyn BleTransport,
    door: DoorId,
    timeout: Duration,
) -> Result<(PeripheralId, Advertisement), UnlockError> {
    transport.start_scan(SERVICE_UUID).await.map_err(|e| UnlockError::from_transport(e, UnlockPhase::Scan))?;
    let deadline = Instant::now() + timeout;
    let found = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Err(UnlockError::DoorNotInRange);
        }
        match transport.next_advertisement(left).await {
            Ok(heard) => {
                // Other Keyway locks, and junk, are skipped: BlueZ merges scan filters
                // across clients, so the platform's filter alone is not enough.
                if let Ok(ad) = Advertisement::from_bytes(&heard.manufacturer_data)
                    && ad.door == door
                {
                    break Ok((heard.peripheral, ad));
                }
            }
            Err(TransportError::Timeout) => break Err(UnlockError::DoorNotInRange),
            Err(e) => break Err(UnlockError::from_transport(e, UnlockPhase::Scan)),
        }
    };
    transport.stop_scan().await;
    found
}

/// The company id under which the advertisement payload travels; exported for shells
/// that filter manufacturer data themselves.
pub const COMPANY_ID: u16 = ADVERT_COMPANY_ID;

struct Attempt<'a> {
    transport: &'a dyn BleTransport,
    signer: &'a dyn DeviceSigner,
    key: DoorKey,
    command: Command,
    settings: &'a UnlockSettings,
    peripheral: PeripheralId,
    nonce: LockNonce,
}

/// Stale-nonce retries allowed on one connection.
const NONCE_RETRIES: usize = 2;

impl Attempt<'_> {
    async fn connect_and_open(&mut self) -> Result<(UnlockOutcome, PhaseTimings), UnlockError> {
        let started = Instant::now();
        let mtu = self
            .transport
            .connect(&self.peripheral, self.settings.connect)
            .await
            .map_err(|e| UnlockError::from_transport(e, UnlockPhase::Connect))?;
        let connect = started.elapsed();
        crash_point!("ble.after_connect");
        let peripheral = self.peripheral.clone();
        let link = Link { transport: self.transport, peripheral: &peripheral, mtu };

        let started = Instant::now();
        let (path, reply, mut channel) = self.handshake(&link).await?;
        let handshake_elapsed = started.elapsed();
        crash_point!("ble.after_handshake");
        if let Err(reason) = reply.outcome {
            return Err(UnlockError::from_refusal(reason, &self.key));
        }
        let door_open = Duration::from_millis(u64::from(reply.open_ms));
        let sync = match &self.key.bundle {
            Some(bundle) if bundle.version > reply.bundle_version => {
                match deliver(&link, &mut channel, Some(bundle), self.settings.door_sync).await {
                    Ok(sync) => Some(sync),
                    // The door is open: that is the outcome. The bundle waits for the next
                    // visit (a lock applies it whole or not at all).
                    Err(e) if self.command == Command::Unlock => {
                        tracing::info!(door = %self.key.door, error = %e, "bundle not delivered; door opened");
                        None
                    }
                    Err(e) => return Err(e),
                }
            }
            // A door sync with nothing newer to carry still brings back the receipt.
            _ if self.command == Command::SyncOnly => {
                let mut sync = deliver(&link, &mut channel, None, self.settings.door_sync).await?;
                sync.version = reply.bundle_version;
                Some(sync)
            }
            _ => None,
        };
        let timings = PhaseTimings {
            scan: Duration::ZERO,
            connect,
            handshake: handshake_elapsed.saturating_sub(door_open),
            door_open,
        };
        let outcome = UnlockOutcome {
            path,
            timings,
            lock_clock: reply.lock_clock,
            lock_bundle_version: reply.bundle_version,
            ticket: reply.ticket,
            sync,
        };
        Ok((outcome, timings))
    }

    /// Runs the fast path if a ticket is held, falling back to standard; retries a stale nonce.
    async fn handshake(&mut self, link: &Link<'_>) -> Result<(UnlockPath, UnlockReply, PhoneChannel), UnlockError> {
        if let Some(ticket) = self.key.ticket.take() {
            let rng = ring::rand::SystemRandom::new();
            let (awaiting, request) = fast_unlock(self.key.door, self.nonce, &ticket, self.command, &rng)
                .map_err(|_| UnlockError::UntrustedLock)?;
            match self.exchange(link, awaiting, &request).await {
                Ok((reply, channel)) => return Ok((UnlockPath::Fast, reply, channel)),
                // The lock no longer knows the ticket, or the nonce moved on: the
                // standard path below starts with the fresh nonce it sent.
                Err(Retry::WithNonce(nonce)) => self.nonce = nonce,
                Err(Retry::No(e)) => return Err(e),
            }
        }
        for _ in 0..=NONCE_RETRIES {
            let target =
                LockTarget { door: self.key.door, lock_public_key: self.key.lock_public_key, nonce: self.nonce };
            let rng = ring::rand::SystemRandom::new();
            let unlock = StandardUnlock::begin(&target, &self.key.credential, self.command, true, &rng)
                .map_err(|_| UnlockError::UntrustedLock)?;
            let signature = self.signer.sign(&unlock.signing_message()).await?;
            let signature: [u8; 64] = signature.try_into().map_err(|_| SignerError::InvalidOutput)?;
            let (awaiting, request) = unlock.finish(&signature);
            match self.exchange(link, awaiting, &request).await {
                Ok((reply, channel)) => return Ok((UnlockPath::Standard, reply, channel)),
                Err(Retry::WithNonce(nonce)) => self.nonce = nonce,
                Err(Retry::No(e)) => return Err(e),
            }
        }
        Err(UnlockError::LockRefused { reason: Refusal::StaleNonce })
    }

    async fn exchange(
        &self,
        link: &Link<'_>,
        awaiting: AwaitingResponse,
        request: &[u8],
    ) -> Result<(UnlockReply, PhoneChannel), Retry> {
        let response = link
            .exchange(request, self.settings.handshake)
            .await
            .map_err(|e| Retry::No(UnlockError::from_link(e, UnlockPhase::Handshake)))?;
        match awaiting.on_response(&response) {
            Ok(done) => Ok(done),
            // Unauthenticated: only ever a reason to try again with the fresh nonce,
            // never a verdict shown to the person.
            Err(PhoneError::UnauthenticatedRefusal { reason, fresh_nonce }) => {
                tracing::debug!(door = %self.key.door, ?reason, "lock asked for a retry");
                Err(Retry::WithNonce(fresh_nonce))
            }
            Err(_) => Err(Retry::No(UnlockError::UntrustedLock)),
        }
    }
}

enum Retry {
    WithNonce(LockNonce),
    No(UnlockError),
}

/// Delivers a bundle (or, with none, asks for a receipt) in the secure channel and
/// returns the lock's receipt.
pub(crate) async fn deliver(
    link: &Link<'_>,
    channel: &mut PhoneChannel,
    bundle: Option<&PendingBundle>,
    timeout: Duration,
) -> Result<CarriedSync, UnlockError> {
    let message = match bundle {
        Some(bundle) => channel.deliver_bundle(&bundle.bytes),
        None => channel.request_receipt(),
    }
    .map_err(|_| UnlockError::UntrustedLock)?;
    let reply = link.exchange(&message, timeout).await.map_err(|e| UnlockError::from_link(e, UnlockPhase::DoorSync))?;
    let sync = channel.on_sync_reply(&reply).map_err(|_| UnlockError::UntrustedLock)?;
    crash_point!("ble.after_sync_reply");
    let version = bundle.map_or(sync.receipt.body.bundle_version, |b| b.version);
    Ok(CarriedSync { version, applied: sync.applied, receipt: sync.receipt_bytes })
}
