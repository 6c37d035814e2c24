//! A credential opens the door only when it names this door, is inside its window by
//! the lock's clock, and neither it nor the key it was shared from is revoked.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::Lock;
use keyway_protocol::Refusal;
use keyway_protocol::credential::Credential;
use keyway_protocol::receipt::AuditKind;

fn refused(phone: &TestPhone, lock: &mut Lock, key: &Credential) -> Refusal {
    let before = lock.actuations();
    let reply = phone.unlock(lock, key);
    assert_eq!(lock.actuations(), before, "a refused unlock never actuates");
    reply.outcome.unwrap_err()
}

#[test]
fn member_key_opens_its_door_and_the_grant_is_audited() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let reply = phone.unlock(&mut door.lock, &key);
    assert_eq!(reply.outcome, Ok(()));
    assert_eq!(reply.open_ms, keyway_lock::ACTUATION_MS);
    assert_eq!(door.lock.actuations(), 1);
    let events = door.lock.audit_events();
    assert_eq!(events.last().unwrap().kind, AuditKind::Granted { fast: false });
    assert_eq!(events.last().unwrap().credential, Some(key.body.id));
}

#[test]
fn fast_unlock_opens_with_the_ticket_and_hands_out_the_next() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    let reply = phone.fast_unlock(&mut door.lock, &ticket);
    assert_eq!(reply.outcome, Ok(()));
    let next = reply.ticket.unwrap();
    assert_ne!(next.id, ticket.id);
    assert_eq!(door.lock.ticket_count(), 1);
    assert_eq!(phone.fast_unlock(&mut door.lock, &next).outcome, Ok(()));
    assert_eq!(door.lock.actuations(), 3);
}

#[test]
fn key_for_another_door_is_refused_as_wrong_door() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.key(&phone, KeySpec::member(1, &[OTHER_DOOR]).valid(T0 - 60, T0 + DAY));
    assert_eq!(refused(&phone, &mut door.lock, &key), Refusal::WrongDoor);
}

#[test]
fn request_addressed_to_another_door_is_refused_as_wrong_door() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let mut other = TestLock::for_door(&site, OTHER_DOOR);
    let key = site.key(&phone, KeySpec::member(1, &[DOOR, OTHER_DOOR]).valid(T0 - 60, T0 + DAY));
    // A request built for the other lock, relayed to this one.
    let (_, request) = phone.standard_request(&other.target(), &key, keyway_protocol::Command::Unlock);
    assert_eq!(refusal(&door.lock.deliver(&request)), Some(Refusal::WrongDoor));
    assert_eq!(door.lock.actuations(), 0);
}

#[test]
fn key_before_its_start_is_refused_as_not_yet_valid() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.key(&phone, KeySpec::member(1, &[DOOR]).valid(T0 + 60, T0 + DAY));
    assert_eq!(refused(&phone, &mut door.lock, &key), Refusal::NotYetValid);
    door.rtc.set(T0 + 60);
    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
}

#[test]
fn key_after_its_end_is_refused_as_expired() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.key(&phone, KeySpec::member(1, &[DOOR]).valid(T0 - DAY, T0 + 60));
    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
    door.rtc.set(T0 + 61);
    assert_eq!(refused(&phone, &mut door.lock, &key), Refusal::Expired);
}

#[test]
fn key_expired_by_a_bundles_signed_time_is_refused_although_the_rtc_is_behind() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.key(&phone, KeySpec::member(1, &[DOOR]).valid(T0 - DAY, T0 + 60));
    let courier = site.member_key(&phone, 2, &[DOOR]);
    let mut spec = BundleSpec::new(DOOR, 1, 0);
    spec.signed_time = T0 + 3600;
    phone.sync(&mut door.lock, &courier, Some(&site.bundle(spec)));
    assert_eq!(door.rtc_reading(), T0);
    assert_eq!(refused(&phone, &mut door.lock, &key), Refusal::Expired);
}

#[test]
fn clock_set_back_by_a_minute_a_day_or_a_year_still_refuses_expired_keys() {
    let site = Site::new();
    let phone = TestPhone::new();
    let key = site.key(&phone, KeySpec::member(1, &[DOOR]).valid(T0 - 400 * DAY, T0 + 60));
    for back in [60, DAY, 365 * DAY] {
        let mut door = TestLock::new(&site);
        door.rtc.set(T0 + 120);
        assert_eq!(refused(&phone, &mut door.lock, &key), Refusal::Expired);

        door.rtc.set(T0 + 120 - back);
        assert_eq!(refused(&phone, &mut door.lock, &key), Refusal::Expired, "set back by {back} s");
        assert!(door.lock.now() >= T0 + 120);

        // And after a restart with the RTC still wrong: the floor was saved.
        let mut door = door.restart();
        assert_eq!(refused(&phone, &mut door.lock, &key), Refusal::Expired, "restart, set back by {back} s");
    }
}

