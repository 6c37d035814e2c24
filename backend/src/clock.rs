//! Time as the service sees it: an injectable clock so tests can move time.
//!
//! Two readings: the wall clock (`now`, what is signed and stored) and a steady clock
//! (`steady`, seconds from an arbitrary origin that only runs forward at the rate time
//! passes). The bundle signer compares them to tell time that passed from a wall clock
//! that jumped (`signing_time.rs`).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Source of the current time in whole unix seconds.
pub trait Clock: Send + Sync + 'static {
    /// Seconds since the unix epoch.
    fn now(&self) -> i64;

    /// Seconds on a clock that only counts time passing in this process (never set, never
    /// jumps); its origin means nothing, only differences do.
    fn steady(&self) -> i64 {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        let origin = ORIGIN.get_or_init(Instant::now);
        i64::try_from(origin.elapsed().as_secs()).unwrap_or(i64::MAX)
    }
}

/// Shared handle to a clock.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to; for tests and demos. Moving it ([`advance`],
/// [`set`]) is time passing: both readings move. [`glitch`] moves the wall clock alone, as
/// a wrongly set or jumping system clock does.
///
/// [`advance`]: ManualClock::advance
/// [`set`]: ManualClock::set
/// [`glitch`]: ManualClock::glitch
#[derive(Debug)]
pub struct ManualClock {
    steady: AtomicI64,
    skew: AtomicI64,
}

impl ManualClock {
    /// A clock stopped at `start` unix seconds.
    pub fn new(start: i64) -> Arc<Self> {
        Arc::new(Self { steady: AtomicI64::new(start), skew: AtomicI64::new(0) })
    }

    /// Moves the clock forward (or back, with a negative value) by `secs`.
    pub fn advance(&self, secs: i64) {
        self.steady.fetch_add(secs, Ordering::SeqCst);
    }

    /// Sets the clock to `now` unix seconds.
    pub fn set(&self, now: i64) {
        self.steady.store(now - self.skew.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Jumps the wall clock by `secs` (back with a negative value) while no time passes;
    /// `glitch(-secs)` undoes it.
    pub fn glitch(&self, secs: i64) {
        self.skew.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.steady.load(Ordering::SeqCst) + self.skew.load(Ordering::SeqCst)
    }

    fn steady(&self) -> i64 {
        self.steady.load(Ordering::SeqCst)
    }
}
