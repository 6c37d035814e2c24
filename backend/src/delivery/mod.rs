//! Delivery of the outbox's messages to people: email over SMTP ([`smtp`]), text messages
//! through an HTTPS provider ([`sms`]), and the background sender that works through the
//! durable queue with retries ([`queue`]). [`config`] turns the `serve` flags into senders.
//!
//! A channel with no sender configured (the default) is delivered to the in-memory
//! development outbox instead (see [`crate::outbox`]), which tests and `keyway demo` read.

pub mod config;
pub mod queue;
pub mod sms;
pub mod smtp;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use keyway_api::Channel;

/// What a message says: sealed while it waits in the queue, never logged.
#[derive(Clone, Serialize, Deserialize)]
pub struct Content {
    /// Subject line (emails; empty for SMS).
    pub subject: String,
    /// The text, with the code or link in it.
    pub body: String,
    /// The one-time code in it, if any.
    pub code: Option<String>,
    /// The link in it, if any.
    pub link: Option<String>,
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Content(..)")
    }
}

/// Why one delivery attempt failed.
///
/// `reason` is a few words an administrator can act on ("SMTP server answered 451"); it
/// never holds any part of the message, whose code or link is a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// Whether trying again later may work (a server down, a 4xx answer), or not (a 5xx
    /// answer, an address the server refuses).
    pub transient: bool,
    /// What went wrong, in a few words.
    pub reason: String,
}

impl SendFailure {
    /// A failure worth retrying.
    pub fn transient(reason: impl Into<String>) -> Self {
        Self { transient: true, reason: reason.into() }
    }

    /// A failure that retrying will not fix.
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self { transient: false, reason: reason.into() }
    }
}

/// How often a message is tried: the first attempt at once, then after `first_retry_secs`,
/// doubling each time up to `max_delay_secs`, and given up after `max_attempts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before the message is marked failed (at least 1).
    pub max_attempts: u32,
    /// Wait after the first failed attempt, in seconds.
    pub first_retry_secs: i64,
    /// Longest wait between two attempts, in seconds.
    pub max_delay_secs: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 8, first_retry_secs: 30, max_delay_secs: 3600 }
    }
}

impl RetryPolicy {
    /// Seconds to wait after `attempts` failed attempts (1 = after the first).
    pub fn delay_after(&self, attempts: u32) -> i64 {
        let doublings = attempts.saturating_sub(1).min(30);
        self.first_retry_secs.max(1).saturating_mul(1_i64 << doublings).min(self.max_delay_secs.max(1))
    }
}

/// The senders a running service has, and its retry policy.
#[derive(Clone, Default)]
pub struct Delivery {
    /// Email over SMTP; `None`: email goes to the development outbox.
    pub smtp: Option<Arc<smtp::SmtpSender>>,
    /// Text messages through a provider; `None`: SMS goes to the development outbox.
    pub sms: Option<Arc<dyn sms::SmsProvider>>,
    /// How often a message is tried.
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("smtp", &self.smtp.is_some())
            .field("sms", &self.sms.is_some())
            .field("retry", &self.retry)
            .finish()
    }
}

impl Delivery {
    /// Everything to the development outbox (the default).
    pub fn development() -> Self {
        Self::default()
    }

    /// Whether `channel` has a real sender (else it goes to the development outbox).
    pub fn is_real(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.smtp.is_some(),
            Channel::Sms => self.sms.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let p = RetryPolicy { max_attempts: 10, first_retry_secs: 30, max_delay_secs: 600 };
        let waits: Vec<i64> = (1..=7).map(|n| p.delay_after(n)).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 600, 600]);
        assert_eq!(p.delay_after(u32::MAX), 600);
    }
}
