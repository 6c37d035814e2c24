//! The lock's nonce policy: the nonce it advertises, and which nonces a request may name.
//!
//! - A nonce is advertised for at most [`NONCE_LIFETIME_SECS`], then replaced (on a
//!   timer, [`crate::Lock::tick`], and at the latest when the next request arrives), and
//!   after every attempt that names any nonce.
//! - A request may name the current nonce, or the one just before it if that one was
//!   never consumed and stopped being advertised at most [`PREVIOUS_NONCE_GRACE_SECS`] ago
//!   by the lock's clock: a phone that heard the advertisement just before it changed
//!   still gets in first time.
//! - A consumed nonce is never accepted again.
//!
//! So a request captured by a fake lock is useless after at most
//! `NONCE_LIFETIME_SECS + PREVIOUS_NONCE_GRACE_SECS`. Nonces are drawn from the lock's
//! random source (the OS generator) and live in memory only: after a restart every
//! earlier nonce is unknown.

use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::LockNonce;

/// How long one nonce is advertised.
pub const NONCE_LIFETIME_SECS: UnixSeconds = 30;
/// How long a replaced, unconsumed nonce is still accepted.
pub const PREVIOUS_NONCE_GRACE_SECS: UnixSeconds = 30;

/// The current nonce, when it started, and the previous, still-unconsumed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonceState {
    current: LockNonce,
    issued: UnixSeconds,
    previous: Option<(LockNonce, UnixSeconds)>,
}

impl NonceState {
    /// Starts advertising `first` at time `now`.
    pub fn new(first: LockNonce, now: UnixSeconds) -> Self {
        Self { current: first, issued: now, previous: None }
    }

    /// The nonce to advertise.
    pub fn current(&self) -> LockNonce {
        self.current
    }

    /// Whether the current nonce has outlived [`NONCE_LIFETIME_SECS`] at `now`.
    pub fn is_stale(&self, now: UnixSeconds) -> bool {
        now >= self.issued.saturating_add(NONCE_LIFETIME_SECS)
    }

    /// When the current nonce stops (or stopped) being advertised, if replaced at `now`:
    /// a nonce nobody replaced in time counts as retired when its lifetime ended.
    fn retired_at(&self, now: UnixSeconds) -> UnixSeconds {
        now.min(self.issued.saturating_add(NONCE_LIFETIME_SECS))
    }

    /// Consumes `nonce` at time `now` and rotates to `fresh`. Returns whether `nonce` was
    /// acceptable.
    pub fn consume(&mut self, nonce: &LockNonce, now: UnixSeconds, fresh: LockNonce) -> bool {
        let within_grace = |retired: UnixSeconds| now <= retired.saturating_add(PREVIOUS_NONCE_GRACE_SECS);
        let retired = self.retired_at(now);
        let is_current = *nonce == self.current && within_grace(retired);
        let is_previous = self.previous.is_some_and(|(previous, at)| previous == *nonce && within_grace(at));
        // The replaced nonce stays acceptable only if nobody used it.
        self.previous = if *nonce == self.current { None } else { Some((self.current, retired)) };
        self.current = fresh;
        self.issued = now;
        is_current || is_previous
    }

    /// Replaces the current nonce with `fresh` at time `now` without consuming it (it
    /// stays acceptable for the grace period).
    pub fn rotate(&mut self, now: UnixSeconds, fresh: LockNonce) {
        self.previous = Some((self.current, self.retired_at(now)));
        self.current = fresh;
        self.issued = now;
    }
}
