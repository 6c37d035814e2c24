//! A simulated BLE radio: locks "in range" advertise, a phone-side handle scans,
//! connects with an ATT MTU, writes frames and receives notification frames.
//!
//! The link model (see `docs/lock.md`):
//! - every ATT packet (a write request, its write response, a write command, a
//!   notification) takes one connection interval plus a fixed `latency`: a write with
//!   response costs two packets, a write without response one;
//! - except that up to [`LinkParams::packets_per_event`] packets going the same way back
//!   to back share one connection event (the first waits for the event, the rest ride in
//!   it): write commands queued together, or the notifications of one reply. A packet the
//!   other way, a lost packet, or anything else that takes time (the lock's actuation)
//!   ends the event. With 1 (the default) every packet waits for its own event;
//! - a lost packet is not dropped: as the BLE link layer does, it is retransmitted at
//!   the next connection event, so loss costs one connection interval per lost attempt;
//! - the connection drops only when retransmissions of one packet outlast the
//!   supervision timeout, or when a test tells the link to drop
//!   ([`SimRadio::drop_after_packets`], [`SimRadio::drop_connections`]).
//!
//! Loss is drawn from a seeded generator, and time is virtual by default (modelled
//! durations are added up, nothing sleeps), so a run is repeatable to the microsecond.
//! [`SimRadio::real_time`] sleeps the modelled durations instead. A lock given
//! [`SimRadio::rtc`] as its RTC lives on the radio's clock: its nonces age and its
//! connections time out in modelled time.

use crate::clock::Rtc;
use crate::lock::{ConnectionId, Lock};
use keyway_protocol::advert::ADVERT_COMPANY_ID;
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::framing::{self, FrameError, MAX_ATT_MTU, MIN_ATT_MTU, Reassembler};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use thiserror::Error;

/// A simulated peripheral's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeripheralId(pub u32);

/// How a lock's radio link behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkParams {
    /// The largest ATT MTU the lock accepts; a connection gets `min(requested, this)`.
    pub att_mtu: u16,
    /// Time between connection events; each ATT packet takes one.
    pub connection_interval: Duration,
    /// Fixed extra time per packet (controller and stack processing).
    pub latency: Duration,
    /// Probability in `[0, 1)` that one transmission attempt of a packet is lost.
    pub loss: f64,
    /// A packet whose retransmissions last longer than this drops the connection.
    pub supervision_timeout: Duration,
    /// Time from the connect request to a usable connection (MTU exchange included).
    pub connect_time: Duration,
    /// How many packets one side may send in one connection event (at least 1). Phones
    /// differ: iOS sends up to 4 per event (Punch Through, "Maximizing BLE Throughput on
    /// iOS and Android", 2016); Android depends on the controller.
    pub packets_per_event: u8,
}

impl Default for LinkParams {
    fn default() -> Self {
        Self {
            att_mtu: 247,
            connection_interval: Duration::from_millis(30),
            latency: Duration::ZERO,
            loss: 0.0,
            supervision_timeout: Duration::from_secs(4),
            connect_time: Duration::from_millis(90),
            packets_per_event: 1,
        }
    }
}

/// What a scan sees of one lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanResult {
    /// The address to connect to.
    pub peripheral: PeripheralId,
    /// The manufacturer-specific data's company id.
    pub company_id: u16,
    /// The manufacturer-specific data: the lock's encoded advertisement.
    pub data: Vec<u8>,
    /// The signal strength the phone would report (set per lock; not a distance).
    pub rssi: i16,
}

/// Why a radio operation failed, as a phone's BLE stack would report it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RadioError {
    /// No such peripheral.
    #[error("unknown peripheral")]
    UnknownPeripheral,
    /// The peripheral is out of range.
    #[error("the lock is not in range")]
    NotInRange,
    /// The link dropped (supervision timeout, or told to drop).
    #[error("the connection was lost")]
    ConnectionLost,
    /// The connection is closed (by either side).
    #[error("the connection is closed")]
    Disconnected,
    /// The requested MTU is outside 23–517.
    #[error("ATT MTU {0} out of range")]
    BadMtu(u16),
    /// A frame is longer than `MTU − 3`.
    #[error("frame of {len} bytes exceeds the ATT payload of {max}")]
    FrameTooLong {
        /// The frame's length.
        len: usize,
        /// The most one packet carries.
        max: usize,
    },
    /// The notifications did not reassemble into a message.
    #[error(transparent)]
    Frame(#[from] FrameError),
}

