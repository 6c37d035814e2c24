//! The transcript is bound: reflected, reordered and downgraded messages are refused.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_protocol::lock_role::LockEvent;
use keyway_protocol::phone::PhoneError;
use keyway_protocol::{Command, Refusal};

#[test]
fn response_reflected_back_to_the_lock_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let (_, request) = phone.standard_request(&door.target(), &key, Command::Unlock);
    let response = door.lock.deliver(&request).reply.unwrap();
    assert_eq!(door.lock.actuations(), 1);

    assert_eq!(refusal(&door.lock.deliver(&response)), Some(Refusal::UnexpectedMessage));
    assert_eq!(door.lock.actuations(), 1);
}

#[test]
fn fast_response_reflected_back_to_the_lock_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    let (_, request) = phone.fast_request_seeded(DOOR, door.lock.advertisement().nonce, &ticket, Command::Unlock, 3);
    let response = door.lock.deliver(&request).reply.unwrap();
    assert_eq!(refusal(&door.lock.deliver(&response)), Some(Refusal::UnexpectedMessage));
    assert_eq!(door.lock.actuations(), 2);
}

#[test]
fn request_reflected_back_to_the_phone_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let (awaiting, request) = phone.standard_request(&door.target(), &key, Command::Unlock);
    assert!(awaiting.on_response(&request).is_err());
}

#[test]
fn channel_message_reflected_back_to_the_lock_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let (awaiting, request) = phone.standard_request(&door.target(), &key, Command::SyncOnly);
    let connection = door.lock.connect(247).unwrap();
    let output = door.lock.on_message(connection, &request).unwrap();
    let (_, mut channel) = awaiting.on_response(&output.reply.unwrap()).unwrap();
    let receipt_request = channel.request_receipt().unwrap();
    let receipt = door.lock.on_message(connection, &receipt_request).unwrap().reply.unwrap();

    // The lock's own sealed receipt sent back to it: wrong direction key, connection dropped.
    let output = door.lock.on_message(connection, &receipt).unwrap();
    assert_eq!(output.reply, None);
    assert!(door.lock.on_message(connection, &receipt_request).is_err(), "the lock closed the connection");
}

#[test]
fn channel_messages_delivered_out_of_order_are_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let bundle = site.bundle(BundleSpec::new(DOOR, 1, 0));
    let (awaiting, request) = phone.standard_request(&door.target(), &key, Command::SyncOnly);
    let connection = door.lock.connect(247).unwrap();
    let output = door.lock.on_message(connection, &request).unwrap();
    let (_, mut channel) = awaiting.on_response(&output.reply.unwrap()).unwrap();
    let first = channel.request_receipt().unwrap();
    let second = channel.deliver_bundle(&bundle.to_bytes()).unwrap();

    let output = door.lock.on_message(connection, &second).unwrap();
    assert_eq!(output, Default::default(), "the second message first: dropped without an answer");
    assert_eq!(door.lock.bundle_version(), 0);
    assert!(door.lock.on_message(connection, &first).is_err(), "the connection is gone");
}

#[test]
fn response_from_another_session_is_refused_by_the_phone() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let target = door.target();
    let (first, first_request) = phone.standard_request(&target, &key, Command::Unlock);
    // A second session for the same advertisement, never sent.
    let (second, _) = phone.standard_request(&target, &key, Command::Unlock);
    let first_response = door.lock.deliver(&first_request).reply.unwrap();
    let (third, third_request) = phone.standard_request(&door.target(), &key, Command::Unlock);
    let third_response = door.lock.deliver(&third_request).reply.unwrap();

    // Answers swapped between sessions fail authentication.
    assert_eq!(second.on_response(&first_response).err(), Some(PhoneError::NotAuthentic));
    assert_eq!(first.on_response(&third_response).err(), Some(PhoneError::NotAuthentic));
    assert!(third.on_response(&third_response).is_ok());
}

#[test]
fn downgraded_protocol_version_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    for version in [0u8, 2, 0xff] {
        let (_, mut request) = phone.standard_request(&door.target(), &key, Command::Unlock);
        request[1] = version;
        assert_eq!(refusal(&door.lock.deliver(&request)), Some(Refusal::UnsupportedVersion));
    }
    let ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    let (_, mut request) =
        phone.fast_request_seeded(DOOR, door.lock.advertisement().nonce, &ticket, Command::Unlock, 5);
    request[1] = 0;
    assert_eq!(refusal(&door.lock.deliver(&request)), Some(Refusal::UnsupportedVersion));
    assert_eq!(door.lock.actuations(), 1);
}

#[test]
fn downgraded_flag_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);

    // Clearing "want ticket" in transit: the header is authenticated, so it fails to open.
    let (_, mut request) = phone.standard_request(&door.target(), &key, Command::Unlock);
    request[2] = 0;
    assert_eq!(refusal(&door.lock.deliver(&request)), Some(Refusal::DecryptFailed));

    // An unknown flag is refused outright.
    let (_, mut request) = phone.standard_request(&door.target(), &key, Command::Unlock);
    request[2] |= 0x80;
    assert_eq!(refusal(&door.lock.deliver(&request)), Some(Refusal::Malformed));

    let ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    let (_, mut request) =
        phone.fast_request_seeded(DOOR, door.lock.advertisement().nonce, &ticket, Command::Unlock, 6);
    request[2] = 0;
    assert_eq!(refusal(&door.lock.deliver(&request)), Some(Refusal::DecryptFailed));
    assert_eq!(door.lock.actuations(), 1);
}

#[test]
fn downgraded_response_version_is_refused_by_the_phone() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let (awaiting, request) = phone.standard_request(&door.target(), &key, Command::Unlock);
    let mut response = door.lock.deliver(&request).reply.unwrap();
    response[1] = 0;
    assert!(awaiting.on_response(&response).is_err());
}

#[test]
fn channel_message_before_the_handshake_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let bundle = site.bundle(BundleSpec::new(DOOR, 1, 0));
    let (awaiting, request) = phone.standard_request(&door.target(), &key, Command::SyncOnly);
    let output = door.lock.deliver(&request);
    let (_, mut channel) = awaiting.on_response(&output.reply.unwrap()).unwrap();
    let sealed = channel.deliver_bundle(&bundle.to_bytes()).unwrap();

    let output = door.lock.deliver(&sealed);
    assert_eq!(output.event, Some(LockEvent::Refused { reason: Refusal::UnexpectedMessage, credential: None }));
    assert_eq!(door.lock.bundle_version(), 0);
}
