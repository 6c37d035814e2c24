//! Door sync at the lock: bundles apply atomically and only forwards, receipts carry the
//! audit events the backend has not acknowledged, and all of it survives a restart.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::{FileStorage, Lock, LockOptions, Provisioning, SeededRandom, WriteFault};
use keyway_protocol::Refusal;
use keyway_protocol::bundle::LockConfig;
use keyway_protocol::issuer::verify_receipt;
use keyway_protocol::receipt::AuditKind;
use std::sync::Arc;

#[test]
fn newer_bundle_is_applied_and_the_signed_receipt_says_so() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let revoked = site.member_key(&TestPhone::new(), 2, &[DOOR]);
    let mut spec = BundleSpec::new(DOOR, 1, 0).revoking(&revoked);
    spec.config = LockConfig { unlock_duration_ms: 3_000, fast_unlock: false };
    let reply = phone.sync(&mut door.lock, &key, Some(&site.bundle(spec)));

    assert_eq!(reply.applied, Ok(()));
    let receipt = verify_receipt(&door.lock.signing_public_key(), &reply.receipt_bytes).unwrap();
    assert_eq!(receipt.body.bundle_version, 1);
    assert_eq!(receipt.body.door, DOOR);
    assert!(receipt.body.events.iter().any(|e| e.kind == AuditKind::BundleApplied { version: 1 }));
    assert_eq!(door.lock.bundle_version(), 1);
    assert!(door.lock.is_revoked(&revoked.body.id));
    assert_eq!(door.lock.config().unlock_duration_ms, 3_000);
    assert_eq!(door.lock.advertisement().bundle_version, 1);
}

#[test]
fn older_bundle_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let old = site.bundle(BundleSpec::new(DOOR, 1, 0).revoking(&site.member_key(&TestPhone::new(), 5, &[DOOR])));
    let new = site.bundle(BundleSpec::new(DOOR, 2, 0));
    assert_eq!(phone.sync(&mut door.lock, &key, Some(&new)).applied, Ok(()));

    let reply = phone.sync(&mut door.lock, &key, Some(&old));
    assert_eq!(reply.applied, Err(Refusal::BundleNotNewer));
    assert_eq!(reply.receipt.body.bundle_version, 2);
    assert_eq!(phone.sync(&mut door.lock, &key, Some(&new)).applied, Err(Refusal::BundleNotNewer));
    assert_eq!(door.lock.bundle_version(), 2);
    assert_eq!(door.lock.revocation_count(), 0);
}

#[test]
fn bundle_whose_delta_starts_after_the_locks_version_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let reply = phone.sync(&mut door.lock, &key, Some(&site.bundle(BundleSpec::new(DOOR, 3, 2))));
    assert_eq!(reply.applied, Err(Refusal::BundleGap));
    assert_eq!(door.lock.bundle_version(), 0);
}

#[test]
fn bundle_for_another_door_or_from_another_issuer_is_refused() {
    let site = Site::new();
    let rogue = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let mut spec = BundleSpec::new(DOOR, 1, 0);
    spec.door = OTHER_DOOR;
    assert_eq!(phone.sync(&mut door.lock, &key, Some(&site.bundle(spec))).applied, Err(Refusal::BundleWrongDoor));
    let forged = rogue.bundle(BundleSpec::new(DOOR, 1, 0));
    assert_eq!(phone.sync(&mut door.lock, &key, Some(&forged)).applied, Err(Refusal::BundleBadSignature));
    assert_eq!(door.lock.bundle_version(), 0);
}

#[test]
fn bundle_that_fails_halfway_leaves_the_lock_unchanged() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let revoked = site.member_key(&TestPhone::new(), 2, &[DOOR]);
    let mut spec = BundleSpec::new(DOOR, 1, 0).revoking(&revoked);
    spec.signed_time = T0 + DAY;
    spec.config.fast_unlock = false;
    let bundle = site.bundle(spec);
    let floor = door.lock.clock_floor();
    let seq = door.lock.next_audit_seq();

    let mut sync = SyncSession::open(&phone, &mut door.lock, &key);
    let seq_after_handshake = door.lock.next_audit_seq();
    door.storage.fail_next_saves(1);
    let reply = sync.send(&mut door.lock, Some(&bundle));

    assert_eq!(reply.applied, Err(Refusal::StorageFailed));
    assert_eq!(reply.receipt.body.bundle_version, 0);
    let unchanged = |lock: &Lock| {
        assert_eq!(lock.bundle_version(), 0);
        assert!(!lock.is_revoked(&revoked.body.id));
        assert!(lock.config().fast_unlock);
        assert!(lock.now() < T0 + DAY, "the clock floor did not move");
    };
    unchanged(&door.lock);
    assert!(seq_after_handshake >= seq);
    assert!(door.lock.clock_floor() >= floor);

    let mut door = door.restart();
    unchanged(&door.lock);

    // Storage works again: the same bundle applies.
    assert_eq!(phone.sync(&mut door.lock, &key, Some(&bundle)).applied, Ok(()));
    assert!(door.lock.is_revoked(&revoked.body.id));
}

