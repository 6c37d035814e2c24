//! Every single-bit flip and every truncation of every handshake message is refused.
//!
//! Lock side: each mutated message goes to a fork of a lock that accepts the original
//! (checked first), so the mutation is the only reason for the refusal; nothing may
//! actuate or change. TestPhone side: each mutated response goes to a rebuilt copy of the
//! phone state that accepts the original.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::Lock;
use keyway_protocol::Command;
use keyway_protocol::lock_role::LockEvent;
use keyway_protocol::phone::FastTicket;

/// Every message that differs from `original` by one bit, then every proper prefix.
fn mutations(original: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let flips = (0..original.len() * 8).map(move |bit| {
        let mut flipped = original.to_vec();
        flipped[bit / 8] ^= 1 << (bit % 8);
        flipped
    });
    let truncations = (0..original.len()).map(move |len| original[..len].to_vec());
    flips.chain(truncations)
}

/// Checks the lock refuses every mutation of `request`, each on a fresh fork of `base`.
fn lock_refuses_every_mutation(base: &Lock, request: &[u8]) {
    let mut sanity = base.fork(Box::new(keyway_lock::MemoryStorage::new())).unwrap();
    assert!(granted(&sanity.deliver(request)), "the original must be accepted");
    let actuations = base.actuations();
    let mut count = 0;
    for mutated in mutations(request) {
        let mut lock = base.fork(Box::new(keyway_lock::MemoryStorage::new())).unwrap();
        let output = lock.deliver(&mutated);
        assert!(!granted(&output), "mutation {count} was granted: {:?}", output.event);
        assert!(refusal(&output).is_some(), "mutation {count} got no refusal: {:?}", output.event);
        assert_eq!(lock.actuations(), actuations, "mutation {count} actuated");
        count += 1;
    }
    assert_eq!(count, request.len() * 9);
}

/// A lock that has issued `phone` a ticket, and the ticket.
fn lock_with_ticket(site: &Site, phone: &TestPhone) -> (TestLock, FastTicket) {
    let mut door = TestLock::new(site);
    let key = site.member_key(phone, 1, &[DOOR]);
    let ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    (door, ticket)
}

#[test]
fn every_bit_flip_and_truncation_of_the_standard_request_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let (_, request) = phone.standard_request(&door.target(), &key, Command::Unlock);
    lock_refuses_every_mutation(&door.lock, &request);
}

#[test]
fn every_bit_flip_and_truncation_of_the_fast_request_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let (mut door, ticket) = lock_with_ticket(&site, &phone);
    let (_, request) = phone.fast_request_seeded(DOOR, door.lock.advertisement().nonce, &ticket, Command::Unlock, 0x21);
    lock_refuses_every_mutation(&door.lock, &request);
}

#[test]
fn every_bit_flip_and_truncation_of_the_standard_response_is_refused_by_the_phone() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let target = door.target();
    let SignedRequest { awaiting, request, signature } =
        phone.standard_request_seeded(&target, &key, Command::Unlock, 0x11);
    let response = door.lock.deliver(&request).reply.unwrap();
    assert_eq!(awaiting.on_response(&response).unwrap().0.outcome, Ok(()));

    for (i, mutated) in mutations(&response).enumerate() {
        let awaiting = phone.rebuild_standard(&target, &key, Command::Unlock, 0x11, &signature);
        assert!(awaiting.on_response(&mutated).is_err(), "mutation {i} of the response was accepted");
    }
}

#[test]
fn every_bit_flip_and_truncation_of_the_fast_response_is_refused_by_the_phone() {
    let site = Site::new();
    let phone = TestPhone::new();
    let (mut door, ticket) = lock_with_ticket(&site, &phone);
    let nonce = door.lock.advertisement().nonce;
    let (awaiting, request) = phone.fast_request_seeded(DOOR, nonce, &ticket, Command::Unlock, 0x22);
    let response = door.lock.deliver(&request).reply.unwrap();
    assert_eq!(awaiting.on_response(&response).unwrap().0.outcome, Ok(()));

    for (i, mutated) in mutations(&response).enumerate() {
        let (awaiting, _) = phone.fast_request_seeded(DOOR, nonce, &ticket, Command::Unlock, 0x22);
        assert!(awaiting.on_response(&mutated).is_err(), "mutation {i} of the fast response was accepted");
    }
}

#[test]
fn every_bit_flip_and_truncation_of_the_channel_bundle_message_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let (mut door, ticket) = lock_with_ticket(&site, &phone);
    let revoked = site.member_key(&TestPhone::new(), 9, &[DOOR]);
    let bundle = site.bundle(BundleSpec::new(DOOR, 1, 0).revoking(&revoked));
    let nonce = door.lock.advertisement().nonce;

    // The fast handshake's keys depend only on the request and the ticket, so every fork
    // that accepts the same request shares the same channel keys.
    let open_channel = |lock: &mut Lock| {
        let (awaiting, request) = phone.fast_request_seeded(DOOR, nonce, &ticket, Command::SyncOnly, 0x44);
        let connection = lock.connect(247).unwrap();
        let output = lock.on_message(connection, &request).unwrap();
        let (reply, channel) = awaiting.on_response(&output.reply.unwrap()).unwrap();
        assert_eq!(reply.outcome, Ok(()));
        (connection, channel)
    };

    let mut sanity = door.fork();
    let (connection, mut channel) = open_channel(&mut sanity);
    let message = channel.deliver_bundle(&bundle.to_bytes()).unwrap();
    let output = sanity.on_message(connection, &message).unwrap();
    assert_eq!(output.event, Some(LockEvent::BundleApplied { version: 1 }), "the original must be applied");

    for (i, mutated) in mutations(&message).enumerate() {
        let mut lock = door.fork();
        let (connection, _) = open_channel(&mut lock);
        let output = lock.on_message(connection, &mutated).unwrap();
        assert!(
            !matches!(output.event, Some(LockEvent::BundleApplied { .. })),
            "mutation {i} of the bundle message was applied"
        );
        assert_eq!(lock.bundle_version(), 0);
        assert!(!lock.is_revoked(&revoked.body.id));
        assert_eq!(lock.actuations(), door.lock.actuations());
    }
}

#[test]
fn every_bit_flip_and_truncation_of_the_sync_receipt_is_refused_by_the_phone() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let mut sync = SyncSession::open(&phone, &mut door.lock, &key);
    let message = sync.channel.request_receipt().unwrap();
    let reply = door.lock.on_message(sync.connection, &message).unwrap().reply.unwrap();

    // A message that fails to open does not advance the phone's channel, so one channel
    // checks every mutation and still accepts the original at the end.
    for (i, mutated) in mutations(&reply).enumerate() {
        assert!(sync.channel.on_sync_reply(&mutated).is_err(), "mutation {i} of the receipt was accepted");
    }
    assert!(sync.channel.on_sync_reply(&reply).is_ok());
}