#[test]
fn revoked_key_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    let courier = TestPhone::new();
    let courier_key = site.member_key(&courier, 2, &[DOOR]);
    let bundle = site.bundle(BundleSpec::new(DOOR, 1, 0).revoking(&key));
    let reply = courier.sync(&mut door.lock, &courier_key, Some(&bundle));
    assert_eq!(reply.applied, Ok(()));

    assert_eq!(refused(&phone, &mut door.lock, &key), Refusal::Revoked);
    assert_eq!(phone.fast_unlock(&mut door.lock, &ticket).outcome, Err(Refusal::Revoked));
    assert_eq!(door.lock.actuations(), 1);
}

#[test]
fn guest_key_is_refused_once_the_member_who_shared_it_is_revoked() {
    let site = Site::new();
    let member = TestPhone::new();
    let guest = TestPhone::new();
    let mut door = TestLock::new(&site);
    let member_key = site.member_key(&member, 1, &[DOOR]);
    let guest_key = site.key(&guest, KeySpec::guest(2, &member_key, &[DOOR]).valid(T0 - 60, T0 + DAY));
    let ticket = guest.unlock(&mut door.lock, &guest_key).ticket.unwrap();
    assert_eq!(door.lock.actuations(), 1);

    let courier = TestPhone::new();
    let courier_key = site.member_key(&courier, 3, &[DOOR]);
    courier.sync(&mut door.lock, &courier_key, Some(&site.bundle(BundleSpec::new(DOOR, 1, 0).revoking(&member_key))));

    assert_eq!(refused(&guest, &mut door.lock, &guest_key), Refusal::ParentRevoked);
    assert_eq!(guest.fast_unlock(&mut door.lock, &ticket).outcome, Err(Refusal::ParentRevoked));
    assert_eq!(door.lock.actuations(), 1);
}

#[test]
fn key_from_an_untrusted_issuer_is_refused() {
    let site = Site::new();
    let rogue = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = rogue.member_key(&phone, 1, &[DOOR]);
    assert_eq!(refused(&phone, &mut door.lock, &key), Refusal::UnknownIssuer);
}

#[test]
fn copied_key_without_the_device_key_is_refused() {
    let site = Site::new();
    let owner = TestPhone::new();
    let thief = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&owner, 1, &[DOOR]);
    assert_eq!(refused(&thief, &mut door.lock, &key), Refusal::BadDeviceSignature);
}

#[test]
fn every_refusal_is_audited_with_its_reason() {
    let site = Site::new();
    let rogue = Site::new();
    let phone = TestPhone::new();
    let thief = TestPhone::new();
    let mut door = TestLock::new(&site);
    let member = site.member_key(&phone, 1, &[DOOR]);
    let revoked = site.member_key(&phone, 2, &[DOOR]);
    let courier = TestPhone::new();
    let courier_key = site.member_key(&courier, 3, &[DOOR]);
    let bundle = site.bundle(BundleSpec::new(DOOR, 1, 0).revoking(&revoked).revoking(&member));
    let guest_key = site.key(&phone, KeySpec::guest(4, &member, &[DOOR]).valid(T0 - 60, T0 + DAY));
    assert_eq!(courier.sync(&mut door.lock, &courier_key, Some(&bundle)).applied, Ok(()));

    // Each way a credential can be refused, one after another at one door.
    let cases: [(&TestPhone, Credential, Refusal); 7] = [
        (&phone, site.key(&phone, KeySpec::member(5, &[OTHER_DOOR]).valid(T0 - 60, T0 + DAY)), Refusal::WrongDoor),
        (&phone, site.key(&phone, KeySpec::member(6, &[DOOR]).valid(T0 + 60, T0 + DAY)), Refusal::NotYetValid),
        (&phone, site.key(&phone, KeySpec::member(7, &[DOOR]).valid(T0 - DAY, T0 - 60)), Refusal::Expired),
        (&phone, rogue.member_key(&phone, 8, &[DOOR]), Refusal::UnknownIssuer),
        (&thief, site.member_key(&phone, 9, &[DOOR]), Refusal::BadDeviceSignature),
        (&phone, revoked.clone(), Refusal::Revoked),
        (&phone, guest_key, Refusal::ParentRevoked),
    ];
    for (who, key, reason) in &cases {
        let before = door.lock.audit_events().len();
        assert_eq!(refused(who, &mut door.lock, key), *reason);
        let events = door.lock.audit_events();
        assert_eq!(events.len(), before + 1, "{reason:?}: exactly one event per refusal");
        let last = events.last().copied().unwrap();
        assert_eq!(last.kind, AuditKind::Refused(*reason), "{reason:?} is audited as itself");
        // An id the lock could not authenticate is never written down: anyone could claim it.
        let authenticated = !matches!(reason, Refusal::UnknownIssuer | Refusal::BadDeviceSignature);
        let named = authenticated.then_some(key.body.id);
        assert_eq!(last.credential, named, "{reason:?}: the credential named only when authenticated");
    }
}