fn file_lock(site: &Site, storage: &FileStorage, rtc: &keyway_lock::ManualRtc) -> Lock {
    let options = LockOptions { rtc: Arc::new(rtc.clone()), random: Box::new(SeededRandom::new(3)) };
    let provisioning = Provisioning { door: DOOR, trust_anchors: vec![site.anchor()] };
    Lock::open_or_provision(Box::new(storage.clone()), &provisioning, options).unwrap()
}

#[test]
fn bundle_torn_halfway_on_disk_leaves_the_lock_unchanged_after_restart() {
    let site = Site::new();
    let phone = TestPhone::new();
    let key = site.member_key(&phone, 1, &[DOOR]);
    let revoked = site.member_key(&TestPhone::new(), 2, &[DOOR]);
    let bundle = site.bundle(BundleSpec::new(DOOR, 1, 0).revoking(&revoked));
    let dir = tempfile::tempdir().unwrap();
    let storage = FileStorage::new(dir.path().join("lock.state"));
    let rtc = keyway_lock::ManualRtc::new(T0);

    for fault in [WriteFault::TornWrite { bytes: 100 }, WriteFault::BeforeRename, WriteFault::BeforeWrite] {
        let mut lock = file_lock(&site, &storage, &rtc);
        let before = std::fs::read(storage.path()).unwrap();
        let mut sync = SyncSession::open(&phone, &mut lock, &key);
        let on_disk = std::fs::read(storage.path()).unwrap();
        storage.inject_fault(fault);
        let reply = sync.send(&mut lock, Some(&bundle));
        assert_eq!(reply.applied, Err(Refusal::StorageFailed), "{fault:?}");
        assert_eq!(lock.bundle_version(), 0);
        // The lock loses power right here.
        drop(lock);
        assert_ne!(before, on_disk, "the handshake itself was saved");

        let lock = file_lock(&site, &storage, &rtc);
        assert_eq!(lock.bundle_version(), 0, "{fault:?}");
        assert!(!lock.is_revoked(&revoked.body.id), "{fault:?}");
    }

    // A later save over the leftover temporary file works.
    let mut lock = file_lock(&site, &storage, &rtc);
    assert_eq!(phone.sync(&mut lock, &key, Some(&bundle)).applied, Ok(()));
    drop(lock);
    assert_eq!(file_lock(&site, &storage, &rtc).bundle_version(), 1);
}

#[test]
fn state_survives_restart() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let revoked = site.member_key(&TestPhone::new(), 2, &[DOOR]);
    let ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    let mut spec = BundleSpec::new(DOOR, 4, 0).revoking(&revoked);
    spec.signed_time = T0 + 7200;
    spec.config.unlock_duration_ms = 1234;
    // A courier with its own key: a sync handshake would replace the phone's ticket.
    let courier = TestPhone::new();
    let courier_key = site.member_key(&courier, 3, &[DOOR]);
    courier.sync(&mut door.lock, &courier_key, Some(&site.bundle(spec)));
    let public_key = door.lock.public_key();
    let events = door.lock.audit_events();
    let next_seq = door.lock.next_audit_seq();
    let tickets = door.lock.ticket_count();

    door.rtc.set(T0); // the RTC lost time while the lock was off
    let mut door = door.restart();

    assert_eq!(door.lock.public_key(), public_key);
    assert_eq!(door.lock.bundle_version(), 4);
    assert!(door.lock.is_revoked(&revoked.body.id));
    assert_eq!(door.lock.config().unlock_duration_ms, 1234);
    assert!(door.lock.now() >= T0 + 7200, "the clock floor survived");
    assert_eq!(door.lock.audit_events(), events);
    assert_eq!(door.lock.next_audit_seq(), next_seq);
    assert_eq!(door.lock.ticket_count(), tickets);

    // The ticket from before the restart still opens the door; the event it leaves
    // continues the sequence, none is reused.
    let reply = phone.fast_unlock(&mut door.lock, &ticket);
    assert_eq!(reply.outcome, Ok(()));
    let after = door.lock.audit_events();
    assert_eq!(after.last().unwrap().seq, next_seq);
    assert_eq!(after.last().unwrap().kind, AuditKind::Granted { fast: true });
}

