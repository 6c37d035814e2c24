//! Time, injectable: the phone's wall clock in production, a hand-moved one in tests.

use keyway_protocol::credential::UnixSeconds;
use std::sync::atomic::{AtomicU32, Ordering};

/// The phone's wall clock, in Unix seconds.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> UnixSeconds;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixSeconds {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        u32::try_from(secs).unwrap_or(u32::MAX)
    }
}

/// A clock that only moves when told to (tests, demos).
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicU32,
}

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: UnixSeconds) -> Self {
        Self { now: AtomicU32::new(now) }
    }

    /// Sets the time.
    pub fn set(&self, now: UnixSeconds) {
        self.now.store(now, Ordering::SeqCst);
    }

    /// Moves the time forward.
    pub fn advance(&self, seconds: u32) {
        self.now.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixSeconds {
        self.now.load(Ordering::SeqCst)
    }
}
