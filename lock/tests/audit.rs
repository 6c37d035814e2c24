//! The audit log: bounded, numbered without reuse, and paged into receipts.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::audit::{AUDIT_CAPACITY, AuditLog, REFUSAL_WINDOW_SECS, REFUSALS_PER_WINDOW};
use keyway_protocol::ids::CredentialId;
use keyway_protocol::receipt::{AuditKind, MAX_RECEIPT_EVENTS};
use keyway_protocol::{Command, Refusal};

#[test]
fn full_audit_log_drops_the_oldest_and_the_gap_shows_in_the_numbers() {
    let mut log = AuditLog::new();
    for i in 0..AUDIT_CAPACITY as u32 + 3 {
        log.append(i, AuditKind::Granted { fast: false }, None);
    }
    assert_eq!(log.len(), AUDIT_CAPACITY);
    assert_eq!(log.events().next().unwrap().seq, 4, "events 1 to 3 were dropped");
    assert_eq!(log.next_seq(), AUDIT_CAPACITY as u64 + 4);
}

#[test]
fn receipts_page_through_a_long_log_as_bundles_acknowledge_it() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let mut ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    for _ in 0..MAX_RECEIPT_EVENTS + 20 {
        let reply = phone.fast_unlock(&mut door.lock, &ticket);
        ticket = reply.ticket.unwrap();
    }
    let courier = TestPhone::new();
    let courier_key = site.member_key(&courier, 2, &[DOOR]);

    let first = courier.sync(&mut door.lock, &courier_key, None).receipt;
    assert_eq!(first.body.events.len(), MAX_RECEIPT_EVENTS);
    assert!(first.body.more_pending);

    let mut spec = BundleSpec::new(DOOR, 1, 0);
    spec.acknowledged = first.body.events.last().unwrap().seq;
    let second = courier.sync(&mut door.lock, &courier_key, Some(&site.bundle(spec))).receipt;
    assert!(!second.body.more_pending);
    assert!(second.body.events.first().unwrap().seq > first.body.events.last().unwrap().seq);
    assert!(second.body.events.iter().any(|e| e.kind == AuditKind::BundleApplied { version: 1 }));
}

#[test]
fn audit_flood_refusals_never_push_an_unsynced_grant_out_of_a_full_log() {
    let mut log = AuditLog::new();
    let opening = log.append(T0, AuditKind::Granted { fast: false }, Some(CredentialId([7; 16]))).unwrap();
    for i in 0..AUDIT_CAPACITY as u32 + 100 {
        log.append(T0 + i / 100, AuditKind::Refused(Refusal::UnknownIssuer), None);
    }
    assert!(log.len() <= AUDIT_CAPACITY);
    let first = log.events().next().unwrap();
    assert_eq!(first.seq, opening, "the opening is still in the log");
    assert_eq!(first.kind, AuditKind::Granted { fast: false });
}

#[test]
fn audit_flood_a_stream_of_encrypted_refusals_is_coalesced_and_the_opening_survives() {
    let site = Site::new();
    let stranger_site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
    // Anyone with the lock's public key can make it answer an encrypted refusal.
    let stranger = TestPhone::new();
    let foreign = stranger_site.member_key(&stranger, 9, &[DOOR]);
    let junk = 300;
    for _ in 0..junk {
        let (_, request) = stranger.standard_request(&door.target(), &foreign, Command::Unlock);
        assert_eq!(refusal(&door.lock.deliver(&request)), Some(Refusal::UnknownIssuer));
    }
    let events = door.lock.audit_events();
    assert!(events.iter().any(|e| e.kind == AuditKind::Granted { fast: false }), "the opening is kept");
    let single = events.iter().filter(|e| matches!(e.kind, AuditKind::Refused(_))).count();
    assert_eq!(single, REFUSALS_PER_WINDOW as usize, "the budget's worth recorded one by one");
    assert_eq!(door.lock.counted_refusals(), vec![(Refusal::UnknownIssuer, junk - REFUSALS_PER_WINDOW)]);

    // The next receipt carries the rest as one coalesced event, so the backend sees them all.
    let courier = TestPhone::new();
    let receipt = courier.sync(&mut door.lock, &site.member_key(&courier, 2, &[DOOR]), None).receipt;
    let coalesced: u32 = receipt
        .body
        .events
        .iter()
        .map(|e| match e.kind {
            AuditKind::RefusalsCoalesced { reason: Refusal::UnknownIssuer, count } => count,
            _ => 0,
        })
        .sum();
    assert_eq!(coalesced, junk - REFUSALS_PER_WINDOW);
    assert!(receipt.body.events.iter().any(|e| e.kind == AuditKind::Granted { fast: false }));
    assert!(door.lock.counted_refusals().is_empty());
}

