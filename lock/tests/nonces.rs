//! The lock's nonce policy: the current nonce, or the previous unconsumed one, each for
//! at most 30 seconds after it was first advertised, counted on the lock's monotonic
//! ticks; never the same nonce twice.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::nonce::{NONCE_ACCEPT_SECS, NONCE_LIFETIME_SECS, NonceState};
use keyway_protocol::ids::LockNonce;
use keyway_protocol::{Command, Refusal};

#[test]
fn phone_that_heard_the_advertisement_just_before_it_changed_still_gets_in() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let heard = door.target();
    door.lock.rotate_nonce().unwrap(); // someone else's attempt
    door.rtc.advance(i64::from(NONCE_ACCEPT_SECS));
    let (awaiting, request) = phone.standard_request(&heard, &key, Command::Unlock);
    let reply = awaiting.on_response(&door.lock.deliver(&request).reply.unwrap()).unwrap().0;
    assert_eq!(reply.outcome, Ok(()));
}

#[test]
fn previous_nonce_is_refused_once_its_window_has_passed() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let heard = door.target();
    door.lock.rotate_nonce().unwrap();
    door.rtc.advance(i64::from(NONCE_ACCEPT_SECS) + 1);
    let (_, request) = phone.standard_request(&heard, &key, Command::Unlock);
    assert_eq!(refusal(&door.lock.deliver(&request)), Some(Refusal::StaleNonce));
    assert_eq!(door.lock.actuations(), 0);
}

#[test]
fn nonce_two_rotations_old_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let heard = door.target();
    door.lock.rotate_nonce().unwrap();
    door.lock.rotate_nonce().unwrap();
    let (_, request) = phone.standard_request(&heard, &key, Command::Unlock);
    assert_eq!(refusal(&door.lock.deliver(&request)), Some(Refusal::StaleNonce));
}

#[test]
fn a_nonce_is_accepted_at_most_once_and_every_attempt_rotates_it() {
    let n = |b| LockNonce([b; 8]);
    let mut state = NonceState::new(n(1), 100);
    assert!(state.consume(&n(1), 100, n(2)));
    assert_eq!(state.current(), n(2));
    assert!(!state.consume(&n(1), 100, n(3)), "consumed nonces never come back");
    // n(2) was replaced unconsumed: accepted within the grace period, once.
    assert!(state.consume(&n(2), 100, n(4)));
    assert!(!state.consume(&n(2), 100, n(5)));
    // A refused attempt rotates too.
    assert!(!state.consume(&n(9), 100, n(6)));
    assert_eq!(state.current(), n(6));
}

#[test]
fn advertised_nonce_changes_after_every_attempt() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let mut seen = std::collections::HashSet::new();
    seen.insert(door.lock.advertisement().nonce);
    for _ in 0..20 {
        phone.unlock(&mut door.lock, &key);
        assert!(seen.insert(door.lock.advertisement().nonce), "a nonce was advertised twice");
    }
}

#[test]
fn advertised_nonce_is_replaced_after_its_lifetime() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let first = door.lock.advertisement().nonce;
    door.rtc.advance(i64::from(NONCE_LIFETIME_SECS) - 1);
    door.lock.tick().unwrap();
    assert_eq!(door.lock.advertisement().nonce, first);
    door.rtc.advance(1);
    door.lock.tick().unwrap();
    assert_ne!(door.lock.advertisement().nonce, first);
}

#[test]
fn captured_request_is_useless_once_its_nonce_has_aged_out() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    // A fake lock copied the advertisement and captured a request; nobody else uses the door.
    let (_, captured) = phone.standard_request(&door.target(), &key, Command::Unlock);
    door.rtc.advance(i64::from(NONCE_ACCEPT_SECS) + 1);
    assert_eq!(refusal(&door.lock.deliver(&captured)), Some(Refusal::StaleNonce));
    assert_eq!(door.lock.actuations(), 0);
}

#[test]
fn request_for_a_nonce_that_just_aged_out_of_the_advertisement_is_still_accepted() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let heard = door.target();
    door.rtc.advance(i64::from(NONCE_LIFETIME_SECS) + 5);
    door.lock.tick().unwrap();
    let (_, request) = phone.standard_request(&heard, &key, Command::Unlock);
    assert!(granted(&door.lock.deliver(&request)));
}

#[test]
fn slow_rtc_nonce_captured_request_goes_stale_although_a_bundle_raised_the_floor_above_the_rtc() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    // A courier's bundle raises the floor an hour above the (slow) RTC.
    let mut spec = BundleSpec::new(DOOR, 1, 0);
    spec.signed_time = T0 + 3600;
    let courier = TestPhone::new();
    courier.sync(&mut door.lock, &site.member_key(&courier, 2, &[DOOR]), Some(&site.bundle(spec)));
    // A fake lock copied the advertisement and captured a request; nobody else uses the door.
    let (_, captured) = phone.standard_request(&door.target(), &key, Command::Unlock);
    door.rtc.advance(120);
    assert!(door.rtc_reading() < T0 + 3600, "the RTC is still below the floor");
    assert_eq!(refusal(&door.lock.deliver(&captured)), Some(Refusal::StaleNonce));
    assert_eq!(door.lock.actuations(), 0);
}

#[test]
fn slow_rtc_nonce_advertised_nonce_is_replaced_while_the_rtc_stands_still() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let first = door.lock.advertisement().nonce;
    let (_, captured) = phone.standard_request(&door.target(), &key, Command::Unlock);
    door.rtc.elapse_with_rtc_stopped(NONCE_ACCEPT_SECS + 1);
    door.lock.tick().unwrap();
    assert_ne!(door.lock.advertisement().nonce, first);
    assert_eq!(refusal(&door.lock.deliver(&captured)), Some(Refusal::StaleNonce));
}

#[test]
fn nonce_window_captured_request_is_refused_31_seconds_after_its_nonce_was_first_advertised() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let (_, captured) = phone.standard_request(&door.target(), &key, Command::Unlock);
    door.rtc.advance(31);
    door.lock.tick().unwrap();
    assert_eq!(refusal(&door.lock.deliver(&captured)), Some(Refusal::StaleNonce));
    assert_eq!(door.lock.actuations(), 0);
}

#[test]
fn nonce_window_a_nonce_replaced_by_someone_elses_attempt_is_accepted_only_within_30_seconds_of_its_advertisement() {
    let site = Site::new();
    let phone = TestPhone::new();
    let key = site.member_key(&phone, 1, &[DOOR]);
    for (wait, accepted) in [(30, true), (31, false)] {
        let mut door = TestLock::new(&site);
        let heard = door.target();
        door.rtc.advance(10);
        door.lock.rotate_nonce().unwrap(); // someone else's attempt
        door.rtc.advance(wait - 10);
        let (_, request) = phone.standard_request(&heard, &key, Command::Unlock);
        assert_eq!(granted(&door.lock.deliver(&request)), accepted, "after {wait} s");
    }
}
