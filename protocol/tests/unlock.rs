//! The unlock handshake between the phone role (ring) and the lock role (RustCrypto):
//! what opens the door, and every way of being refused.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_protocol::Refusal;
use keyway_protocol::lock_role::{LockEvent, LockSession};
use keyway_protocol::phone::PhoneError;
use keyway_protocol::{Command, framing};

#[test]
fn standard_unlock_opens_the_door_and_hands_out_a_fast_ticket() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);

    let reply = phone.unlock(&mut lock, &credential);

    assert_eq!(reply.outcome, Ok(()));
    assert_eq!(lock.actuations, 1);
    assert_eq!(reply.lock_clock, NOW);
    assert_eq!(reply.open_ms, 120);
    let ticket = reply.ticket.expect("a fast-unlock ticket");
    assert_eq!(ticket.door, DOOR);
    assert!(lock.tickets.contains_key(&ticket.id));
}

#[test]
fn fast_unlock_opens_the_door_with_the_ticket_and_replaces_it() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let ticket = phone.unlock(&mut lock, &credential).ticket.unwrap();

    let reply = phone.fast_unlock(&mut lock, &ticket);

    assert_eq!(reply.outcome, Ok(()));
    assert_eq!(lock.actuations, 2);
    let next = reply.ticket.expect("the next ticket");
    assert_ne!(next.id, ticket.id);
    assert!(!lock.tickets.contains_key(&ticket.id), "tickets are single use");

    // The replacement works too.
    assert_eq!(phone.fast_unlock(&mut lock, &next).outcome, Ok(()));
    assert_eq!(lock.actuations, 3);
}

#[test]
fn fast_unlock_request_fits_one_att_write_at_mtu_185() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let ticket = phone.unlock(&mut lock, &credential).ticket.unwrap();
    let (_, request) = phone.fast_request(lock.door, lock.nonce, &ticket, Command::Unlock);
    let frames = framing::fragment(&request, 185).unwrap();
    assert_eq!(frames.len(), 1);
    assert!(frames[0].len() <= 182, "{} bytes", frames[0].len());
}

#[test]
fn one_door_credential_is_at_most_200_bytes() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let member = credential_for(&issuer, &phone, &[DOOR], 1);
    let guest = guest_credential(&issuer, &phone, &member, 2);
    assert!(member.to_bytes().len() <= 200, "{}", member.to_bytes().len());
    assert!(guest.to_bytes().len() <= 200, "{}", guest.to_bytes().len());
}

#[test]
fn sync_only_does_not_open_the_door() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let (awaiting, request) = phone.standard_request(&lock.target(), &credential, Command::SyncOnly);
    let out = lock.deliver(&request);
    let (reply, _) = awaiting.on_response(&out.reply.unwrap()).unwrap();
    assert_eq!(reply.outcome, Ok(()));
    assert_eq!(reply.open_ms, 0);
    assert_eq!(lock.actuations, 0);
}

/// Runs a standard unlock with `credential` and returns the lock's reason.
fn refusal_for(
    lock: &mut MemoryLock,
    phone: &TestPhone,
    credential: &keyway_protocol::credential::Credential,
) -> Refusal {
    let reply = phone.unlock(lock, credential);
    assert_eq!(lock.actuations, 0, "a refused unlock never actuates");
    reply.outcome.unwrap_err()
}

#[test]
fn credential_for_another_door_is_refused_as_wrong_door() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[OTHER_DOOR], 1);
    assert_eq!(refusal_for(&mut lock, &phone, &credential), Refusal::WrongDoor);
}

#[test]
fn key_before_its_start_is_refused_as_not_yet_valid() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    lock.now = credential.body.not_before - 1;
    assert_eq!(refusal_for(&mut lock, &phone, &credential), Refusal::NotYetValid);
    lock.now = credential.body.not_before;
    assert_eq!(phone.unlock(&mut lock, &credential).outcome, Ok(()));
}

