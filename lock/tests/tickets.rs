//! The fast-unlock ticket table is bounded: the oldest ticket goes first, and its holder
//! falls back to a standard unlock.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::tickets::{TICKET_CAPACITY, TicketTable};
use keyway_protocol::Refusal;
use keyway_protocol::ids::{CredentialId, KeyId, TicketId};
use keyway_protocol::lock_role::TicketEntry;
use zeroize::Zeroizing;

fn entry(n: u8) -> TicketEntry {
    TicketEntry {
        secret: Zeroizing::new([n; 32]),
        credential: CredentialId([n; 16]),
        parent: None,
        issuer: KeyId([n; 8]),
        not_before: 0,
        not_after: u32::MAX,
    }
}

#[test]
fn ticket_table_keeps_at_most_its_capacity_and_evicts_the_oldest() {
    let mut table = TicketTable::new();
    for n in 0..(TICKET_CAPACITY + 10) as u8 {
        table.insert(TicketId([n; 16]), entry(n));
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
    let first = Phone::new();
    let first_key = site.member_key(&first, 0);
    let old_ticket = first.unlock(&mut door.lock, &first_key).ticket.unwrap();
    let others = Phone::new();
    for id in 1..=TICKET_CAPACITY as u8 {
        let key = site.member_key(&others, id);
        assert_eq!(others.unlock(&mut door.lock, &key).outcome, Ok(()));
    }
    assert_eq!(door.lock.ticket_count(), TICKET_CAPACITY);

    let (awaiting, request) = first.fast_request(DOOR, door.lock.advertisement().nonce, &old_ticket, 1);
    let output = deliver(&mut door.lock, &request);
    assert_eq!(refusal(&output), Some(Refusal::UnknownTicket));
    assert!(awaiting.on_response(&output.reply.unwrap()).is_err());
    assert_eq!(first.unlock(&mut door.lock, &first_key).outcome, Ok(()));
}

#[test]
fn fast_unlock_is_refused_when_a_bundle_switches_it_off() {
    let site = Site::new();
    let phone = Phone::new();
    let mut door = TestLock::new(&site);
    let key = site.member_key(&phone, 1);
    let ticket = phone.unlock(&mut door.lock, &key).ticket.unwrap();
    let mut spec = BundleSpec::new(1, 0);
    spec.config.fast_unlock = false;
    phone.sync(&mut door.lock, &key, Some(&site.bundle(spec)));
    let (_, request) = phone.fast_request(DOOR, door.lock.advertisement().nonce, &ticket, 2);
    assert_eq!(refusal(&deliver(&mut door.lock, &request)), Some(Refusal::FastUnlockDisabled));
    assert_eq!(phone.unlock(&mut door.lock, &key).ticket, None, "no tickets while fast unlock is off");
}
