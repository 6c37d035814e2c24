//! Revocations by serial prefix (format-3 bundles): the lock refuses every credential whose
//! id, or whose parent's id, starts with a revoked prefix, keeps 8 bytes per entry, and a
//! state file written before prefixes (whole 16-byte ids) still loads and still refuses.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use keyway_lock::revocations::RevocationSet;
use keyway_lock::{Lock, LockOptions, MemoryStorage, SeededRandom, Storage, persist};
use keyway_protocol::Refusal;
use keyway_protocol::bundle::PrefixRevocation;
use keyway_protocol::credential::Credential;
use keyway_protocol::ids::CredentialId;
use std::sync::Arc;

/// A key whose id is minted the way the backend mints it: `serial ‖ random`.
fn serial_key(site: &Site, phone: &TestPhone, spec: KeySpec, serial: u64, random: u8) -> Credential {
    let mut body = spec.body(phone.device_key());
    body.id = CredentialId::from_serial(serial, [random; 8]);
    site.issuer.issue(body).unwrap()
}

fn refused(phone: &TestPhone, lock: &mut Lock, key: &Credential) -> Refusal {
    let before = lock.actuations();
    let reply = phone.unlock(lock, key);
    assert_eq!(lock.actuations(), before, "a refused unlock never actuates");
    reply.outcome.unwrap_err()
}

fn revoke_in_format_3(
    site: &Site,
    door: &mut TestLock,
    courier: &(TestPhone, Credential),
    version: u32,
    ids: &[CredentialId],
) {
    let entries = ids.iter().map(|id| PrefixRevocation::rounded(id, T0 + 3 * DAY));
    let bundle = site.bundle(BundleSpec::new(DOOR, version, version - 1).revoking_prefixes(entries));
    assert_eq!(courier.0.sync(&mut door.lock, &courier.1, Some(&bundle)).applied, Ok(()));
}

fn courier(site: &Site) -> (TestPhone, Credential) {
    let phone = TestPhone::new();
    let key = serial_key(site, &phone, KeySpec::member(0, &[DOOR]), 9_000, 1);
    (phone, key)
}

#[test]
fn a_member_revoked_by_serial_is_refused_and_the_next_serial_still_opens() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let (alice, bob) = (TestPhone::new(), TestPhone::new());
    let alice_key = serial_key(&site, &alice, KeySpec::member(0, &[DOOR]), 100, 7);
    let bob_key = serial_key(&site, &bob, KeySpec::member(0, &[DOOR]), 101, 7);
    revoke_in_format_3(&site, &mut door, &courier(&site), 1, &[alice_key.body.id]);

    assert_eq!(refused(&alice, &mut door.lock, &alice_key), Refusal::Revoked);
    assert!(bob.unlock(&mut door.lock, &bob_key).outcome.is_ok());
    assert_eq!(door.lock.revocation_count(), 1);
}

#[test]
fn a_guest_key_is_refused_once_its_parents_serial_is_revoked() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let (member, guest) = (TestPhone::new(), TestPhone::new());
    let member_key = serial_key(&site, &member, KeySpec::member(0, &[DOOR]), 500, 3);
    let guest_key = serial_key(&site, &guest, KeySpec::guest(0, &member_key, &[DOOR]), 501, 3);
    let ticket = guest.unlock(&mut door.lock, &guest_key).ticket.unwrap();
    revoke_in_format_3(&site, &mut door, &courier(&site), 1, &[member_key.body.id]);

    assert_eq!(refused(&guest, &mut door.lock, &guest_key), Refusal::ParentRevoked);
    assert_eq!(guest.fast_unlock(&mut door.lock, &ticket).outcome, Err(Refusal::ParentRevoked));
}

#[test]
fn a_credential_sharing_a_revoked_prefix_is_refused_never_admitted() {
    // Same first 8 bytes, different last 8: a prefix collision only ever refuses.
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let (one, two) = (TestPhone::new(), TestPhone::new());
    let revoked = serial_key(&site, &one, KeySpec::member(0, &[DOOR]), 42, 1);
    let twin = serial_key(&site, &two, KeySpec::member(0, &[DOOR]), 42, 2);
    revoke_in_format_3(&site, &mut door, &courier(&site), 1, &[revoked.body.id]);
    assert_eq!(refused(&one, &mut door.lock, &revoked), Refusal::Revoked);
    assert_eq!(refused(&two, &mut door.lock, &twin), Refusal::Revoked);
}

#[test]
fn a_legacy_random_id_is_revoked_by_its_prefix_in_a_format_3_bundle() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let phone = TestPhone::new();
    let legacy = site.member_key(&phone, 0xa7, &[DOOR]);
    revoke_in_format_3(&site, &mut door, &courier(&site), 1, &[legacy.body.id]);
    assert_eq!(refused(&phone, &mut door.lock, &legacy), Refusal::Revoked);
}

#[test]
fn a_lock_keeps_twelve_bytes_per_revocation_in_its_state_file() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let ids: Vec<CredentialId> = (1..=100).map(|s| CredentialId::from_serial(s, [9; 8])).collect();
    revoke_in_format_3(&site, &mut door, &courier(&site), 1, &ids);
    let saved = door.storage.bytes().unwrap();
    let mut state = persist::decode(&saved).unwrap();
    assert_eq!(state.revocations.len(), 100);
    assert!(ids.iter().all(|id| state.revocations.contains(id)));
    state.revocations = RevocationSet::new();
    assert_eq!(saved.len() - persist::encode(&state).len(), 100 * 12);
}

