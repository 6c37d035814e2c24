//! The lock's clock against a lying RTC: implausible jumps are quarantined, and a floor
//! that ran ahead is brought back by a signed, door-specific clock reset.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_protocol::Refusal;

const YEAR: u32 = 365 * DAY;

#[test]
fn rtc_jump_a_year_ahead_while_running_is_quarantined_and_keys_keep_working() {
    let site = Site::new();
    let phone = Phone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1);
    door.rtc.jump(T0 + YEAR);
    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
    assert!(door.lock.now() < T0 + DAY);
}

#[test]
fn rtc_jump_a_quarantined_reading_never_reaches_the_floor() {
    let site = Site::new();
    let phone = Phone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1);
    door.rtc.jump(T0 + YEAR);
    door.lock.tick().unwrap();
    door.lock.flush().unwrap();
    assert!(door.lock.clock_floor() < T0 + DAY);
    // The RTC is corrected and the lock restarts: nothing of the jump remains.
    door.rtc.jump(T0 + 10);
    let mut door = door.restart();
    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
    assert_eq!(refused_unlock(&phone, &mut door.lock, &site.credential(&phone, 2, &[DOOR], T0 + DAY, T0 + 2 * DAY)), Refusal::NotYetValid);
}

fn refused_unlock(phone: &Phone, lock: &mut keyway_lock::Lock, key: &keyway_protocol::credential::Credential) -> Refusal {
    phone.unlock(lock, key).outcome.unwrap_err()
}
