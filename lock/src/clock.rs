//! The lock's sense of time: its two time sources, and the clock built on them.
//!
//! A lock board has a battery-backed real-time clock (RTC), which keeps the date across
//! power cuts but can be set, reset or glitch, and a monotonic tick counter, which only
//! counts seconds since the board started. [`Rtc`] models both.
//!
//! - Freshness (nonce age, handshake and idle timeouts) runs on the tick counter alone:
//!   nothing on the air, in a bundle or in the RTC moves it.
//! - The effective clock (credential windows, audit times, receipts) follows the tick
//!   counter from an anchor: the RTC reading at start (never below the persisted floor),
//!   a bundle's signed time above it, or a signed clock reset. While the lock runs, an
//!   RTC reading is taken only if it agrees with the ticks within
//!   [`RTC_JUMP_TOLERANCE_SECS`]; a jump beyond that (forwards or backwards) is
//!   quarantined: the lock keeps counting on its ticks and learns the RTC's error as a
//!   correction, persisted, so the wrong reading does not come back after a restart
//!   either. The floor only rises (bundles, every save), except through a signed reset.

use keyway_protocol::credential::UnixSeconds;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// How far an RTC reading may stray from the time the tick counter says before the lock
/// treats it as a jump: five minutes, far above the drift of an RTC crystal between two
/// readings, far below any jump that matters to a 72-hour key.
pub const RTC_JUMP_TOLERANCE_SECS: UnixSeconds = 300;

/// The lock board's two time sources.
pub trait Rtc: Send + Sync {
    /// The real-time clock's reading in Unix seconds. It may jump either way (someone set
    /// it, the battery died, it glitched).
    fn now(&self) -> UnixSeconds;
    /// Seconds counted by the monotonic tick counter since the board started. Never goes
    /// back while the lock runs; restarts from any value after a power cycle.
    fn ticks(&self) -> u64;
}

/// The host's clocks: the system clock and a monotonic [`std::time::Instant`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRtc;

impl Rtc for SystemRtc {
    fn now(&self) -> UnixSeconds {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        UnixSeconds::try_from(secs).unwrap_or(UnixSeconds::MAX)
    }

    fn ticks(&self) -> u64 {
        static START: OnceLock<std::time::Instant> = OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed().as_secs()
    }
}

/// A lock board's clocks set by hand. Clones share the same readings, so a test keeps one
/// and gives the other to the lock.
///
/// [`ManualRtc::set`] and [`ManualRtc::advance`] model time passing: moving forwards
/// moves the tick counter with the RTC; moving backwards only sets the RTC back.
/// [`ManualRtc::jump`] changes the RTC alone (a fault), and
/// [`ManualRtc::elapse_with_rtc_stopped`] moves the ticks alone (a stopped RTC).
#[derive(Debug, Clone, Default)]
pub struct ManualRtc {
    reading: Arc<AtomicU32>,
    ticks: Arc<AtomicU64>,
}

impl ManualRtc {
    /// An RTC reading `now`, on a board that has just started.
    pub fn new(now: UnixSeconds) -> Self {
        Self { reading: Arc::new(AtomicU32::new(now)), ticks: Arc::default() }
    }

    /// Sets the reading: forwards, time passes (the ticks move by as much); backwards,
    /// the RTC is set back (the ticks stand).
    pub fn set(&self, now: UnixSeconds) {
        let before = self.reading.swap(now, Ordering::SeqCst);
        self.ticks.fetch_add(u64::from(now.saturating_sub(before)), Ordering::SeqCst);
    }

    /// Moves the reading by `seconds` as [`Self::set`] does (negative: the RTC is set back),
    /// saturating at the ends of the range.
    pub fn advance(&self, seconds: i64) {
        let now = i64::from(Rtc::now(self)).saturating_add(seconds);
        self.set(now.clamp(0, i64::from(UnixSeconds::MAX)) as UnixSeconds);
    }

    /// The RTC's reading jumps to `now` with no time passing (a glitch, or someone set it).
    pub fn jump(&self, now: UnixSeconds) {
        self.reading.store(now, Ordering::SeqCst);
    }

    /// `seconds` pass while the RTC stands still (a stopped or very slow RTC).
    pub fn elapse_with_rtc_stopped(&self, seconds: UnixSeconds) {
        self.ticks.fetch_add(u64::from(seconds), Ordering::SeqCst);
    }
}

impl Rtc for ManualRtc {
    fn now(&self) -> UnixSeconds {
        self.reading.load(Ordering::SeqCst)
    }

    fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::SeqCst)
    }
}

