//! The fast-unlock ticket table is bounded: the oldest ticket goes first, and its holder
//! falls back to a standard unlock.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::tickets::{TICKET_CAPACITY, TICKET_LIFETIME_SECS, TicketTable};
use keyway_protocol::Refusal;
use keyway_protocol::ids::{CredentialId, KeyId, TicketId};
use keyway_protocol::lock_role::{TicketEntry, TicketHolder};
use zeroize::Zeroizing;

fn entry(n: u8) -> TicketEntry {
    TicketEntry {
        secret: Zeroizing::new([n; 32]),
        credential: CredentialId([n; 16]),
        parent: None,
        issuer: KeyId([n; 8]),
        not_before: 0,
        not_after: u32::MAX,
        holder: TicketHolder([n; 16]),
    }
}

#[test]
fn ticket_table_keeps_at_most_its_capacity_and_evicts_the_oldest() {
    let mut table = TicketTable::new();
    for n in 0..(TICKET_CAPACITY + 10) as u8 {
        table.insert(TicketId([n; 16]), entry(n), 0);
    }
    assert_eq!(table.len(), TICKET_CAPACITY);
    assert!(!table.contains(&TicketId([0; 16])));
    assert!(!table.contains(&TicketId([9; 16])));
    assert!(table.contains(&TicketId([10; 16])));
    assert!(table.take(&TicketId([10; 16])).is_some());
    assert!(table.take(&TicketId([10; 16])).is_none(), "single use");
}

#[test]
fn evicted_ticket_is_refused_and_a_standard_unlock_still_works() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let first = TestPhone::new();
    let first_key = site.member_key(&first, 0, &[DOOR]);
    let old_ticket = first.unlock(&mut door.lock, &first_key).ticket.unwrap();
    for id in 1..=TICKET_CAPACITY as u8 {
        let other = TestPhone::new();
        let key = site.member_key(&other, id, &[DOOR]);
        assert_eq!(other.unlock(&mut door.lock, &key).outcome, Ok(()));
    }
    assert_eq!(door.lock.ticket_count(), TICKET_CAPACITY);

    let (awaiting, request) =
        first.fast_request_seeded(DOOR, door.lock.advertisement().nonce, &old_ticket, Command::Unlock, 1);
    let output = door.lock.deliver(&request);
    assert_eq!(refusal(&output), Some(Refusal::UnknownTicket));
    assert!(awaiting.on_response(&output.reply.unwrap()).is_err());
    assert_eq!(first.unlock(&mut door.lock, &first_key).outcome, Ok(()));
}

#[test]
fn fast_unlock_is_refused_when_a_bundle_switches_it_off() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    let mut spec = BundleSpec::new(DOOR, 1, 0);
    spec.config.fast_unlock = false;
    phone.sync(&mut door.lock, &key, Some(&site.bundle(spec)));
    let (_, request) = phone.fast_request_seeded(DOOR, door.lock.advertisement().nonce, &ticket, Command::Unlock, 2);
    assert_eq!(refusal(&door.lock.deliver(&request)), Some(Refusal::FastUnlockDisabled));
    assert_eq!(door.lock.ticket_count(), 0, "switching fast unlock off flushes the tickets");
    assert_eq!(phone.unlock(&mut door.lock, &key).ticket, None, "no tickets while fast unlock is off");
}

#[test]
fn a_credential_holds_one_live_ticket_at_most() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1, &[DOOR]);
    let first = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    let second = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    assert_eq!(door.lock.ticket_count(), 1);
    assert_eq!(fast_attempt(&phone, &mut door.lock, &first), Some(Refusal::UnknownTicket));
    assert_eq!(phone.fast_unlock(&mut door.lock, &second).outcome, Ok(()));
}

#[test]
fn ticket_is_refused_after_its_own_lifetime_though_the_credential_is_still_valid() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.key(&phone, KeySpec::member(1, &[DOOR]).valid(T0 - 60, T0 + 10 * DAY));
    let ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    door.rtc.advance(i64::from(TICKET_LIFETIME_SECS) + 1);
    assert_eq!(fast_attempt(&phone, &mut door.lock, &ticket), Some(Refusal::UnknownTicket));
    assert_eq!(door.lock.ticket_count(), 0);
    assert_eq!(phone.unlock(&mut door.lock, &key).outcome, Ok(()));
}

#[test]
fn a_ticket_chain_in_regular_use_keeps_working() {
    let site = Site::new();
    let phone = TestPhone::new();
    let mut door = TestLock::new(&site);
    let key = site.key(&phone, KeySpec::member(1, &[DOOR]).valid(T0 - 60, T0 + 10 * DAY));
    let mut ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    for _ in 0..5 {
        door.rtc.advance(i64::from(TICKET_LIFETIME_SECS) - 60);
        let reply = phone.fast_unlock(&mut door.lock, &ticket);
        assert_eq!(reply.outcome, Ok(()));
        ticket = reply.ticket.unwrap();
    }
}

/// A fast unlock attempt; the lock's refusal, if any (an unknown ticket is refused in the clear).
fn fast_attempt(
    phone: &TestPhone,
    lock: &mut keyway_lock::Lock,
    ticket: &keyway_protocol::phone::FastTicket,
) -> Option<Refusal> {
    let (_, request) = phone.fast_request_seeded(DOOR, lock.advertisement().nonce, ticket, Command::Unlock, 7);
    refusal(&lock.deliver(&request))
}

#[test]
fn credential_hoarding_one_member_with_a_hundred_credentials_cannot_flush_the_ticket_table() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let victim = TestPhone::new();
    let victim_ticket = victim.unlock(&mut door.lock, &site.member_key(&victim, 1, &[DOOR])).ticket.unwrap();
    // One member (one device) holding a hundred live credentials for the door.
    let hoarder = TestPhone::new();
    for id in 100..200u8 {
        let reply = hoarder.unlock(&mut door.lock, &site.member_key(&hoarder, id, &[DOOR]));
        assert_eq!(reply.outcome, Ok(()));
    }
    assert_eq!(victim.fast_unlock(&mut door.lock, &victim_ticket).outcome, Ok(()), "the victim's ticket survived");
}

#[test]
fn credential_hoarding_guest_keys_shared_by_one_member_cannot_flush_the_ticket_table() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let victim = TestPhone::new();
    let victim_ticket = victim.unlock(&mut door.lock, &site.member_key(&victim, 1, &[DOOR])).ticket.unwrap();
    // One member shares a hundred guest keys, each to a device of their own.
    let member = TestPhone::new();
    let member_key = site.member_key(&member, 2, &[DOOR]);
    for id in 100..200u8 {
        let guest = TestPhone::new();
        let reply = guest.unlock(
            &mut door.lock,
            &site.key(&guest, KeySpec::guest(id, &member_key, &[DOOR]).valid(T0 - 60, T0 + DAY)),
        );
        assert_eq!(reply.outcome, Ok(()));
    }
    assert_eq!(victim.fast_unlock(&mut door.lock, &victim_ticket).outcome, Ok(()), "the victim's ticket survived");
}
