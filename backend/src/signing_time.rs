//! The time the backend signs into a door's bundle, and when it refuses to sign one
//! (issue 16, `future_bundle`).
//!
//! A bundle's signed time raises the lock's clock floor for good: one signed far ahead (a
//! system clock that jumped a year) expires every key and prunes every revocation at
//! every door that applies it. The lock refuses a time more than
//! [`MAX_BUNDLE_TIME_AHEAD_SECS`] ahead of its own clock; the backend keeps its side:
//!
//! 1. **Jumps are judged against a steady clock.** The signer remembers a wall-clock
//!    reading and the steady clock beside it ([`crate::clock::Clock::steady`]). A wall
//!    clock that has moved more than [`JUMP_TOLERANCE_SECS`] away from what the steady
//!    clock says has passed since — forward or back — has jumped without explanation:
//!    nothing is signed ([`Error::SigningClockUnsure`], logged) until the new reading has
//!    agreed with the steady clock for [`QUARANTINE_SECS`]. A jump that lasted less (a
//!    glitch) is over by then; a correction that stays (NTP fixing a clock that was
//!    wrong) is believed after it. Smaller moves (drift, slewing, a minute's glitch) pass.
//! 2. **Never behind the door's last signed time.** A wall clock behind the door's last
//!    signed time by at most [`HOLD_SECS`] signs that time again (a clock that stepped
//!    back after a forward glitch of a minute goes on serving the door); further behind, it
//!    is refused, unless the current clock has been vouched for by the steady clock for
//!    [`QUARANTINE_SECS`] (then the stored time was the glitch, and the clock is right).
//! 3. **Never beyond its own clock by more than [`MAX_BUNDLE_TIME_AHEAD_SECS`]**: the time
//!    signed is the wall clock, or a door's time held under rule 2 (at most [`HOLD_SECS`]
//!    ahead of it).
//!
//! A backend that starts with a wrong clock has no steady reading to judge it by: the
//! first reading after a start is taken as it is (rule 2 and the lock's own bound still
//! hold). The steady clock does not run while a machine is suspended; a server that wakes
//! up sees one more quarantine.

use std::sync::Mutex;

use rusqlite::{OptionalExtension as _, Transaction, params};

use crate::error::{Error, Result};
pub use keyway_protocol::bundle::MAX_BUNDLE_TIME_AHEAD_SECS;

/// How far the wall clock may move from what the steady clock says before it counts as a
/// jump (5 minutes: NTP steps and slews are smaller).
pub const JUMP_TOLERANCE_SECS: i64 = 5 * 60;
/// How long a jumped wall clock must agree with the steady clock before it is believed.
pub const QUARANTINE_SECS: i64 = 3600;
/// How far behind a door's last signed time the wall clock may be and still sign (that
/// time) instead of being refused.
pub const HOLD_SECS: i64 = 10 * 60;

// The held time stays within the lock's bound of the backend's own clock.
const _: () = assert!(HOLD_SECS < MAX_BUNDLE_TIME_AHEAD_SECS as i64);

#[derive(Debug, Clone, Copy)]
struct Reading {
    wall: i64,
    steady: i64,
}

impl Reading {
    /// The wall time this reading predicts at steady time `steady`.
    fn expected_at(&self, steady: i64) -> i64 {
        self.wall.saturating_add(steady.saturating_sub(self.steady))
    }
}

#[derive(Debug, Default)]
struct Judge {
    /// The last reading believed.
    anchor: Option<Reading>,
    /// Steady time since when the believed clock has agreed with the steady clock.
    trusted_since: i64,
    /// A jumped reading waiting out its quarantine.
    candidate: Option<Reading>,
}

/// What the signer makes of the wall clock now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Believed; the steady clock has agreed with it for this many seconds.
    Believed { vouched_for: i64 },
    /// It jumped by `by` seconds; believed from wall time `retry_at` if it stays.
    Jumped { by: i64, retry_at: i64 },
}

/// The bundle signer's memory of the clock, one per running service.
#[derive(Debug, Default)]
pub struct SigningClock {
    judge: Mutex<Judge>,
}