/// Where the effective clock stands: a time and the tick count it was taken at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Anchor {
    time: UnixSeconds,
    ticks: u64,
}

impl Anchor {
    /// The anchor's time carried forward to `ticks`.
    fn at(self, ticks: u64) -> UnixSeconds {
        let elapsed = ticks.saturating_sub(self.ticks);
        let time = u64::from(self.time).saturating_add(elapsed);
        UnixSeconds::try_from(time).unwrap_or(UnixSeconds::MAX)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct ClockState {
    /// `None` until the first reading after start.
    anchor: Option<Anchor>,
    /// Seconds added to every RTC reading: the RTC's error, learnt from quarantined jumps,
    /// bundles and resets.
    correction: i64,
    /// RTC readings refused as jumps since start.
    jumps: u64,
}

/// The lock's clock over its [`Rtc`]: the effective time, the ticks for timeouts, and
/// the RTC's learnt correction.
pub struct LockClock {
    rtc: Arc<dyn Rtc>,
    state: Mutex<ClockState>,
}

impl LockClock {
    /// A clock over `rtc`, whose readings are off by `-correction` seconds (0: trusted).
    pub fn new(rtc: Arc<dyn Rtc>, correction: i64) -> Self {
        Self { rtc, state: Mutex::new(ClockState { correction, ..ClockState::default() }) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn corrected_reading(&self, correction: i64) -> UnixSeconds {
        let reading = i64::from(self.rtc.now()).saturating_add(correction);
        reading.clamp(0, i64::from(UnixSeconds::MAX)) as UnixSeconds
    }

    /// The monotonic tick counter, for nonce age and timeouts.
    pub fn ticks(&self) -> u64 {
        self.rtc.ticks()
    }

    /// The effective time over a persisted `floor`. Reads the RTC: a reading that
    /// disagrees with the ticks by more than [`RTC_JUMP_TOLERANCE_SECS`] is quarantined.
    pub fn now(&self, floor: UnixSeconds) -> UnixSeconds {
        let ticks = self.rtc.ticks();
        let mut state = self.state();
        let reading = self.corrected_reading(state.correction);
        let time = match state.anchor {
            // At start the ticks say nothing about how long the lock was off: take the RTC,
            // but never below the persisted floor.
            None => reading.max(floor),
            Some(anchor) => {
                let trusted = anchor.at(ticks);
                if reading.abs_diff(trusted) > RTC_JUMP_TOLERANCE_SECS {
                    state.jumps += 1;
                    state.correction = state.correction.saturating_add(i64::from(trusted) - i64::from(reading));
                }
                // Within the tolerance a faster RTC is followed; a slower one never pulls
                // the clock back.
                if reading > trusted && reading - trusted <= RTC_JUMP_TOLERANCE_SECS { reading } else { trusted }
            }
        };
        // The anchor moves with the clock's own time; a floor passed in (a state not yet
        // saved, say) bounds the answer but moves the anchor only through `raise_to`.
        state.anchor = Some(Anchor { time, ticks });
        time.max(floor)
    }

    /// Moves the effective clock up to `time` (a bundle's signed time) if it is behind,
    /// and re-learns the RTC's correction from it.
    pub fn raise_to(&self, time: UnixSeconds) {
        if self.now(0) < time {
            self.set(time);
        }
    }

    /// Sets the effective clock to `time`, up or down (a signed clock reset), and
    /// re-learns the RTC's correction from it.
    pub fn set(&self, time: UnixSeconds) {
        let ticks = self.rtc.ticks();
        let mut state = self.state();
        state.correction = i64::from(time) - i64::from(self.rtc.now());
        state.anchor = Some(Anchor { time, ticks });
    }

    /// The floor to persist: `floor` raised to the effective time.
    pub fn raise(&self, floor: UnixSeconds) -> UnixSeconds {
        self.now(floor)
    }

    /// The correction to persist with the state.
    pub fn correction(&self) -> i64 {
        self.state().correction
    }

    /// RTC readings refused as implausible jumps since start.
    pub fn rtc_jumps(&self) -> u64 {
        self.state().jumps
    }

    /// The time sources this clock reads.
    pub fn rtc(&self) -> Arc<dyn Rtc> {
        Arc::clone(&self.rtc)
    }

    /// A clock over the same sources in the same state.
    pub fn fork(&self) -> Self {
        Self { rtc: self.rtc(), state: Mutex::new(*self.state()) }
    }
}

impl std::fmt::Debug for LockClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockClock").field("state", &*self.state()).finish_non_exhaustive()
    }
}
