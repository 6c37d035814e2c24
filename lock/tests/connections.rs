//! Connections at the lock: framing limits before and after a handshake, and timeouts.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::LockError;
use keyway_lock::lock::{HANDSHAKE_TIMEOUT_SECS, IDLE_TIMEOUT_SECS};
use keyway_protocol::Command;
use keyway_protocol::framing::{self, FrameError, MAX_HANDSHAKE_LEN};

#[test]
fn stranger_cannot_make_the_lock_buffer_a_long_message_before_a_handshake() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let connection = door.lock.connect(247).unwrap();
    let frames = framing::fragment(&vec![0x01; MAX_HANDSHAKE_LEN + 1], 247).unwrap();
    let result = door.lock.on_frame(connection, &frames[0]);
    assert!(matches!(result, Err(LockError::Frame(FrameError::BadLength(_)))));
    assert_eq!(door.lock.open_connections(), 0, "the lock hung up");
}

#[test]
fn after_a_handshake_the_channel_carries_a_long_bundle() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let mut spec = BundleSpec::new(DOOR, 1, 0);
    for id in 0..100u8 {
        spec = spec.revoking(&site.key(&phone, KeySpec::member(id.wrapping_add(100), &[DOOR]).valid(T0, T0 + DAY)));
    }
    let bundle = site.bundle(spec);
    assert!(bundle.to_bytes().len() > MAX_HANDSHAKE_LEN);

    let (awaiting, request) = phone.standard_request(&door.target(), &key, Command::SyncOnly);
    let connection = door.lock.connect(185).unwrap();
    let mut notifications = Vec::new();
    for frame in framing::fragment(&request, 185).unwrap() {
        notifications.extend(door.lock.on_frame(connection, &frame).unwrap().notifications);
    }
    let response = reassemble(&notifications);
    let (_, mut channel) = awaiting.on_response(&response).unwrap();
    let message = channel.deliver_bundle(&bundle.to_bytes()).unwrap();
    let mut notifications = Vec::new();
    for frame in framing::fragment(&message, 185).unwrap() {
        notifications.extend(door.lock.on_frame(connection, &frame).unwrap().notifications);
    }
    let reply = channel.on_sync_reply(&reassemble(&notifications)).unwrap();
    assert_eq!(reply.applied, Ok(()));
    assert_eq!(door.lock.revocation_count(), 100);
}

fn reassemble(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut reassembler = framing::Reassembler::new();
    frames.iter().find_map(|f| reassembler.push(f).unwrap()).unwrap()
}

#[test]
fn connection_that_does_not_complete_a_handshake_in_time_is_dropped() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let connection = door.lock.connect(185).unwrap();
    door.rtc.advance(i64::from(HANDSHAKE_TIMEOUT_SECS) + 1);
    let (_, request) = phone.standard_request(&door.target(), &key, Command::Unlock);
    assert!(matches!(door.lock.on_message(connection, &request), Err(LockError::ConnectionTimedOut)));
    assert_eq!(door.lock.actuations(), 0);
    assert_eq!(door.lock.open_connections(), 0);
}

#[test]
fn idle_channel_is_dropped_by_the_timer() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let mut sync = SyncSession::open(&phone, &mut door.lock, &key);
    door.rtc.advance(i64::from(IDLE_TIMEOUT_SECS));
    door.lock.tick().unwrap();
    assert_eq!(door.lock.open_connections(), 1, "not idle for longer than the limit yet");
    assert_eq!(sync.send(&mut door.lock, None).applied, Ok(()));
    door.rtc.advance(i64::from(IDLE_TIMEOUT_SECS) + 1);
    door.lock.tick().unwrap();
    assert_eq!(door.lock.open_connections(), 0);
}

#[test]
fn rtc_set_back_does_not_keep_a_connection_alive_forever() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let connection = door.lock.connect(185).unwrap();
    door.rtc.advance(i64::from(HANDSHAKE_TIMEOUT_SECS) + 1);
    door.lock.tick().unwrap();
    door.rtc.advance(-3600);
    assert!(door.lock.on_message(connection, &[0x01]).is_err());
}

#[test]
fn slow_rtc_nonce_handshake_timeout_runs_while_the_rtc_stands_still() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let connection = door.lock.connect(185).unwrap();
    door.rtc.elapse_with_rtc_stopped(HANDSHAKE_TIMEOUT_SECS + 1);
    let (_, request) = phone.standard_request(&door.target(), &key, Command::Unlock);
    assert!(matches!(door.lock.on_message(connection, &request), Err(LockError::ConnectionTimedOut)));
    assert_eq!(door.lock.actuations(), 0);
}

#[test]
fn slow_rtc_nonce_idle_channel_is_dropped_while_the_rtc_stands_still() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let _sync = SyncSession::open(&phone, &mut door.lock, &key);
    door.rtc.elapse_with_rtc_stopped(IDLE_TIMEOUT_SECS + 1);
    door.lock.tick().unwrap();
    assert_eq!(door.lock.open_connections(), 0);
}
