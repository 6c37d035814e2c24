//! Opening a door: find the lock's advertisement, connect, run the fast or standard
//! handshake, deliver a newer door-sync bundle if the lock needs one, and report how
//! long each phase took.
//!
//! Policy, in one place:
//! - the key's window is checked against the phone's clock before the radio is touched;
//! - a stale advertisement costs one extra exchange (the lock answers with a fresh nonce);
//!   no other unauthenticated refusal earns a new signed request (§11);
//! - a fast ticket the lock no longer knows falls back to a standard unlock on the same
//!   connection;
//! - a device that advertises the door but cannot prove it is the door's lock is passed
//!   over for the next peripheral advertising it (up to three, each with its own scan
//!   window); if none proves itself the error is `UntrustedLock`;
//! - a link lost during connection or handshake is retried once, then reported;
//! - every wait is bounded by [`UnlockTimeouts`].

use super::link::{Link, LinkError};
use crate::crash::crash_point;
use crate::operation::CancelToken;
use crate::platform::{AdapterState, BleError, BleTransport, PeripheralId};
use crate::platform::{DeviceSigner, SignerError};
use keyway_protocol::advert::{ADVERT_COMPANY_ID, Advertisement as LockAdvert, SERVICE_UUID};
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::{DoorId, LockNonce};
use keyway_protocol::phone::{
    AwaitingResponse, FastTicket, LockTarget, PhoneChannel, PhoneError, StandardUnlock, UnlockReply, fast_unlock,
};
use keyway_protocol::{Command, Refusal};
use std::time::Duration;
use thiserror::Error;
use tokio::time::Instant;

/// How long each phase of an unlock may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct UnlockTimeouts {
    /// Finding the door's advertisement (usual: 8 s).
    pub scan: Duration,
    /// Connecting and discovering the service (usual: 5 s).
    pub connect: Duration,
    /// One request and its reply (usual: 3 s).
    pub handshake: Duration,
    /// Handing over a door-sync update and receiving the receipt (usual: 30 s).
    pub door_sync: Duration,
}

impl Default for UnlockTimeouts {
    fn default() -> Self {
        Self {
            scan: Duration::from_secs(8),
            connect: Duration::from_secs(5),
            handshake: Duration::from_secs(3),
            door_sync: Duration::from_secs(30),
        }
    }
}

/// The phases of an unlock or door sync, for progress, timings and timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
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

/// What an unlock or a door sync reports while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A phase starts.
    Phase(UnlockPhase),
    /// Part of a door-sync bundle was handed to the radio, reported after each frame.
    BundleBytes {
        /// Bytes written so far (frame headers included: what goes over the air).
        sent: usize,
        /// All the frames' bytes.
        total: usize,
    },
}

/// As a screen says it: "the lock stopped answering while {phase}".
impl std::fmt::Display for UnlockPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Scan => "looking for it",
            Self::Connect => "connecting",
            Self::Handshake => "opening",
            Self::DoorSync => "syncing",
        })
    }
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
    /// A full bundle (base version 0) fetched for a lock known to wait for one, after a
    /// clock reset moved its clock back (docs/protocol.md §6.4): delivered even when it
    /// repeats the version the lock runs, which such a lock accepts.
    pub awaited_full: bool,
}

impl PendingBundle {
    /// Whether the lock, running `lock_version`, takes this bundle.
    fn is_wanted_at(&self, lock_version: u32) -> bool {
        self.version > lock_version || (self.awaited_full && self.version == lock_version)
    }
}

/// Which handshake opened the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum UnlockPath {
    /// First visit (or fallback): public-key handshake.
    Standard,
    /// Repeat visit: ticket, symmetric only.
    Fast,
}

/// How long each phase took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct UnlockTimings {
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

/// What happened at the lock: the door opened (or the sync ran), with what to keep.
#[derive(Debug)]
pub struct LockVisit {
    /// Fast or standard.
    pub path: UnlockPath,
    /// Per-phase timings.
    pub timings: UnlockTimings,
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
    /// Location services are off where scanning needs them (Android 11 and older).
    #[error("location services are off")]
    LocationServicesOff,
    /// This device has no Bluetooth LE.
    #[error("Bluetooth LE is not available on this device")]
    BluetoothUnavailable,
    /// The lock was not heard.
    #[error("the door is not in range")]
    DoorNotInRange,
    /// The key's window has not started.
    #[error("the key is not valid until {}", crate::Timestamp(*starts_at))]
    KeyNotYetValid {
        /// When it starts (Unix seconds).
        starts_at: UnixSeconds,
    },
    /// The key's window has ended.
    #[error("the key expired at {}", crate::Timestamp(*expired_at))]
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
    #[error("timed out while {phase}")]
    Timeout {
        /// The phase.
        phase: UnlockPhase,
    },
    /// The link dropped, and the retry failed too.
    #[error("the connection to the lock was lost while {phase}")]
    ConnectionLost {
        /// The phase.
        phase: UnlockPhase,
    },
    /// Something answered that is not the lock in the door record, or spoke nonsense.
    #[error("the lock's answer could not be trusted")]
    UntrustedLock,
    /// The lock refused a key that is valid by the phone's clock, and its own clock (in its
    /// authenticated answer) is far from the phone's: its clock is wrong, not the key
    /// (`clock_repair.rs`).
    #[error("the lock's clock is wrong (it reads {})", crate::Timestamp(*lock_clock))]
    LockClockWrong {
        /// The lock's clock (Unix seconds).
        lock_clock: UnixSeconds,
    },
    /// The caller cancelled (or a newer unlock took the radio).
    #[error("cancelled")]
    Cancelled,
    /// The device key could not sign.
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// Other radio failure; the text is for logs.
    #[error("Bluetooth failed: {0}")]
    Radio(String),
}

