//! The audit log: bounded, numbered without reuse, and paged into receipts.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::audit::{AUDIT_CAPACITY, AuditLog};
use keyway_protocol::receipt::{AuditKind, MAX_RECEIPT_EVENTS};

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
    let phone = Phone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1);
    let mut ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    for _ in 0..MAX_RECEIPT_EVENTS + 20 {
        let reply = phone.fast_unlock(&mut door.lock, &ticket);
        ticket = reply.ticket.unwrap();
    }
    let courier = Phone::new();
    let courier_key = site.member_key(&courier, 2);

    let first = courier.sync(&mut door.lock, &courier_key, None).receipt;
    assert_eq!(first.body.events.len(), MAX_RECEIPT_EVENTS);
    assert!(first.body.more_pending);

    let mut spec = BundleSpec::new(1, 0);
    spec.acknowledged = first.body.events.last().unwrap().seq;
    let second = courier.sync(&mut door.lock, &courier_key, Some(&site.bundle(spec))).receipt;
    assert!(!second.body.more_pending);
    assert!(second.body.events.first().unwrap().seq > first.body.events.last().unwrap().seq);
    assert!(second.body.events.iter().any(|e| e.kind == AuditKind::BundleApplied { version: 1 }));
}

#[test]
fn bundle_acknowledging_past_the_last_event_loses_no_later_event_and_the_lock_restarts() {
    let site = Site::new();
    let phone = Phone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1);
    phone.unlock(&mut door.lock, &key);
    // The backend acknowledges far beyond the lock's highest sequence number (1).
    let mut spec = BundleSpec::new(1, 0);
    spec.acknowledged = 1000;
    let seqs = |r: &keyway_protocol::phone::SyncReply| r.receipt.body.events.iter().map(|e| e.seq).collect::<Vec<_>>();
    let first = phone.sync(&mut door.lock, &key, Some(&site.bundle(spec)));
    assert_eq!(seqs(&first), [2], "event 1 acknowledged; numbering goes on at 2");
    phone.unlock(&mut door.lock, &key);

    let mut door = door.restart();
    let again = phone.sync(&mut door.lock, &key, None);
    assert_eq!(seqs(&again), [2, 3], "events after the acknowledgement survive a restart");
    let mut spec = BundleSpec::new(2, 1);
    spec.acknowledged = 1000;
    let after = phone.sync(&mut door.lock, &key, Some(&site.bundle(spec)));
    assert_eq!(seqs(&after), [4], "a repeated acknowledgement drops only what the backend has");
}