#[test]
fn key_after_its_expiry_is_refused_as_expired() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    lock.now = credential.body.not_after + 1;
    assert_eq!(refusal_for(&mut lock, &phone, &credential), Refusal::Expired);
}

#[test]
fn revoked_credential_is_refused() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    lock.revoke(credential.body.id);
    assert_eq!(refusal_for(&mut lock, &phone, &credential), Refusal::Revoked);
}

#[test]
fn guest_key_is_refused_once_the_member_who_shared_it_is_revoked() {
    let issuer = issuer();
    let member = TestPhone::new();
    let guest = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let member_credential = credential_for(&issuer, &member, &[DOOR], 1);
    let guest_credential = guest_credential(&issuer, &guest, &member_credential, 2);
    assert_eq!(guest.unlock(&mut lock, &guest_credential).outcome, Ok(()));
    lock.actuations = 0;

    lock.revoke(member_credential.body.id);

    assert_eq!(refusal_for(&mut lock, &guest, &guest_credential), Refusal::ParentRevoked);
}

#[test]
fn fast_ticket_of_a_revoked_credential_is_refused() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let ticket = phone.unlock(&mut lock, &credential).ticket.unwrap();
    lock.revoke(credential.body.id);
    let reply = phone.fast_unlock(&mut lock, &ticket);
    assert_eq!(reply.outcome, Err(Refusal::Revoked));
    assert_eq!(lock.actuations, 1);
}

#[test]
fn fast_ticket_past_the_credential_expiry_is_refused() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let ticket = phone.unlock(&mut lock, &credential).ticket.unwrap();
    lock.now = credential.body.not_after + 1;
    assert_eq!(phone.fast_unlock(&mut lock, &ticket).outcome, Err(Refusal::Expired));
}

#[test]
fn credential_from_an_unknown_issuer_is_refused() {
    let trusted = issuer();
    let rogue = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &trusted);
    let credential = credential_for(&rogue, &phone, &[DOOR], 1);
    assert_eq!(refusal_for(&mut lock, &phone, &credential), Refusal::UnknownIssuer);
}

#[test]
fn cloned_credential_without_the_device_key_is_refused() {
    let issuer = issuer();
    let owner = TestPhone::new();
    let thief = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &owner, &[DOOR], 1);
    // The thief copied the credential bytes but signs with its own key.
    assert_eq!(refusal_for(&mut lock, &thief, &credential), Refusal::BadDeviceSignature);
}

#[test]
fn forged_credential_signature_is_refused() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let mut credential = credential_for(&issuer, &phone, &[DOOR], 1);
    credential.body.not_after += 365 * 86_400; // extended without the issuer
    assert_eq!(refusal_for(&mut lock, &phone, &credential), Refusal::BadCredentialSignature);
}

#[test]
fn replayed_request_from_an_earlier_unlock_is_refused() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let (_, request) = phone.standard_request(&lock.target(), &credential, Command::Unlock);
    let first = lock.deliver(&request);
    assert!(matches!(first.event, Some(LockEvent::Granted { .. })));

    let replay = lock.deliver(&request);

    assert_eq!(replay.event, Some(LockEvent::Refused { reason: Refusal::StaleNonce, credential: None }));
    assert_eq!(lock.actuations, 1);
}

#[test]
fn replayed_fast_request_is_refused() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let ticket = phone.unlock(&mut lock, &credential).ticket.unwrap();
    let (_, request) = phone.fast_request(lock.door, lock.nonce, &ticket, Command::Unlock);
    let first = lock.deliver(&request);
    assert!(matches!(first.event, Some(LockEvent::Granted { fast: true, .. })));

    // Even if the nonce came round again, the ticket is gone.
    let mut rewound = lock.clone();
    rewound.nonce = keyway_protocol::ids::LockNonce(request[11..19].try_into().unwrap());
    let replay = rewound.deliver(&request);
    assert_eq!(replay.event, Some(LockEvent::Refused { reason: Refusal::UnknownTicket, credential: None }));
    let replay = lock.deliver(&request);
    assert_eq!(replay.event, Some(LockEvent::Refused { reason: Refusal::StaleNonce, credential: None }));
    assert_eq!(lock.actuations, 2);
}

