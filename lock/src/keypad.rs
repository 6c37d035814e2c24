//! The keypad: daily doorcodes checked offline against the slots the latest bundle
//! allowed, with guess limits that survive a restart.
//!
//! A code is checked against every allowed slot whose window holds the lock's effective
//! clock, each comparison in constant time and with no early exit, so the time an entry
//! takes does not tell which slot (if any) came close. After
//! [`WRONG_CODES_BEFORE_LOCKOUT`] wrong codes in a row the keypad ignores entries for
//! [`FIRST_LOCKOUT_SECS`], doubling with each further lock-out up to
//! [`MAX_LOCKOUT_SECS`]; a right code resets both counts. Entries while locked out are
//! not checked at all and not audited (anyone at the door can press keys), so neither
//! the log nor the clock of guesses can be flooded.

use keyway_protocol::bundle::DoorcodeGrant;
use keyway_protocol::credential::UnixSeconds;
use keyway_protocol::doorcode::{Doorcode, DoorcodeSecret, DoorcodeSlot, KeypadError, day_of, derive_on_lock};
use keyway_protocol::ids::DoorId;
use std::collections::BTreeMap;

/// Wrong codes in a row before the keypad locks out.
pub const WRONG_CODES_BEFORE_LOCKOUT: u32 = 5;
/// The first lock-out, in seconds; each further one doubles it.
pub const FIRST_LOCKOUT_SECS: u32 = 30;
/// The longest lock-out, in seconds.
pub const MAX_LOCKOUT_SECS: u32 = 3600;

/// What the keypad did with one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeypadOutcome {
    /// The code of `slot` for today: the door opened.
    Opened {
        /// Whose code it was.
        slot: DoorcodeSlot,
    },
    /// Not a code the lock accepts now; `attempts_left` more wrong codes lock the keypad.
    WrongCode {
        /// Wrong codes left before a lock-out.
        attempts_left: u32,
    },
    /// The keypad is locked out until `until` (this entry may have started it); the
    /// entry was not checked.
    LockedOut {
        /// When entries are checked again (the lock's effective clock).
        until: UnixSeconds,
    },
    /// The keys pressed are not a doorcode (too short, too long, unknown key); not
    /// counted as a guess.
    Malformed(KeypadError),
    /// This lock holds no doorcode secret (provisioned before doorcodes existed).
    NotEnabled,
}

/// The slots whose codes the lock accepts, as the latest format-2 bundle listed them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoorcodeSlots {
    slots: BTreeMap<DoorcodeSlot, (UnixSeconds, UnixSeconds)>,
}

impl DoorcodeSlots {
    /// Replaces every slot with `grants`, dropping those already over at `now`.
    pub fn replace(&mut self, grants: &[DoorcodeGrant], now: UnixSeconds) {
        self.slots =
            grants.iter().filter(|g| g.not_after >= now).map(|g| (g.slot, (g.not_before, g.not_after))).collect();
    }

    /// Adds one slot (when reading the state file).
    pub fn insert(&mut self, grant: DoorcodeGrant) {
        self.slots.insert(grant.slot, (grant.not_before, grant.not_after));
    }

    /// Forgets slots whose window ended before `now`.
    pub fn prune(&mut self, now: UnixSeconds) {
        self.slots.retain(|_, (_, not_after)| *not_after >= now);
    }

    /// Whether `slot` is allowed (at any time).
    pub fn contains(&self, slot: DoorcodeSlot) -> bool {
        self.slots.contains_key(&slot)
    }

    /// How many slots are allowed.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no slot is allowed.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Every slot, ascending.
    pub fn iter(&self) -> impl Iterator<Item = DoorcodeGrant> + '_ {
        self.slots.iter().map(|(slot, (not_before, not_after))| DoorcodeGrant {
            slot: *slot,
            not_before: *not_before,
            not_after: *not_after,
        })
    }

    /// The slot whose code for `now`'s day is `entered`, if its window holds `now`. Every
    /// slot is derived and compared, whatever matched earlier.
    pub fn find(
        &self,
        secret: &DoorcodeSecret,
        door: DoorId,
        entered: &Doorcode,
        now: UnixSeconds,
    ) -> Option<DoorcodeSlot> {
        let day = day_of(now);
        let mut found = None;
        for (slot, (not_before, not_after)) in &self.slots {
            let code = derive_on_lock(secret, door, *slot, day);
            let in_window = *not_before <= now && now <= *not_after;
            if code.matches(entered) && in_window && found.is_none() {
                found = Some(*slot);
            }
        }
        found
    }
}

/// The guess counter, persisted so a power cut does not reset it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeypadGuard {
    /// Wrong codes since the last right code or lock-out.
    pub wrong_in_row: u32,
    /// Lock-outs since the last right code (each doubles the next).
    pub lockouts: u32,
    /// Entries are ignored until this time (effective clock; 0: not locked).
    pub locked_until: UnixSeconds,
}

impl KeypadGuard {
    /// Whether entries are ignored at `now`.
    pub fn is_locked(&self, now: UnixSeconds) -> bool {
        now < self.locked_until
    }

    /// Wrong codes left before a lock-out.
    pub fn attempts_left(&self) -> u32 {
        WRONG_CODES_BEFORE_LOCKOUT.saturating_sub(self.wrong_in_row)
    }

    /// Counts a wrong code at `now`; returns the lock-out it starts, in seconds, if any.
    pub fn wrong(&mut self, now: UnixSeconds) -> Option<u32> {
        self.wrong_in_row = self.wrong_in_row.saturating_add(1);
        if self.wrong_in_row < WRONG_CODES_BEFORE_LOCKOUT {
            return None;
        }
        let seconds = FIRST_LOCKOUT_SECS.saturating_mul(1u32 << self.lockouts.min(16)).min(MAX_LOCKOUT_SECS);
        self.lockouts = self.lockouts.saturating_add(1);
        self.wrong_in_row = 0;
        self.locked_until = now.saturating_add(seconds);
        Some(seconds)
    }

    /// A right code: every count starts again.
    pub fn right(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_double_up_to_an_hour() {
        let mut guard = KeypadGuard::default();
        let mut lengths = Vec::new();
        for round in 0..10u32 {
            for _ in 1..WRONG_CODES_BEFORE_LOCKOUT {
                assert_eq!(guard.wrong(round * 10_000), None);
            }
            lengths.push(guard.wrong(round * 10_000).unwrap_or(0));
        }
        assert_eq!(lengths, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        guard.right();
        assert_eq!(guard, KeypadGuard::default());
    }
}
