//! The audit log: what happened at the door, with the lock's own sequence numbers.
//!
//! Sequence numbers start at 1, only grow, and are never reused, even across restarts
//! (the next number is persisted with the events). Events stay until a bundle
//! acknowledges them, so a receipt that never reached the backend loses nothing.
//!
//! Refusals are budgeted, since anyone who holds the lock's public key can cause
//! encrypted ones (`docs/protocol.md` §16 item 4): at most [`REFUSALS_PER_WINDOW`] are
//! recorded one by one per [`REFUSAL_WINDOW_SECS`]; past that they are counted per
//! reason ([`RefusalTally`]) and written as one `RefusalsCoalesced` event when the window
//! ends or a receipt is built.
//!
//! The log is bounded ([`AUDIT_CAPACITY`]). An unsynced grant is never dropped to make
//! room for anything else: when the log is full a refusal is only counted, other events
//! that are not grants are not added, and a grant takes the place of the oldest event
//! that is not a grant. Only a log full of grants drops its oldest grant, and the backend
//! sees the gap in sequence numbers.

use keyway_protocol::Refusal;
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::ids::CredentialId;
use keyway_protocol::receipt::{AuditEvent, AuditKind, MAX_COALESCED_COUNT};
use std::collections::VecDeque;

pub use keyway_protocol::receipt::REFUSAL_WINDOW_SECS;

/// Most events kept while waiting for an acknowledgement.
pub const AUDIT_CAPACITY: usize = 4096;
/// Refusals recorded one by one per window; the rest are counted.
pub const REFUSALS_PER_WINDOW: u32 = 16;

/// Refusals of one reason counted instead of recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusalTally {
    /// Why they were refused.
    pub reason: Refusal,
    /// When the first of them happened (effective clock).
    pub first: UnixSeconds,
    /// How many (at least 1, at most [`MAX_COALESCED_COUNT`]).
    pub count: u32,
}

/// The refusal budget's state: the current window and what it has spent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefusalBudget {
    /// When the current window started (effective clock).
    pub window_start: UnixSeconds,
    /// Refusals recorded one by one in it.
    pub recorded: u32,
    /// Refusals counted and not yet written, at most one tally per reason.
    pub tallies: Vec<RefusalTally>,
}

impl RefusalBudget {
    /// Whether stored values are consistent.
    pub fn is_valid(&self) -> bool {
        let mut reasons: Vec<u8> = self.tallies.iter().map(|t| t.reason.code()).collect();
        reasons.sort_unstable();
        reasons.dedup();
        reasons.len() == self.tallies.len()
            && self.tallies.iter().all(|t| (1..=MAX_COALESCED_COUNT).contains(&t.count))
            && self.recorded <= REFUSALS_PER_WINDOW
    }
}

/// Unacknowledged events, the sequence counter and the refusal budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLog {
    events: VecDeque<AuditEvent>,
    next_seq: u64,
    acknowledged: u64,
    budget: RefusalBudget,
}

impl Default for AuditLog {
    fn default() -> Self {
        Self { events: VecDeque::new(), next_seq: 1, acknowledged: 0, budget: RefusalBudget::default() }
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
        Some(Self { events: events.into(), next_seq, acknowledged, budget: RefusalBudget::default() })
    }

    /// The log with a stored refusal budget, if it is consistent.
    pub fn with_budget(mut self, budget: RefusalBudget) -> Option<Self> {
        budget.is_valid().then(|| {
            self.budget = budget;
            self
        })
    }

    /// Records what happened at `time`. Returns the event's sequence number, or `None`
    /// when it was only counted (a refusal past the budget, or any event that is not a
    /// grant while the log is full).
    pub fn append(&mut self, time: UnixSeconds, kind: AuditKind, credential: Option<CredentialId>) -> Option<u64> {
        self.roll_window(time);
        if let AuditKind::Refused(reason) = kind {
            if self.budget.recorded >= REFUSALS_PER_WINDOW || self.is_full() {
                self.tally(reason, time);
                return None;
            }
            self.budget.recorded += 1;
        }
        self.push(time, kind, credential)
    }

    /// Takes back the event just appended as `seq` (its save failed and the grant it
    /// records did not happen); its number is given out again.
    pub fn retract(&mut self, seq: u64) {
        if self.events.back().is_some_and(|e| e.seq == seq) && self.next_seq == seq + 1 {
            self.events.pop_back();
            self.next_seq = seq;
        }
    }

    /// Writes every counted refusal as one `RefusalsCoalesced` event per reason, as far
    /// as the log has room. Returns whether anything was written.
    pub fn flush_tallies(&mut self) -> bool {
        let tallies = std::mem::take(&mut self.budget.tallies);
        let mut wrote = false;
        for tally in tallies {
            if self.is_full() {
                self.budget.tallies.push(tally);
                continue;
            }
            let kind = AuditKind::RefusalsCoalesced { reason: tally.reason, count: tally.count };
            wrote |= self.push(tally.first, kind, None).is_some();
        }
        wrote
    }

    /// Closes the budget's window if `time` is past it (or before it: a clock reset).
    fn roll_window(&mut self, time: UnixSeconds) {
        let start = self.budget.window_start;
        if time < start || time >= start.saturating_add(REFUSAL_WINDOW_SECS) {
            self.flush_tallies();
            self.budget.window_start = time;
            self.budget.recorded = 0;
        }
    }

    fn tally(&mut self, reason: Refusal, time: UnixSeconds) {
        let full = self.budget.tallies.iter().any(|t| t.reason == reason && t.count >= MAX_COALESCED_COUNT);
        if full {
            self.flush_tallies();
        }
        match self.budget.tallies.iter_mut().find(|t| t.reason == reason) {
            // Still full only if the log had no room: the count saturates.
            Some(tally) => tally.count = tally.count.saturating_add(1).min(MAX_COALESCED_COUNT),
            None => self.budget.tallies.push(RefusalTally { reason, first: time, count: 1 }),
        }
    }

    fn is_full(&self) -> bool {
        self.events.len() >= AUDIT_CAPACITY
    }

    fn push(&mut self, time: UnixSeconds, kind: AuditKind, credential: Option<CredentialId>) -> Option<u64> {
        if self.is_full() {
            let granted = |e: &AuditEvent| matches!(e.kind, AuditKind::Granted { .. });
            match self.events.iter().position(|e| !granted(e)) {
                Some(index) if matches!(kind, AuditKind::Granted { .. }) => {
                    self.events.remove(index);
                }
                None if matches!(kind, AuditKind::Granted { .. }) => {
                    self.events.pop_front();
                }
                _ => return None,
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.events.push_back(AuditEvent { seq, time, kind, credential });
        Some(seq)
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

    /// The refusal budget: its window and the refusals counted and not yet written.
    pub fn budget(&self) -> &RefusalBudget {
        &self.budget
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