/// Packet counts for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkStats {
    /// Frames written (with or without response).
    pub writes: u64,
    /// ATT packets that got through (writes, write responses, notifications), not
    /// counting lost attempts.
    pub packets: u64,
    /// Notifications received (one per frame).
    pub notifications: u64,
    /// Transmission attempts lost and retried.
    pub retransmissions: u64,
}

/// A small deterministic generator (SplitMix64) for loss draws.
#[derive(Debug, Clone)]
struct LossRng(u64);

impl LossRng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

struct Peripheral {
    lock: Lock,
    rssi: i16,
    link: LinkParams,
    in_range: bool,
    packets_until_drop: Option<u64>,
    /// Bumped by `drop_connections`: connections from an older epoch are dead.
    epoch: u64,
}

/// The radio's clock, shared with the RTCs of locks that run on it. Outside the air's
/// mutex, so a lock can read it while the radio is talking to it.
#[derive(Debug)]
struct SimClock {
    real_time: bool,
    started: Instant,
    virtual_micros: AtomicU64,
}

impl SimClock {
    fn now(&self) -> Duration {
        if self.real_time {
            self.started.elapsed()
        } else {
            Duration::from_micros(self.virtual_micros.load(Ordering::SeqCst))
        }
    }

    fn pass(&self, duration: Duration) {
        if self.real_time {
            std::thread::sleep(duration);
        } else {
            let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
            self.virtual_micros.fetch_add(micros, Ordering::SeqCst);
        }
    }
}

/// An RTC (and tick counter) that follows the radio's clock from `start`: a lock on it sees the modelled time
/// pass (its nonces age, its connections time out), repeatably.
#[derive(Debug, Clone)]
pub struct SimRtc {
    clock: Arc<SimClock>,
    start: UnixSeconds,
}

impl Rtc for SimRtc {
    fn now(&self) -> UnixSeconds {
        let elapsed = UnixSeconds::try_from(self.clock.now().as_secs()).unwrap_or(UnixSeconds::MAX);
        self.start.saturating_add(elapsed)
    }

    /// The radio's clock is the board's tick counter too.
    fn ticks(&self) -> u64 {
        self.clock.now().as_secs()
    }
}

struct Air {
    rng: LossRng,
    advertising_interval: Duration,
    peripherals: BTreeMap<PeripheralId, Peripheral>,
    next_peripheral: u32,
}

impl Air {
    fn peripheral(&mut self, id: PeripheralId) -> Result<&mut Peripheral, RadioError> {
        self.peripherals.get_mut(&id).ok_or(RadioError::UnknownPeripheral)
    }

    /// Sends one packet over `id`'s link, in the current connection event when
    /// `in_this_event` (else it waits for the next): returns the modelled time it took, and
    /// whether it got through or the link dropped while retrying (the time is spent either
    /// way).
    fn transmit(
        &mut self,
        id: PeripheralId,
        in_this_event: bool,
        stats: &mut LinkStats,
    ) -> (Duration, Result<(), RadioError>) {
        let Air { rng, peripherals, .. } = self;
        let Some(peripheral) = peripherals.get_mut(&id) else {
            return (Duration::ZERO, Err(RadioError::UnknownPeripheral));
        };
        if let Some(left) = peripheral.packets_until_drop.as_mut() {
            if *left == 0 {
                // One drop, as a real link fades once; the next connection is healthy.
                peripheral.packets_until_drop = None;
                return (Duration::ZERO, Err(RadioError::ConnectionLost));
            }
            *left -= 1;
        }
        let link = peripheral.link;
        let wait = if in_this_event { Duration::ZERO } else { link.connection_interval };
        let mut elapsed = link.latency + wait;
        let mut retrying = Duration::ZERO;
        while rng.chance(link.loss) {
            stats.retransmissions += 1;
            retrying += link.connection_interval;
            elapsed += link.connection_interval;
            if retrying > link.supervision_timeout {
                return (elapsed, Err(RadioError::ConnectionLost));
            }
        }
        (elapsed, Ok(()))
    }
}

/// The simulated air, and the phone's view of it (scanning and connecting). Clones share
/// the same air.
#[derive(Clone)]
pub struct SimRadio {
    air: Arc<Mutex<Air>>,
    clock: Arc<SimClock>,
}

