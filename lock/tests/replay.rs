//! Replay: a frame recorded from an earlier unlock never opens the door again.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_protocol::framing;
use keyway_protocol::receipt::AuditKind;
use keyway_protocol::{Command, Refusal};

#[test]
fn replayed_frame_from_an_earlier_unlock_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let (_, request) = phone.standard_request(&door.target(), &key, Command::Unlock);
    let frames = framing::fragment(&request, 185).unwrap();
    let connection = door.lock.connect(185).unwrap();
    let mut replies = Vec::new();
    for frame in &frames {
        replies.extend(door.lock.on_frame(connection, frame).unwrap().notifications);
    }
    assert!(!replies.is_empty());
    assert_eq!(door.lock.actuations(), 1);

    // The eavesdropper replays the recorded frames on a new connection.
    let connection = door.lock.connect(185).unwrap();
    for frame in &frames {
        door.lock.on_frame(connection, frame).unwrap();
    }
    assert_eq!(refusal(&deliver_last(&door)), Some(Refusal::StaleNonce));
    assert_eq!(door.lock.actuations(), 1);

    // ...and after a restart (nonces are not persisted: the old one is unknown).
    let mut door = door.restart();
    let connection = door.lock.connect(185).unwrap();
    for frame in &frames {
        door.lock.on_frame(connection, frame).unwrap();
    }
    assert_eq!(refusal(&deliver_last(&door)), Some(Refusal::StaleNonce));
    // The actuation counter starts again at each start; the audit log is kept, and still
    // holds the one opening from before the restart.
    assert_eq!(door.lock.actuations(), 0);
    let grants = door.lock.audit_events().iter().filter(|e| matches!(e.kind, AuditKind::Granted { .. })).count();
    assert_eq!(grants, 1, "the replay after a restart did not open the door");
}

fn deliver_last(door: &TestLock) -> keyway_protocol::lock_role::LockOutput {
    keyway_protocol::lock_role::LockOutput { reply: None, event: door.lock.last_event().cloned() }
}

#[test]
fn replayed_fast_unlock_frame_is_refused() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    let (_, request) = phone.fast_request_seeded(DOOR, door.lock.advertisement().nonce, &ticket, Command::Unlock, 1);
    assert!(granted(&door.lock.deliver(&request)));
    assert_eq!(door.lock.actuations(), 2);

    assert_eq!(refusal(&door.lock.deliver(&request)), Some(Refusal::StaleNonce));

    // Even on a lock that still advertised that nonce, the ticket itself is spent.
    assert_eq!(door.lock.ticket_count(), 1, "only the replacement ticket remains");
    assert_eq!(door.lock.actuations(), 2);
}

#[test]
fn refusals_in_the_clear_are_counted_not_audited() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let (_, request) = phone.standard_request(&door.target(), &key, Command::Unlock);
    door.lock.deliver(&request);
    let audited = door.lock.audit_events().len();
    for _ in 0..50 {
        door.lock.deliver(&request);
    }
    assert_eq!(door.lock.refusal_count(Refusal::StaleNonce), 50);
    assert_eq!(door.lock.audit_events().len(), audited, "a replaying stranger cannot fill the audit log");
}