impl SigningClock {
    /// Judges the wall reading `wall` taken at steady time `steady`.
    fn judge(&self, wall: i64, steady: i64) -> Verdict {
        let mut j = self.judge.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let here = Reading { wall, steady };
        let Some(anchor) = j.anchor else {
            *j = Judge { anchor: Some(here), trusted_since: steady, candidate: None };
            return Verdict::Believed { vouched_for: 0 };
        };
        let drift = wall.saturating_sub(anchor.expected_at(steady));
        if drift.abs() <= JUMP_TOLERANCE_SECS {
            j.anchor = Some(here);
            j.candidate = None;
            return Verdict::Believed { vouched_for: steady.saturating_sub(j.trusted_since) };
        }
        match j.candidate {
            Some(c) if wall.saturating_sub(c.expected_at(steady)).abs() <= JUMP_TOLERANCE_SECS => {
                let waited = steady.saturating_sub(c.steady);
                if waited >= QUARANTINE_SECS {
                    tracing::warn!(
                        jump_secs = drift,
                        "the service's clock jumped and stayed for an hour: believed now"
                    );
                    *j = Judge { anchor: Some(here), trusted_since: c.steady, candidate: None };
                    Verdict::Believed { vouched_for: waited }
                } else {
                    Verdict::Jumped { by: drift, retry_at: wall.saturating_add(QUARANTINE_SECS - waited) }
                }
            }
            _ => {
                j.candidate = Some(here);
                Verdict::Jumped { by: drift, retry_at: wall.saturating_add(QUARANTINE_SECS) }
            }
        }
    }

    /// The wall clock `now` (steady clock `steady`) if it can be believed (rule 1): the time
    /// a clock reset sets a lock to. A door's last signed time does not hold it back: a
    /// reset exists to bring a lock back from a time that ran ahead.
    pub fn believed_now(&self, now: i64, steady: i64) -> Result<i64> {
        match self.judge(now, steady) {
            Verdict::Believed { .. } => Ok(now),
            Verdict::Jumped { by, retry_at } => {
                tracing::warn!(jump_secs = by, "no clock reset signed: the service's clock jumped");
                Err(Error::SigningClockUnsure { retry_at })
            }
        }
    }

    /// The time to sign into door `door_id`'s next bundle when the wall clock reads `now`
    /// and the steady clock `steady`, recorded as the door's last signed time in `tx` (which
    /// is rolled back if the bundle is not made). Refuses with
    /// [`Error::SigningClockUnsure`] under the rules in the module's documentation.
    pub fn time_for(&self, tx: &Transaction<'_>, door_id: i64, now: i64, steady: i64) -> Result<i64> {
        let vouched_for = match self.judge(now, steady) {
            Verdict::Believed { vouched_for } => vouched_for,
            Verdict::Jumped { by, retry_at } => {
                tracing::warn!(door_id, jump_secs = by, "no bundle signed: the service's clock jumped");
                return Err(Error::SigningClockUnsure { retry_at });
            }
        };
        let last: i64 = tx
            .query_row("SELECT last_signed_time FROM door_signed_times WHERE door_id = ?1", [door_id], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let signed = if now >= last {
            now
        } else if last - now <= HOLD_SECS {
            last
        } else if vouched_for >= QUARANTINE_SECS {
            tracing::warn!(door_id, ahead_secs = last - now, "a door's last signed time was ahead of a trusted clock");
            now
        } else {
            tracing::warn!(
                door_id,
                behind_secs = last - now,
                "no bundle signed: the service's clock is behind the door's"
            );
            return Err(Error::SigningClockUnsure { retry_at: now.saturating_add(QUARANTINE_SECS - vouched_for) });
        };
        debug_assert!(signed <= now + i64::from(MAX_BUNDLE_TIME_AHEAD_SECS));
        tx.execute(
            "INSERT INTO door_signed_times (door_id, last_signed_time) VALUES (?1, ?2)
             ON CONFLICT (door_id) DO UPDATE SET last_signed_time = excluded.last_signed_time",
            params![door_id, signed],
        )?;
        Ok(signed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_800_000_000;

    #[test]
    fn future_bundle_small_drift_is_believed_and_a_jump_waits_out_its_quarantine() {
        let c = SigningClock::default();
        assert_eq!(c.judge(T, 0), Verdict::Believed { vouched_for: 0 });
        assert_eq!(c.judge(T + 100 + 60, 100), Verdict::Believed { vouched_for: 100 }, "a minute's drift");
        // A year ahead, with ten seconds passed: refused, and again an hour less a second later.
        let year = 365 * 86_400;
        assert!(matches!(c.judge(T + year + 170, 110), Verdict::Jumped { .. }));
        assert!(matches!(c.judge(T + year + 170 + 3599, 110 + 3599), Verdict::Jumped { .. }));
        // Still there after an hour: believed (a correction that stayed).
        assert!(matches!(c.judge(T + year + 170 + 3600, 110 + 3600), Verdict::Believed { .. }));
    }

    #[test]
    fn future_bundle_a_jump_that_goes_away_leaves_the_clock_believed() {
        let c = SigningClock::default();
        c.judge(T, 0);
        assert!(matches!(c.judge(T + 86_400 * 400, 10), Verdict::Jumped { .. }));
        assert!(matches!(c.judge(T + 20, 20), Verdict::Believed { .. }));
        // Back again, not consistent with the earlier candidate's timeline: a fresh quarantine.
        assert!(matches!(c.judge(T - 86_400, 30), Verdict::Jumped { retry_at, .. } if retry_at == T - 86_400 + 3600));
    }
}