impl std::fmt::Debug for SimRadio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimRadio").field("now", &self.now()).finish_non_exhaustive()
    }
}

impl SimRadio {
    /// A radio with virtual time, whose loss draws follow `seed`.
    pub fn new(seed: u64) -> Self {
        Self::build(seed, false)
    }

    /// A radio that sleeps the modelled durations (for demos against real timeouts).
    pub fn real_time(seed: u64) -> Self {
        Self::build(seed, true)
    }

    fn build(seed: u64, real_time: bool) -> Self {
        let air = Air {
            rng: LossRng(seed),
            advertising_interval: Duration::from_millis(100),
            peripherals: BTreeMap::new(),
            next_peripheral: 1,
        };
        let clock = SimClock { real_time, started: Instant::now(), virtual_micros: AtomicU64::new(0) };
        Self { air: Arc::new(Mutex::new(air)), clock: Arc::new(clock) }
    }

    fn air(&self) -> MutexGuard<'_, Air> {
        // Every update of `Air` is complete before any call that could panic: recover.
        self.air.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Lets `duration` pass: adds it to the virtual clock, or sleeps it.
    fn pass(&self, duration: Duration) {
        self.clock.pass(duration);
    }

    /// Lets `duration` pass with nothing on the air (a person walking to the door).
    pub fn wait(&self, duration: Duration) {
        self.pass(duration);
    }

    /// The radio's clock: modelled time since it was created (or real time, in real-time mode).
    pub fn now(&self) -> Duration {
        self.clock.now()
    }

    /// An RTC for a lock on this radio, reading `start` now and following the radio's clock.
    pub fn rtc(&self, start: UnixSeconds) -> SimRtc {
        let elapsed = UnixSeconds::try_from(self.now().as_secs()).unwrap_or(UnixSeconds::MAX);
        SimRtc { clock: Arc::clone(&self.clock), start: start.saturating_sub(elapsed) }
    }

    /// Sets how long a scan listens (one advertising interval; default 100 ms).
    pub fn set_advertising_interval(&self, interval: Duration) {
        self.air().advertising_interval = interval;
    }

    /// Puts a lock on the air, in range, with `link`.
    pub fn add_lock(&self, lock: Lock, link: LinkParams) -> PeripheralId {
        let mut air = self.air();
        let id = PeripheralId(air.next_peripheral);
        air.next_peripheral += 1;
        air.peripherals
            .insert(id, Peripheral { lock, rssi: -60, link, in_range: true, packets_until_drop: None, epoch: 0 });
        id
    }

    /// Takes a lock off the air and returns it.
    pub fn remove_lock(&self, id: PeripheralId) -> Option<Lock> {
        self.air().peripherals.remove(&id).map(|p| p.lock)
    }

    /// Runs `f` on a lock (to inspect or change it).
    pub fn with_lock<R>(&self, id: PeripheralId, f: impl FnOnce(&mut Lock) -> R) -> Option<R> {
        self.air().peripherals.get_mut(&id).map(|p| f(&mut p.lock))
    }

    /// Changes a lock's link.
    pub fn set_link(&self, id: PeripheralId, link: LinkParams) -> Result<(), RadioError> {
        self.air().peripheral(id)?.link = link;
        Ok(())
    }

    /// Moves a lock in or out of range. Out of range, it is not seen and refuses connections;
    /// its open connections drop.
    pub fn set_in_range(&self, id: PeripheralId, in_range: bool) -> Result<(), RadioError> {
        let mut air = self.air();
        let peripheral = air.peripheral(id)?;
        peripheral.in_range = in_range;
        if !in_range {
            peripheral.epoch += 1;
        }
        Ok(())
    }

    /// Sets the signal strength scans report for a lock (default −60 dBm).
    pub fn set_rssi(&self, id: PeripheralId, rssi: i16) -> Result<(), RadioError> {
        self.air().peripheral(id)?.rssi = rssi;
        Ok(())
    }

    /// Drops the link once, after `packets` more packets on any of this lock's connections.
    pub fn drop_after_packets(&self, id: PeripheralId, packets: Option<u64>) -> Result<(), RadioError> {
        self.air().peripheral(id)?.packets_until_drop = packets;
        Ok(())
    }

