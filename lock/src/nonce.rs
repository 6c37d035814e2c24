//! The lock's nonce policy: the nonce it advertises, and which nonces a request may name.
//!
//! A request may name the current nonce, or the one just before it if that one was
//! never consumed and was replaced less than [`PREVIOUS_NONCE_GRACE_SECS`] ago by the
//! lock's effective clock: a phone that heard the advertisement just before the nonce
//! changed (someone else's refused attempt rotates it) still gets in first time. Every
//! consume rotates, whatever the outcome, so no nonce is ever accepted twice. Nonces are
//! drawn from the lock's random source (the OS generator) and live in memory only: after a
//! restart every earlier nonce is unknown.

use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::LockNonce;

/// How long a replaced, unconsumed nonce is still accepted.
pub const PREVIOUS_NONCE_GRACE_SECS: UnixSeconds = 30;

/// The current nonce and the previous, still-unconsumed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonceState {
    current: LockNonce,
    previous: Option<(LockNonce, UnixSeconds)>,
}

impl NonceState {
    /// Starts with `first` as the advertised nonce.
    pub fn new(first: LockNonce) -> Self {
        Self { current: first, previous: None }
    }

    /// The nonce to advertise.
    pub fn current(&self) -> LockNonce {
        self.current
    }

    /// Consumes `nonce` at time `now` and rotates to `fresh`. Returns whether `nonce` was
    /// acceptable.
    pub fn consume(&mut self, nonce: &LockNonce, now: UnixSeconds, fresh: LockNonce) -> bool {
        let is_current = *nonce == self.current;
        let is_previous = self.previous.is_some_and(|(previous, retired)| {
            previous == *nonce && now <= retired.saturating_add(PREVIOUS_NONCE_GRACE_SECS)
        });
        let replaced = self.current;
        self.current = fresh;
        // The replaced nonce stays acceptable only if nobody used it.
        self.previous = if is_current { None } else { Some((replaced, now)) };
        is_current || is_previous
    }

    /// Replaces the current nonce with `fresh` at time `now` without consuming it (it
    /// stays acceptable for the grace period).
    pub fn rotate(&mut self, now: UnixSeconds, fresh: LockNonce) {
        self.previous = Some((self.current, now));
        self.current = fresh;
    }
}
