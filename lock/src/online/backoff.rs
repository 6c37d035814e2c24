//! How long the online link waits before trying the backend again: doubling from a first
//! delay up to a ceiling, with jitter so that many locks cut off together do not all come
//! back in the same second.

use std::time::Duration;

/// Doubling back-off with jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
    jitter_state: u64,
}

impl Backoff {
    /// Starts at `first`, never waits more than `max`.
    pub fn new(first: Duration, max: Duration, seed: u64) -> Self {
        Self { first, max: max.max(first), next: first, jitter_state: seed | 1 }
    }

    /// The wait before the next try: the current delay, give or take a quarter; then the
    /// delay doubles (up to the ceiling).
    pub fn next_wait(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        // xorshift: cheap, deterministic per lock; no secret depends on it.
        self.jitter_state ^= self.jitter_state << 13;
        self.jitter_state ^= self.jitter_state >> 7;
        self.jitter_state ^= self.jitter_state << 17;
        let quarter = base / 4;
        let spread = u64::try_from(quarter.as_millis()).unwrap_or(u64::MAX).saturating_mul(2).max(1);
        let offset = Duration::from_millis(self.jitter_state % spread);
        (base - quarter + offset).min(self.max)
    }

    /// After a success: the next failure waits the first delay again.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_door_backoff_doubles_up_to_its_ceiling_and_starts_again_after_a_success() {
        let mut b = Backoff::new(Duration::from_millis(400), Duration::from_secs(5), 7);
        let waits: Vec<Duration> = (0..8).map(|_| b.next_wait()).collect();
        assert!(waits[0] >= Duration::from_millis(300) && waits[0] <= Duration::from_millis(500), "{waits:?}");
        assert!(waits[2] >= Duration::from_millis(1200), "{waits:?}");
        assert!(waits.iter().all(|w| *w <= Duration::from_secs(5)), "{waits:?}");
        assert!(waits[7] >= Duration::from_millis(3750), "{waits:?}");
        b.reset();
        assert!(b.next_wait() <= Duration::from_millis(500));
    }
}
