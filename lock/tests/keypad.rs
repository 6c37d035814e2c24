//! The keypad at the reference lock: today's doorcode of a slot the latest bundle allows
//! opens the door offline, wrong codes lock the keypad out for growing times, a slot
//! missing from the next bundle stops opening, and all of it survives a restart.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::keypad::{FIRST_LOCKOUT_SECS, KeypadOutcome, WRONG_CODES_BEFORE_LOCKOUT};
use keyway_protocol::bundle::DoorcodeGrant;
use keyway_protocol::doorcode::{Doorcode, DoorcodeSlot, KeypadError, day_of, derive};
use keyway_protocol::receipt::AuditKind;

fn grant(slot: u32) -> DoorcodeGrant {
    DoorcodeGrant { slot: DoorcodeSlot(slot), not_before: T0 - DAY, not_after: T0 + 30 * DAY }
}

/// Today's code of `slot` as the backend computes it (ring), from the lock's own secret.
fn code_of(door: &TestLock, slot: u32) -> Doorcode {
    let secret = door.lock.doorcode_secret().unwrap();
    derive(secret, DOOR, DoorcodeSlot(slot), day_of(door.lock.now()))
}

fn keys(code: &Doorcode) -> Vec<u8> {
    let mut keys = code.as_bytes().to_vec();
    keys.push(b'#');
    keys
}

/// A code that is none of `slots`' codes today.
fn wrong_code(door: &TestLock, slots: &[u32]) -> Vec<u8> {
    let taken: Vec<String> = slots.iter().map(|s| code_of(door, *s).reveal()).collect();
    (0..100u32).map(|n| format!("{:08}", 13_579_000 + n)).find(|c| !taken.contains(c)).unwrap().into_bytes()
}

/// Syncs `door` with a bundle of `version` allowing `grants`.
fn sync_slots(site: &Site, door: &mut TestLock, version: u32, grants: &[DoorcodeGrant]) {
    let phone = TestPhone::new();
    let key = site.member_key(&phone, 40 + version as u8, &[DOOR]);
    let bundle = site.bundle(BundleSpec::new(DOOR, version, version - 1).with_doorcodes(grants));
    assert_eq!(phone.sync(&mut door.lock, &key, Some(&bundle)).applied, Ok(()));
}

#[test]
fn todays_doorcode_opens_the_offline_door_once_the_slot_is_synced() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let code = code_of(&door, 3);
    // Before any bundle allows slot 3, its code is just a wrong code.
    assert_eq!(door.lock.keypad(&keys(&code)).unwrap(), KeypadOutcome::WrongCode { attempts_left: 4 });

    sync_slots(&site, &mut door, 1, &[grant(3), grant(9)]);
    let before = door.lock.actuations();
    assert_eq!(door.lock.keypad(&keys(&code)).unwrap(), KeypadOutcome::Opened { slot: DoorcodeSlot(3) });
    assert_eq!(door.lock.actuations(), before + 1);
    assert!(door.lock.audit_events().iter().any(|e| e.kind == AuditKind::DoorcodeGranted { slot: 3 }));
    // A right code resets the count of wrong ones.
    assert_eq!(door.lock.keypad_guard().wrong_in_row, 0);
}

#[test]
fn yesterdays_code_and_another_doors_code_are_refused() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    sync_slots(&site, &mut door, 1, &[grant(3)]);
    let secret = door.lock.doorcode_secret().unwrap().clone();
    let today = day_of(door.lock.now());
    let yesterday = derive(&secret, DOOR, DoorcodeSlot(3), today - 1);
    let elsewhere = derive(&secret, OTHER_DOOR, DoorcodeSlot(3), today);
    assert!(matches!(door.lock.keypad(&keys(&yesterday)).unwrap(), KeypadOutcome::WrongCode { .. }));
    assert!(matches!(door.lock.keypad(&keys(&elsewhere)).unwrap(), KeypadOutcome::WrongCode { .. }));
    // The next day, today's code is yesterday's.
    let code = code_of(&door, 3);
    door.rtc.advance(i64::from(DAY));
    assert!(matches!(door.lock.keypad(&keys(&code)).unwrap(), KeypadOutcome::WrongCode { .. }));
    assert!(matches!(door.lock.keypad(&keys(&code_of(&door, 3))).unwrap(), KeypadOutcome::Opened { .. }));
}