    /// Drops every open connection to this lock now.
    pub fn drop_connections(&self, id: PeripheralId) -> Result<(), RadioError> {
        self.air().peripheral(id)?.epoch += 1;
        Ok(())
    }

    /// Listens for one advertising interval and returns what the locks in range broadcast.
    pub fn scan(&self) -> Vec<ScanResult> {
        let interval = self.air().advertising_interval;
        self.pass(interval);
        let mut air = self.air();
        air.peripherals
            .iter_mut()
            .filter(|(_, p)| p.in_range)
            .map(|(id, p)| {
                // The lock's timers run while it advertises; a failed tick leaves the old nonce.
                let _ = p.lock.tick();
                ScanResult {
                    peripheral: *id,
                    company_id: ADVERT_COMPANY_ID,
                    data: p.lock.advertisement().to_bytes(),
                    rssi: p.rssi,
                }
            })
            .collect()
    }

    /// Connects to a lock, asking for `requested_mtu`; the connection gets the smaller of
    /// that and the lock's.
    pub fn connect(&self, id: PeripheralId, requested_mtu: u16) -> Result<SimConnection, RadioError> {
        if !(MIN_ATT_MTU..=MAX_ATT_MTU).contains(&requested_mtu) {
            return Err(RadioError::BadMtu(requested_mtu));
        }
        let (connection, mtu, epoch, connect_time) = {
            let mut air = self.air();
            let peripheral = air.peripheral(id)?;
            if !peripheral.in_range {
                return Err(RadioError::NotInRange);
            }
            let mtu = requested_mtu.min(peripheral.link.att_mtu).max(MIN_ATT_MTU);
            let connection = peripheral.lock.connect(mtu).map_err(|_| RadioError::BadMtu(mtu))?;
            (connection, mtu, peripheral.epoch, peripheral.link.connect_time)
        };
        self.pass(connect_time);
        Ok(SimConnection {
            radio: self.clone(),
            peripheral: id,
            connection,
            mtu,
            epoch,
            inbox: VecDeque::new(),
            open: true,
            lock_closed: false,
            elapsed: connect_time,
            stats: LinkStats::default(),
            event: None,
        })
    }
}

/// A phone's GATT connection to one simulated lock. Dropping it disconnects.
pub struct SimConnection {
    radio: SimRadio,
    peripheral: PeripheralId,
    connection: ConnectionId,
    mtu: u16,
    epoch: u64,
    inbox: VecDeque<Vec<u8>>,
    open: bool,
    lock_closed: bool,
    elapsed: Duration,
    stats: LinkStats,
    /// The connection event still open for more packets, if any.
    event: Option<OpenEvent>,
}

/// Which way a packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Phone to lock: writes.
    ToLock,
    /// Lock to phone: write responses and notifications.
    ToPhone,
}

/// A connection event that more packets may still join.
#[derive(Debug, Clone, Copy)]
struct OpenEvent {
    direction: Direction,
    /// Packets sent in it so far.
    packets: u8,
    /// The radio's time when its last packet got through: any time passing after that
    /// (the lock's actuation, the app's own work) ends the event.
    at: Duration,
}

impl std::fmt::Debug for SimConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConnection")
            .field("peripheral", &self.peripheral)
            .field("mtu", &self.mtu)
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

impl SimConnection {
    /// The negotiated ATT MTU.
    pub fn mtu(&self) -> u16 {
        self.mtu
    }

    /// Whether the connection is still open.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Modelled time spent on this connection, from the connect request.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Packet counts so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// Marks the connection lost on both ends.
    fn lose(&mut self, error: RadioError) -> RadioError {
        self.open = false;
        self.inbox.clear();
        let connection = self.connection;
        self.radio.with_lock(self.peripheral, |lock| lock.disconnect(connection));
        error
    }

