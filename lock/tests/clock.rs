//! The lock's clock against a lying RTC: implausible jumps are quarantined, and a floor
//! that ran ahead is brought back by a signed, door-specific clock reset.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::nonce::NONCE_ACCEPT_SECS;
use keyway_protocol::Refusal;
use keyway_protocol::clock_reset::{ClockReset, ClockResetBody, ClockResetReply};
use keyway_protocol::ids::{DoorId, KeyId, LockNonce};
use keyway_protocol::issuer;
use keyway_protocol::lock_role::LockEvent;
use keyway_protocol::receipt::AuditKind;

const YEAR: u32 = 365 * DAY;

#[test]
fn rtc_jump_a_year_ahead_while_running_is_quarantined_and_keys_keep_working() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    door.rtc.jump(T0 + YEAR);
    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
    assert!(door.lock.now() < T0 + DAY);
}

#[test]
fn rtc_jump_a_quarantined_reading_never_reaches_the_floor() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    door.rtc.jump(T0 + YEAR);
    door.lock.tick().unwrap();
    door.lock.flush().unwrap();
    assert!(door.lock.clock_floor() < T0 + DAY);
    // The RTC is corrected and the lock restarts: nothing of the jump remains.
    door.rtc.jump(T0 + 10);
    let mut door = door.restart();
    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
    assert_eq!(
        refused_unlock(
            &phone,
            &mut door.lock,
            &site.key(&phone, KeySpec::member(2, &[DOOR]).valid(T0 + DAY, T0 + 2 * DAY))
        ),
        Refusal::NotYetValid
    );
}

fn refused_unlock(
    phone: &TestPhone,
    lock: &mut keyway_lock::Lock,
    key: &keyway_protocol::credential::Credential,
) -> Refusal {
    phone.unlock(lock, key).outcome.unwrap_err()
}

/// A lock whose floor ran a year ahead: its RTC read a year ahead when it started (a
/// start-up reading cannot be checked against the ticks), and it saved that time.
fn lock_whose_floor_ran_a_year_ahead(site: &Site) -> TestLock {
    let door = TestLock::new(site);
    door.rtc.jump(T0 + YEAR);
    let mut door = door.restart();
    door.lock.flush().unwrap();
    door.rtc.jump(T0); // the RTC is right again; the floor is not
    door.restart()
}

fn reset_for(site: &Site, door: DoorId, nonce: LockNonce, time: u32) -> ClockReset {
    site.issuer.sign_clock_reset(ClockResetBody { door, issuer: KeyId::default(), nonce, time }).unwrap()
}

#[test]
fn rtc_jump_a_floor_that_ran_ahead_is_brought_back_by_a_signed_door_specific_reset() {
    let site = Site::new();
    let phone = TestPhone::new();
    let key = site.member_key(&phone, 1, &[DOOR]);
    let mut door = lock_whose_floor_ran_a_year_ahead(&site);
    assert_eq!(refused_unlock(&phone, &mut door.lock, &key), Refusal::Expired, "every key looks expired");

    let nonce = door.lock.advertisement().nonce;
    let reset = reset_for(&site, DOOR, nonce, T0 + 20);
    let output = door.lock.deliver(&reset.to_message());
    assert_eq!(output.event, Some(LockEvent::ClockReset { previous: door.lock.now().max(T0 + YEAR), time: T0 + 20 }));
    let reply = ClockResetReply::from_bytes(&output.reply.unwrap()).unwrap();
    assert_eq!(reply.status, Ok(()));
    let receipt = issuer::verify_receipt(&door.lock.signing_public_key(), &reply.receipt.to_bytes()).unwrap();
    assert!(receipt.body.lock_clock >= T0 + 20 && receipt.body.lock_clock < T0 + DAY);
    assert!(receipt.body.events.is_empty(), "the reply travels in the clear: no audit events");

    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
    assert!(
        door.lock
            .audit_events()
            .iter()
            .any(|e| matches!(e.kind, AuditKind::ClockReset { previous } if previous >= T0 + YEAR))
    );
    // Durable: a restart keeps the reset.
    let mut door = door.restart();
    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
    assert!(door.lock.clock_floor() < T0 + DAY);
}