#[test]
fn audit_flood_a_new_window_gets_a_new_budget() {
    let mut log = AuditLog::new();
    for _ in 0..100 {
        log.append(T0, AuditKind::Refused(Refusal::BadDeviceSignature), None);
    }
    assert_eq!(log.len(), REFUSALS_PER_WINDOW as usize);
    log.append(T0 + REFUSAL_WINDOW_SECS, AuditKind::Refused(Refusal::BadDeviceSignature), None);
    let kinds: Vec<AuditKind> = log.events().map(|e| e.kind).collect();
    assert_eq!(
        kinds[REFUSALS_PER_WINDOW as usize],
        AuditKind::RefusalsCoalesced { reason: Refusal::BadDeviceSignature, count: 100 - REFUSALS_PER_WINDOW }
    );
    assert_eq!(kinds.last(), Some(&AuditKind::Refused(Refusal::BadDeviceSignature)));
}

#[test]
fn audit_flood_a_grant_takes_the_place_of_the_oldest_refusal_in_a_full_log() {
    let mut log = AuditLog::new();
    for i in 0..AUDIT_CAPACITY as u32 {
        // Within budget: one window per 16 refusals.
        log.append(T0 + (i / REFUSALS_PER_WINDOW) * REFUSAL_WINDOW_SECS, AuditKind::Refused(Refusal::Expired), None);
    }
    assert_eq!(log.len(), AUDIT_CAPACITY);
    let seq = log.append(T0 + 400 * DAY, AuditKind::Granted { fast: true }, None).unwrap();
    assert_eq!(log.len(), AUDIT_CAPACITY);
    assert_eq!(log.events().last().unwrap().seq, seq);
    assert!(log.events().next().unwrap().seq > 1, "the oldest refusal made room");
}

#[test]
fn audit_before_actuation_a_failed_save_keeps_the_door_shut() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let seq = door.lock.next_audit_seq();
    door.storage.fail_next_saves(10);
    let reply = phone.unlock(&mut door.lock, &key);
    assert_eq!(reply.outcome, Err(Refusal::StorageFailed));
    assert_eq!(reply.ticket, None);
    assert_eq!(door.lock.actuations(), 0, "the latch did not move");
    // The lock loses power: nothing says the door opened, and nothing did.
    let mut door = door.restart();
    assert!(door.lock.audit_events().iter().all(|e| !matches!(e.kind, AuditKind::Granted { .. })));
    assert_eq!(door.lock.next_audit_seq(), seq);
    // Storage works again: the next attempt opens, and its record is on disk first.
    door.storage.fail_next_saves(0);
    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
    let door = door.restart();
    assert!(door.lock.audit_events().iter().any(|e| e.kind == AuditKind::Granted { fast: false }));
}

#[test]
fn audit_before_actuation_a_fast_unlock_whose_record_cannot_be_saved_does_not_open() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    let opened = door.lock.actuations();
    // The ticket's removal reaches the disk; every save after it fails.
    door.storage.fail_saves_after(1, 10);
    let reply = phone.fast_unlock(&mut door.lock, &ticket);
    assert_eq!(reply.outcome, Err(Refusal::StorageFailed));
    assert_eq!(door.lock.actuations(), opened);
}

#[test]
fn bundle_acknowledging_past_the_last_event_loses_no_later_event_and_the_lock_restarts() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    phone.unlock(&mut door.lock, &key);
    // The backend acknowledges far beyond the lock's highest sequence number (1).
    let mut spec = BundleSpec::new(DOOR, 1, 0);
    spec.acknowledged = 1000;
    let seqs = |r: &keyway_protocol::phone::SyncReply| r.receipt.body.events.iter().map(|e| e.seq).collect::<Vec<_>>();
    let first = phone.sync(&mut door.lock, &key, Some(&site.bundle(spec)));
    assert_eq!(seqs(&first), [2], "event 1 acknowledged; numbering goes on at 2");
    phone.unlock(&mut door.lock, &key);

    let mut door = door.restart();
    let again = phone.sync(&mut door.lock, &key, None);
    assert_eq!(seqs(&again), [2, 3], "events after the acknowledgement survive a restart");
    let mut spec = BundleSpec::new(DOOR, 2, 1);
    spec.acknowledged = 1000;
    let after = phone.sync(&mut door.lock, &key, Some(&site.bundle(spec)));
    assert_eq!(seqs(&after), [4], "a repeated acknowledgement drops only what the backend has");
}