/// Rewrites a current (format-4) state file as the format-3 file the lock wrote before
/// prefixes and anchor rotation: the same fields, each revocation a whole credential id
/// (looked up in `ids` by its prefix) and its expiry, and no anchor set version at the end.
fn as_format_3(current: &[u8], ids: &[CredentialId]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let body = &current[..current.len() - 32];
    let anchors = usize::from(u16::from_be_bytes([body[79], body[80]]));
    let count_at = 81 + 65 * anchors + 4 + 2 + 1 + 4;
    let count = u32::from_be_bytes(body[count_at..count_at + 4].try_into().unwrap()) as usize;
    let entries_at = count_at + 4;
    let mut old = body[..entries_at].to_vec();
    old[6] = 3;
    for entry in body[entries_at..entries_at + 12 * count].chunks_exact(12) {
        let id = ids.iter().find(|id| id.serial_prefix().0 == entry[..8]).unwrap();
        old.extend_from_slice(&id.0);
        old.extend_from_slice(&entry[8..]);
    }
    old.extend_from_slice(&body[entries_at + 12 * count..body.len() - 4]);
    let checksum = Sha256::digest(&old);
    old.extend_from_slice(&checksum);
    old
}

#[test]
fn an_old_state_file_with_whole_ids_still_loads_and_still_refuses_the_revoked_credential() {
    let site = Site::new();
    let mut door = TestLock::new(&site);
    let (revoked_phone, other_phone) = (TestPhone::new(), TestPhone::new());
    let revoked = site.member_key(&revoked_phone, 0x51, &[DOOR]);
    let other = site.member_key(&other_phone, 0x52, &[DOOR]);
    let (courier_phone, courier_key) = courier(&site);
    // A format-1 bundle (whole ids), as an old backend sent it.
    let bundle = site.bundle(BundleSpec::new(DOOR, 1, 0).revoking(&revoked));
    assert_eq!(courier_phone.sync(&mut door.lock, &courier_key, Some(&bundle)).applied, Ok(()));

    let old = as_format_3(&door.storage.bytes().unwrap(), &[revoked.body.id]);
    assert_eq!(old[6], 3);
    let state = persist::decode(&old).unwrap();
    assert!(state.revocations.contains(&revoked.body.id));

    let mut storage = MemoryStorage::new();
    storage.save(&old).unwrap();
    let options = LockOptions { rtc: Arc::new(door.rtc.clone()), random: Box::new(SeededRandom::new(8)) };
    let mut lock = Lock::open(Box::new(storage.clone()), options).unwrap();
    assert_eq!(lock.bundle_version(), 1);
    assert_eq!(refused(&revoked_phone, &mut lock, &revoked), Refusal::Revoked);
    assert!(other_phone.unlock(&mut lock, &other).outcome.is_ok());
    // Whatever the lock saves next is the current format.
    assert_eq!(storage.bytes().unwrap()[6], persist::STATE_FORMAT);
}

/// Carries the 10,000-revocation bundle of a site's last 72 hours (as the backend mints
/// and signs it) to a reference lock over the simulated radio (MTU 185, 30 ms connection
/// interval, 1 % loss, `packets_per_event` per connection event): the bundle's bytes and
/// the virtual milliseconds from its first write until the phone holds the receipt.
fn carry_10k_bundle(packets_per_event: u8) -> (usize, f64) {
    use keyway_lock::sim::{LinkParams, SimRadio};
    use keyway_protocol::testkit::issuance::revoked_prefixes;
    let site = Site::new();
    let door = TestLock::new(&site);
    let phone = TestPhone::new();
    let key = site.member_key(&phone, 1, &[DOOR]);
    let spec = BundleSpec { signed_time: T0, ..BundleSpec::new(DOOR, 1, 0) };
    let bundle = site.bundle(spec.revoking_prefixes(revoked_prefixes(10_000))).to_bytes();
    let radio = SimRadio::new(7);
    let link = LinkParams {
        att_mtu: 185,
        connection_interval: std::time::Duration::from_millis(30),
        loss: 0.01,
        packets_per_event,
        ..LinkParams::default()
    };
    let id = radio.add_lock(door.lock, link);
    let target = radio.with_lock(id, |lock| lock.target()).unwrap();
    let (awaiting, request) = phone.standard_request(&target, &key, Command::Unlock);
    let mut connection = radio.connect(id, 185).unwrap();
    connection.send_message(&request).unwrap();
    let reply = connection.receive_message().unwrap().unwrap();
    let (_, mut channel) = awaiting.on_response(&reply).unwrap();
    let message = channel.deliver_bundle(&bundle).unwrap();
    let started = radio.now();
    connection.send_message(&message).unwrap();
    let receipt = connection.receive_message().unwrap().unwrap();
    let took = (radio.now() - started).as_secs_f64() * 1e3;
    assert_eq!(channel.on_sync_reply(&receipt).unwrap().applied, Ok(()));
    assert_eq!(radio.with_lock(id, |lock| lock.revocation_count()), Some(10_000));
    (bundle.len(), took)
}

#[test]
fn a_10k_revocation_bundle_is_under_80_kb_and_crosses_the_modelled_link_in_under_5_s() {
    let (bytes, one_per_event) = carry_10k_bundle(1);
    let (_, four_per_event) = carry_10k_bundle(4);
    eprintln!(
        "10,000 revocations: {bytes} bytes; {one_per_event:.0} ms at 1 packet per event, {four_per_event:.0} ms at 4"
    );
    assert!(bytes <= 80_000, "{bytes} bytes");
    assert!(one_per_event <= 5_000.0, "{one_per_event} ms");
    assert!(four_per_event <= one_per_event);
}