#[test]
fn stale_advertisement_gets_a_fresh_nonce_and_the_retry_succeeds() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let stale = lock.target();
    phone.unlock(&mut lock, &credential); // someone else used the nonce

    let mut session = LockSession::new();
    let (awaiting, request) = phone.standard_request(&stale, &credential, Command::Unlock);
    let out = lock.deliver_on(&mut session, &request);
    let Err(PhoneError::UnauthenticatedRefusal { reason: Refusal::StaleNonce, fresh_nonce }) =
        awaiting.on_response(&out.reply.unwrap())
    else {
        panic!("expected a stale-nonce refusal");
    };
    let mut retry = stale.clone();
    retry.nonce = fresh_nonce;
    let (awaiting, request) = phone.standard_request(&retry, &credential, Command::Unlock);
    let out = lock.deliver_on(&mut session, &request);
    assert_eq!(awaiting.on_response(&out.reply.unwrap()).unwrap().0.outcome, Ok(()));
    assert_eq!(lock.actuations, 2);
}

#[test]
fn downgraded_protocol_version_is_refused() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let (_, mut request) = phone.standard_request(&lock.target(), &credential, Command::Unlock);
    request[1] = 0; // version 0
    let out = lock.deliver(&request);
    assert_eq!(out.event, Some(LockEvent::Refused { reason: Refusal::UnsupportedVersion, credential: None }));
    assert_eq!(lock.actuations, 0);
}

#[test]
fn flag_cleared_in_transit_is_refused() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let (_, mut request) = phone.standard_request(&lock.target(), &credential, Command::Unlock);
    request[2] = 0; // "no ticket wanted": authenticated, so decryption fails
    let out = lock.deliver(&request);
    assert_eq!(out.event, Some(LockEvent::Refused { reason: Refusal::DecryptFailed, credential: None }));
    assert_eq!(lock.actuations, 0);
}

#[test]
fn response_reflected_back_to_the_lock_is_refused() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let (_, request) = phone.standard_request(&lock.target(), &credential, Command::Unlock);
    let response = lock.deliver(&request).reply.unwrap();
    let before = lock.actuations;
    let out = lock.deliver(&response);
    assert_eq!(out.event, Some(LockEvent::Refused { reason: Refusal::UnexpectedMessage, credential: None }));
    assert_eq!(lock.actuations, before);
}

#[test]
fn request_reflected_back_to_the_phone_is_refused() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let (awaiting, request) = phone.standard_request(&lock.target(), &credential, Command::Unlock);
    assert!(awaiting.on_response(&request).is_err());
}

#[test]
fn response_from_another_session_is_refused() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let (first, request) = phone.standard_request(&lock.target(), &credential, Command::Unlock);
    let (_second, _) = phone.standard_request(&lock.target(), &credential, Command::Unlock);
    let response = lock.deliver(&request).reply.unwrap();
    // The second session's state would be the one on the phone in a reordered world:
    let (second, _) = phone.standard_request(&lock.target(), &credential, Command::Unlock);
    assert_eq!(second.on_response(&response).err(), Some(PhoneError::NotAuthentic));
    assert!(first.on_response(&response).is_ok());
}

#[test]
fn channel_message_before_the_handshake_is_refused() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    // A sealed bundle message from a real session, replayed on a new connection first.
    let (awaiting, request) = phone.standard_request(&lock.target(), &credential, Command::SyncOnly);
    let out = lock.deliver(&request);
    let (_, mut channel) = awaiting.on_response(&out.reply.unwrap()).unwrap();
    let sealed = channel.request_receipt().unwrap();
    let out = lock.deliver(&sealed);
    assert_eq!(out.event, Some(LockEvent::Refused { reason: Refusal::UnexpectedMessage, credential: None }));
}