#[test]
fn rtc_jump_after_a_reset_back_only_a_full_bundle_is_accepted() {
    let site = Site::new();
    let phone = TestPhone::new();
    let key = site.member_key(&phone, 1, &[DOOR]);
    let mut door = lock_whose_floor_ran_a_year_ahead(&site);
    let nonce = door.lock.advertisement().nonce;
    door.lock.deliver(&reset_for(&site, DOOR, nonce, T0 + 20).to_message());
    assert!(door.lock.needs_full_bundle(), "revocations may have been pruned by the wrong time");
    let revoked = site.member_key(&TestPhone::new(), 2, &[DOOR]);
    let delta = site.bundle(BundleSpec::new(DOOR, 1, 0).revoking(&revoked));
    let mut delta_spec = BundleSpec::new(DOOR, 2, 1);
    delta_spec.signed_time = T0 + 30;
    let after_delta = site.bundle(delta_spec);
    // The full bundle (base 0) is taken; a delta would not be.
    assert_eq!(phone.sync(&mut door.lock, &key, Some(&delta)).applied, Ok(()));
    assert!(!door.lock.needs_full_bundle());
    assert!(door.lock.is_revoked(&revoked.body.id));
    assert_eq!(phone.sync(&mut door.lock, &key, Some(&after_delta)).applied, Ok(()));

    let mut door = lock_whose_floor_ran_a_year_ahead(&site);
    let nonce = door.lock.advertisement().nonce;
    door.lock.deliver(&reset_for(&site, DOOR, nonce, T0 + 20).to_message());
    let mut spec = BundleSpec::new(DOOR, 2, 1);
    spec.signed_time = T0 + 30;
    assert_eq!(phone.sync(&mut door.lock, &key, Some(&site.bundle(spec))).applied, Err(Refusal::BundleGap));
}

#[test]
fn rtc_jump_a_reset_for_another_door_from_another_issuer_or_replayed_is_refused() {
    let site = Site::new();
    let rogue = Site::new();
    let phone = TestPhone::new();
    let key = site.member_key(&phone, 1, &[DOOR]);
    let mut door = lock_whose_floor_ran_a_year_ahead(&site);

    let nonce = door.lock.advertisement().nonce;
    let other_door = reset_for(&site, OTHER_DOOR, nonce, T0 + 20);
    assert_eq!(refusal(&door.lock.deliver(&other_door.to_message())), Some(Refusal::WrongDoor));

    let nonce = door.lock.advertisement().nonce;
    let forged = reset_for(&rogue, DOOR, nonce, T0 + 20);
    assert_eq!(refusal(&door.lock.deliver(&forged.to_message())), Some(Refusal::BundleBadSignature));

    let nonce = door.lock.advertisement().nonce;
    let late = reset_for(&site, DOOR, nonce, T0 + 20);
    door.rtc.advance(i64::from(NONCE_ACCEPT_SECS) + 1);
    assert_eq!(refusal(&door.lock.deliver(&late.to_message())), Some(Refusal::StaleNonce));

    let nonce = door.lock.advertisement().nonce;
    let good = reset_for(&site, DOOR, nonce, T0 + 20);
    assert!(matches!(door.lock.deliver(&good.to_message()).event, Some(LockEvent::ClockReset { .. })));
    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
    // Replayed later (to roll the clock back again): the nonce is spent.
    door.rtc.advance(3 * i64::from(DAY));
    assert_eq!(refusal(&door.lock.deliver(&good.to_message())), Some(Refusal::StaleNonce));
    assert!(door.lock.now() >= T0 + 3 * DAY);
}

#[test]
fn rtc_jump_a_reset_that_cannot_be_saved_changes_nothing() {
    let site = Site::new();
    let mut door = lock_whose_floor_ran_a_year_ahead(&site);
    let floor = door.lock.clock_floor();
    let nonce = door.lock.advertisement().nonce;
    door.storage.fail_next_saves(1);
    let output = door.lock.deliver(&reset_for(&site, DOOR, nonce, T0 + 20).to_message());
    let reply = ClockResetReply::from_bytes(&output.reply.unwrap()).unwrap();
    assert_eq!(reply.status, Err(Refusal::StorageFailed));
    assert!(door.lock.now() >= floor);
    let door = door.restart();
    assert!(door.lock.now() >= floor);
}