    /// Sends one packet going `direction`: the modelled time passes, or the link drops.
    fn packet(&mut self, direction: Direction) -> Result<(), RadioError> {
        if !self.open {
            return Err(RadioError::Disconnected);
        }
        let now = self.radio.now();
        let retransmissions = self.stats.retransmissions;
        let (duration, result, joined) = {
            let mut air = self.radio.air();
            match air.peripheral(self.peripheral) {
                Ok(p) if p.epoch != self.epoch => (Duration::ZERO, Err(RadioError::ConnectionLost), None),
                Ok(p) => {
                    let room = p.link.packets_per_event.max(1);
                    let joined = self.event.filter(|e| e.direction == direction && e.packets < room && e.at == now);
                    let (duration, result) = air.transmit(self.peripheral, joined.is_some(), &mut self.stats);
                    (duration, result, joined)
                }
                Err(e) => (Duration::ZERO, Err(e), None),
            }
        };
        self.elapsed += duration;
        self.radio.pass(duration);
        result.map_err(|e| self.lose(e))?;
        self.stats.packets += 1;
        // A lost attempt ends the event; the retransmission opens the next one.
        let packets = match joined {
            Some(event) if self.stats.retransmissions == retransmissions => event.packets + 1,
            _ => 1,
        };
        self.event = Some(OpenEvent { direction, packets, at: self.radio.now() });
        Ok(())
    }

    /// Writes one frame with an ATT write request and waits for its response. The lock's
    /// answer, if the frame completed a message, waits as notifications for [`Self::recv`].
    pub fn write(&mut self, frame: &[u8]) -> Result<(), RadioError> {
        self.write_frame(frame, true)
    }

    /// Writes one frame with an ATT write command (no response): one packet.
    pub fn write_without_response(&mut self, frame: &[u8]) -> Result<(), RadioError> {
        self.write_frame(frame, false)
    }

    fn write_frame(&mut self, frame: &[u8], with_response: bool) -> Result<(), RadioError> {
        if self.lock_closed {
            return Err(RadioError::Disconnected);
        }
        let max = usize::from(self.mtu) - 3;
        if frame.len() > max {
            return Err(RadioError::FrameTooLong { len: frame.len(), max });
        }
        self.stats.writes += 1;
        self.packet(Direction::ToLock)?;
        let connection = self.connection;
        let reply = self.radio.with_lock(self.peripheral, |lock| {
            let before = lock.actuations();
            lock.on_frame(connection, frame).map(|reply| (reply, lock.actuations() > before))
        });
        let reply = match reply {
            None => return Err(self.lose(RadioError::UnknownPeripheral)),
            // The lock answers once its latch has moved: the actuation takes its time too.
            Some(Ok((reply, true))) => {
                self.radio.pass(Duration::from_millis(u64::from(crate::ACTUATION_MS)));
                reply
            }
            Some(Ok((reply, false))) => reply,
            // The lock dropped the connection (a frame it could not reassemble).
            Some(Err(_)) => {
                return Err(self.lose(RadioError::Disconnected));
            }
        };
        if with_response {
            self.packet(Direction::ToPhone)?;
        }
        self.inbox.extend(reply.notifications);
        // Notifications already queued still arrive; the link closes after them.
        self.lock_closed |= reply.closed;
        Ok(())
    }

    /// The next notification frame, if the lock has sent one; `None` when nothing waits.
    pub fn recv(&mut self) -> Result<Option<Vec<u8>>, RadioError> {
        let Some(frame) = self.inbox.pop_front() else {
            if self.lock_closed {
                self.open = false;
            }
            return if self.open { Ok(None) } else { Err(RadioError::Disconnected) };
        };
        self.packet(Direction::ToPhone)?;
        self.stats.notifications += 1;
        Ok(Some(frame))
    }

    /// Fragments `message` for this connection's MTU and writes every frame without
    /// response, as the core does: the lock's reply is the confirmation.
    pub fn send_message(&mut self, message: &[u8]) -> Result<(), RadioError> {
        for frame in framing::fragment(message, self.mtu)? {
            self.write_frame(&frame, false)?;
        }
        Ok(())
    }

    /// Receives notifications until a whole message is reassembled; `None` if the lock sent nothing.
    pub fn receive_message(&mut self) -> Result<Option<Vec<u8>>, RadioError> {
        let mut reassembler = Reassembler::new();
        while let Some(frame) = self.recv()? {
            if let Some(message) = reassembler.push(&frame)? {
                return Ok(Some(message));
            }
        }
        Ok(None)
    }

    /// Closes the connection.
    pub fn disconnect(mut self) {
        self.close();
    }

    fn close(&mut self) {
        if self.open {
            self.open = false;
            let connection = self.connection;
            self.radio.with_lock(self.peripheral, |lock| lock.disconnect(connection));
        }
    }
}

impl Drop for SimConnection {
    fn drop(&mut self) {
        self.close();
    }
}