#[test]
fn a_code_outside_its_keys_window_is_refused() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let later = DoorcodeGrant { slot: DoorcodeSlot(5), not_before: T0 + 3 * DAY, not_after: T0 + 30 * DAY };
    sync_slots(&site, &mut door, 1, &[later]);
    assert!(matches!(door.lock.keypad(&keys(&code_of(&door, 5))).unwrap(), KeypadOutcome::WrongCode { .. }));
    door.rtc.advance(i64::from(4 * DAY));
    assert!(matches!(door.lock.keypad(&keys(&code_of(&door, 5))).unwrap(), KeypadOutcome::Opened { .. }));
}

#[test]
fn a_revoked_persons_code_stops_working_at_the_next_sync() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    sync_slots(&site, &mut door, 1, &[grant(3), grant(9)]);
    assert!(matches!(door.lock.keypad(&keys(&code_of(&door, 9))).unwrap(), KeypadOutcome::Opened { .. }));

    // Slot 9 was revoked: the next bundle lists only slot 3.
    sync_slots(&site, &mut door, 2, &[grant(3)]);
    assert!(!door.lock.doorcode_slots().contains(DoorcodeSlot(9)));
    assert!(matches!(door.lock.keypad(&keys(&code_of(&door, 9))).unwrap(), KeypadOutcome::WrongCode { .. }));
    assert!(matches!(door.lock.keypad(&keys(&code_of(&door, 3))).unwrap(), KeypadOutcome::Opened { .. }));
}

#[test]
fn a_bundle_without_doorcodes_keeps_the_slots_the_lock_has() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    sync_slots(&site, &mut door, 1, &[grant(3)]);
    let phone = TestPhone::new();
    let key = site.member_key(&phone, 77, &[DOOR]);
    let v1 = site.bundle(BundleSpec::new(DOOR, 2, 1));
    assert_eq!(phone.sync(&mut door.lock, &key, Some(&v1)).applied, Ok(()));
    assert!(matches!(door.lock.keypad(&keys(&code_of(&door, 3))).unwrap(), KeypadOutcome::Opened { .. }));
}

#[test]
fn five_wrong_codes_lock_the_keypad_out_for_growing_times() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    sync_slots(&site, &mut door, 1, &[grant(3)]);
    let wrong = wrong_code(&door, &[3]);
    let right = keys(&code_of(&door, 3));
    for left in (1..WRONG_CODES_BEFORE_LOCKOUT).rev() {
        assert_eq!(door.lock.keypad(&wrong).unwrap(), KeypadOutcome::WrongCode { attempts_left: left });
    }
    let now = door.lock.now();
    assert_eq!(door.lock.keypad(&wrong).unwrap(), KeypadOutcome::LockedOut { until: now + FIRST_LOCKOUT_SECS });
    // While locked out, even the right code is not checked.
    assert_eq!(door.lock.keypad(&right).unwrap(), KeypadOutcome::LockedOut { until: now + FIRST_LOCKOUT_SECS });
    let events = door.lock.audit_events();
    assert!(events.iter().any(|e| e.kind == AuditKind::KeypadLockedOut { seconds: FIRST_LOCKOUT_SECS }));
    assert_eq!(events.iter().filter(|e| matches!(e.kind, AuditKind::DoorcodeWrong { .. })).count(), 5);

    // The second lock-out lasts twice as long.
    door.rtc.advance(i64::from(FIRST_LOCKOUT_SECS));
    for _ in 1..WRONG_CODES_BEFORE_LOCKOUT {
        assert!(matches!(door.lock.keypad(&wrong).unwrap(), KeypadOutcome::WrongCode { .. }));
    }
    let now = door.lock.now();
    assert_eq!(door.lock.keypad(&wrong).unwrap(), KeypadOutcome::LockedOut { until: now + 2 * FIRST_LOCKOUT_SECS });
    door.rtc.advance(i64::from(2 * FIRST_LOCKOUT_SECS));
    assert!(matches!(door.lock.keypad(&right).unwrap(), KeypadOutcome::Opened { .. }));
    assert_eq!(door.lock.keypad_guard().lockouts, 0);
}

