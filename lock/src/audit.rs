//! The audit log: what happened at the door, with the lock's own sequence numbers.
//!
//! Sequence numbers start at 1, only grow, and are never reused, even across restarts
//! (the next number is persisted with the events). Events stay until a bundle
//! acknowledges them, so a receipt that never reached the backend loses nothing. The log
//! is bounded: past [`AUDIT_CAPACITY`] the oldest event is dropped, and the backend sees
//! the gap in sequence numbers.

use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::CredentialId;
use keyway_protocol::receipt::{AuditEvent, AuditKind};
use std::collections::VecDeque;

/// Most events kept while waiting for an acknowledgement.
pub const AUDIT_CAPACITY: usize = 4096;

/// Unacknowledged events and the sequence counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLog {
    events: VecDeque<AuditEvent>,
    next_seq: u64,
    acknowledged: u64,
}

impl Default for AuditLog {
    fn default() -> Self {
        Self { events: VecDeque::new(), next_seq: 1, acknowledged: 0 }
    }
}

impl AuditLog {
    /// An empty log whose first event will be number 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a log from stored parts. Events at or below `acknowledged`, or not below
    /// `next_seq`, or out of order, are rejected.
    pub fn from_parts(events: Vec<AuditEvent>, next_seq: u64, acknowledged: u64) -> Option<Self> {
        let mut last = acknowledged;
        for event in &events {
            if event.seq <= last || event.seq >= next_seq {
                return None;
            }
            last = event.seq;
        }
        if next_seq == 0 || events.len() > AUDIT_CAPACITY {
            return None;
        }
        Some(Self { events: events.into(), next_seq, acknowledged })
    }

    /// Appends an event and returns its sequence number.
    pub fn append(&mut self, time: UnixSeconds, kind: AuditKind, credential: Option<CredentialId>) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.events.len() >= AUDIT_CAPACITY {
            self.events.pop_front();
        }
        self.events.push_back(AuditEvent { seq, time, kind, credential });
        seq
    }

    /// Drops every event up to and including `up_to`: the backend has them. Nothing above
    /// the highest number handed out so far can have reached the backend, so a larger
    /// `up_to` counts as that number: later events keep their place in the next receipt,
    /// and the stored log stays consistent (every kept event above `acknowledged`).
    pub fn acknowledge(&mut self, up_to: u64) {
        let up_to = up_to.min(self.next_seq - 1);
        self.acknowledged = self.acknowledged.max(up_to);
        while self.events.front().is_some_and(|e| e.seq <= up_to) {
            self.events.pop_front();
        }
    }

    /// The oldest `max` events below sequence `durable_below`, and whether more wait.
    pub fn pending(&self, durable_below: u64, max: usize) -> (Vec<AuditEvent>, bool) {
        let mut durable = self.events.iter().filter(|e| e.seq < durable_below);
        let events: Vec<_> = durable.by_ref().take(max).copied().collect();
        (events, durable.next().is_some())
    }

    /// The sequence number the next event will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The highest sequence number a bundle has acknowledged.
    pub fn acknowledged(&self) -> u64 {
        self.acknowledged
    }

    /// The unacknowledged events, oldest first.
    pub fn events(&self) -> impl Iterator<Item = &AuditEvent> {
        self.events.iter()
    }

    /// How many unacknowledged events there are.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether every event has been acknowledged.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}