impl UnlockError {
    pub(crate) fn from_transport(e: BleError, phase: UnlockPhase) -> Self {
        match e {
            BleError::PoweredOff => Self::BluetoothOff,
            BleError::Unauthorized => Self::PermissionMissing,
            BleError::Timeout => Self::Timeout { phase },
            BleError::Disconnected => Self::ConnectionLost { phase },
            BleError::ServiceMissing => Self::UntrustedLock,
            BleError::ConnectFailed { detail: m } | BleError::Other { detail: m } => Self::Radio(m),
        }
    }

    pub(crate) fn from_link(e: LinkError, phase: UnlockPhase) -> Self {
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

    /// The peripheral never proved it is the door's lock (no authentic answer): another
    /// one advertising the same door may be the real lock.
    fn is_unproven(&self) -> bool {
        matches!(self, Self::UntrustedLock | Self::LockRefused { reason: Refusal::StaleNonce })
    }
}

/// How many peripherals advertising the door one unlock tries before giving up: a device
/// that copies a door's advertisement must not block the door.
const MAX_CANDIDATES: usize = 3;

/// Opens `key.door`. `now` is the phone's clock, used only for the early window check.
/// `cancel` stops it at once: the scan is stopped and the link dropped before it returns
/// `Cancelled`; `progress` hears each phase as it starts and each bundle frame sent.
pub async fn unlock(
    transport: &dyn BleTransport,
    signer: &dyn DeviceSigner,
    key: DoorKey,
    command: Command,
    now: UnixSeconds,
    settings: &UnlockTimeouts,
    cancel: &CancelToken,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<LockVisit, UnlockError> {
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
        AdapterState::LocationServicesOff => return Err(UnlockError::LocationServicesOff),
        AdapterState::Unsupported => return Err(UnlockError::BluetoothUnavailable),
    }
    let started = Instant::now();
    progress(Progress::Phase(UnlockPhase::Scan));
    let door = key.door;
    let mut key = key;
    // Peripherals that advertised this door but could not prove they are its lock, and
    // what the last one did. Each candidate gets its own scan window, at most
    // MAX_CANDIDATES of them.
    let mut passed_over: Vec<PeripheralId> = Vec::new();
    let mut last_unproven: Option<UnlockError> = None;
    loop {
        let scanned = tokio::select! {
            found = scan_for(transport, door, settings.scan, &passed_over) => found,
            () = cancel.cancelled() => {
                transport.stop_scan().await;
                Err(UnlockError::Cancelled)
            }
        };
        let (peripheral, advert) = match (scanned, last_unproven.take()) {
            (Ok(found), _) => found,
            // Only devices that could not prove themselves answered: say that, not "not in range".
            (Err(UnlockError::DoorNotInRange), Some(unproven)) => return Err(unproven),
            (Err(e), _) => return Err(e),
        };
        let scan = started.elapsed();
        let mut attempt = Attempt {
            transport,
            signer,
            key: &mut key,
            command,
            settings,
            peripheral: peripheral.clone(),
            nonce: advert.nonce,
            progress,
            now,
        };
        let opened = async {
            let first = attempt.connect_and_open().await;
            match first {
                Err(e) if e.is_link_loss() => {
                    tracing::info!(%door, "link lost; retrying once");
                    attempt.connect_and_open().await
                }
                other => other,
            }
        };
        // Cancelled mid-way: the link is dropped below, and the lock, which applies a request
        // whole or not at all, is left as it was or with the door opened once.
        let result = tokio::select! {
            result = opened => result,
            () = cancel.cancelled() => Err(UnlockError::Cancelled),
        };
        transport.disconnect(&peripheral).await;
        match result {
            Ok((mut outcome, timings)) => {
                outcome.timings = UnlockTimings { scan, ..timings };
                return Ok(outcome);
            }
            Err(e) if e.is_unproven() && passed_over.len() + 1 < MAX_CANDIDATES => {
                tracing::warn!(%door, error = %e, "a device advertising this door did not prove it is its lock; looking for another");
                passed_over.push(peripheral);
                last_unproven = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Scans until the door's advertisement is heard from a peripheral not in `passed_over`.
pub(crate) async fn scan_for(
    transport: &dyn BleTransport,
    door: DoorId,
    timeout: Duration,
    passed_over: &[PeripheralId],
) -> Result<(PeripheralId, LockAdvert), UnlockError> {
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
                if let Ok(ad) = LockAdvert::from_bytes(&heard.manufacturer_data)
                    && ad.door == door
                    && !passed_over.contains(&heard.peripheral)
                {
                    break Ok((heard.peripheral, ad));
                }
            }
            Err(BleError::Timeout) => break Err(UnlockError::DoorNotInRange),
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
    key: &'a mut DoorKey,
    command: Command,
    settings: &'a UnlockTimeouts,
    peripheral: PeripheralId,
    nonce: LockNonce,
    progress: &'a (dyn Fn(Progress) + Send + Sync),
    /// The phone's clock, to tell a lock's wrong clock from a key's end.
    now: UnixSeconds,
}

/// Stale-nonce retries allowed on one connection.
const NONCE_RETRIES: usize = 2;

impl Attempt<'_> {
    async fn connect_and_open(&mut self) -> Result<(LockVisit, UnlockTimings), UnlockError> {
        let started = Instant::now();
        (self.progress)(Progress::Phase(UnlockPhase::Connect));
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
        (self.progress)(Progress::Phase(UnlockPhase::Handshake));
        let (path, reply, mut channel) = self.handshake(&link).await?;
        let handshake_elapsed = started.elapsed();
        crash_point!("ble.after_handshake");
        if let Err(reason) = reply.outcome {
            if super::clock_repair::clock_is_wrong(reason, reply.lock_clock, self.now, self.key) {
                return Err(UnlockError::LockClockWrong { lock_clock: reply.lock_clock });
            }
            return Err(UnlockError::from_refusal(reason, self.key));
        }
        let door_open = Duration::from_millis(u64::from(reply.open_ms));
        let sync = match &self.key.bundle {
            Some(bundle) if bundle.is_wanted_at(reply.bundle_version) => {
                (self.progress)(Progress::Phase(UnlockPhase::DoorSync));
                match deliver(&link, &mut channel, Some(bundle), self.settings.door_sync, self.progress).await {
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
                (self.progress)(Progress::Phase(UnlockPhase::DoorSync));
                let mut sync = deliver(&link, &mut channel, None, self.settings.door_sync, self.progress).await?;
                sync.version = reply.bundle_version;
                Some(sync)
            }
            _ => None,
        };
        let timings = UnlockTimings {
            scan: Duration::ZERO,
            connect,
            handshake: handshake_elapsed.saturating_sub(door_open),
            door_open,
        };
        let outcome = LockVisit {
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
            match self.exchange(link, awaiting, &request, true).await {
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
            let signature: [u8; 64] = signature
                .try_into()
                .map_err(|_| SignerError::Other { detail: "the device signer returned invalid output".into() })?;
            let (awaiting, request) = unlock.finish(&signature);
            match self.exchange(link, awaiting, &request, false).await {
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
        fast: bool,
    ) -> Result<(UnlockReply, PhoneChannel), Retry> {
        let response = link
            .exchange(request, self.settings.handshake)
            .await
            .map_err(|e| Retry::No(UnlockError::from_link(e, UnlockPhase::Handshake)))?;
        match awaiting.on_response(&response) {
            Ok(done) => Ok(done),
            // Unauthenticated, so never a verdict shown to the person, and a reason to sign
            // a new request only where the protocol says (§11): a stale nonce, or a fast
            // path the lock cannot serve (the standard path follows). Anything else from a
            // device that could not authenticate is that device failing to prove itself:
            // no more requests for it to collect.
            Err(PhoneError::UnauthenticatedRefusal { reason, fresh_nonce }) => {
                tracing::debug!(door = %self.key.door, ?reason, "unauthenticated refusal");
                let fast_unavailable = fast
                    && matches!(
                        reason,
                        Refusal::UnknownTicket
                            | Refusal::DecryptFailed
                            | Refusal::FastUnlockDisabled
                            | Refusal::Malformed
                    );
                if reason == Refusal::StaleNonce || fast_unavailable {
                    Err(Retry::WithNonce(fresh_nonce))
                } else {
                    Err(Retry::No(UnlockError::UntrustedLock))
                }
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
/// returns the lock's receipt. A bundle's bytes are reported to `progress` as they go.
pub(crate) async fn deliver(
    link: &Link<'_>,
    channel: &mut PhoneChannel,
    bundle: Option<&PendingBundle>,
    timeout: Duration,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<CarriedSync, UnlockError> {
    let message = match bundle {
        Some(bundle) => channel.deliver_bundle(&bundle.bytes),
        None => channel.request_receipt(),
    }
    .map_err(|_| UnlockError::UntrustedLock)?;
    let on_sent = |sent, total| {
        if bundle.is_some() {
            progress(Progress::BundleBytes { sent, total });
        }
    };
    let reply = link
        .exchange_reporting(&message, timeout, &on_sent)
        .await
        .map_err(|e| UnlockError::from_link(e, UnlockPhase::DoorSync))?;
    let sync = channel.on_sync_reply(&reply).map_err(|_| UnlockError::UntrustedLock)?;
    crash_point!("ble.after_sync_reply");
    let version = bundle.map_or(sync.receipt.body.bundle_version, |b| b.version);
    Ok(CarriedSync { version, applied: sync.applied, receipt: sync.receipt_bytes })
}