#[test]
fn a_restart_does_not_reset_the_guess_count_or_the_slots() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    sync_slots(&site, &mut door, 1, &[grant(3)]);
    let wrong = wrong_code(&door, &[3]);
    for _ in 0..WRONG_CODES_BEFORE_LOCKOUT {
        door.lock.keypad(&wrong).unwrap();
    }
    let code = code_of(&door, 3);
    let mut door = door.restart();
    assert!(matches!(door.lock.keypad(&keys(&code)).unwrap(), KeypadOutcome::LockedOut { .. }));
    door.rtc.advance(i64::from(FIRST_LOCKOUT_SECS));
    assert_eq!(door.lock.keypad(&keys(&code)).unwrap(), KeypadOutcome::Opened { slot: DoorcodeSlot(3) });
}

#[test]
fn keys_that_are_no_doorcode_are_not_counted_as_guesses() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    assert_eq!(door.lock.keypad(b"12#").unwrap(), KeypadOutcome::Malformed(KeypadError::TooShort { digits: 2 }));
    assert_eq!(door.lock.keypad(b"12a").unwrap(), KeypadOutcome::Malformed(KeypadError::UnknownKey(b'a')));
    assert_eq!(door.lock.keypad_guard().wrong_in_row, 0);
}

#[test]
fn a_right_code_whose_record_cannot_be_saved_leaves_the_door_shut() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    sync_slots(&site, &mut door, 1, &[grant(3)]);
    let code = code_of(&door, 3);
    let before = door.lock.actuations();
    door.storage.fail_next_saves(1);
    assert!(door.lock.keypad(&keys(&code)).is_err());
    assert_eq!(door.lock.actuations(), before);
    assert!(!door.lock.audit_events().iter().any(|e| matches!(e.kind, AuditKind::DoorcodeGranted { .. })));
}

#[test]
fn the_keypad_answers_over_keyway_lock_serve() {
    use keyway_lock::serve::{LockServer, ServeOptions};
    use std::io::{BufRead, BufReader, Write};
    let site = Site::new();
    let dir = tempfile::tempdir().unwrap();
    let options = ServeOptions {
        listen: "127.0.0.1:0".into(),
        state_dir: dir.path().join("state"),
        doors: vec![DOOR],
        trust_anchors: vec![site.anchor()],
        real_time: false,
    };
    let server = LockServer::start(&options).unwrap();
    let addr = server.local_addr().unwrap();
    let served = server.locks()[0].clone();
    assert!(served.doorcode_secret.is_some(), "a new lock has a doorcode secret for its door record");
    std::thread::spawn(move || server.run());

    let stream = std::net::TcpStream::connect(addr).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut ask = |line: &str| {
        (&stream).write_all(format!("{line}\n").as_bytes()).unwrap();
        let mut answer = String::new();
        reader.read_line(&mut answer).unwrap();
        answer.trim_end().to_owned()
    };
    let p = &served.peripheral;
    assert_eq!(ask(&format!("keypad {p} 12345678#")), "ok wrong 4");
    assert_eq!(ask(&format!("keypad {p} 12#")), "ok malformed 2 digits entered, a doorcode has 8");
    assert_eq!(ask("keypad 02:4b:57:00:00:99 12345678"), "err unknown_peripheral no lock at this address");
}