#[test]
fn a_connection_gets_a_bounded_number_of_attempts() {
    let issuer = issuer();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let mut session = LockSession::new();
    for _ in 0..keyway_protocol::lock_role::MAX_ATTEMPTS_PER_CONNECTION {
        assert!(lock.deliver_on(&mut session, &[0x01, 0x01]).reply.is_some());
    }
    assert!(session.is_closed());
    assert_eq!(lock.deliver_on(&mut session, &[0x01, 0x01]).reply, None);
}

#[test]
fn junk_from_strangers_leaves_no_audit_events() {
    let issuer = issuer();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    for i in 0..300u32 {
        let mut junk = vec![0x01, 0x01];
        junk.extend_from_slice(&i.to_be_bytes());
        lock.deliver(&junk);
    }
    assert!(lock.events.is_empty(), "{} events", lock.events.len());
}

#[test]
fn copied_credential_reveals_nothing_and_is_not_audited_under_its_id() {
    let issuer = issuer();
    let owner = TestPhone::new();
    let thief = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &owner, &[DOOR], 1);
    lock.revoke(credential.body.id);
    // Without the device key the thief cannot learn that the key is revoked…
    assert_eq!(refusal_for(&mut lock, &thief, &credential), Refusal::BadDeviceSignature);
    // …nor leave an event naming the owner's credential.
    assert!(lock.events.iter().all(|e| e.credential.is_none()));
}

#[test]
fn fast_ticket_dies_with_the_issuer_that_vouched_for_it() {
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    let ticket = phone.unlock(&mut lock, &credential).ticket.unwrap();
    lock.anchors.clear();
    assert_eq!(phone.fast_unlock(&mut lock, &ticket).outcome, Err(Refusal::UnknownIssuer));
    assert_eq!(lock.actuations, 1);
}

#[test]
fn receipt_carries_at_most_the_limit_and_says_more_are_pending() {
    use keyway_protocol::receipt::{AuditKind, MAX_RECEIPT_EVENTS};
    let issuer = issuer();
    let phone = TestPhone::new();
    let mut lock = MemoryLock::new(DOOR, &issuer);
    let credential = credential_for(&issuer, &phone, &[DOOR], 1);
    for _ in 0..MAX_RECEIPT_EVENTS + 10 {
        lock.events.push(keyway_protocol::receipt::AuditEvent {
            seq: lock.next_seq,
            time: NOW,
            kind: AuditKind::Granted { fast: false },
            credential: None,
        });
        lock.next_seq += 1;
    }
    let (awaiting, request) = phone.standard_request(&lock.target(), &credential, Command::SyncOnly);
    let mut session = LockSession::new();
    let out = lock.deliver_on(&mut session, &request);
    let (_, mut channel) = awaiting.on_response(&out.reply.unwrap()).unwrap();
    let out = lock.deliver_on(&mut session, &channel.request_receipt().unwrap());
    let sync = channel.on_sync_reply(&out.reply.unwrap()).unwrap();
    assert_eq!(sync.receipt.body.events.len(), MAX_RECEIPT_EVENTS);
    assert!(sync.receipt.body.more_pending);
    assert_eq!(sync.receipt.body.events[0].seq, 1, "oldest first");
}

#[test]
fn oversized_message_before_a_handshake_is_refused_by_the_reassembler() {
    let mut reassembler = framing::Reassembler::with_max_len(framing::MAX_HANDSHAKE_LEN);
    let big = vec![0u8; framing::MAX_HANDSHAKE_LEN + 1];
    let frames = framing::fragment(&big, 185).unwrap();
    assert_eq!(reassembler.push(&frames[0]), Err(framing::FrameError::BadLength(framing::MAX_HANDSHAKE_LEN + 1)));
}
