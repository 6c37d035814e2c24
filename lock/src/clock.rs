//! The lock's sense of time: an injectable real-time clock (RTC) and the clock floor.
//!
//! The effective clock is `max(rtc, floor)`. The floor only rises: to every signed time
//! in an applied bundle, and to every RTC reading the lock has seen (persisted with the
//! rest of the state). Setting the RTC back therefore never makes an expired key valid
//! again, and neither does a restart.

use keyway_protocol::credential::UnixSeconds;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// A source of wall-clock time in Unix seconds: the lock's battery-backed RTC.
pub trait Rtc: Send + Sync {
    /// The RTC's current reading. It may jump backwards (someone set it, or the battery died).
    fn now(&self) -> UnixSeconds;
}

/// The host's system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRtc;

impl Rtc for SystemRtc {
    fn now(&self) -> UnixSeconds {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        UnixSeconds::try_from(secs).unwrap_or(UnixSeconds::MAX)
    }
}

/// An RTC a test sets by hand. Clones share the same reading, so a test keeps one and
/// gives the other to the lock.
#[derive(Debug, Clone, Default)]
pub struct ManualRtc {
    reading: Arc<AtomicU32>,
}

impl ManualRtc {
    /// An RTC reading `now`.
    pub fn new(now: UnixSeconds) -> Self {
        Self { reading: Arc::new(AtomicU32::new(now)) }
    }

    /// Sets the reading (forwards or backwards).
    pub fn set(&self, now: UnixSeconds) {
        self.reading.store(now, Ordering::SeqCst);
    }

    /// Moves the reading by `seconds` (negative: back), saturating at the ends of the range.
    pub fn advance(&self, seconds: i64) {
        let now = i64::from(self.now()).saturating_add(seconds);
        self.set(now.clamp(0, i64::from(UnixSeconds::MAX)) as UnixSeconds);
    }
}

impl ManualRtc {
    /// TEMP (old model): the RTC jumps.
    pub fn jump(&self, now: UnixSeconds) {
        self.set(now);
    }
    /// TEMP (old model): time passes with the RTC stopped.
    pub fn elapse_with_rtc_stopped(&self, _seconds: u32) {}
}

impl Rtc for ManualRtc {
    fn now(&self) -> UnixSeconds {
        self.reading.load(Ordering::SeqCst)
    }
}

/// The lock's reading of its RTC, remembering the highest reading seen since start, so
/// the effective clock does not go back between two saves either.
pub struct LockClock {
    rtc: Arc<dyn Rtc>,
    seen: AtomicU32,
}

impl LockClock {
    /// A clock over `rtc`.
    pub fn new(rtc: Arc<dyn Rtc>) -> Self {
        Self { rtc, seen: AtomicU32::new(0) }
    }

    /// The effective time over a persisted `floor`: `max(rtc, floor, every reading seen)`.
    pub fn now(&self, floor: UnixSeconds) -> UnixSeconds {
        let reading = self.rtc.now();
        let seen = self.seen.fetch_max(reading, Ordering::SeqCst).max(reading);
        seen.max(floor)
    }

    /// The floor to persist: `floor` raised to every RTC reading seen so far.
    pub fn raise(&self, floor: UnixSeconds) -> UnixSeconds {
        floor.max(self.seen.load(Ordering::SeqCst))
    }

    /// The RTC this clock reads.
    pub fn rtc(&self) -> Arc<dyn Rtc> {
        Arc::clone(&self.rtc)
    }

    /// A clock over the same RTC that has seen the same readings.
    pub fn fork(&self) -> Self {
        Self { rtc: self.rtc(), seen: AtomicU32::new(self.seen.load(Ordering::SeqCst)) }
    }
}

impl std::fmt::Debug for LockClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockClock").field("seen", &self.seen).finish_non_exhaustive()
    }
}
