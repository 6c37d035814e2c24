//! The lock's nonce policy: the nonce it advertises, and which nonces a request may name.
//!
//! - A nonce is advertised for at most [`NONCE_LIFETIME_SECS`], then replaced (on a
//!   timer, [`crate::Lock::tick`], and at the latest when the next request arrives), and
//!   after every attempt that names any nonce.
//! - A nonce is accepted at most [`NONCE_ACCEPT_SECS`] after it was first advertised
//!   (`docs/protocol.md` §16 item 1): the current one, or the one just before it if that
//!   one was never consumed, so a phone that heard the advertisement just before it
//!   changed still gets in first time.
//! - A consumed nonce is never accepted again.
//!
//! Ages are counted on the lock's monotonic tick counter ([`crate::Rtc::ticks`]), which
//! no RTC reading and no bundle's signed time moves: a request captured by a fake lock
//! is useless [`NONCE_ACCEPT_SECS`] after the real lock advertised its nonce, whatever
//! the RTC does. Nonces are drawn from the lock's random source (the OS generator) and
//! live in memory only: after a restart every earlier nonce is unknown.

use keyway_protocol::ids::LockNonce;

/// How long one nonce is advertised, in seconds.
pub const NONCE_LIFETIME_SECS: u32 = 20;
/// How long after it was first advertised a nonce is still accepted, in seconds: the
/// protocol's upper bound. The 10 seconds past [`NONCE_LIFETIME_SECS`] cover a phone
/// that heard the advertisement just before it changed.
pub const NONCE_ACCEPT_SECS: u32 = 30;

/// The current nonce, when it was first advertised, and the previous, still-unconsumed
/// one. Times are ticks of the lock's monotonic counter, in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonceState {
    current: LockNonce,
    issued: u64,
    previous: Option<(LockNonce, u64)>,
}

impl NonceState {
    /// Starts advertising `first` at tick `now`.
    pub fn new(first: LockNonce, now: u64) -> Self {
        Self { current: first, issued: now, previous: None }
    }

    /// The nonce to advertise.
    pub fn current(&self) -> LockNonce {
        self.current
    }

    /// Whether the current nonce has been advertised for [`NONCE_LIFETIME_SECS`] at `now`.
    pub fn is_stale(&self, now: u64) -> bool {
        now >= self.issued.saturating_add(u64::from(NONCE_LIFETIME_SECS))
    }

    /// Consumes `nonce` at tick `now` and rotates to `fresh`. Returns whether `nonce` was
    /// acceptable.
    pub fn consume(&mut self, nonce: &LockNonce, now: u64, fresh: LockNonce) -> bool {
        let acceptable = |issued: u64| now <= issued.saturating_add(u64::from(NONCE_ACCEPT_SECS));
        let is_current = *nonce == self.current && acceptable(self.issued);
        let is_previous = self.previous.is_some_and(|(previous, issued)| previous == *nonce && acceptable(issued));
        // The replaced nonce stays acceptable only if nobody used it.
        self.previous = if *nonce == self.current { None } else { Some((self.current, self.issued)) };
        self.current = fresh;
        self.issued = now;
        is_current || is_previous
    }

    /// Replaces the current nonce with `fresh` at tick `now` without consuming it (it
    /// stays acceptable until [`NONCE_ACCEPT_SECS`] after it was first advertised).
    pub fn rotate(&mut self, now: u64, fresh: LockNonce) {
        self.previous = Some((self.current, self.issued));
        self.current = fresh;
        self.issued = now;
    }
}