#[test]
fn audit_events_acknowledged_by_a_bundle_are_dropped_and_the_rest_kept_across_receipts() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    for _ in 0..3 {
        phone.unlock(&mut door.lock, &key);
    }
    let first = phone.sync(&mut door.lock, &key, None);
    let seqs: Vec<u64> = first.receipt.body.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs.len(), 3);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));

    // The receipt never reached the backend: the next one carries the same events again.
    let second = phone.sync(&mut door.lock, &key, None);
    assert_eq!(&second.receipt.body.events[..3], &first.receipt.body.events[..]);

    // The backend acknowledges the first two.
    let mut spec = BundleSpec::new(DOOR, 1, 0);
    spec.acknowledged = seqs[1];
    let third = phone.sync(&mut door.lock, &key, Some(&site.bundle(spec)));
    assert_eq!(third.applied, Ok(()));
    let remaining: Vec<u64> = door.lock.audit_events().iter().map(|e| e.seq).collect();
    assert_eq!(remaining[0], seqs[2]);
    assert!(third.receipt.body.events.iter().all(|e| e.seq > seqs[1]));
    assert!(third.receipt.body.events.iter().any(|e| e.kind == AuditKind::BundleApplied { version: 1 }));

    // And that survives a restart.
    let door = door.restart();
    assert_eq!(door.lock.audit_events().first().unwrap().seq, seqs[2]);
}

#[test]
fn revocations_are_forgotten_once_their_credential_has_expired() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let short = site.key(&phone, KeySpec::member(2, &[DOOR]).valid(T0 - 60, T0 + 600));
    let long = site.key(&TestPhone::new(), KeySpec::member(3, &[DOOR]).valid(T0 - 60, T0 + 2 * DAY));
    phone.sync(&mut door.lock, &key, Some(&site.bundle(BundleSpec::new(DOOR, 1, 0).revoking(&short).revoking(&long))));
    assert_eq!(door.lock.revocation_count(), 2);

    let mut spec = BundleSpec::new(DOOR, 2, 1);
    spec.signed_time = T0 + 601;
    phone.sync(&mut door.lock, &key, Some(&site.bundle(spec)));
    assert_eq!(door.lock.revocation_count(), 1);
    assert!(door.lock.is_revoked(&long.body.id));
    // The forgotten one is expired anyway, by a clock that never goes back.
    door.rtc.set(T0);
    assert_eq!(phone.unlock(&mut door.lock, &short).outcome, Err(Refusal::Expired));
}

#[test]
fn audit_events_that_never_reached_storage_are_not_reported_so_no_number_is_seen_twice() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    phone.unlock(&mut door.lock, &key);
    let durable: Vec<u64> = door.lock.audit_events().iter().map(|e| e.seq).collect();

    // Storage fails: the door still answers, but what it could not save is not reported.
    door.storage.fail_next_saves(u32::MAX);
    phone.unlock(&mut door.lock, &key);
    let receipt = phone.sync(&mut door.lock, &key, None).receipt;
    let reported: Vec<u64> = receipt.body.events.iter().map(|e| e.seq).collect();
    assert_eq!(reported, durable);
    assert!(door.lock.storage_failures() > 0);

    // Power is lost; storage recovers. The unsaved numbers are handed out again, but the
    // backend never saw them.
    door.storage.fail_next_saves(0);
    let mut door = door.restart();
    phone.unlock(&mut door.lock, &key);
    let receipt = phone.sync(&mut door.lock, &key, None).receipt;
    let seqs: Vec<u64> = receipt.body.events.iter().map(|e| e.seq).collect();
    assert_eq!(&seqs[..durable.len()], &durable[..]);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

/// 2100-01-01T00:00:00Z.
const YEAR_2100: u32 = 4_102_444_800;

#[test]
fn future_bundle_signed_for_the_year_2100_is_refused_and_keys_keep_working() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let mut spec = BundleSpec::new(DOOR, 1, 0);
    spec.signed_time = YEAR_2100;
    let reply = phone.sync(&mut door.lock, &key, Some(&site.bundle(spec)));
    assert!(reply.applied.is_err(), "{:?}", reply.applied);
    assert_eq!(door.lock.bundle_version(), 0);
    assert!(door.lock.now() < T0 + DAY);
    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
}

#[test]
fn future_bundle_version_jump_to_u32_max_is_refused_and_later_bundles_still_apply() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let reply = phone.sync(&mut door.lock, &key, Some(&site.bundle(BundleSpec::new(DOOR, u32::MAX, 0))));
    assert!(reply.applied.is_err(), "{:?}", reply.applied);
    assert_eq!(door.lock.bundle_version(), 0);
    let revoked = site.member_key(&TestPhone::new(), 2, &[DOOR]);
    let reply = phone.sync(&mut door.lock, &key, Some(&site.bundle(BundleSpec::new(DOOR, 2, 0).revoking(&revoked))));
    assert_eq!(reply.applied, Ok(()));
    assert!(door.lock.is_revoked(&revoked.body.id));
}
